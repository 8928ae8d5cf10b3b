//! A GraphQL-over-WebSocket client for tests: both protocols, operations by
//! id, and the close code the server ends with.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, handshake::client::Response},
};

use crate::helpers::{SOON, TestApp};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protocol {
    TransportWs,
    LegacyWs,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::LegacyWs => "graphql-ws",
        }
    }
}

pub struct Live {
    pub ws: Socket,
    pub protocol: Protocol,
    /// The reason of the close frame the server sent, once it has.
    pub close_reason: Option<String>,
}

/// What the server sent next.
#[derive(Debug, PartialEq)]
pub enum Got {
    Message(Value),
    Closed(Option<u16>),
}

impl Live {
    /// Connects and initialises with `token` (none: anonymous); panics
    /// unless acknowledged.
    pub async fn connect(app: &TestApp, protocol: Protocol, token: Option<&str>) -> Self {
        let mut live = Self::open(app, protocol).await;
        let payload = match token {
            Some(t) => json!({ "authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        live.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match live.next().await {
            Got::Message(m) if m["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
        live
    }

    /// Opens the socket without initialising.
    pub async fn open(app: &TestApp, protocol: Protocol) -> Self {
        let (ws, _) = upgrade(app, protocol).await.expect("connect");
        Self {
            ws,
            protocol,
            close_reason: None,
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let start = self.start_message(id, query, variables);
        self.send(start).await;
    }

    /// The message that starts operation `id` in this protocol.
    pub fn start_message(&self, id: &str, query: &str, variables: Value) -> Value {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::LegacyWs => "start",
        };
        json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } })
    }

    /// Sends `message` if the socket still takes it.
    pub async fn try_send(&mut self, message: Value) -> bool {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .is_ok()
    }

    /// The next JSON message or the close, within [`SOON`]; pings skipped.
    pub async fn next(&mut self) -> Got {
        self.next_within(SOON)
            .await
            .unwrap_or_else(|| panic!("nothing from the server within {SOON:?}"))
    }

    /// Like [`Live::next`], `None` when nothing came within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Got> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            return Some(match msg {
                Some(Ok(Message::Text(t))) => Got::Message(serde_json::from_str(&t).expect("JSON")),
                Some(Ok(Message::Close(frame))) => {
                    self.close_reason = frame.as_ref().map(|f| f.reason.to_string());
                    Got::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => Got::Closed(None),
            });
        }
    }

    /// The next event's `data` of operation `id`; panics on anything else.
    pub async fn event(&mut self, id: &str) -> Value {
        match self.next().await {
            Got::Message(m) if m["id"] == id && (m["type"] == "next" || m["type"] == "data") => {
                assert!(m["payload"]["errors"].is_null(), "{m}");
                m["payload"]["data"].clone()
            }
            other => panic!("expected an event of {id}, got {other:?}"),
        }
    }

    /// The errors operation `id` was refused with (and its `complete`,
    /// where the protocol sends one).
    pub async fn refusal(&mut self, id: &str) -> Value {
        let errors = match self.next().await {
            Got::Message(m) if m["id"] == id && m["type"] == "error" => {
                // graphql-transport-ws: an array, and nothing after it;
                // graphql-ws: one error.
                match &m["payload"] {
                    Value::Array(errors) => return Value::Array(errors.clone()),
                    one => json!([one]),
                }
            }
            Got::Message(m) if m["id"] == id && (m["type"] == "next" || m["type"] == "data") => {
                m["payload"]["errors"].clone()
            }
            other => panic!("expected {id} to be refused, got {other:?}"),
        };
        self.completed(id).await;
        errors
    }

    /// Asserts the next message completes operation `id`.
    pub async fn completed(&mut self, id: &str) {
        match self.next().await {
            Got::Message(m) if m["id"] == id && m["type"] == "complete" => {}
            other => panic!("expected {id} to complete, got {other:?}"),
        }
    }

    /// Asserts nothing arrives for `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) {
        if let Some(got) = self.next_within(wait).await {
            panic!("expected nothing, got {got:?}");
        }
    }
}

/// Asks `app` for a socket on `/graphql` speaking `protocol`.
pub async fn upgrade(
    app: &TestApp,
    protocol: Protocol,
) -> Result<(Socket, Response), tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{}/graphql", app.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        protocol.name().parse().expect("header"),
    );
    connect_async(req).await
}

/// The `code` of the first error in `errors`.
pub fn first_code(errors: &Value) -> &str {
    errors[0]["extensions"]["code"].as_str().unwrap_or("")
}
