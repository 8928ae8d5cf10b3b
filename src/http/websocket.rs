//! GraphQL over WebSocket on `/graphql` and `/graphql/ws`: the
//! graphql-transport-ws protocol and the legacy graphql-ws one.
//!
//! The `connection_init` payload carries the credentials,
//! `{"authorization": "Bearer <accessToken>"}` (key in any case; a
//! `headers` object holding it is accepted too). A bad token closes the
//! socket with 4403; a client that does not initialise within
//! [`INIT_TIMEOUT`] is closed with 4408; at shutdown sockets close with 1001.
//!
//! What a client controls is bounded: sockets per address (refused with
//! 429) and per account (4429); the size of a message (1009), smaller
//! before `connection_ack`; the length of an operation id (4400); every
//! operation and protocol ping spends the per-IP rate limit (an operation
//! over it answers `RATE_LIMITED`, a ping is not answered); the socket
//! lives as long as the access token it signed in with (4401 "token
//! expired") or its session (4401); subscriptions per socket and the
//! events each may have waiting are bounded where they are opened
//! (`realtime`).

use std::{
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_graphql::{
    Data, Executor, Request as GqlRequest, Response as GqlResponse,
    http::{
        ALL_WEBSOCKET_PROTOCOLS, ClientMessage, WebSocket as GqlWebSocket, WebSocketProtocols,
        WsMessage,
    },
};
use axum::{
    extract::{
        FromRequestParts, Request,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{self, BoxStream},
};
use serde_json::Value;

use super::graphql::{RequestMeta, request_error};
use crate::{
    auth::{Credentials, Viewer},
    error::code,
    ratelimit::{IpBudget, PerOperation},
    realtime::{Connection, Holder, Hub, Slot, Topic, control},
    state::AppState,
};

pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest message a client may send (as for an HTTP JSON body); a
/// larger one closes the socket (1009).
pub const MAX_MESSAGE_SIZE: usize = super::graphql::MAX_JSON_BODY;
/// The largest message before `connection_ack`: a `connection_init` needs
/// little more than a token.
pub const MAX_INIT_MESSAGE_SIZE: usize = 16 * 1024;
/// The longest operation id (clients use counters or UUIDs); every message
/// of the operation repeats it.
pub const MAX_OPERATION_ID: usize = 128;
/// Read and write buffer of each socket.
const BUFFER_SIZE: usize = 8 * 1024;
/// `Retry-After` of an address that holds as many sockets as it may.
const SOCKETS_RETRY_AFTER_SECS: u64 = 5;

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
    let address_slot = match &meta.client.ip {
        Some(ip) => {
            let holder = Holder::Ip(ip.as_str().into());
            match state
                .hub
                .sockets()
                .admit(holder, state.config.realtime.max_sockets_per_ip)
            {
                Some(slot) => Some(slot),
                None => {
                    return super::rate_limit::too_many_requests(
                        SOCKETS_RETRY_AFTER_SECS,
                        "Too many WebSockets from this address; close some first",
                    );
                }
            }
        }
        None => None,
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
        .on_upgrade(move |socket| serve(state, socket, protocol, meta, address_slot))
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
/// Longest the server waits for the client's close frame after its own.
const CLOSING_HANDSHAKE: Duration = Duration::from_secs(1);

/// What a signed-in socket holds: until when its token lets it run, and
/// its place among its account's sockets.
#[derive(Default)]
struct SignedIn {
    until: OnceLock<tokio::time::Instant>,
    slot: Mutex<Option<Slot>>,
}

impl SignedIn {
    fn hold(&self, viewer: &Viewer, slot: Slot) -> tokio::time::Instant {
        let left = (viewer.token_expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let until = *self
            .until
            .get_or_init(|| tokio::time::Instant::now() + left);
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(slot);
        until
    }

    /// Whether the token the socket signed in with has expired.
    fn expired(&self) -> bool {
        self.until
            .get()
            .is_some_and(|until| tokio::time::Instant::now() >= *until)
    }

    fn release(&self) {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
    address_slot: Option<Slot>,
) {
    metrics::gauge!("roost_websocket_connections").increment(1.0);
    let realtime = state.config.realtime;
    let connection = Connection::new(Some(realtime.max_subscriptions));
    let signed_in = Arc::new(SignedIn::default());
    let budget = IpBudget::new(&state.rate_limits, meta.client.ip.as_deref());
    let (mut sink, stream) = socket.split();
    // Shared with the closing handshake, which reads what the client still
    // sends until its close frame.
    let stream = Arc::new(tokio::sync::Mutex::new(stream));
    let reader = Reader {
        connection: connection.clone(),
        started: Instant::now(),
        last_heard: Arc::new(AtomicU64::new(0)),
        initialised: Arc::new(AtomicBool::new(false)),
        failed: Arc::new(AtomicBool::new(false)),
        budget: budget.clone(),
    };
    let (last_heard, initialised_flag, read_failed, started) = (
        reader.last_heard.clone(),
        reader.initialised.clone(),
        reader.failed.clone(),
        reader.started,
    );
    let input = stream::unfold((stream.clone(), reader), |(stream, reader)| async move {
        loop {
            let frame = stream.lock().await.next().await?;
            match reader.read(frame).await {
                Read::Message(m) => return Some((m, (stream, reader))),
                Read::Skip => {}
                Read::End => return None,
            }
        }
    });
    let refused = Arc::new(AtomicBool::new(false));
    let mut connection_data = Data::default();
    connection_data.insert(meta.client.clone());
    connection_data.insert(connection.clone());
    let auth = state.auth.clone();
    let hub = state.hub.clone();
    let refused_flag = refused.clone();
    let on_init_connection = connection.clone();
    let on_init_signed_in = signed_in.clone();
    let max_per_user = realtime.max_sockets_per_user;
    let executor = SocketExecutor {
        operations: PerOperation::new(
            super::persisted::PersistedExecutor {
                pipeline: state.graphql.clone(),
                persisted: state.persisted.clone(),
            },
            budget,
        ),
        connection: connection.clone(),
        signed_in: signed_in.clone(),
    };
    let gql = GqlWebSocket::from_message_stream(executor, input, protocol)
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
                    let Some(slot) = hub
                        .sockets()
                        .admit(Holder::User(viewer.user_id), max_per_user)
                    else {
                        on_init_connection.close(control::TOO_MANY_SOCKETS);
                        return Err(async_graphql::Error::new(control::TOO_MANY_SOCKETS.reason));
                    };
                    let until = on_init_signed_in.hold(viewer, slot);
                    watch_sign_in(&hub, viewer.session_id, until, on_init_connection);
                }
                Credentials::Anonymous => {}
            }
            let mut data = Data::default();
            data.insert(credentials);
            Ok(data)
        });
    let mut gql = Box::pin(gql);

    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    futures_util::pin_mut!(init_deadline);
    let mut ping = tokio::time::interval(realtime.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.reset();
    let idle_ms = u64::try_from(realtime.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    let mut initialised = false;
    let close = loop {
        tokio::select! {
            // A reason to close wins over anything left to send.
            biased;
            () = state.shutdown.cancelled() => break Some((1001, "The server is shutting down".to_owned(), "shutdown")),
            () = connection.closed() => {
                break Some(connection.reason().unwrap_or(control::TOO_SLOW).frame());
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
                    // Nothing is answered past the token's expiry, not even
                    // in the moment before its watcher closes the socket.
                    if signed_in.expired() {
                        break Some(control::TOKEN_EXPIRED.frame());
                    }
                    if !initialised && text.contains("connection_ack") {
                        initialised = true;
                        initialised_flag.store(true, Ordering::SeqCst);
                    }
                    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break None,
                        Err(_) => break Some(control::TOO_SLOW.frame()),
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    if let Some(why) = connection.reason() {
                        break Some(why.frame());
                    }
                    if refused.load(Ordering::SeqCst) {
                        break Some((4403, reason, "unauthorized"));
                    }
                    break Some((code, reason, "protocol"));
                }
                // The client went away, or its input was refused (the
                // connection then says why).
                None => break connection.reason().map(control::Close::frame),
            },
        }
    };
    let label = close.as_ref().map_or("client", |c| c.2);
    metrics::counter!("roost_websocket_closed_total", "reason" => label).increment(1);
    // Operations still running stop here.
    drop(gql);
    if let Some((code, reason, _)) = close {
        let sent = tokio::time::timeout(
            SEND_TIMEOUT,
            sink.send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))),
        )
        .await;
        // The closing handshake: what the client sent meanwhile is read
        // (and dropped) until its own close frame, so that the socket is
        // not reset under the close frame before the client reads it.
        // Not after a failed read: past an oversized frame comes its
        // payload, which must not be read at all.
        if matches!(sent, Ok(Ok(()))) && !read_failed.load(Ordering::SeqCst) {
            let _ = tokio::time::timeout(CLOSING_HANDSHAKE, async {
                let mut stream = stream.lock().await;
                while let Some(Ok(frame)) = stream.next().await {
                    if let Message::Close(_) = frame {
                        break;
                    }
                }
            })
            .await;
        }
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
    // Ends the session watcher, if any.
    connection.close(control::Close {
        code: 1000,
        reason: "closed",
        label: "client",
    });
    signed_in.release();
    drop(address_slot);
    metrics::gauge!("roost_websocket_connections").decrement(1.0);
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What became of one frame from the client.
// One lives at a time, for one frame: boxing the message would cost an
// allocation per frame for nothing.
#[allow(clippy::large_enum_variant)]
enum Read {
    /// A message for async-graphql (which answers one that does not parse
    /// by closing the socket).
    Message(serde_json::Result<ClientMessage>),
    /// Nothing to pass on: a WebSocket ping or pong, or a protocol ping
    /// over the rate limit (left unanswered).
    Skip,
    /// The socket is done: the client went, or sent what closes it (the
    /// connection says why).
    End,
}

/// Reads the client's frames and checks them before async-graphql sees
/// them: their size, their operation ids, their pings' cost.
struct Reader {
    connection: Connection,
    started: Instant,
    /// Milliseconds since `started` when the client last sent anything
    /// (pongs included): what the idle check reads.
    last_heard: Arc<AtomicU64>,
    /// Whether `connection_ack` has been sent.
    initialised: Arc<AtomicBool>,
    /// Whether a read failed: the socket must not be read again.
    failed: Arc<AtomicBool>,
    budget: IpBudget,
}

impl Reader {
    async fn read(&self, frame: Result<Message, axum::Error>) -> Read {
        self.last_heard
            .store(elapsed_ms(self.started), Ordering::Relaxed);
        let bytes = match &frame {
            Ok(Message::Text(text)) => text.as_bytes(),
            Ok(Message::Binary(bytes)) => bytes.as_ref(),
            Ok(_) => return Read::Skip,
            Err(_) => {
                // The socket cannot be read any further (nor should it be:
                // what follows an oversized frame is its payload).
                self.failed.store(true, Ordering::SeqCst);
                if frame.err().is_some_and(is_too_big) {
                    self.connection.close(control::TOO_BIG);
                }
                return Read::End;
            }
        };
        if !self.initialised.load(Ordering::SeqCst) && bytes.len() > MAX_INIT_MESSAGE_SIZE {
            self.connection.close(control::INIT_TOO_BIG);
            return Read::End;
        }
        let message = serde_json::from_slice::<ClientMessage>(bytes);
        match &message {
            Ok(ClientMessage::Start { id, .. } | ClientMessage::Stop { id })
                if id.len() > MAX_OPERATION_ID =>
            {
                self.connection.close(control::ID_TOO_LONG);
                return Read::End;
            }
            // A pong is an answer like any other: it costs a request.
            Ok(ClientMessage::Ping { .. }) if self.budget.spend().await.is_some() => {
                return Read::Skip;
            }
            _ => {}
        }
        Read::Message(message)
    }
}

/// Whether a read failed on a message or frame over the size limit.
fn is_too_big(error: axum::Error) -> bool {
    error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)))
}

/// The operations of one socket: each spends the per-IP budget, and none
/// starts once the token the socket signed in with has expired.
#[derive(Clone)]
struct SocketExecutor {
    operations: PerOperation<super::persisted::PersistedExecutor>,
    connection: Connection,
    signed_in: Arc<SignedIn>,
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: GqlRequest) -> GqlResponse {
        self.operations.execute(request).await
    }

    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        if self.signed_in.expired() {
            self.connection.close(control::TOKEN_EXPIRED);
            return stream::empty().boxed();
        }
        self.operations.execute_stream(request, session_data)
    }
}

/// Closes `connection` when its access token expires (at `until`) or its
/// session ends, wherever that happens.
fn watch_sign_in(
    hub: &Hub,
    session_id: uuid::Uuid,
    until: tokio::time::Instant,
    connection: Connection,
) {
    let mut ended = hub.subscribe(Topic::Session(session_id), None);
    tokio::spawn(async move {
        tokio::select! {
            event = ended.next() => {
                if event.is_some() {
                    connection.close(control::SESSION_ENDED);
                }
            }
            () = tokio::time::sleep_until(until) => connection.close(control::TOKEN_EXPIRED),
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
