//! Listening, slow clients, browsers' origins.

use std::{
    net::{SocketAddr, ToSocketAddrs},
    time::Duration,
};

use anyhow::Context;

use super::RawConfig;

/// What a client may hold of the server's connections, and for how long
/// (docs/SECURITY.md, Every bound).
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

impl ConnectionLimits {
    pub(super) fn from_raw(raw: &RawConfig) -> Self {
        Self {
            header_timeout: raw.header_timeout.max(Duration::from_millis(100)),
            body_timeout: raw.body_timeout.max(Duration::from_millis(100)),
            max_connections: raw.max_connections.max(1),
        }
    }
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

/// The allowed request headers, lower-cased; each must be an HTTP token
/// (RFC 9110 section 5.6.2).
pub(super) fn cors_headers(list: Option<&str>) -> anyhow::Result<Vec<String>> {
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
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if token {
                Ok(name.to_ascii_lowercase())
            } else {
                Err(anyhow::anyhow!(
                    "ROOST_CORS_HEADERS: {name:?} is not a header name"
                ))
            }
        })
        .collect()
}

/// `ROOST_CORS_ORIGINS`: unset, any origin in development and none in
/// production.
pub(super) fn cors_origins(list: Option<&str>, production: bool) -> Vec<String> {
    match list {
        Some(list) => list
            .split(',')
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
        None if production => Vec::new(),
        None => vec!["*".to_owned()],
    }
}

/// An address to listen on: `ip:port`, or `host:port` with the host
/// resolved (its first IPv4 address, else its first address).
pub(super) fn socket_addr(setting: &str, value: &str) -> anyhow::Result<SocketAddr> {
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
