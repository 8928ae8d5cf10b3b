//! GraphQL over WebSocket on `/graphql` and `/graphql/ws`: the
//! graphql-transport-ws protocol and the legacy graphql-ws one.
//!
//! The `connection_init` payload carries the credentials,
//! `{"authorization": "Bearer <accessToken>"}` (key in any case; a
//! `headers` object holding it is accepted too). A bad token closes the
//! socket with 4403; a client that does not initialise within
//! [`INIT_TIMEOUT`] is closed with 4408; at shutdown sockets close with 1001.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage},
};
use axum::{
    extract::{
        FromRequestParts, Request,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future};
use serde_json::Value;

use super::graphql::{RequestMeta, request_error};
use crate::{
    auth::Credentials,
    error::code,
    realtime::{Connection, Hub, Topic, control},
    state::AppState,
};

pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest message a client may send (as for an HTTP JSON body); a
/// larger one closes the socket (1009).
pub const MAX_MESSAGE_SIZE: usize = super::graphql::MAX_JSON_BODY;
/// Read and write buffer of each socket.
const BUFFER_SIZE: usize = 8 * 1024;

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub async fn upgrade(state: AppState, req: Request) -> Response {
    let meta = RequestMeta::of(&req);
    let (mut parts, _) = req.into_parts();
    let protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let protocol = match protocol {
        Some(p) => p,
        None => {
            return request_error(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "Ask for the graphql-transport-ws or graphql-ws subprotocol",
            );
        }
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // Small buffers: most sockets sit idle, and the defaults (128 KiB
        // each way) would cost every one of them a quarter of a megabyte.
        .read_buffer_size(BUFFER_SIZE)
        .write_buffer_size(BUFFER_SIZE)
        // No message a client sends needs more than a request body may hold.
        .max_message_size(MAX_MESSAGE_SIZE)
        .max_frame_size(MAX_MESSAGE_SIZE)
        .on_upgrade(move |socket| serve(state, socket, protocol, meta))
}

/// The authorization value of a `connection_init` payload.
fn authorization(payload: &Value) -> Option<String> {
    let find = |v: &Value| {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    };
    find(payload).or_else(|| {
        payload
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("headers"))
            .and_then(|(_, h)| find(h))
    })
}

/// Longest a write to the client may take before it counts as too slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
) {
    metrics::gauge!("roost_websocket_connections").increment(1.0);
    let realtime = state.config.realtime;
    let connection = Connection::new(Some(realtime.max_subscriptions));
    let started = Instant::now();
    // Milliseconds since `started` when the client last sent anything
    // (pongs included): what the idle check reads.
    let last_heard = Arc::new(AtomicU64::new(0));
    let (mut sink, stream) = socket.split();
    let heard = last_heard.clone();
    let input = stream
        .take_while(|m| future::ready(m.is_ok()))
        .filter_map(move |m| {
            heard.store(elapsed_ms(started), Ordering::Relaxed);
            future::ready(match m {
                Ok(Message::Text(t)) => Some(t.to_string()),
                Ok(Message::Binary(b)) => String::from_utf8(b.to_vec()).ok(),
                _ => None,
            })
        });
    let refused = Arc::new(AtomicBool::new(false));
    let mut connection_data = Data::default();
    connection_data.insert(meta.client.clone());
    connection_data.insert(connection.clone());
    let auth = state.auth.clone();
    let hub = state.hub.clone();
    let refused_flag = refused.clone();
    let on_init_connection = connection.clone();
    let executor = super::persisted::PersistedExecutor {
        pipeline: state.graphql.clone(),
        persisted: state.persisted.clone(),
    };
    let gql = GqlWebSocket::new(executor, input, protocol)
        .connection_data(connection_data)
        .on_connection_init(move |payload| async move {
            let credentials = auth
                .authenticate(authorization(&payload).as_deref())
                .await
                .map_err(|_| async_graphql::Error::new(crate::error::INTERNAL_MESSAGE))?;
            match &credentials {
                Credentials::Rejected(reason) => {
                    refused_flag.store(true, Ordering::SeqCst);
                    return Err(async_graphql::Error::new(reason.clone()));
                }
                Credentials::Viewer(viewer) => {
                    close_when_session_ends(&hub, viewer.session_id, on_init_connection);
                }
                Credentials::Anonymous => {}
            }
            let mut data = Data::default();
            data.insert(credentials);
            Ok(data)
        });
    futures_util::pin_mut!(gql);

    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    futures_util::pin_mut!(init_deadline);
    let mut ping = tokio::time::interval(realtime.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.reset();
    let idle_ms = u64::try_from(realtime.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    let mut initialised = false;
    let close = loop {
        tokio::select! {
            () = state.shutdown.cancelled() => break Some((1001, "The server is shutting down".to_owned(), "shutdown")),
            () = connection.closed() => {
                let why = connection.reason().unwrap_or(control::TOO_SLOW);
                break Some((why.code, why.reason.to_owned(), why.label));
            }
            () = &mut init_deadline, if !initialised => {
                break Some((4408, "Connection initialisation timeout".to_owned(), "init_timeout"));
            }
            _ = ping.tick() => {
                let quiet = elapsed_ms(started).saturating_sub(last_heard.load(Ordering::Relaxed));
                if quiet >= idle_ms {
                    break Some(control::IDLE.frame());
                }
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Vec::new().into()))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break None,
                    Err(_) => break Some(control::TOO_SLOW.frame()),
                }
            }
            message = gql.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if !initialised && text.contains("connection_ack") {
                        initialised = true;
                    }
                    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break None,
                        Err(_) => break Some(control::TOO_SLOW.frame()),
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    if refused.load(Ordering::SeqCst) {
                        break Some((4403, reason, "unauthorized"));
                    }
                    break Some((code, reason, "protocol"));
                }
                None => break None,
            },
        }
    };
    let label = close.as_ref().map_or("client", |c| c.2);
    metrics::counter!("roost_websocket_closed_total", "reason" => label).increment(1);
    if let Some((code, reason, _)) = close {
        let _ = tokio::time::timeout(
            SEND_TIMEOUT,
            sink.send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))),
        )
        .await;
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
    // Ends the session watcher, if any.
    connection.close(control::Close {
        code: 1000,
        reason: "closed",
        label: "client",
    });
    metrics::gauge!("roost_websocket_connections").decrement(1.0);
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Closes `connection` when its session ends, wherever that happens.
fn close_when_session_ends(hub: &Hub, session_id: uuid::Uuid, connection: Connection) {
    let mut ended = hub.subscribe(Topic::Session(session_id), None);
    tokio::spawn(async move {
        tokio::select! {
            event = ended.next() => {
                if event.is_some() {
                    connection.close(control::SESSION_ENDED);
                }
            }
            () = connection.closed() => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn authorization_is_found_in_any_case() {
        assert_eq!(
            authorization(&json!({"Authorization": "Bearer a"})).as_deref(),
            Some("Bearer a")
        );
        assert_eq!(
            authorization(&json!({"authorization": "Bearer b"})).as_deref(),
            Some("Bearer b")
        );
        assert_eq!(
            authorization(&json!({"headers": {"AUTHORIZATION": "Bearer c"}})).as_deref(),
            Some("Bearer c")
        );
        assert_eq!(authorization(&json!({})), None);
        assert_eq!(authorization(&Value::Null), None);
    }
}
