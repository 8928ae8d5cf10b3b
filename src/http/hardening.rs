//! Response headers every answer carries, and the time a request may take.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::graphql::request_error_with;
use crate::{error::code, state::AppState};

/// Browsers must not sniff types, frame Roost's pages or leak its URLs in
/// `Referer`; API answers (JSON) may load nothing at all. The playground's
/// HTML keeps its own needs (its scripts and styles) and gets the rest.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = resp.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    resp
}

/// Stops a request that runs longer than `ROOST_REQUEST_TIMEOUT`: its work
/// is dropped (an open transaction rolls back) and the client is told to
/// try again. WebSocket upgrades answer at once and are not affected.
pub async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            metrics::counter!("roost_requests_timed_out_total").increment(1);
            tracing::warn!(?limit, "a request ran out of time and was stopped");
            let mut resp = request_error_with(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                &format!(
                    "The request took longer than {} s and was stopped; try again",
                    limit.as_secs_f64()
                ),
                json!({}),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp.into_response()
        }
    }
}
