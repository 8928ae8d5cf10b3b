//! The GraphQL endpoint: the playground, introspection, the bounds on a
//! document, persisted queries and the response cache.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::RawConfig;

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

impl GraphqlConfig {
    /// The endpoint's settings; the playground and introspection default to
    /// on in development and off in production.
    pub(super) fn from_raw(raw: &RawConfig, production: bool) -> Self {
        Self {
            playground: raw.playground.unwrap_or(!production),
            playground_assets_dir: raw
                .playground_assets_dir
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            introspection: raw.introspection.unwrap_or(!production),
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

impl Default for GraphqlConfig {
    /// Development's: what `roost schema` prints the schema with.
    fn default() -> Self {
        Self::from_raw(&RawConfig::default(), false)
    }
}

/// The files the playground page loads from `ROOST_PLAYGROUND_ASSETS_DIR`
/// (which `scripts/fetch-playground-assets` fills).
pub const PLAYGROUND_FILES: [&str; 5] = [
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
    "graphql-ws.min.js",
];

/// A playground assets folder must hold every file the page loads.
pub(super) fn check_playground_assets(dir: &Path) -> anyhow::Result<()> {
    let missing: Vec<&str> = PLAYGROUND_FILES
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

/// `ROOST_PERSISTED_QUERIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersistedMode {
    /// Hashes are refused; only query texts run.
    Off,
    /// Automatic persisted queries: a hash is registered with its text on
    /// first use.
    Apq,
    /// Only the manifest's operations run, by hash or by their exact text.
    Only,
}

#[derive(Debug, Clone)]
pub struct PersistedQueriesConfig {
    pub mode: PersistedMode,
    /// An Apollo persisted query manifest; required with `only`.
    pub manifest: Option<PathBuf>,
    /// How long a registered query is kept after its last use.
    pub ttl: Duration,
    /// Queries kept at most.
    pub max_entries: usize,
    /// Bytes of query text kept at most.
    pub max_bytes: usize,
    /// `only` mode: whether a text made only of introspection fields
    /// (`__schema`, `__type`, `__typename`) may run, for the playground.
    pub allow_introspection: bool,
}

/// The response cache for anonymous queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCacheConfig {
    pub ttl: Duration,
    pub max_bytes: usize,
}
