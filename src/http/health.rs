//! `/health` (the process runs) and `/ready` (its database, its read
//! replica and Redis answer, those that are configured).

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let database = tokio::time::timeout(CHECK_TIMEOUT, crate::db::ping(&state.db))
        .await
        .is_ok_and(|r| r.is_ok());
    // Queries go to the replica, so an instance without it cannot serve.
    let replica = match &state.replica {
        Some(replica) => Some(
            tokio::time::timeout(CHECK_TIMEOUT, crate::db::ping(&replica.db))
                .await
                .is_ok_and(|r| r.is_ok()),
        ),
        None => None,
    };
    let redis = match &state.redis {
        Some(redis) => Some(
            tokio::time::timeout(CHECK_TIMEOUT, redis.ping())
                .await
                .is_ok_and(|r| r.is_ok()),
        ),
        None => None,
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database && replica.unwrap_or(true) && redis.unwrap_or(true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "database": word(database),
            "replica": replica.map_or("not configured", word),
            "redis": redis.map_or("not configured", word),
        })),
    )
}
