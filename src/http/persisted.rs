//! Persisted queries: Apollo's automatic persisted queries (APQ) and a
//! safelist of registered operations.
//!
//! A request may carry `extensions.persistedQuery = {"version": 1,
//! "sha256Hash": "<hex>"}`. Without a query text the hash is looked up
//! (unknown: `PERSISTED_QUERY_NOT_FOUND`, and the client retries with the
//! text); with one, the text must hash to it, and is then stored for the
//! next time. [`PersistedQueries::resolve`] turns such a request into an
//! ordinary one before anything else looks at it.
//!
//! The mode ([`Mode`]): `off` refuses hashes (`PERSISTED_QUERY_NOT_SUPPORTED`,
//! so Apollo Client falls back to sending texts), `apq` registers on first
//! use, `only` runs nothing but the operations of a manifest loaded at
//! start (texts that are not in it: `PERSISTED_QUERY_NOT_IN_LIST`).
//! Registered queries live in Redis when it is configured, so every
//! instance shares them, and otherwise in a bounded in-process LRU.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, bail};
use async_graphql::{
    Data, Executor, Request as GqlRequest, Response as GqlResponse, ServerError,
    parser::types::{DocumentOperations, OperationType, Selection},
};
use futures_util::{StreamExt, stream::BoxStream};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{error::code, graphql::pipeline::Pipeline, redis::Redis};

/// The hash is unknown: send the query text with it.
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Persisted queries are turned off: send query texts.
pub const NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
/// `only` mode: the operation is not in the manifest.
pub const NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";

/// `ROOST_PERSISTED_QUERIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
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
    pub mode: Mode,
    /// An Apollo persisted query manifest; required with `only`.
    pub manifest: Option<PathBuf>,
    /// How long a registered query is kept in Redis.
    pub ttl: Duration,
    /// Queries kept in process when there is no Redis.
    pub max_entries: usize,
    /// `only` mode: whether a text made only of introspection fields
    /// (`__schema`, `__type`, `__typename`) may run, for the playground.
    pub allow_introspection: bool,
}

/// Bytes of query text the in-process store holds at most, whatever the
/// number of entries.
const MAX_MEMORY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct PersistedQueries {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    allow_introspection: bool,
    /// Operations of the manifest, by hash.
    manifest: HashMap<String, Arc<str>>,
    store: Store,
}

enum Store {
    Redis { redis: Redis, ttl: Duration },
    Memory(Mutex<Lru>),
}

/// Why a request was not resolved; becomes a GraphQL error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A signal for the client to retry (with the text, or without the
    /// hash) rather than a failed request: Apollo Client expects HTTP 200
    /// and stops using hashes after a 400.
    pub fn is_retry_signal(&self) -> bool {
        self.code == NOT_FOUND || self.code == NOT_SUPPORTED
    }

    pub fn into_response(self) -> GqlResponse {
        let mut error = ServerError::new(self.message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", self.code);
        GqlResponse::from_errors(vec![error])
    }
}

fn outcome(label: &'static str) {
    metrics::counter!("roost_persisted_queries_total", "outcome" => label).increment(1);
}

/// The lowercase hex SHA-256 of a query text.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

