//! Configuration: one typed struct, read once at start-up.
//!
//! Sources, later ones winning: built-in defaults, an optional TOML file
//! (`ROOST_CONFIG` or `--config`), then the environment. Most settings are
//! `ROOST_<NAME>`; the three that every deployment tool already knows by name
//! are read bare: `DATABASE_URL`, `REDIS_URL` and `JWT_SECRET`.

mod duration;
mod jwt_secret;
mod unknown;

use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use axum::http::HeaderName;
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use jwt_secret::JwtSecret;

use crate::{
    http::persisted::{Mode as PersistedMode, PersistedQueriesConfig},
    properties::pricing::Fees,
};

/// Where the server runs: development is forgiving, production refuses
/// settings that are only safe on a laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The settings as they are written, before defaults that depend on other
/// settings are filled in. Field names are the file keys and, upper-cased
/// with a `ROOST_` prefix, the environment variables.
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
    /// origins. Unset: [`DEFAULT_CORS_HEADERS`].
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

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: Environment,
    pub bind: SocketAddr,
    /// Where `/metrics` is served apart from the API; unset: on `bind`.
    pub metrics_bind: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub redis: Option<RedisConfig>,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub graphql: GraphqlConfig,
    pub shutdown_timeout: Duration,
    pub request_timeout: Duration,
    /// Slow clients and open connections.
    pub connections: ConnectionLimits,
    pub cors_origins: Vec<String>,
    /// Request headers allowed from those origins.
    pub cors_headers: Vec<HeaderName>,
    /// Unset: `http://<bound address>`.
    pub public_url: Option<String>,
    pub storage: StorageConfig,
    pub fees: Fees,
    pub bookings: crate::bookings::service::Windows,
    pub worker: WorkerConfig,
    pub payments: PaymentsConfig,
    pub email: EmailConfig,
    pub realtime: RealtimeConfig,
    pub persisted_queries: PersistedQueriesConfig,
    pub rate_limits: RateLimitConfig,
    /// The response cache for anonymous queries, when it is on.
    pub response_cache: Option<ResponseCacheConfig>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
}

/// What a client may hold of the server's connections, and for how long
/// (RULES §20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Request headers must arrive within this; an idle connection is
    /// closed after it.
    pub header_timeout: Duration,
    /// A request body must arrive within this, from its headers.
    pub body_timeout: Duration,
    /// Connections open at once (WebSockets included).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            header_timeout: raw.header_timeout,
            body_timeout: raw.body_timeout,
            max_connections: raw.max_connections,
        }
    }
}

/// The response cache (see `crate::cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCacheConfig {
    pub ttl: Duration,
    pub max_bytes: usize,
}

/// Rate limits (RULES §9); a rate or burst of 0 turns its limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub ip_per_second: u32,
    pub ip_burst: u32,
    pub user_per_second: u32,
    pub user_burst: u32,
    pub auth_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            ip_per_second: raw.rate_limit_ip_per_second,
            ip_burst: raw.rate_limit_ip_burst,
            user_per_second: raw.rate_limit_user_per_second,
            user_burst: raw.rate_limit_user_burst,
            auth_per_minute: raw.rate_limit_auth_per_minute,
        }
    }
}

/// Live subscriptions over WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct RealtimeConfig {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    pub buffer: usize,
    pub max_subscriptions: usize,
    /// Open sockets per client IP and per user (0: no limit).
    pub max_sockets_per_ip: usize,
    pub max_sockets_per_user: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            ping_interval: raw.ws_ping_interval,
            idle_timeout: raw.ws_idle_timeout,
            buffer: raw.subscription_buffer,
            max_subscriptions: raw.ws_max_subscriptions,
            max_sockets_per_ip: raw.ws_max_sockets_per_ip,
            max_sockets_per_user: raw.ws_max_sockets_per_user,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub in_serve: bool,
    pub poll_interval: Duration,
    pub max_attempts: u32,
    pub scheduler_interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Simulated,
    Stripe,
}

#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    pub provider: ProviderKind,
    pub stripe_secret_key: Option<SecretString>,
    pub stripe_webhook_secret: Option<SecretString>,
    pub stripe_api_base: String,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub photos_dir: PathBuf,
    pub s3: Option<S3Config>,
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible services (MinIO, R2, ...); unset means AWS.
    pub endpoint: Option<String>,
    pub access_key_id: Option<SecretString>,
    pub secret_access_key: Option<SecretString>,
    /// Where the bucket's files are publicly readable; unset means they are
    /// served through this server.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// May hold a password: never printed.
    pub url: SecretString,
    pub max_connections: u32,
    /// Apply pending migrations when `roost serve` starts.
    pub auto_migrate: bool,
    /// Where read-only queries go, when there is a replica.
    pub read: Option<ReadReplicaConfig>,
}

