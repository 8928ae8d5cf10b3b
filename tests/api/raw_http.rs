//! HTTP/1.1 spoken by hand over TCP, for what no well-behaved client does:
//! sending a request a few bytes at a time, stopping halfway, or never
//! reading the answer.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout},
};

use crate::helpers::TestApp;

pub async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.expect("connect")
}

/// Writes `bytes`; false if the server had already closed the connection.
pub async fn send(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
}

/// The head of the answer (status line and headers), if one comes within
/// `wait`.
pub async fn head_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let deadline = Instant::now() + wait;
    while !head.ends_with(b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, stream.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The status of the answer that comes within `wait`.
pub async fn status_within(stream: &mut TcpStream, wait: Duration) -> Option<u16> {
    let head = head_within(stream, wait).await?;
    head.split(' ').nth(1)?.parse().ok()
}

/// How long the server took to close the connection (reading and dropping
/// whatever it sent), if it did within `wait`.
pub async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = (started + wait).saturating_duration_since(Instant::now());
        match timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}
