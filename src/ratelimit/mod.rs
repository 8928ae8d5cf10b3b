//! Rate limits (docs/API.md, Rate limits): per client IP, per signed-in user, and a stricter
//! per-IP budget for the sign-in mutations.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a key stores its
//! *theoretical arrival time* (TAT), advanced by one emission interval per
//! request; a request is refused while the TAT would run more than `burst`
//! intervals ahead of now. That is a token bucket of `burst` cells refilled
//! at `rate`, kept in one number per key.
//!
//! With Redis configured the TAT lives there (one atomic Lua script per
//! check, on Redis's clock), so every instance shares the budget. Without
//! Redis it lives in a bounded in-process map. If Redis fails, the check is
//! logged and the request allowed (fail open): an outage of the limiter must
//! not take the API down with it.
//!
//! Every operation counts, however it arrives: the per-IP limit is spent
//! once per HTTP request at the door (`http::rate_limit`), then once per
//! further batch entry and per WebSocket operation ([`PerOperation`]); the
//! per-user and sign-in limits once the operation is parsed
//! (`pipeline::rate_limits`).

pub mod client_ip;
mod gcra;
mod per_operation;

use std::time::Duration;

pub use client_ip::{ClientIp, client_ip};
pub use gcra::{Decision, Limiter, Quota};
pub use per_operation::{IpBudget, PerOperation, rate_limited};

use domain::{config::RateLimitConfig, infra::redis::Redis};

/// Which limit refused a request; the `limit` label of
/// `roost_rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ip,
    User,
    Auth,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::User => "user",
            Self::Auth => "auth",
        }
    }
}

/// The mutations that share the sign-in budget. `MUTATIONS` in
/// `graphql/pipeline/name_lists.rs` decides for every mutation of the
/// schema, and its test holds this list to it.
pub const AUTH_FIELDS: [&str; 3] = ["register", "login", "refreshSession"];

/// The three limiters; a limit that is turned off is `None`.
#[derive(Clone, Default)]
pub struct RateLimits {
    pub ip: Option<Limiter>,
    pub user: Option<Limiter>,
    pub auth: Option<Limiter>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig, redis: Option<&Redis>) -> Self {
        let make =
            |kind: Kind, quota: Option<Quota>| quota.map(|q| Limiter::new(kind, q, redis.cloned()));
        Self {
            ip: make(
                Kind::Ip,
                Quota::per(
                    config.ip_per_second,
                    Duration::from_secs(1),
                    config.ip_burst,
                ),
            ),
            user: make(
                Kind::User,
                Quota::per(
                    config.user_per_second,
                    Duration::from_secs(1),
                    config.user_burst,
                ),
            ),
            auth: make(
                Kind::Auth,
                Quota::per(
                    config.auth_per_minute,
                    Duration::from_secs(60),
                    config.auth_per_minute,
                ),
            ),
        }
    }
}

/// Counts a refusal in the metrics.
pub fn record_refusal(kind: Kind) {
    metrics::counter!("roost_rate_limited_total", "limit" => kind.label()).increment(1);
}
