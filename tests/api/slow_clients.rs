//! Slow clients (RULES §20): headers within the header timeout and bodies
//! within the body timeout on every route, a request timeout on every
//! route, a cap on open connections, and bounded request headers. The
//! timeouts are configured tiny so that the tests take seconds.

use std::time::Duration;

use figment::Figment;
use tokio::{io::AsyncWriteExt, net::TcpListener, time::Instant};

use crate::{
    helpers::{TestApp, spawn_with},
    live_client::{Live, Protocol},
    raw_http::{self, closed_within, head_within, status_within},
};

/// A 1 s header timeout, a 2 s body timeout, a 1 s request timeout.
fn tight(f: Figment) -> Figment {
    f.merge(("header_timeout", "1s"))
        .merge(("body_timeout", "2s"))
        .merge(("request_timeout", "1s"))
}

/// Sends `chunk` every `every` until the server closes the connection or
/// `total` has passed; how many were sent.
async fn trickle(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    chunk: &'static [u8],
    every: Duration,
    total: Duration,
) -> usize {
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < total {
        tokio::time::sleep(every).await;
        if writer.write_all(chunk).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

#[tokio::test]
async fn headers_that_trickle_in_are_cut_off_at_the_header_timeout() {
    let app = spawn_with(tight).await;
    let mut stream = raw_http::connect(&app).await;
    assert!(raw_http::send(&mut stream, b"GET /health HTTP/1.1\r\nHost: roost\r\n").await);
    let (mut reader, writer) = stream.into_split();
    let writing = tokio::spawn(trickle(
        writer,
        b"X-Slow: a\r\n",
        Duration::from_millis(200),
        Duration::from_secs(8),
    ));
    let mut buf = [0u8; 1024];
    let started = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(6), async {
        use tokio::io::AsyncReadExt;
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection is still open after 6 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
    writing.abort();
}

#[tokio::test]
async fn idle_connections_are_closed_at_the_header_timeout() {
    let app = spawn_with(tight).await;
    // One that never says anything.
    let mut silent = raw_http::connect(&app).await;
    let took = closed_within(&mut silent, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(3)),
        "closed after {took:?}"
    );
    // One kept alive after an answer.
    let mut kept = raw_http::connect(&app).await;
    assert!(raw_http::send(&mut kept, b"GET /health HTTP/1.1\r\nHost: roost\r\n\r\n").await);
    assert_eq!(
        status_within(&mut kept, Duration::from_secs(2)).await,
        Some(200)
    );
    let took = closed_within(&mut kept, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(3)),
        "closed after {took:?}"
    );
}

/// Sends a request head announcing a 1,000-byte body, then its body ten
/// bytes every 200 ms; the head of the answer and how long it took.
async fn trickled_body(app: &TestApp, head: &str) -> (Option<String>, Duration) {
    let mut stream = raw_http::connect(app).await;
    assert!(raw_http::send(&mut stream, head.as_bytes()).await);
    let (mut reader, writer) = stream.into_split();
    let writing = tokio::spawn(trickle(
        writer,
        b"{\"aaaaaa\":",
        Duration::from_millis(200),
        Duration::from_secs(20),
    ));
    let started = Instant::now();
    let mut head = Vec::new();
    let answer = tokio::time::timeout(Duration::from_secs(6), async {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match reader.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
    })
    .await;
    writing.abort();
    let head = answer
        .ok()
        .filter(|()| !head.is_empty())
        .map(|()| String::from_utf8_lossy(&head).to_lowercase());
    (head, started.elapsed())
}

#[tokio::test]
async fn a_body_that_trickles_in_is_answered_408_on_every_route() {
    let app = spawn_with(|f| tight(f).merge(("stripe_webhook_secret", "whsec_slow_clients"))).await;
    for head in [
        "POST /webhooks/stripe HTTP/1.1\r\nHost: roost\r\nStripe-Signature: t=1,v1=00\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        "POST /graphql HTTP/1.1\r\nHost: roost\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n",
    ] {
        let (answer, took) = trickled_body(&app, head).await;
        let answer = answer.unwrap_or_else(|| panic!("no answer in 6 s to {head}"));
        assert!(answer.starts_with("http/1.1 408"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(
            took >= Duration::from_millis(1800) && took < Duration::from_secs(4),
            "answered after {took:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_body_within_the_body_timeout_is_served() {
    let app = spawn_with(tight).await;
    let body = br#"{"query":"{ __typename }"}"#;
    let mut stream = raw_http::connect(&app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: roost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    assert!(raw_http::send(&mut stream, head.as_bytes()).await);
    // 1.5 s for the body: past the request timeout (1 s), which counts from
    // when the body is complete, but within the body timeout (2 s).
    for part in body.chunks(body.len() / 3 + 1) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(raw_http::send(&mut stream, part).await);
    }
    assert_eq!(
        status_within(&mut stream, Duration::from_secs(3)).await,
        Some(200)
    );
}

#[tokio::test]
async fn every_route_has_a_request_timeout() {
    // A photo bucket that accepts connections and never answers.
    let bucket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", bucket.local_addr().expect("addr"));
    let holding = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = bucket.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_with(|f| {
        tight(f)
            .merge(("s3_bucket", "roost-test"))
            .merge(("s3_endpoint", endpoint))
            .merge(("s3_access_key_id", "test"))
            .merge(("s3_secret_access_key", "test"))
    })
    .await;
    let started = Instant::now();
    let resp = app
        .http
        .get(app.url("/photos/properties/x/y.png"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("an answer within 5 s");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    let body: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["message"],
        "The request took longer than 1 s and was stopped; try again"
    );
    holding.abort();
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let app = spawn_with(|f| f.merge(("max_connections", 2))).await;
    // A WebSocket holds its place for as long as it is open.
    let ws = Live::open(&app, Protocol::TransportWs).await;
    let mut kept = raw_http::connect(&app).await;
    assert!(raw_http::send(&mut kept, b"GET /health HTTP/1.1\r\nHost: roost\r\n\r\n").await);
    assert_eq!(
        status_within(&mut kept, Duration::from_secs(2)).await,
        Some(200)
    );

    // A third waits, unanswered...
    let mut third = raw_http::connect(&app).await;
    assert!(raw_http::send(&mut third, b"GET /health HTTP/1.1\r\nHost: roost\r\n\r\n").await);
    assert_eq!(
        head_within(&mut third, Duration::from_millis(800)).await,
        None
    );
    // ...until the WebSocket closes and gives its place.
    drop(ws);
    assert_eq!(
        status_within(&mut third, Duration::from_secs(3)).await,
        Some(200)
    );
    // And the connection it got is an ordinary one.
    assert!(raw_http::send(&mut third, b"GET /health HTTP/1.1\r\nHost: roost\r\n\r\n").await);
    assert_eq!(
        status_within(&mut third, Duration::from_secs(2)).await,
        Some(200)
    );
}

#[tokio::test]
async fn request_headers_over_32_kib_or_100_fields_answer_431() {
    let app = spawn_with(|f| f).await;
    let header = |bytes: usize| format!("X-Big: {}\r\n", "a".repeat(bytes));
    let fields = |n: usize| -> String { (0..n).map(|i| format!("X-Field-{i}: {i}\r\n")).collect() };
    for (target, headers, status) in [
        ("/health", header(40 * 1024), 431),
        // A long query string on GET /graphql counts too.
        (
            &*format!(
                "/graphql?query=%7B__typename%7D&x={}",
                "a".repeat(40 * 1024)
            ),
            String::new(),
            431,
        ),
        ("/health", fields(101), 431),
        // Below both bounds, the same requests are answered.
        ("/health", header(20 * 1024), 200),
        ("/health", fields(90), 200),
    ] {
        let mut stream = raw_http::connect(&app).await;
        let head = format!("GET {target} HTTP/1.1\r\nHost: roost\r\n{headers}\r\n");
        assert!(raw_http::send(&mut stream, head.as_bytes()).await);
        assert_eq!(
            status_within(&mut stream, Duration::from_secs(3)).await,
            Some(status),
            "{} bytes of headers",
            head.len()
        );
    }
}

#[tokio::test]
async fn a_client_that_takes_nothing_of_its_answer_loses_the_connection() {
    let app = spawn_with(tight).await;
    let size = 10 * 1024 * 1024;
    let dir = app.config.storage.photos_dir.join("slow");
    std::fs::create_dir_all(&dir).expect("photo folder");
    std::fs::write(dir.join("big.png"), vec![7u8; size]).expect("a big file");
    // A small receive window, so that the answer cannot all wait in buffers.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let mut stream = socket.connect(app.addr).await.expect("connect");
    assert!(
        raw_http::send(
            &mut stream,
            b"GET /photos/slow/big.png HTTP/1.1\r\nHost: roost\r\n\r\n"
        )
        .await
    );
    // Past the body timeout (2 s) without reading...
    tokio::time::sleep(Duration::from_secs(4)).await;
    // ...the server has given up: what it had sent arrives, then the end.
    let mut received = 0;
    let mut buf = vec![0u8; 64 * 1024];
    let read_all = tokio::time::timeout(Duration::from_secs(20), async {
        use tokio::io::AsyncReadExt;
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            received += n;
        }
    })
    .await;
    assert!(read_all.is_ok(), "the connection was still open");
    assert!(received > 0 && received < size, "received {received} bytes");
}
