//! GraphQL over WebSocket on both protocols, authenticated by the
//! `connection_init` payload (RULES.md sections 1 and 3), and bounded in
//! all a client controls (section 20).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::{
    helpers::{PASSWORD, SOON, TestApp, session_from, spawn_app, spawn_with},
    live_client::{Got, Live, Protocol, upgrade},
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, path: &str, protocol: &str) -> Socket {
    let mut req = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    let (ws, resp) = connect_async(req).await.expect("connect");
    assert_eq!(resp.headers()["sec-websocket-protocol"], protocol);
    ws
}

async fn send(ws: &mut Socket, message: Value) {
    ws.send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The next message: a JSON text, or the close frame's code.
async fn next(ws: &mut Socket) -> Result<Value, Option<u16>> {
    loop {
        let msg = tokio::time::timeout(SOON, ws.next())
            .await
            .expect("a message in time");
        match msg {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).expect("JSON")),
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

#[tokio::test]
async fn graphql_transport_ws_runs_operations_as_the_signed_in_user() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    for path in ["/graphql", "/graphql/ws"] {
        let mut ws = connect(&app, path, "graphql-transport-ws").await;
        send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", ann.access_token) } })).await;
        assert_eq!(next(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
        send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { id email } }" } })).await;
        assert_eq!(
            next(&mut ws).await,
            Ok(
                json!({ "id": "1", "type": "next", "payload": { "data": { "me": { "id": ann.user_id, "email": "ann@example.com" } } } })
            )
        );
        assert_eq!(
            next(&mut ws).await,
            Ok(json!({ "id": "1", "type": "complete" }))
        );
    }
}

#[tokio::test]
async fn legacy_graphql_ws_runs_operations_too() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let mut ws = connect(&app, "/graphql", "graphql-ws").await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", ann.access_token) } })).await;
    assert_eq!(next(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    send(
        &mut ws,
        json!({ "id": "7", "type": "start", "payload": { "query": "{ me { id } }" } }),
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        Ok(
            json!({ "id": "7", "type": "data", "payload": { "data": { "me": { "id": ann.user_id } } } })
        )
    );
    assert_eq!(
        next(&mut ws).await,
        Ok(json!({ "id": "7", "type": "complete" }))
    );
}

#[tokio::test]
async fn anonymous_sockets_are_anonymous() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/graphql", "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { id } }" } }),
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        Ok(json!({ "id": "1", "type": "next", "payload": { "data": { "me": null } } }))
    );
}

#[tokio::test]
async fn a_bad_token_is_refused_at_connection_init() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    app.gql(
        "mutation($t: String!) { logout(refreshToken: $t) }",
        json!({ "t": ann.refresh_token }),
    )
    .await;
    for token in ["garbage".to_owned(), ann.access_token.clone()] {
        let mut ws = connect(&app, "/graphql", "graphql-transport-ws").await;
        send(&mut ws, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
        assert_eq!(next(&mut ws).await, Err(Some(4403)), "{token}");

        let mut legacy = connect(&app, "/graphql", "graphql-ws").await;
        send(&mut legacy, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
        let refused = next(&mut legacy).await.expect("a connection_error");
        assert_eq!(refused["type"], "connection_error", "{refused}");
    }
}

const BOTH: [Protocol; 2] = [Protocol::TransportWs, Protocol::LegacyWs];

#[tokio::test]
async fn an_oversized_message_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    for protocol in BOTH {
        let mut live = Live::connect(&app, protocol, None).await;
        // Just over the 1 MiB a request body may hold.
        let query = format!("{{ me {{ id }} }} #{}", "x".repeat(1024 * 1024));
        let start = live.start_message("1", &query, json!({}));
        live.try_send(start).await;
        assert_eq!(live.next().await, Got::Closed(Some(1009)), "{protocol:?}");
        assert_eq!(
            live.close_reason.as_deref(),
            Some("Message too big: at most 1 MiB")
        );
        // A message within the limit is fine on a new socket.
        let mut live = Live::connect(&app, protocol, None).await;
        let query = format!("{{ me {{ id }} }} #{}", "x".repeat(900 * 1024));
        live.subscribe("1", &query, json!({})).await;
        assert_eq!(live.event("1").await, json!({ "me": null }), "{protocol:?}");
    }
}

