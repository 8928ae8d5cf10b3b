//! The one way errors travel to clients.
//!
//! Services return the rules' [`AppError`]; resolvers turn it into a GraphQL
//! error with `.extend()` ([`GraphqlError`], [`GraphqlResult`]), which sets
//! `extensions.code` (and `extensions.field` for bad input, `retryAfter`
//! for a rate limit). Internal errors are logged inside the request's span,
//! so the log line carries the request id, and reach the client only as
//! `INTERNAL_SERVER_ERROR` with no detail.

use async_graphql::ErrorExtensions;

pub use domain::kernel::error::{AppError, AppResult, INTERNAL_MESSAGE, code};

/// An error raised before execution (by an extension), with its code.
pub fn request_error(message: impl Into<String>, code: &str) -> async_graphql::ServerError {
    let mut e = async_graphql::ServerError::new(message, None);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    e
}

/// QUERY_TOO_COMPLEX before anything runs, with what was measured and its
/// limit in `extensions` (`measure` is `cost`, `depth`, `fields` or
/// `directives`), so a client knows how far over it is.
pub fn too_complex(
    message: impl Into<String>,
    measure: &str,
    value: usize,
    limit: usize,
) -> async_graphql::ServerError {
    let mut e = request_error(message, code::QUERY_TOO_COMPLEX);
    let extensions = e.extensions.get_or_insert_with(Default::default);
    extensions.set(measure, value);
    extensions.set("limit", limit);
    e
}

/// An [`AppError`] as a GraphQL error.
pub trait GraphqlError {
    fn extend(&self) -> async_graphql::Error;
}

/// A service's result as a resolver's.
pub trait GraphqlResult<T> {
    fn extend(self) -> async_graphql::Result<T>;
}

impl<T> GraphqlResult<T> for Result<T, AppError> {
    fn extend(self) -> async_graphql::Result<T> {
        self.map_err(|e| GraphqlError::extend(&e))
    }
}

impl GraphqlError for AppError {
    fn extend(&self) -> async_graphql::Error {
        let message = match self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                INTERNAL_MESSAGE.to_owned()
            }
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfter", *retry_after_secs),
                _ => {}
            }
        })
    }
}
