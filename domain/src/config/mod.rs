//! Configuration: one typed struct, read once at start-up.
//!
//! Sources, later ones winning: built-in defaults, an optional TOML file
//! (`ROOST_CONFIG` or `--config`), then the environment. Most settings are
//! `ROOST_<NAME>`; the three that every deployment tool already knows by name
//! are read bare: `DATABASE_URL`, `REDIS_URL` and `JWT_SECRET`.
//!
//! [`RawConfig`] (`raw.rs`) is every setting as written, with its default;
//! each area's file holds what it resolves to: `server.rs` (listening, slow
//! clients, browsers' origins), `database.rs` (databases and Redis),
//! `auth.rs`, `graphql.rs` (the endpoint's bounds, persisted queries, the
//! response cache), `clients.rs` (rate limits, trusted proxies,
//! subscriptions), `marketplace.rs` (fees and booking timers),
//! `payments.rs`, `storage.rs`, `telemetry.rs` and `worker.rs`. This module
//! imports nothing else of the crate: everything may read it.

mod auth;
mod clients;
mod database;
mod duration;
mod graphql;
mod jwt_secret;
mod marketplace;
mod payments;
mod raw;
mod server;
mod storage;
mod telemetry;
mod unknown;
mod worker;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use auth::AuthConfig;
pub use clients::{RateLimitConfig, RealtimeConfig, TrustedProxies};
pub use database::{DatabaseConfig, ReadReplicaConfig, RedisConfig};
pub use graphql::{
    GraphqlConfig, PLAYGROUND_FILES, PersistedMode, PersistedQueriesConfig, ResponseCacheConfig,
};
pub use jwt_secret::JwtSecret;
pub use marketplace::{BookingWindows, Fees};
pub use payments::{EmailConfig, PaymentsConfig, ProviderKind};
pub use raw::RawConfig;
pub use server::{ConnectionLimits, DEFAULT_CORS_HEADERS};
pub use storage::{S3Config, StorageConfig};
pub use telemetry::{LogConfig, LogFormat, TracingConfig};
pub use worker::WorkerConfig;

/// Where the server runs: development is forgiving, production refuses
/// settings that are only safe on a laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
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
    pub cors_headers: Vec<String>,
    /// Unset: `http://<bound address>`.
    pub public_url: Option<String>,
    pub storage: StorageConfig,
    pub fees: Fees,
    pub bookings: BookingWindows,
    pub worker: WorkerConfig,
    pub payments: PaymentsConfig,
    pub email: EmailConfig,
    pub realtime: RealtimeConfig,
    pub persisted_queries: PersistedQueriesConfig,
    pub rate_limits: RateLimitConfig,
    /// The response cache for anonymous queries, when it is on.
    pub response_cache: Option<ResponseCacheConfig>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
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
        let connections = ConnectionLimits::from_raw(&raw);
        let graphql = GraphqlConfig::from_raw(&raw, production);
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
            .clone()
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
        let bind = server::socket_addr("ROOST_BIND", &raw.bind)?;
        let metrics_bind = match raw.metrics_bind.as_deref().map(str::trim) {
            Some(addr) if !addr.is_empty() => {
                Some(server::socket_addr("ROOST_METRICS_BIND", addr)?)
            }
            _ => None,
        };
        if let (true, Some(dir)) = (graphql.playground, &graphql.playground_assets_dir) {
            graphql::check_playground_assets(dir)?;
        }
        let introspection = graphql.introspection;
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
            graphql,
            shutdown_timeout: raw.shutdown_timeout,
            request_timeout: raw.request_timeout.max(Duration::from_millis(100)),
            connections,
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
                service_fee_percent: marketplace::percent(
                    "ROOST_SERVICE_FEE_PERCENT",
                    raw.service_fee_percent,
                )?,
                tax_percent: marketplace::percent("ROOST_TAX_PERCENT", raw.tax_percent)?,
            },
            bookings: BookingWindows {
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
            cors_origins: server::cors_origins(raw.cors_origins.as_deref(), production),
            cors_headers: server::cors_headers(raw.cors_headers.as_deref())?,
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
            server::cors_headers(None).expect("valid"),
            DEFAULT_CORS_HEADERS
        );
        assert_eq!(
            server::cors_headers(Some("X-Tenant, ,authorization")).expect("valid"),
            ["x-tenant", "authorization"]
        );
        let err = server::cors_headers(Some("x-ok, bad header")).expect_err("a space");
        assert!(
            err.to_string()
                .contains("\"bad header\" is not a header name"),
            "{err}"
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
