//! One WebSocket connection as its subscriptions see it: how many it holds,
//! and a way to close it from elsewhere (a slow client, an ended session).

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use tokio_util::sync::CancellationToken;

/// Why the server closes a socket, as a close code and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
    /// How `roost_websocket_closed_total` counts it.
    pub label: &'static str,
}

impl Close {
    /// Code, reason and label, as the socket loop sends and counts them.
    pub fn frame(self) -> (u16, String, &'static str) {
        (self.code, self.reason.to_owned(), self.label)
    }
}

/// The client read too slowly and events had to be dropped; it should
/// reconnect and reload what it shows.
pub const TOO_SLOW: Close = Close {
    code: 1013,
    reason: "Too slow: events were dropped; reconnect and reload",
    label: "too_slow",
};
/// The session the socket signed in with has ended (logout, password change).
pub const SESSION_ENDED: Close = Close {
    code: 4401,
    reason: "The session has ended",
    label: "session_ended",
};
/// The access token the socket signed in with has expired: reconnect with
/// a fresh one.
pub const TOKEN_EXPIRED: Close = Close {
    code: 4401,
    reason: "token expired",
    label: "token_expired",
};
/// A message over the size limit.
pub const TOO_BIG: Close = Close {
    code: 1009,
    reason: "Message too big: at most 1 MiB",
    label: "too_big",
};
/// A message before `connection_ack` over its (smaller) size limit.
pub const INIT_TOO_BIG: Close = Close {
    code: 1009,
    reason: "Message too big: at most 16 KiB before connection_ack",
    label: "too_big",
};
/// An operation id over its length limit.
pub const ID_TOO_LONG: Close = Close {
    code: 4400,
    reason: "Operation ids may be at most 128 bytes",
    label: "bad_message",
};
/// The account holds as many sockets as it may.
pub const TOO_MANY_SOCKETS: Close = Close {
    code: 4429,
    reason: "Too many WebSockets for this account; close some first",
    label: "too_many_sockets",
};
/// Nothing came from the client, not even a pong, for too long.
pub const IDLE: Close = Close {
    code: 1001,
    reason: "Idle for too long",
    label: "idle",
};

struct Inner {
    closed: CancellationToken,
    reason: OnceLock<Close>,
    active: AtomicUsize,
    max: usize,
}

/// Shared by a socket's loop and its subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct Connection(Arc<Inner>);

impl Connection {
    /// `max_subscriptions`: `None` for no limit.
    pub fn new(max_subscriptions: Option<usize>) -> Self {
        Self(Arc::new(Inner {
            closed: CancellationToken::new(),
            reason: OnceLock::new(),
            active: AtomicUsize::new(0),
            max: max_subscriptions.unwrap_or(usize::MAX),
        }))
    }

    /// Asks the socket to close; the first reason given wins.
    pub fn close(&self, why: Close) {
        let _ = self.0.reason.set(why);
        self.0.closed.cancel();
    }

    pub async fn closed(&self) {
        self.0.closed.cancelled().await;
    }

    pub fn reason(&self) -> Option<Close> {
        self.0.reason.get().copied()
    }

    /// Counts a new subscription, or `None` when the socket holds its
    /// maximum already.
    pub fn begin(&self, name: &'static str) -> Option<Active> {
        let held = self.0.active.fetch_add(1, Ordering::SeqCst);
        if held >= self.0.max {
            self.0.active.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        metrics::gauge!("roost_subscriptions_active", "subscription" => name).increment(1.0);
        Some(Active {
            connection: self.clone(),
            name,
        })
    }

    pub fn max(&self) -> usize {
        self.0.max
    }
}

/// A subscription being served; counted until dropped.
pub struct Active {
    connection: Connection,
    name: &'static str,
}

impl Active {
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.connection.0.active.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!("roost_subscriptions_active", "subscription" => self.name).decrement(1.0);
    }
}