impl PersistedQueries {
    /// Loads the manifest when one is configured; fails with a message
    /// naming the setting when it is missing or invalid.
    pub fn new(config: &PersistedQueriesConfig, redis: Option<Redis>) -> anyhow::Result<Self> {
        let manifest = match (&config.manifest, config.mode) {
            (Some(path), Mode::Apq | Mode::Only) => load_manifest(path)?,
            (None, Mode::Only) => bail!(
                "ROOST_PERSISTED_QUERIES_FILE must name a persisted query manifest \
                 when ROOST_PERSISTED_QUERIES=only"
            ),
            _ => HashMap::new(),
        };
        let store = match redis {
            Some(redis) => Store::Redis {
                redis,
                ttl: config.ttl,
            },
            None => Store::Memory(Mutex::new(Lru::new(
                config.max_entries.max(1),
                MAX_MEMORY_BYTES,
            ))),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                mode: config.mode,
                allow_introspection: config.allow_introspection,
                manifest,
                store,
            }),
        })
    }

    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// Turns a request carrying `extensions.persistedQuery` into one with
    /// its query text (and without that extension), or says why not. A
    /// request without a hash is returned as it is, unless `only` mode
    /// refuses its text.
    pub async fn resolve(&self, mut request: GqlRequest) -> Result<GqlRequest, Rejection> {
        let persisted = request.extensions.remove("persistedQuery");
        let mode = self.inner.mode;
        let Some(persisted) = persisted.map(|v| v.into_json().unwrap_or(Value::Null)) else {
            if mode == Mode::Only && !self.text_allowed(&request.query) {
                return Err(not_in_list());
            }
            return Ok(request);
        };
        if persisted.is_null() {
            // `"persistedQuery": null` asks for nothing.
            return self.resolve_text_only(request);
        }
        if mode == Mode::Off {
            return Err(Rejection::new(NOT_SUPPORTED, "PersistedQueryNotSupported"));
        }
        if persisted.get("version").and_then(Value::as_i64) != Some(1) {
            return Err(Rejection::new(
                code::BAD_REQUEST,
                "Unsupported persisted query version",
            ));
        }
        let hash = match persisted.get("sha256Hash").and_then(Value::as_str) {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                h.to_ascii_lowercase()
            }
            _ => {
                return Err(Rejection::new(
                    code::BAD_REQUEST,
                    "`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal digits",
                ));
            }
        };
        if request.query.is_empty() {
            match self.lookup(&hash).await {
                Some(text) => {
                    outcome("hit");
                    request.query = text.to_string();
                    Ok(request)
                }
                None => {
                    outcome("miss");
                    Err(Rejection::new(NOT_FOUND, "PersistedQueryNotFound"))
                }
            }
        } else {
            if sha256_hex(&request.query) != hash {
                return Err(Rejection::new(
                    code::BAD_REQUEST,
                    "provided sha does not match query",
                ));
            }
            if self.inner.manifest.contains_key(&hash) {
                outcome("hit");
            } else if mode == Mode::Only {
                return Err(not_in_list());
            } else {
                self.register(&hash, &request.query).await;
                outcome("registered");
            }
            Ok(request)
        }
    }

    fn resolve_text_only(&self, request: GqlRequest) -> Result<GqlRequest, Rejection> {
        if self.inner.mode == Mode::Only && !self.text_allowed(&request.query) {
            return Err(not_in_list());
        }
        Ok(request)
    }

    /// `only` mode: a text runs when it is one of the manifest's, or (when
    /// allowed) when it asks for nothing but introspection.
    fn text_allowed(&self, text: &str) -> bool {
        self.inner.manifest.contains_key(&sha256_hex(text))
            || (self.inner.allow_introspection && is_introspection_only(text))
    }

    async fn lookup(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(text) = self.inner.manifest.get(hash) {
            return Some(text.clone());
        }
        if self.inner.mode != Mode::Apq {
            return None;
        }
        match &self.inner.store {
            Store::Memory(lru) => lru.lock().ok()?.get(hash),
            Store::Redis { redis, .. } => {
                let mut conn = redis.conn();
                let found: redis::RedisResult<Option<String>> = redis::cmd("GET")
                    .arg(key(redis, hash))
                    .query_async(&mut conn)
                    .await;
                match found {
                    Ok(text) => text.map(Arc::from),
                    Err(e) => {
                        // The client retries with the text, which runs.
                        tracing::warn!(error = %e, "persisted query lookup failed");
                        None
                    }
                }
            }
        }
    }

    async fn register(&self, hash: &str, text: &str) {
        match &self.inner.store {
            Store::Memory(lru) => {
                if let Ok(mut lru) = lru.lock() {
                    lru.insert(hash.to_owned(), Arc::from(text));
                }
            }
            Store::Redis { redis, ttl } => {
                let mut conn = redis.conn();
                let stored: redis::RedisResult<()> = redis::cmd("SET")
                    .arg(key(redis, hash))
                    .arg(text)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = stored {
                    tracing::warn!(error = %e, "storing a persisted query failed");
                }
            }
        }
    }

    /// How many queries the in-process store holds (none with Redis).
    pub fn stored(&self) -> usize {
        match &self.inner.store {
            Store::Memory(lru) => lru.lock().map(|l| l.len()).unwrap_or(0),
            Store::Redis { .. } => 0,
        }
    }
}

fn not_in_list() -> Rejection {
    Rejection::new(
        NOT_IN_LIST,
        "Only registered operations run here: send the sha256Hash of an operation \
         of the persisted query manifest",
    )
}

fn key(redis: &Redis, hash: &str) -> String {
    redis.key(format_args!("apq:{hash}"))
}

/// Whether every root field of the document's operations is `__schema`,
/// `__type` or `__typename`.
fn is_introspection_only(text: &str) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(text) else {
        return false;
    };
    let ops: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    !ops.is_empty()
        && ops.iter().all(|op| {
            op.node.ty == OperationType::Query
                && op
                    .node
                    .selection_set
                    .node
                    .items
                    .iter()
                    .all(|s| match &s.node {
                        Selection::Field(f) => {
                            matches!(
                                f.node.name.node.as_str(),
                                "__schema" | "__type" | "__typename"
                            )
                        }
                        _ => false,
                    })
        })
}

