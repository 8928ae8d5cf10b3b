//! `/metrics` in the Prometheus text format, and the HTTP request metrics.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, header::CONTENT_TYPE},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Seconds: from a cache hit to a slow search.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder, installed on first use.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    // One install per process, even when several servers start at once
    // (tests do): the first builds it, the others wait and share it.
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .and_then(|b| b.install_recorder())
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let pool = domain::infra::db::pool_stats(&state.db, state.config.database.max_connections);
    metrics::gauge!("roost_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("roost_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.size.saturating_sub(pool.idle)));
    metrics::gauge!("roost_db_pool_max_connections").set(f64::from(pool.max));
    if let Some(replica) = &state.replica {
        let pool = domain::infra::db::pool_stats(&replica.db, replica.max_connections);
        metrics::gauge!("roost_db_replica_pool_connections", "state" => "idle")
            .set(f64::from(pool.idle));
        metrics::gauge!("roost_db_replica_pool_connections", "state" => "in_use")
            .set(f64::from(pool.size.saturating_sub(pool.idle)));
        metrics::gauge!("roost_db_replica_pool_max_connections").set(f64::from(pool.max));
    }
    if let Some(redis) = &state.redis {
        // Whether Redis answers, and how fast, as of this scrape.
        let started = Instant::now();
        let up = matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), redis.ping()).await,
            Ok(Ok(()))
        );
        metrics::gauge!("roost_redis_up").set(if up { 1.0 } else { 0.0 });
        if up {
            metrics::gauge!("roost_redis_ping_seconds").set(started.elapsed().as_secs_f64());
        }
    }
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
}

/// Counts and times every HTTP request by method, route and status. Each
/// label takes a bounded set of values, whatever a client sends: the
/// standard methods, the router's own route patterns, and "other" for
/// anything else (an invented method, a path no route matches).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| OTHER.to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("roost_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("roost_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The label of anything outside a label's known values.
pub const OTHER: &str = "other";

/// The standard methods (RFC 9110 and PATCH); any other (HTTP lets a client
/// invent methods, of any length) is "other".
const METHODS: [&str; 9] = [
    "GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT", "TRACE",
];

pub fn method_label(method: &Method) -> &'static str {
    METHODS
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or(OTHER)
}
