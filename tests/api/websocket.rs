//! GraphQL over WebSocket on both protocols, authenticated by the
//! `connection_init` payload (RULES.md sections 1 and 3).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::helpers::{SOON, TestApp, spawn_app};

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

#[tokio::test]
async fn an_oversized_message_closes_the_socket() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/graphql", "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    // Just over the 1 MiB a request body may hold.
    let query = format!("{{ me {{ id }} }} #{}", "x".repeat(1024 * 1024));
    let _ = ws
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await;
    // 1009: message too big (or the connection simply ends).
    match next(&mut ws).await {
        Err(Some(1009)) | Err(None) => {}
        other => panic!("expected the socket closed, got {other:?}"),
    }
    // A message within the limit is fine on a new socket.
    let mut ws = connect(&app, "/graphql", "graphql-transport-ws").await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    let query = format!("{{ me {{ id }} }} #{}", "x".repeat(900 * 1024));
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        Ok(json!({ "id": "1", "type": "next", "payload": { "data": { "me": null } } }))
    );
}