/// Apollo's `persisted-query-manifest.json`, or a plain `{"<sha256>": "<text>"}`
/// object.
fn load_manifest(path: &Path) -> anyhow::Result<HashMap<String, Arc<str>>> {
    #[derive(Deserialize)]
    struct Manifest {
        format: String,
        version: u32,
        operations: Vec<Operation>,
    }
    #[derive(Deserialize)]
    struct Operation {
        id: String,
        body: String,
    }
    let setting = "ROOST_PERSISTED_QUERIES_FILE";
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{setting}: {} is not valid JSON", path.display()))?;
    let entries: Vec<(String, String)> = if value.get("format").is_some() {
        let manifest: Manifest = serde_json::from_value(value).with_context(|| {
            format!(
                "{setting}: {} is not an Apollo persisted query manifest",
                path.display()
            )
        })?;
        if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
            bail!(
                "{setting}: {} must have format \"apollo-persisted-query-manifest\" and version 1",
                path.display()
            );
        }
        manifest
            .operations
            .into_iter()
            .map(|o| (o.id, o.body))
            .collect()
    } else {
        serde_json::from_value::<HashMap<String, String>>(value)
            .with_context(|| {
                format!(
                    "{setting}: {} must be an Apollo persisted query manifest \
                     or an object of sha256 hashes to query texts",
                    path.display()
                )
            })?
            .into_iter()
            .collect()
    };
    let mut manifest = HashMap::with_capacity(entries.len());
    for (id, body) in entries {
        let id = id.to_ascii_lowercase();
        if sha256_hex(&body) != id {
            bail!(
                "{setting}: in {}, operation {id} is not the sha256 of its body",
                path.display()
            );
        }
        manifest.insert(id, Arc::from(body));
    }
    Ok(manifest)
}

/// A least-recently-used map bounded in entries and in bytes.
struct Lru {
    entries: HashMap<String, (Arc<str>, u64)>,
    /// Entries by last use, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl Lru {
    fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&mut self, key: &str) -> Option<Arc<str>> {
        self.tick += 1;
        let tick = self.tick;
        let (text, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, key.to_owned());
        Some(text.clone())
    }

    fn insert(&mut self, key: String, text: Arc<str>) {
        self.tick += 1;
        let size = key.len() + text.len();
        if let Some((old, used)) = self.entries.remove(&key) {
            self.order.remove(&used);
            self.bytes -= key.len() + old.len();
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries || self.bytes + size > self.max_bytes)
        {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = self.entries.remove(&oldest) {
                self.bytes -= oldest.len() + old.len();
            }
        }
        self.order.insert(self.tick, key.clone());
        self.entries.insert(key, (text, self.tick));
        self.bytes += size;
    }
}

/// The pipeline behind persisted query resolution, for transports that hand
/// requests to async-graphql themselves (WebSockets).
#[derive(Clone)]
pub struct PersistedExecutor {
    pub pipeline: Pipeline,
    pub persisted: PersistedQueries,
}

impl Executor for PersistedExecutor {
    async fn execute(&self, request: GqlRequest) -> GqlResponse {
        match self.persisted.resolve(request).await {
            Ok(request) => self.pipeline.execute(request).await,
            Err(rejection) => rejection.into_response(),
        }
    }

    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let this = self.clone();
        futures_util::stream::once(async move {
            match this.persisted.resolve(request).await {
                Ok(request) => Executor::execute_stream(&this.pipeline, request, session_data),
                Err(rejection) => {
                    futures_util::stream::once(async move { rejection.into_response() }).boxed()
                }
            }
        })
        .flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lru_forgets_the_least_recently_used() {
        let mut lru = Lru::new(2, 1 << 20);
        lru.insert("a".into(), Arc::from("1"));
        lru.insert("b".into(), Arc::from("2"));
        assert!(lru.get("a").is_some());
        lru.insert("c".into(), Arc::from("3"));
        assert_eq!(lru.len(), 2);
        assert!(lru.get("b").is_none(), "b was used least recently");
        assert!(lru.get("a").is_some());
        assert!(lru.get("c").is_some());
        lru.insert("c".into(), Arc::from("33"));
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get("c").as_deref(), Some("33"));
    }

    #[test]
    fn the_lru_is_bounded_in_bytes() {
        let mut lru = Lru::new(100, 10);
        lru.insert("a".into(), Arc::from("1234"));
        lru.insert("b".into(), Arc::from("1234"));
        assert_eq!(lru.len(), 2);
        lru.insert("c".into(), Arc::from("1234"));
        assert_eq!(lru.len(), 2);
        assert!(lru.bytes <= 10);
        assert!(lru.get("a").is_none());
    }

    #[test]
    fn introspection_only_documents() {
        assert!(is_introspection_only("{ __schema { types { name } } }"));
        assert!(is_introspection_only(
            "query IntrospectionQuery { __schema { queryType { name } } __typename }"
        ));
        assert!(!is_introspection_only("{ __typename me { id } }"));
        assert!(!is_introspection_only("mutation { __typename }"));
        assert!(!is_introspection_only(
            "{ ...F } fragment F on Query { __typename }"
        ));
        assert!(!is_introspection_only("not graphql"));
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            format!("{:x}", Sha256::digest(b"{ __typename }"))
        );
        assert_eq!(sha256_hex("").len(), 64);
    }
}
