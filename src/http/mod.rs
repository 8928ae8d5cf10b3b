//! The HTTP surface: GraphQL, the playground, WebSockets, health and metrics.

pub mod graphql;
pub mod hardening;
pub mod health;
pub mod metrics;
pub mod multipart;
pub mod negotiate;
pub mod persisted;
pub mod playground;
pub mod rate_limit;
pub mod server;
pub mod webhooks;
pub mod websocket;

use std::time::Duration;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method},
    middleware,
    response::Response,
    routing::{get, post},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    trace::{DefaultOnRequest, DefaultOnResponse, OnResponse, TraceLayer},
};

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    // The per-IP limit covers GraphQL (and its WebSocket upgrades) only:
    // health checks and metrics scrapes are never refused.
    let api = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws_only))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::per_ip,
        ));
    let mut router = api
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/webhooks/stripe", post(webhooks::stripe))
        .route(
            &format!("{}/{{*key}}", crate::storage::PHOTOS_ROUTE),
            get(crate::storage::serve),
        );
    // With ROOST_METRICS_BIND, /metrics is served there only.
    if state.config.metrics_bind.is_none() {
        router = router.route("/metrics", get(metrics::render));
    }
    if let (true, Some(dir)) = (
        state.config.graphql.playground,
        state.config.graphql.playground_assets_dir.clone(),
    ) {
        router = router.nest_service(playground::ASSETS_PATH, ServeDir::new(dir));
    }
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // Named by the method and the route's pattern, as the metrics
            // label them: never by what a client made up.
            let route = req
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map_or(metrics::OTHER, |p| p.as_str());
            let span = tracing::info_span!(
                "request",
                otel.name = %format!("{} {route}", metrics::method_label(req.method())),
                otel.kind = "server",
                request_id = %id,
                method = %req.method(),
                path = %req.uri().path(),
                http.response.status_code = tracing::field::Empty,
            );
            crate::telemetry::adopt_remote_parent(&span, req.headers());
            span
        })
        // One access-log line per request, with its status and latency.
        .on_request(DefaultOnRequest::new().level(tracing::Level::DEBUG))
        .on_response(
            |res: &axum::response::Response, latency: std::time::Duration, span: &tracing::Span| {
                span.record("http.response.status_code", res.status().as_u16());
                DefaultOnResponse::new()
                    .level(tracing::Level::INFO)
                    .on_response(res, latency, span);
            },
        );
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            hardening::deadlines,
        ))
        .layer(middleware::from_fn(hardening::security_headers))
        .layer(middleware::from_fn(metrics::track))
        .layer(cors(&state))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(hardening::client_request_id))
        .with_state(state)
}

/// `/metrics` alone, for `ROOST_METRICS_BIND`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            hardening::deadlines,
        ))
        .with_state(state)
}

/// `/graphql/ws` speaks only WebSocket.
async fn ws_only(State(state): State<AppState>, req: Request) -> Response {
    websocket::upgrade(state, req).await
}

/// Browser clients on other origins (an SPA on its dev server). Tokens travel
/// in the Authorization header, never in cookies, so allowing an origin
/// does not let its pages act with a user's ambient credentials.
fn cors(state: &AppState) -> CorsLayer {
    let origins = &state.config.cors_origins;
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(
            state
                .config
                .cors_headers
                .iter()
                // Checked to be header names when the configuration is read.
                .filter_map(|h| HeaderName::try_from(h.as_str()).ok())
                .collect::<Vec<_>>(),
        )
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600))
}