/// A read replica of the database (`DATABASE_READ_URL`).
#[derive(Debug, Clone)]
pub struct ReadReplicaConfig {
    /// May hold a password: never printed.
    pub url: SecretString,
    pub max_connections: u32,
    /// A user's queries read from the primary for this long after their
    /// last mutation, so they see their own writes despite replication lag.
    pub read_your_writes: Duration,
}

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: SecretString,
    /// Put in front of every key and channel, so deployments can share a Redis.
    pub prefix: String,
    /// Longest one command may take; past it Redis counts as down.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: JwtSecret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter directive, e.g. `info` or `roost=debug,info`.
    pub level: String,
    /// Where spans are exported, when they are.
    pub tracing: Option<TracingConfig>,
}

/// OpenTelemetry trace export over OTLP/HTTP.
#[derive(Debug, Clone)]
pub struct TracingConfig {
    /// The collector's base URL; spans go to `<endpoint>/v1/traces`.
    pub endpoint: String,
    pub service_name: String,
    pub sample_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct GraphqlConfig {
    pub playground: bool,
    pub playground_assets_dir: Option<PathBuf>,
    pub introspection: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_tokens: usize,
    pub max_variables: usize,
    pub max_list_items: usize,
    pub max_errors: usize,
}

/// The request headers browsers may send from allowed origins unless
/// `ROOST_CORS_HEADERS` says otherwise: what GraphQL clients send (Apollo
/// Client's client awareness and CSRF-prevention headers, its operation
/// name) and W3C Trace Context, besides the basics.
pub const DEFAULT_CORS_HEADERS: [&str; 10] = [
    "authorization",
    "content-type",
    "accept",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "traceparent",
    "tracestate",
];

fn cors_headers(list: Option<&str>) -> anyhow::Result<Vec<HeaderName>> {
    let names: Vec<&str> = match list {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect(),
        None => DEFAULT_CORS_HEADERS.to_vec(),
    };
    names
        .into_iter()
        .map(|name| {
            HeaderName::try_from(name)
                .map_err(|_| anyhow::anyhow!("ROOST_CORS_HEADERS: {name:?} is not a header name"))
        })
        .collect()
}

/// An address to listen on: `ip:port`, or `host:port` with the host
/// resolved (its first IPv4 address, else its first address).
fn socket_addr(setting: &str, value: &str) -> anyhow::Result<SocketAddr> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = value
        .to_socket_addrs()
        .with_context(|| {
            format!(
                "{setting}={value} is not an address to listen on (host:port, e.g. 127.0.0.1:8000)"
            )
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .with_context(|| format!("{setting}={value}: the host name has no address"))
}

/// A playground assets folder must hold every file the page loads.
fn check_playground_assets(dir: &Path) -> anyhow::Result<()> {
    let missing: Vec<&str> = crate::http::playground::LOCAL_FILES
        .into_iter()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "ROOST_PLAYGROUND_ASSETS_DIR={} lacks {}; fill it with \
             scripts/fetch-playground-assets {0}",
            dir.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

fn percent(name: &str, value: Decimal) -> anyhow::Result<Decimal> {
    if value >= Decimal::ZERO && value <= Decimal::ONE_HUNDRED {
        Ok(value)
    } else {
        bail!("{name} must be between 0 and 100")
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            playground: true,
            playground_assets_dir: raw.playground_assets_dir,
            introspection: true,
            max_depth: raw.max_query_depth,
            max_complexity: raw.max_query_complexity,
            max_aliases: raw.max_query_aliases,
            max_tokens: raw.max_query_tokens,
            max_variables: raw.max_query_variables,
            max_list_items: raw.max_list_items,
            max_errors: raw.max_response_errors,
        }
    }
}

/// The environment variables read without the `ROOST_` prefix.
const BARE_ENV: [&str; 8] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "DATABASE_URL",
    "DATABASE_READ_URL",
    "REDIS_URL",
    "JWT_SECRET",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
];

impl Config {
    /// Reads defaults, the optional file and the environment, and resolves them.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let file = file.or_else(|| std::env::var_os("ROOST_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(file) = file {
            if !file.exists() {
                bail!("configuration file {} does not exist", file.display());
            }
            unknown::check_file(&file)?;
            figment = figment.merge(Toml::file(file));
        }
        unknown::check_env(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
        let figment = figment
            .merge(Env::raw().only(&BARE_ENV))
            .merge(Env::prefixed("ROOST_").ignore(&["CONFIG"]));
        Self::from_figment(figment)
    }

