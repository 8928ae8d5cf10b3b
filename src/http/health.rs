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

/// Whether `check` succeeds within the timeout.
async fn answers<E>(check: impl Future<Output = Result<(), E>>) -> bool {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .is_ok_and(|r| r.is_ok())
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    // Queries go to the replica, so an instance without it cannot serve.
    let (database, replica, redis) = tokio::join!(
        answers(domain::infra::db::ping(&state.db)),
        async {
            match &state.replica {
                Some(replica) => Some(answers(domain::infra::db::ping(&replica.db)).await),
                None => None,
            }
        },
        async {
            match &state.redis {
                Some(redis) => Some(answers(redis.ping()).await),
                None => None,
            }
        },
    );
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