/// Signs in again; the new access token and when it expires.
async fn fresh_token(app: &TestApp, email: &str) -> (String, chrono::DateTime<chrono::Utc>) {
    let login = app.login(email, PASSWORD).await;
    let expires_at = login["data"]["login"]["accessTokenExpiresAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("no expiry in {login}"));
    let session = session_from(&login["data"]["login"], email).expect("a session");
    (session.access_token, expires_at.to_utc())
}

#[tokio::test]
async fn a_socket_closes_when_its_access_token_expires() {
    let app = spawn_with(|f| f.merge(("access_token_ttl", "2s"))).await;
    let ann = app.register("ann@example.com").await;
    for protocol in BOTH {
        let (token, expires_at) = fresh_token(&app, &ann.email).await;
        let mut live = Live::connect(&app, protocol, Some(&token)).await;
        live.subscribe(
            "n",
            "subscription { notificationReceived { id } }",
            json!({}),
        )
        .await;
        // Ask again and again: every answer comes before the expiry, and
        // the socket closes at it.
        let mut answered = 0;
        for n in 0.. {
            let start = live.start_message(&n.to_string(), "{ me { email } }", json!({}));
            live.try_send(start).await;
            let got = live.next_within(Duration::from_millis(100)).await;
            let now = chrono::Utc::now();
            match got {
                None => {}
                Some(Got::Closed(code)) => {
                    assert_eq!(code, Some(4401), "{protocol:?}");
                    assert_eq!(live.close_reason.as_deref(), Some("token expired"));
                    let early = expires_at - chrono::Duration::milliseconds(100);
                    let late = expires_at + chrono::Duration::milliseconds(500);
                    assert!(
                        now > early && now < late,
                        "closed at {now}, expiry {expires_at}"
                    );
                    break;
                }
                Some(Got::Message(m)) => {
                    assert!(
                        now < expires_at + chrono::Duration::milliseconds(50),
                        "answered at {now}, after the expiry {expires_at}: {m}"
                    );
                    if m["payload"]["data"]["me"]["email"] == ann.email.as_str() {
                        answered += 1;
                    }
                }
            }
            assert!(
                now < expires_at + chrono::Duration::seconds(2),
                "{protocol:?}: still open 2 s after the token expired"
            );
        }
        assert!(answered > 0, "{protocol:?}: answered before the expiry");
        // Its subscription went with it; HTTP refuses the token too.
        let deadline = tokio::time::Instant::now() + SOON;
        while app.hub.subscriptions() > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the subscription stays"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let me = app.me(&token).await;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

/// Reads until `n` operations have completed; how many answered with data
/// and the errors of the others.
async fn answers(live: &mut Live, n: usize) -> (usize, Vec<Value>) {
    let (mut data, mut errors, mut completed) = (0, Vec::new(), 0);
    while completed < n {
        match live.next().await {
            Got::Message(m) if m["type"] == "complete" => completed += 1,
            Got::Message(m) if m["payload"]["errors"].is_array() => {
                errors.push(m["payload"]["errors"][0].clone());
            }
            Got::Message(m) if m["payload"]["data"]["__typename"] == "Query" => data += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    (data, errors)
}

#[tokio::test]
async fn every_operation_on_an_anonymous_socket_spends_the_address_budget() {
    for protocol in BOTH {
        let app = spawn_with(|f| {
            f.merge(("rate_limit_ip_per_second", 1))
                .merge(("rate_limit_ip_burst", 10))
        })
        .await;
        let started = std::time::Instant::now();
        // The upgrade spends one of the ten.
        let mut live = Live::connect(&app, protocol, None).await;
        for i in 0..1000 {
            live.subscribe(&i.to_string(), "{ __typename }", json!({}))
                .await;
        }
        let (data, errors) = answers(&mut live, 1000).await;
        let refilled = usize::try_from(started.elapsed().as_secs()).expect("secs") + 1;
        assert!(
            (9..=9 + refilled).contains(&data),
            "{protocol:?}: {data} answered"
        );
        assert_eq!(data + errors.len(), 1000);
        for e in &errors {
            assert_eq!(e["extensions"]["code"], "RATE_LIMITED", "{e}");
            assert!(e["extensions"]["retryAfter"].as_u64() >= Some(1), "{e}");
        }
        let metrics = app.metrics_page().await;
        assert!(
            metrics.contains(r#"roost_rate_limited_total{limit="ip"}"#),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn protocol_pings_spend_the_address_budget() {
    let app = spawn_with(|f| {
        f.merge(("rate_limit_ip_per_second", 1))
            .merge(("rate_limit_ip_burst", 4))
    })
    .await;
    let mut live = Live::connect(&app, Protocol::TransportWs, None).await;
    for _ in 0..3 {
        live.send(json!({ "type": "ping" })).await;
        assert_eq!(live.next().await, Got::Message(json!({ "type": "pong" })));
    }
    // Over the budget: no pong, and operations are refused too.
    live.send(json!({ "type": "ping" })).await;
    live.subscribe("1", "{ __typename }", json!({})).await;
    let (data, errors) = answers(&mut live, 1).await;
    assert_eq!(data, 0);
    assert_eq!(errors[0]["extensions"]["code"], "RATE_LIMITED");
    live.quiet_for(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn an_address_holds_a_bounded_number_of_sockets() {
    let app = spawn_with(|f| f.merge(("ws_max_sockets_per_ip", 2))).await;
    let first = Live::open(&app, Protocol::TransportWs).await;
    let _second = Live::open(&app, Protocol::LegacyWs).await;
    match upgrade(&app, Protocol::TransportWs).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429);
            assert_eq!(resp.headers()["retry-after"], "5");
            let body: Value =
                serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).expect("JSON");
            assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        }
        other => panic!("expected a 429, got {:?}", other.map(|r| r.1.status())),
    }
    // Closing one gives its place back.
    drop(first);
    let deadline = tokio::time::Instant::now() + SOON;
    while upgrade(&app, Protocol::TransportWs).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_account_holds_a_bounded_number_of_sockets() {
    let app = spawn_with(|f| f.merge(("ws_max_sockets_per_user", 2))).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let _one = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    let _two = Live::connect(&app, Protocol::LegacyWs, Some(&ann.access_token)).await;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", ann.access_token) } });
    for protocol in BOTH {
        let mut third = Live::open(&app, protocol).await;
        third.send(init.clone()).await;
        if protocol == Protocol::LegacyWs {
            match third.next().await {
                Got::Message(m) if m["type"] == "connection_error" => {}
                other => panic!("expected a connection_error, got {other:?}"),
            }
        }
        assert_eq!(third.next().await, Got::Closed(Some(4429)), "{protocol:?}");
    }
    // Others, and anonymous sockets, are not counted with ann's.
    Live::connect(&app, Protocol::TransportWs, Some(&bob.access_token)).await;
    Live::connect(&app, Protocol::TransportWs, None).await;
}

#[tokio::test]
async fn a_large_message_before_connection_ack_closes_the_socket() {
    let app = spawn_app().await;
    for protocol in BOTH {
        // 15 KiB of connection parameters are fine...
        let mut live = Live::open(&app, protocol).await;
        live.send(json!({ "type": "connection_init", "payload": { "x": "y".repeat(15 * 1024) } }))
            .await;
        match live.next().await {
            Got::Message(m) if m["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
        // ...17 KiB are not.
        let mut live = Live::open(&app, protocol).await;
        live.send(json!({ "type": "connection_init", "payload": { "x": "y".repeat(17 * 1024) } }))
            .await;
        assert_eq!(live.next().await, Got::Closed(Some(1009)), "{protocol:?}");
        assert_eq!(
            live.close_reason.as_deref(),
            Some("Message too big: at most 16 KiB before connection_ack")
        );
    }
}

#[tokio::test]
async fn operation_ids_are_bounded() {
    let app = spawn_app().await;
    for protocol in BOTH {
        let mut live = Live::connect(&app, protocol, None).await;
        let longest = "i".repeat(128);
        live.subscribe(&longest, "{ __typename }", json!({})).await;
        assert_eq!(live.event(&longest).await, json!({ "__typename": "Query" }));
        live.completed(&longest).await;
        live.subscribe(&"i".repeat(129), "{ __typename }", json!({}))
            .await;
        assert_eq!(live.next().await, Got::Closed(Some(4400)), "{protocol:?}");
    }
}
