//! The settings as they are written: one flat struct whose field names are
//! the file keys and, upper-cased with a `ROOST_` prefix, the environment
//! variables, with the built-in defaults. Each area's file resolves its
//! part of it.

use std::{path::PathBuf, time::Duration};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Environment, LogFormat, PersistedMode, duration};

/// The settings as they are written, before defaults that depend on other
/// settings are filled in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    pub env: Environment,
    /// `host:port`; a host name is resolved once, at start-up.
    pub bind: String,
    /// Serve `/metrics` on this address instead of `bind`.
    pub metrics_bind: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    /// A read replica of the database: read-only GraphQL queries go there.
    pub database_read_url: Option<String>,
    /// The replica's pool size; unset: the primary's.
    pub database_read_max_connections: Option<u32>,
    /// How long after a user's last mutation their queries still read from
    /// the primary, so they see their own writes (0: not at all).
    #[serde(with = "duration")]
    pub read_your_writes: Duration,
    pub auto_migrate: bool,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    /// Longest any Redis command may take before it counts as failed and
    /// Redis as down (the caller falls back at once).
    #[serde(with = "duration")]
    pub redis_timeout: Duration,
    pub jwt_secret: Option<String>,
    #[serde(with = "duration")]
    pub access_token_ttl: Duration,
    #[serde(with = "duration")]
    pub refresh_token_ttl: Duration,
    pub login_max_failures: u32,
    #[serde(with = "duration")]
    pub login_failure_window: Duration,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub log_format: LogFormat,
    pub log_level: String,
    /// An OpenTelemetry collector's OTLP/HTTP base URL, e.g.
    /// `http://otel-collector:4318`; unset: no traces are exported.
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// The `service.name` traces are reported under.
    pub otel_service_name: String,
    /// The share of traces recorded, 0 to 1 (a parent's decision, from a
    /// `traceparent` header, is followed).
    pub trace_sample_ratio: f64,
    /// Unset: on in development, off in production.
    pub playground: Option<bool>,
    pub playground_assets_dir: Option<PathBuf>,
    /// Serve anonymous queries from the response cache (Redis when
    /// configured, in process otherwise).
    pub response_cache: bool,
    /// How long a cached answer is kept (writes invalidate it sooner).
    #[serde(with = "duration")]
    pub response_cache_ttl: Duration,
    /// Answers larger than this are not cached.
    pub response_cache_max_bytes: usize,
    /// Unset: on in development, off in production.
    pub introspection: Option<bool>,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    /// Root or aliased fields one operation may ask for.
    pub max_query_aliases: usize,
    /// Lexical tokens one document may hold.
    pub max_query_tokens: usize,
    /// Variables one operation may define.
    pub max_query_variables: usize,
    /// Items one list in an argument may hold.
    pub max_list_items: usize,
    /// Errors one answer carries (then one more saying how many were left
    /// out).
    pub max_response_errors: usize,
    #[serde(with = "duration")]
    pub shutdown_timeout: Duration,
    /// How long one HTTP request may run before it is stopped (counted
    /// from when its body has arrived).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// A request's headers must arrive within this (and an idle
    /// connection is closed after it).
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// A request's body must arrive within this, counted from its headers.
    #[serde(with = "duration")]
    pub body_timeout: Duration,
    /// Connections open at once; more wait until one closes.
    pub max_connections: usize,
    /// Comma-separated origins allowed to call the API from a browser, or
    /// `*`. Unset: any origin in development, none in production.
    pub cors_origins: Option<String>,
    /// Comma-separated request headers browsers may send from those
    /// origins. Unset: [`super::DEFAULT_CORS_HEADERS`].
    pub cors_headers: Option<String>,
    /// This server's address as clients reach it (for photo URLs).
    pub public_url: Option<String>,
    pub photos_dir: Option<PathBuf>,
    pub s3_bucket: Option<String>,
    pub s3_region: String,
    pub s3_endpoint: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_public_url: Option<String>,
    pub service_fee_percent: Decimal,
    pub tax_percent: Decimal,
    #[serde(with = "duration")]
    pub hold_window: Duration,
    #[serde(with = "duration")]
    pub host_answer_window: Duration,
    /// How often the worker sweeps for expired holds, unanswered requests,
    /// finished stays and unsettled payments.
    #[serde(with = "duration")]
    pub scheduler_interval: Duration,
    /// How often the worker polls for new jobs.
    #[serde(with = "duration")]
    pub job_poll_interval: Duration,
    /// Attempts before a failing job is given up (and kept, as failed).
    pub job_max_attempts: u32,
    /// Whether `roost serve` runs the worker too. Unset: yes in
    /// development, no in production (run `roost worker`).
    pub serve_runs_worker: Option<bool>,
    /// `simulated` or `stripe`.
    pub payment_provider: String,
    pub stripe_secret_key: Option<String>,
    pub stripe_webhook_secret: Option<String>,
    pub stripe_api_base: String,
    /// `smtp://user:pass@host:587`; unset: emails are written to the log.
    pub smtp_url: Option<String>,
    pub email_from: String,
    /// How often an idle WebSocket is pinged.
    #[serde(with = "duration")]
    pub ws_ping_interval: Duration,
    /// A WebSocket that sends nothing (not even a pong) for this long is closed.
    #[serde(with = "duration")]
    pub ws_idle_timeout: Duration,
    /// Events one subscription may have waiting before its client counts as
    /// too slow and is dropped.
    pub subscription_buffer: usize,
    /// Subscriptions one WebSocket may hold at once.
    pub ws_max_subscriptions: usize,
    /// WebSockets open at once from one client IP, per instance (0: no limit).
    pub ws_max_sockets_per_ip: usize,
    /// WebSockets open at once signed in as one user, per instance (0: no
    /// limit).
    pub ws_max_sockets_per_user: usize,
    /// `off`, `apq` (register on first use) or `only` (the manifest's
    /// operations only).
    pub persisted_queries: PersistedMode,
    /// An Apollo persisted query manifest (JSON); required with `only`.
    pub persisted_queries_file: Option<PathBuf>,
    /// How long Redis keeps a registered query.
    #[serde(with = "duration")]
    pub persisted_queries_ttl: Duration,
    /// Registered queries kept at most (in Redis, or in process).
    pub persisted_queries_max_entries: usize,
    /// Bytes of registered query text kept at most.
    pub persisted_queries_max_bytes: usize,
    /// Requests per second per client IP (0: no limit).
    pub rate_limit_ip_per_second: u32,
    pub rate_limit_ip_burst: u32,
    /// Operations per second per signed-in user (0: no limit).
    pub rate_limit_user_per_second: u32,
    pub rate_limit_user_burst: u32,
    /// `register`, `login` and `refreshSession` per minute per client IP
    /// (0: no limit).
    pub rate_limit_auth_per_minute: u32,
    /// Comma-separated addresses or CIDR blocks of reverse proxies whose
    /// `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            bind: "127.0.0.1:8000".into(),
            metrics_bind: None,
            data_dir: PathBuf::from("roost-data"),
            database_url: None,
            database_max_connections: 10,
            database_read_url: None,
            database_read_max_connections: None,
            read_your_writes: Duration::from_secs(5),
            auto_migrate: true,
            redis_url: None,
            redis_prefix: "roost:".into(),
            redis_timeout: Duration::from_millis(250),
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            login_max_failures: 5,
            login_failure_window: Duration::from_secs(15 * 60),
            // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            otel_exporter_otlp_endpoint: None,
            otel_service_name: "roost".into(),
            trace_sample_ratio: 1.0,
            playground: None,
            playground_assets_dir: None,
            response_cache: false,
            response_cache_ttl: Duration::from_secs(60),
            response_cache_max_bytes: 256 * 1024,
            introspection: None,
            max_query_depth: 12,
            max_query_complexity: 1000,
            max_query_aliases: 30,
            max_query_tokens: 15_000,
            max_query_variables: 100,
            max_list_items: 100,
            max_response_errors: 100,
            shutdown_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            max_connections: 1024,
            cors_origins: None,
            cors_headers: None,
            public_url: None,
            photos_dir: None,
            s3_bucket: None,
            s3_region: "us-east-1".into(),
            s3_endpoint: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_public_url: None,
            service_fee_percent: Decimal::from(14),
            tax_percent: Decimal::ZERO,
            hold_window: Duration::from_secs(15 * 60),
            host_answer_window: Duration::from_secs(24 * 3600),
            scheduler_interval: Duration::from_secs(30),
            job_poll_interval: Duration::from_millis(200),
            job_max_attempts: 8,
            serve_runs_worker: None,
            ws_ping_interval: Duration::from_secs(30),
            ws_idle_timeout: Duration::from_secs(75),
            subscription_buffer: 256,
            ws_max_subscriptions: 100,
            ws_max_sockets_per_ip: 200,
            ws_max_sockets_per_user: 20,
            persisted_queries: PersistedMode::Apq,
            persisted_queries_file: None,
            persisted_queries_ttl: Duration::from_secs(30 * 24 * 3600),
            persisted_queries_max_entries: 10_000,
            persisted_queries_max_bytes: 32 * 1024 * 1024,
            rate_limit_ip_per_second: 100,
            rate_limit_ip_burst: 200,
            rate_limit_user_per_second: 50,
            rate_limit_user_burst: 100,
            rate_limit_auth_per_minute: 60,
            trusted_proxies: None,
            payment_provider: "simulated".into(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: "https://api.stripe.com".into(),
            smtp_url: None,
            email_from: "Roost <no-reply@roost.localhost>".into(),
        }
    }
}
