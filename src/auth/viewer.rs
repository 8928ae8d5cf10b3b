//! Who is asking: resolved once per request (or WebSocket connection) from
//! the bearer token, and put in the request's data.

use async_graphql::Context;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A signed-in user and the session their token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When the access token it was read from expires: a WebSocket opened
    /// with it closes then.
    pub token_expires_at: DateTime<Utc>,
}

/// The outcome of reading the credentials a request carried.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// No credentials.
    Anonymous,
    Viewer(Viewer),
    /// A token was sent but is malformed, expired or revoked. The request
    /// fails with UNAUTHENTICATED (see `graphql::auth_gate`); it is never
    /// treated as anonymous.
    Rejected(String),
}

/// Where the request came from, recorded with new sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Viewer access for resolvers.
pub trait ViewerExt {
    /// The signed-in viewer, if any.
    fn viewer(&self) -> Option<Viewer>;
    /// The signed-in viewer, or UNAUTHENTICATED.
    fn require_viewer(&self) -> AppResult<Viewer>;
}

impl ViewerExt for Context<'_> {
    fn viewer(&self) -> Option<Viewer> {
        match self.data_opt::<Credentials>() {
            Some(Credentials::Viewer(v)) => Some(*v),
            _ => None,
        }
    }

    fn require_viewer(&self) -> AppResult<Viewer> {
        match self.data_opt::<Credentials>() {
            Some(Credentials::Viewer(v)) => Ok(*v),
            Some(Credentials::Rejected(reason)) => Err(AppError::Unauthenticated(reason.clone())),
            _ => Err(AppError::Unauthenticated(
                "Sign in first: send `Authorization: Bearer <accessToken>`".into(),
            )),
        }
    }
}
