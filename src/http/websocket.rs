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
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
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
use crate::{auth::Credentials, error::code, state::AppState};

pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

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

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
) {
    metrics::gauge!("roost_websocket_connections").increment(1.0);
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| future::ready(m.is_ok()))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Text(t)) => Some(t.to_string()),
                Ok(Message::Binary(b)) => String::from_utf8(b.to_vec()).ok(),
                _ => None,
            })
        });
    let refused = Arc::new(AtomicBool::new(false));
    let mut connection_data = Data::default();
    connection_data.insert(meta.client.clone());
    let auth = state.auth.clone();
    let refused_flag = refused.clone();
    let gql = GqlWebSocket::new(state.schema.clone(), input, protocol)
        .connection_data(connection_data)
        .on_connection_init(move |payload| async move {
            let credentials = auth
                .authenticate(authorization(&payload).as_deref())
                .await
                .map_err(|_| async_graphql::Error::new(crate::error::INTERNAL_MESSAGE))?;
            if let Credentials::Rejected(reason) = &credentials {
                refused_flag.store(true, Ordering::SeqCst);
                return Err(async_graphql::Error::new(reason.clone()));
            }
            let mut data = Data::default();
            data.insert(credentials);
            Ok(data)
        });
    futures_util::pin_mut!(gql);

    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    futures_util::pin_mut!(init_deadline);
    let mut initialised = false;
    let close = loop {
        tokio::select! {
            () = state.shutdown.cancelled() => break Some((1001, "The server is shutting down".to_owned())),
            () = &mut init_deadline, if !initialised => {
                break Some((4408, "Connection initialisation timeout".to_owned()));
            }
            message = gql.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if !initialised && text.contains("connection_ack") {
                        initialised = true;
                    }
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let code = if refused.load(Ordering::SeqCst) { 4403 } else { code };
                    break Some((code, reason));
                }
                None => break None,
            },
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    let _ = sink.close().await;
    metrics::gauge!("roost_websocket_connections").decrement(1.0);
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
