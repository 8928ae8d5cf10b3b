//! `POST /webhooks/stripe`: the signature is checked (HMAC-SHA256 over
//! `t.payload`, 5 minutes of tolerance; a bad one answers 400) before the
//! event reaches the payments service. 404 when no webhook secret is
//! configured; 500 asks Stripe to deliver the event again.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use secrecy::ExposeSecret;

use super::hardening::{BodyError, read_body};
use crate::{
    payments::{signature, webhook::StripeEvent},
    state::AppState,
};

/// An event's body: Stripe's events are a few kilobytes.
pub const MAX_BODY: usize = 1024 * 1024;

fn text(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(secret) = state.config.payments.stripe_webhook_secret.as_ref() else {
        return text(StatusCode::NOT_FOUND, "Stripe webhooks are not configured");
    };
    let body = match read_body(body, MAX_BODY).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the body exceeds 1 MiB");
        }
        Err(BodyError::Unreadable) => return text(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    let Some(header) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return text(StatusCode::BAD_REQUEST, "missing Stripe-Signature");
    };
    if let Err(e) = signature::verify(
        &body,
        header,
        secret.expose_secret().as_bytes(),
        Utc::now().timestamp(),
        signature::TOLERANCE_SECS,
    ) {
        tracing::warn!(error = %e, "refused a Stripe webhook");
        metrics::counter!("roost_webhooks_total", "outcome" => "bad_signature").increment(1);
        return text(StatusCode::BAD_REQUEST, "bad signature");
    }
    let Ok(event) = serde_json::from_slice::<StripeEvent>(&body) else {
        return text(StatusCode::BAD_REQUEST, "not a Stripe event");
    };
    match state.payments.apply_stripe_event(&event).await {
        Ok(applied) => {
            let outcome = if applied { "applied" } else { "repeated" };
            metrics::counter!("roost_webhooks_total", "outcome" => outcome).increment(1);
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({ "received": true, "applied": applied })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), event = %event.id, "applying a Stripe webhook failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
    }
}