    /// Resolves settings from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> anyhow::Result<Self> {
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Self::resolve(raw)
    }

    fn resolve(raw: RawConfig) -> anyhow::Result<Self> {
        let production = raw.env == Environment::Production;
        let jwt_secret = match raw.jwt_secret.filter(|s| !s.is_empty()) {
            Some(secret) => JwtSecret::given(secret, production)?,
            None if production => bail!(
                "JWT_SECRET must be set when ROOST_ENV=production \
                 (at least {} random bytes, shared by every instance)",
                jwt_secret::MIN_LEN
            ),
            None => JwtSecret::kept_in(&raw.data_dir).with_context(|| {
                format!(
                    "could not keep a generated JWT secret in {}",
                    raw.data_dir.display()
                )
            })?,
        };
        let database_url = match raw.database_url.filter(|s| !s.is_empty()) {
            Some(url) => url,
            None => {
                std::fs::create_dir_all(&raw.data_dir).with_context(|| {
                    format!("could not create ROOST_DATA_DIR {}", raw.data_dir.display())
                })?;
                format!(
                    "sqlite://{}?mode=rwc",
                    raw.data_dir.join("roost.db").display()
                )
            }
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite:, postgres:// or postgresql://");
        }
        let read = match raw.database_read_url.filter(|s| !s.is_empty()) {
            Some(url) => {
                if url.starts_with("sqlite:") != database_url.starts_with("sqlite:")
                    || !(url.starts_with("sqlite:")
                        || url.starts_with("postgres://")
                        || url.starts_with("postgresql://"))
                {
                    bail!(
                        "DATABASE_READ_URL must be a replica of DATABASE_URL: \
                         the same kind of database (sqlite: or postgres://)"
                    );
                }
                let max_connections = raw
                    .database_read_max_connections
                    .unwrap_or(raw.database_max_connections);
                if max_connections == 0 {
                    bail!("ROOST_DATABASE_READ_MAX_CONNECTIONS must be at least 1");
                }
                Some(ReadReplicaConfig {
                    url: url.into(),
                    max_connections,
                    read_your_writes: raw.read_your_writes,
                })
            }
            None => None,
        };
        if raw.access_token_ttl.is_zero() || raw.refresh_token_ttl.is_zero() {
            bail!("ROOST_ACCESS_TOKEN_TTL and ROOST_REFRESH_TOKEN_TTL must be positive");
        }
        if raw.database_max_connections == 0 {
            bail!("ROOST_DATABASE_MAX_CONNECTIONS must be at least 1");
        }
        let persisted_queries_file = raw
            .persisted_queries_file
            .filter(|p| !p.as_os_str().is_empty());
        if raw.persisted_queries == PersistedMode::Only && persisted_queries_file.is_none() {
            bail!(
                "ROOST_PERSISTED_QUERIES_FILE must name a persisted query manifest \
                 when ROOST_PERSISTED_QUERIES=only"
            );
        }
        let trusted_proxies = raw
            .trusted_proxies
            .as_deref()
            .unwrap_or("")
            .parse()
            .map_err(|e| anyhow::anyhow!("ROOST_TRUSTED_PROXIES: {e}"))?;
        argon2::Params::new(raw.argon2_memory_kib, raw.argon2_iterations, 1, None).map_err(
            |e| anyhow::anyhow!("ROOST_ARGON2_MEMORY_KIB / ROOST_ARGON2_ITERATIONS: {e}"),
        )?;
        let bind = socket_addr("ROOST_BIND", &raw.bind)?;
        let metrics_bind = match raw.metrics_bind.as_deref().map(str::trim) {
            Some(addr) if !addr.is_empty() => Some(socket_addr("ROOST_METRICS_BIND", addr)?),
            _ => None,
        };
        let playground = raw.playground.unwrap_or(!production);
        let playground_assets_dir = raw
            .playground_assets_dir
            .filter(|p| !p.as_os_str().is_empty());
        if let (true, Some(dir)) = (playground, &playground_assets_dir) {
            check_playground_assets(dir)?;
        }
        let introspection = raw.introspection.unwrap_or(!production);
        Ok(Self {
            env: raw.env,
            bind,
            metrics_bind,
            data_dir: raw.data_dir.clone(),
            database: DatabaseConfig {
                url: database_url.into(),
                max_connections: raw.database_max_connections,
                auto_migrate: raw.auto_migrate,
                read,
            },
            redis: raw
                .redis_url
                .filter(|s| !s.is_empty())
                .map(|url| RedisConfig {
                    url: url.into(),
                    prefix: raw.redis_prefix,
                    timeout: raw.redis_timeout.max(Duration::from_millis(10)),
                }),
            auth: AuthConfig {
                jwt_secret,
                access_token_ttl: raw.access_token_ttl,
                refresh_token_ttl: raw.refresh_token_ttl,
                login_max_failures: raw.login_max_failures,
                login_failure_window: raw.login_failure_window,
                argon2_memory_kib: raw.argon2_memory_kib,
                argon2_iterations: raw.argon2_iterations,
            },
            log: LogConfig {
                format: raw.log_format,
                level: raw.log_level,
                tracing: match raw.otel_exporter_otlp_endpoint {
                    Some(endpoint) if !endpoint.trim().is_empty() => {
                        if !(0.0..=1.0).contains(&raw.trace_sample_ratio) {
                            bail!("ROOST_TRACE_SAMPLE_RATIO must be between 0 and 1");
                        }
                        Some(TracingConfig {
                            endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
                            service_name: raw.otel_service_name,
                            sample_ratio: raw.trace_sample_ratio,
                        })
                    }
                    _ => None,
                },
            },
            graphql: GraphqlConfig {
                playground,
                playground_assets_dir,
                introspection,
                max_depth: raw.max_query_depth,
                max_complexity: raw.max_query_complexity,
                max_aliases: raw.max_query_aliases,
                max_tokens: raw.max_query_tokens,
                max_variables: raw.max_query_variables,
                max_list_items: raw.max_list_items,
                max_errors: raw.max_response_errors,
            },
            shutdown_timeout: raw.shutdown_timeout,
            request_timeout: raw.request_timeout.max(Duration::from_millis(100)),
            connections: ConnectionLimits {
                header_timeout: raw.header_timeout.max(Duration::from_millis(100)),
                body_timeout: raw.body_timeout.max(Duration::from_millis(100)),
                max_connections: raw.max_connections.max(1),
            },
            public_url: raw.public_url.filter(|u| !u.is_empty()),
            storage: StorageConfig {
                photos_dir: raw
                    .photos_dir
                    .unwrap_or_else(|| raw.data_dir.join("photos")),
                s3: raw
                    .s3_bucket
                    .filter(|b| !b.is_empty())
                    .map(|bucket| S3Config {
                        bucket,
                        region: raw.s3_region,
                        endpoint: raw.s3_endpoint.filter(|e| !e.is_empty()),
                        access_key_id: raw.s3_access_key_id.map(SecretString::from),
                        secret_access_key: raw.s3_secret_access_key.map(SecretString::from),
                        public_url: raw.s3_public_url.filter(|u| !u.is_empty()),
                    }),
            },
            fees: Fees {
                service_fee_percent: percent("ROOST_SERVICE_FEE_PERCENT", raw.service_fee_percent)?,
                tax_percent: percent("ROOST_TAX_PERCENT", raw.tax_percent)?,
            },
            bookings: crate::bookings::service::Windows {
                hold: raw.hold_window,
                host_answer: raw.host_answer_window,
            },
            persisted_queries: PersistedQueriesConfig {
                mode: raw.persisted_queries,
                manifest: persisted_queries_file,
                ttl: raw.persisted_queries_ttl.max(Duration::from_secs(1)),
                max_entries: raw.persisted_queries_max_entries.max(1),
                max_bytes: raw.persisted_queries_max_bytes.max(1),
                allow_introspection: introspection,
            },
            realtime: RealtimeConfig {
                ping_interval: raw.ws_ping_interval.max(Duration::from_millis(100)),
                idle_timeout: raw.ws_idle_timeout.max(Duration::from_millis(200)),
                buffer: raw.subscription_buffer.max(1),
                max_subscriptions: raw.ws_max_subscriptions.max(1),
                max_sockets_per_ip: raw.ws_max_sockets_per_ip,
                max_sockets_per_user: raw.ws_max_sockets_per_user,
            },
            rate_limits: RateLimitConfig {
                ip_per_second: raw.rate_limit_ip_per_second,
                ip_burst: raw.rate_limit_ip_burst,
                user_per_second: raw.rate_limit_user_per_second,
                user_burst: raw.rate_limit_user_burst,
                auth_per_minute: raw.rate_limit_auth_per_minute,
            },
            response_cache: raw.response_cache.then_some(ResponseCacheConfig {
                ttl: raw.response_cache_ttl,
                max_bytes: raw.response_cache_max_bytes,
            }),
            trusted_proxies,
            worker: WorkerConfig {
                in_serve: raw.serve_runs_worker.unwrap_or(!production),
                poll_interval: raw.job_poll_interval,
                max_attempts: raw.job_max_attempts.max(1),
                scheduler_interval: raw.scheduler_interval,
            },
            payments: PaymentsConfig {
                provider: match raw.payment_provider.to_ascii_lowercase().as_str() {
                    "simulated" => ProviderKind::Simulated,
                    "stripe" => {
                        if raw.stripe_secret_key.as_deref().is_none_or(str::is_empty) {
                            bail!(
                                "STRIPE_SECRET_KEY must be set when ROOST_PAYMENT_PROVIDER=stripe"
                            );
                        }
                        ProviderKind::Stripe
                    }
                    other => {
                        bail!("ROOST_PAYMENT_PROVIDER must be simulated or stripe, not {other:?}")
                    }
                },
                stripe_secret_key: raw
                    .stripe_secret_key
                    .filter(|k| !k.is_empty())
                    .map(SecretString::from),
                stripe_webhook_secret: raw
                    .stripe_webhook_secret
                    .filter(|k| !k.is_empty())
                    .map(SecretString::from),
                stripe_api_base: raw.stripe_api_base.trim_end_matches('/').to_owned(),
            },
            email: EmailConfig {
                smtp_url: raw
                    .smtp_url
                    .filter(|u| !u.is_empty())
                    .map(SecretString::from),
                from: raw.email_from,
            },
            cors_origins: match raw.cors_origins {
                Some(list) => list
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
                None if production => Vec::new(),
                None => vec!["*".to_owned()],
            },
            cors_headers: cors_headers(raw.cors_headers.as_deref())?,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.url.expose_secret().starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figment(pairs: &[(&str, &str)]) -> Figment {
        let mut f = Figment::from(Serialized::defaults(RawConfig::default()));
        for (k, v) in pairs {
            f = f.merge(Serialized::default(k, v));
        }
        f
    }

    #[test]
    fn production_without_a_jwt_secret_names_the_setting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Config::from_figment(figment(&[
            ("env", "production"),
            ("data_dir", dir.path().to_str().expect("utf-8 path")),
        ]))
        .expect_err("must refuse");
        assert!(err.to_string().contains("JWT_SECRET must be set"), "{err}");
    }

    #[test]
    fn production_refuses_a_placeholder_secret() {
        let err = Config::from_figment(figment(&[
            ("env", "production"),
            ("jwt_secret", "change-me"),
        ]))
        .expect_err("must refuse");
        assert!(err.to_string().contains("JWT_SECRET"), "{err}");
    }

    #[test]
    fn durations_take_units_or_seconds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = Config::from_figment(
            figment(&[("data_dir", dir.path().to_str().expect("utf-8 path"))])
                .merge(Serialized::default("access_token_ttl", "2m"))
                .merge(Serialized::default("refresh_token_ttl", 90)),
        )
        .expect("valid");
        assert_eq!(cfg.auth.access_token_ttl, Duration::from_secs(120));
        assert_eq!(cfg.auth.refresh_token_ttl, Duration::from_secs(90));
    }

    #[test]
    fn a_read_replica_is_the_same_kind_of_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        let cfg = Config::from_figment(
            figment(&[
                ("data_dir", path),
                ("database_url", "postgres://db/roost"),
                ("database_read_url", "postgres://replica/roost"),
            ])
            .merge(Serialized::default("database_max_connections", 7)),
        )
        .expect("valid");
        let read = cfg.database.read.expect("a replica");
        assert_eq!(read.url.expose_secret(), "postgres://replica/roost");
        assert_eq!(
            read.max_connections, 7,
            "the primary's pool size by default"
        );
        assert_eq!(read.read_your_writes, Duration::from_secs(5));
        let err = Config::from_figment(figment(&[
            ("data_dir", path),
            ("database_url", "postgres://db/roost"),
            ("database_read_url", "sqlite://replica.db"),
        ]))
        .expect_err("must refuse");
        assert!(err.to_string().contains("DATABASE_READ_URL"), "{err}");
        let none = Config::from_figment(figment(&[("data_dir", path)])).expect("valid");
        assert!(none.database.read.is_none());
    }

    #[test]
    fn a_host_name_to_listen_on_is_resolved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        let cfg = Config::from_figment(figment(&[
            ("data_dir", path),
            ("bind", "localhost:8123"),
            ("metrics_bind", "0.0.0.0:9100"),
        ]))
        .expect("valid");
        assert_eq!(cfg.bind, SocketAddr::from(([127, 0, 0, 1], 8123)));
        assert_eq!(
            cfg.metrics_bind,
            Some(SocketAddr::from(([0, 0, 0, 0], 9100)))
        );
        let cfg = Config::from_figment(figment(&[("data_dir", path), ("bind", "[::1]:8000")]))
            .expect("valid");
        assert_eq!(cfg.bind, "[::1]:8000".parse().expect("address"));
        assert_eq!(cfg.metrics_bind, None);
        let err = Config::from_figment(figment(&[("data_dir", path), ("metrics_bind", "9100")]))
            .expect_err("no host");
        assert!(
            err.to_string()
                .starts_with("ROOST_METRICS_BIND=9100 is not an address"),
            "{err}"
        );
    }

    #[test]
    fn production_turns_the_playground_and_introspection_off_by_default() {
        let secret = "0123456789abcdef0123456789abcdef0123456789";
        let production = |more: &[(&str, bool)]| {
            let mut f = figment(&[("env", "production"), ("jwt_secret", secret)]);
            for (k, v) in more {
                f = f.merge(Serialized::default(k, v));
            }
            Config::from_figment(f).expect("valid")
        };
        let cfg = production(&[]);
        assert!(!cfg.graphql.playground);
        assert!(!cfg.graphql.introspection);
        assert!(!cfg.persisted_queries.allow_introspection);
        let cfg = production(&[("playground", true), ("introspection", true)]);
        assert!(cfg.graphql.playground);
        assert!(cfg.graphql.introspection);
        let dir = tempfile::tempdir().expect("tempdir");
        let dev = Config::from_figment(figment(&[(
            "data_dir",
            dir.path().to_str().expect("utf-8"),
        )]))
        .expect("valid");
        assert!(dev.graphql.playground && dev.graphql.introspection);
    }

    #[test]
    fn slow_client_bounds_have_defaults_and_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        let cfg = Config::from_figment(figment(&[("data_dir", path)])).expect("valid");
        assert_eq!(
            cfg.connections,
            ConnectionLimits {
                header_timeout: Duration::from_secs(30),
                body_timeout: Duration::from_secs(60),
                max_connections: 1024,
            }
        );
        assert_eq!(cfg.persisted_queries.max_bytes, 32 * 1024 * 1024);
        let cfg = Config::from_figment(
            figment(&[
                ("data_dir", path),
                ("header_timeout", "2s"),
                ("body_timeout", "1m"),
            ])
            .merge(Serialized::default("max_connections", 0))
            .merge(Serialized::default("persisted_queries_max_bytes", 4096)),
        )
        .expect("valid");
        assert_eq!(cfg.connections.header_timeout, Duration::from_secs(2));
        assert_eq!(cfg.connections.body_timeout, Duration::from_secs(60));
        assert_eq!(cfg.connections.max_connections, 1, "at least one");
        assert_eq!(cfg.persisted_queries.max_bytes, 4096);
    }

    #[test]
    fn cors_headers_default_to_what_clients_send() {
        assert_eq!(
            cors_headers(None)
                .expect("valid")
                .iter()
                .map(HeaderName::as_str)
                .collect::<Vec<_>>(),
            DEFAULT_CORS_HEADERS
        );
        assert_eq!(
            cors_headers(Some("X-Tenant, ,authorization"))
                .expect("valid")
                .iter()
                .map(HeaderName::as_str)
                .collect::<Vec<_>>(),
            ["x-tenant", "authorization"]
        );
    }

    #[test]
    fn development_generates_a_secret_once_and_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        let a = Config::from_figment(figment(&[("data_dir", path)])).expect("valid");
        let b = Config::from_figment(figment(&[("data_dir", path)])).expect("valid");
        assert_eq!(a.auth.jwt_secret.bytes(), b.auth.jwt_secret.bytes());
        assert!(a.auth.jwt_secret.bytes().len() >= jwt_secret::MIN_LEN);
        assert!(a.is_sqlite());
    }
}
