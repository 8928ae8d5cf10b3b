//! The per-IP limit on `/graphql` and `/graphql/ws` (plain HTTP requests and
//! WebSocket upgrades alike), and where the client's address is worked out:
//! once per request, kept in its extensions as [`ClientIp`] for the
//! handlers (`RequestMeta`) to read.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    middleware::Next,
    response::Response,
};
use serde_json::json;

use super::graphql::request_error_with;
use crate::{
    error::code,
    ratelimit::{self, ClientIp, Decision},
    state::AppState,
};

pub async fn per_ip(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(peer) = peer else {
        return next.run(req).await;
    };
    let ip = crate::ratelimit::client_ip(&state.config.trusted_proxies, peer, req.headers());
    req.extensions_mut().insert(ClientIp(ip));
    if let Some(limiter) = &state.rate_limits.ip
        && let Decision::Denied { retry_after_secs } = limiter.check(&ip.to_string(), 1).await
    {
        ratelimit::record_refusal(limiter.kind());
        return too_many_requests(
            retry_after_secs,
            "Too many requests from this address; try again later",
        );
    }
    next.run(req).await
}

/// HTTP 429 with `Retry-After` and a GraphQL-shaped body whose error has
/// `extensions.code` RATE_LIMITED and `extensions.retryAfter`.
pub fn too_many_requests(retry_after_secs: u64, message: &str) -> Response {
    let mut response = request_error_with(
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        message,
        json!({ "retryAfter": retry_after_secs }),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}
