//! Graceful shutdown: in-flight requests finish, sockets close, exit 0.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{AUTH_FIELDS, PASSWORD, SOON, spawn_with};

/// Slow enough hashing that a registration is still running when the
/// shutdown begins.
fn slow_hashing(f: figment::Figment) -> figment::Figment {
    f.merge(("argon2_memory_kib", 65536))
        .merge(("argon2_iterations", 12))
        // However slow the machine, the request is let finish.
        .merge(("shutdown_timeout", 60))
}

fn register_body(email: &str) -> Value {
    json!({
        "query": format!("mutation($i: RegisterInput!) {{ register(input: $i) {{ {AUTH_FIELDS} }} }}"),
        "variables": { "i": { "email": email, "password": PASSWORD, "firstName": "A", "lastName": "B" } },
    })
}

#[tokio::test]
async fn in_flight_requests_finish_before_the_server_stops() {
    let mut app = spawn_with(slow_hashing).await;
    let client = app.http.clone();
    let url = app.url("/graphql");
    let in_flight = tokio::spawn(async move {
        client
            .post(url)
            .json(&register_body("ann@example.com"))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = tokio::time::timeout(SOON, app.stop())
        .await
        .expect("stopped in time");
    assert!(stopped.is_ok(), "{stopped:?}");
    let resp = in_flight
        .await
        .expect("task")
        .expect("the in-flight request was answered");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["data"]["register"]["accessToken"].is_string(),
        "{body}"
    );
    // New connections are refused now.
    assert!(app.http.get(app.url("/health")).send().await.is_err());
}

#[tokio::test]
async fn websockets_are_closed_at_shutdown() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let mut app = spawn_with(|f| f).await;
    let mut req = format!("ws://{}/graphql", app.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    ws.send(Message::text(
        json!({ "type": "connection_init" }).to_string(),
    ))
    .await
    .expect("send");
    let ack = ws.next().await.expect("ack").expect("ack");
    assert_eq!(
        ack.into_text().expect("text").as_str(),
        r#"{"type":"connection_ack"}"#
    );
    tokio::time::timeout(SOON, app.stop())
        .await
        .expect("stopped in time")
        .expect("clean stop");
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn sigterm_lets_the_binary_finish_and_exit_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::helpers::free_port();
    let db = crate::helpers::TestDatabase::fresh(dir.path()).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_roost"))
        .arg("serve")
        .env("ROOST_BIND", format!("127.0.0.1:{port}"))
        .env("ROOST_DATA_DIR", dir.path())
        .env("DATABASE_URL", &db.url)
        .env_remove("REDIS_URL")
        .env("ROOST_ARGON2_MEMORY_KIB", "65536")
        .env("ROOST_ARGON2_ITERATIONS", "12")
        .env("ROOST_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn roost");
    let client = crate::helpers::client();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(started.elapsed() < SOON * 3, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/graphql");
        async move {
            client
                .post(url)
                .json(&register_body("ann@example.com"))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let resp = in_flight.await.expect("task").expect("answered");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.json::<Value>().await.expect("json")["data"]["register"]["accessToken"].is_string()
    );
    let deadline = Instant::now() + SOON;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
    // Its logs were JSON lines with a request id on the request's events.
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("read");
    let lines: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!lines.is_empty(), "JSON logs: {out}");
    assert!(
        lines.iter().any(|l| l["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36)),
        "a request id on request events: {out}"
    );
}
