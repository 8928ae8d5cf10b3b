//! A minimal SMTP server for tests: enough of RFC 5321 for lettre's client
//! over a plain connection (no STARTTLS, no AUTH), recording every message it
//! accepts so a test can assert on what the server would have delivered.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use roost::notifications::email::{EmailError, Mailer};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`), without the angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without the angle brackets.
    pub to: Vec<String>,
    /// Headers and body as sent after `DATA`, dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Vec<Received>,
    /// How many of the next messages to refuse with a 451.
    refuse: usize,
}

/// A running fake server; it stops when dropped.
pub struct FakeSmtp {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    accept: JoinHandle<()>,
}

/// Starts a server on a random local port.
pub async fn start() -> FakeSmtp {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake SMTP server");
    let addr = listener.local_addr().expect("fake SMTP address");
    let shared = Arc::new(Mutex::new(Shared::default()));
    let accept = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&shared)));
            }
        }
    });
    FakeSmtp {
        addr,
        shared,
        accept,
    }
}

impl FakeSmtp {
    /// A `ROOST_SMTP_URL` for this server: in lettre's URL syntax a `smtp://`
    /// URL without a `tls` parameter is unencrypted (`tls=none` does not exist).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .lock()
            .expect("fake SMTP state")
            .messages
            .clone()
    }

    /// Refuses the next `n` messages with `451` (a transient failure), after
    /// their data was sent, as a server short of resources would.
    pub fn refuse_next(&self, n: usize) {
        self.shared.lock().expect("fake SMTP state").refuse = n;
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// One client connection, until QUIT or until the client goes away.
async fn session(stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();

    macro_rules! reply {
        ($text:expr) => {
            if write.write_all($text.as_bytes()).await.is_err() {
                return;
            }
        };
    }

    reply!("220 fake.smtp ESMTP ready\r\n");
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                reply!(
                    "250-fake.smtp greets you\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 SMTPUTF8\r\n"
                )
            }
            "HELO" => reply!("250 fake.smtp\r\n"),
            "MAIL" => {
                from = Some(angle_bracketed(command));
                to.clear();
                reply!("250 2.1.0 OK\r\n");
            }
            "RCPT" if from.is_some() => {
                to.push(angle_bracketed(command));
                reply!("250 2.1.5 OK\r\n");
            }
            "DATA" if !to.is_empty() => {
                reply!("354 End data with <CR><LF>.<CR><LF>\r\n");
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let text = String::from_utf8_lossy(&line);
                    if text == ".\r\n" || text == ".\n" {
                        break;
                    }
                    data.push_str(text.strip_prefix('.').unwrap_or(&text));
                }
                let message = Received {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                let refused = {
                    let mut shared = shared.lock().expect("fake SMTP state");
                    if shared.refuse > 0 {
                        shared.refuse -= 1;
                        true
                    } else {
                        shared.messages.push(message);
                        false
                    }
                };
                if refused {
                    reply!("451 4.3.0 Try again later\r\n");
                } else {
                    reply!("250 2.0.0 OK: queued\r\n");
                }
            }
            "RCPT" | "DATA" => reply!("503 5.5.1 Bad sequence of commands\r\n"),
            "RSET" => {
                from = None;
                to.clear();
                reply!("250 2.0.0 OK\r\n");
            }
            "NOOP" => reply!("250 2.0.0 OK\r\n"),
            "QUIT" => {
                reply!("221 2.0.0 Bye\r\n");
                return;
            }
            _ => reply!("502 5.5.2 Command not recognized\r\n"),
        }
    }
}

/// The address in `MAIL FROM:<a@b> PARAM=…` or `RCPT TO:<a@b>`.
fn angle_bracketed(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_mailer_sends_through_smtp_and_retries_after_a_451() {
    let server = start().await;
    let mailer = Mailer::from_config(Some(&server.url().into()), "Roost <noreply@roost.example>")
        .expect("SMTP mailer");

    server.refuse_next(1);
    let err = mailer
        .send(
            "guest@example.com",
            "Booking confirmed",
            "Your stay is confirmed.",
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, EmailError::Transient(_)), "{err:?}");
    assert!(server.messages().is_empty());

    mailer
        .send(
            "guest@example.com",
            "Booking confirmed",
            "Your stay is confirmed.",
        )
        .await
        .expect("sent");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message.from, "noreply@roost.example");
    assert_eq!(message.to, ["guest@example.com"]);
    assert!(
        message.data.contains("\r\nSubject: Booking confirmed\r\n"),
        "{}",
        message.data
    );
    let (_, body) = message.data.split_once("\r\n\r\n").expect("a body");
    assert!(body.starts_with("Your stay is confirmed.\r\n"), "{body}");
    assert!(body.contains("Roost"), "{body}");
}
