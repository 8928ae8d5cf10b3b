//! Persisted queries: Apollo's automatic persisted queries (APQ) and a
//! safelist of registered operations.
//!
//! A request may carry `extensions.persistedQuery = {"version": 1,
//! "sha256Hash": "<hex>"}`. Without a query text the hash is looked up
//! (unknown: `PERSISTED_QUERY_NOT_FOUND`, and the client retries with the
//! text); with one, the text must hash to it, and is stored for the next
//! time once it has run: only a text that parsed and validated (and was let
//! through every limit) is kept, and at most [`MAX_TEXT_BYTES`] of it.
//! [`PersistedQueries::resolve`] turns such a request into an ordinary one
//! before anything else looks at it; [`PersistedQueries::settle`] registers
//! its text after it has run.
//!
//! The mode ([`PersistedMode`]): `off` refuses hashes (`PERSISTED_QUERY_NOT_SUPPORTED`,
//! so Apollo Client falls back to sending texts), `apq` registers on first
//! use, `only` runs nothing but the operations of a manifest loaded at
//! start (texts that are not in it: `PERSISTED_QUERY_NOT_IN_LIST`).
//! Registered queries live in Redis when it is configured, so every
//! instance shares them, and otherwise in process; either way the store is
//! bounded in entries and in bytes, and the least recently used go first.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, bail};
use async_graphql::{
    Data, Executor, Request as GqlRequest, Response as GqlResponse, ServerError,
    parser::types::{DocumentOperations, OperationType, Selection},
};
use futures_util::{StreamExt, stream::BoxStream};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    error::code,
    pipeline::{Pipeline, is_request_error},
};

use domain::{
    config::{PersistedMode, PersistedQueriesConfig},
    infra::redis::Redis,
};

/// The hash is unknown: send the query text with it.
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Persisted queries are turned off: send query texts.
pub const NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
/// `only` mode: the operation is not in the manifest.
pub const NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";

/// The longest text registered: an operation a client sends by hash is
/// written by its developers, and 32 KiB is far beyond any of ours.
pub const MAX_TEXT_BYTES: usize = 32 * 1024;

/// How long a lookup or registration may wait on Redis: past it, the
/// lookup misses (the client sends the text) and nothing is registered.
const REDIS_WAIT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct PersistedQueries {
    inner: Arc<Inner>,
}

struct Inner {
    mode: PersistedMode,
    allow_introspection: bool,
    /// Operations of the manifest, by hash.
    manifest: HashMap<String, Arc<str>>,
    store: Store,
}

enum Store {
    Redis(RedisStore),
    Memory(Mutex<Lru>),
}

/// A request made ordinary by [`PersistedQueries::resolve`], with the text
/// it asks to register once it has run.
pub struct Resolved {
    pub request: GqlRequest,
    pending: Option<PendingText>,
}

/// A text to register once its request has run, if it was not refused.
pub struct PendingText {
    hash: String,
    text: String,
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
            (Some(path), PersistedMode::Apq | PersistedMode::Only) => load_manifest(path)?,
            (None, PersistedMode::Only) => bail!(
                "ROOST_PERSISTED_QUERIES_FILE must name a persisted query manifest \
                 when ROOST_PERSISTED_QUERIES=only"
            ),
            _ => HashMap::new(),
        };
        let store = match redis {
            Some(redis) => Store::Redis(RedisStore::new(redis, config)),
            None => Store::Memory(Mutex::new(Lru::new(
                config.max_entries.max(1),
                config.max_bytes.max(1),
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

    pub fn mode(&self) -> PersistedMode {
        self.inner.mode
    }

    /// Resolves `request`, runs it with `run`, and registers its text if
    /// it asked for that and ran.
    pub async fn execute<F>(
        &self,
        request: GqlRequest,
        run: impl FnOnce(GqlRequest) -> F,
    ) -> GqlResponse
    where
        F: Future<Output = GqlResponse>,
    {
        match self.resolve(request).await {
            Ok(Resolved { request, pending }) => {
                // On the heap: operations of a batch run side by side, and
                // each one's execution is a large future.
                let response = Box::pin(run(request)).await;
                self.settle(pending, &response).await;
                response
            }
            Err(rejection) => rejection.into_response(),
        }
    }

    /// Registers the text a resolved request brought, now that it has run:
    /// only when it was not refused before execution (it parsed, validated
    /// and passed the limits).
    pub async fn settle(&self, pending: Option<PendingText>, response: &GqlResponse) {
        let Some(pending) = pending else {
            return;
        };
        if is_request_error(response) {
            outcome("refused");
            return;
        }
        self.register(&pending.hash, &pending.text).await;
        outcome("registered");
    }

    /// Turns a request carrying `extensions.persistedQuery` into one with
    /// its query text (and without that extension), or says why not. A
    /// request without a hash is returned as it is, unless `only` mode
    /// refuses its text.
    pub async fn resolve(&self, mut request: GqlRequest) -> Result<Resolved, Rejection> {
        let persisted = request.extensions.remove("persistedQuery");
        let mode = self.inner.mode;
        let Some(persisted) = persisted.map(|v| v.into_json().unwrap_or(Value::Null)) else {
            if mode == PersistedMode::Only && !self.text_allowed(&request.query) {
                return Err(not_in_list());
            }
            return Ok(Resolved::plain(request));
        };
        if persisted.is_null() {
            // `"persistedQuery": null` asks for nothing.
            return self.resolve_text_only(request).map(Resolved::plain);
        }
        if mode == PersistedMode::Off {
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
                    Ok(Resolved::plain(request))
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
                return Ok(Resolved::plain(request));
            }
            if mode == PersistedMode::Only {
                return Err(not_in_list());
            }
            if request.query.len() > MAX_TEXT_BYTES {
                return Err(Rejection::new(
                    code::BAD_REQUEST,
                    format!(
                        "A persisted query may be at most {MAX_TEXT_BYTES} bytes long; \
                         this one is {}: send it without `persistedQuery`",
                        request.query.len()
                    ),
                ));
            }
            let pending = PendingText {
                hash,
                text: request.query.clone(),
            };
            Ok(Resolved {
                request,
                pending: Some(pending),
            })
        }
    }

    fn resolve_text_only(&self, request: GqlRequest) -> Result<GqlRequest, Rejection> {
        if self.inner.mode == PersistedMode::Only && !self.text_allowed(&request.query) {
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
        if self.inner.mode != PersistedMode::Apq {
            return None;
        }
        match &self.inner.store {
            Store::Memory(lru) => lru.lock().ok()?.get(hash),
            // On failure the client retries with the text, which runs.
            Store::Redis(store) => store.lookup(hash).await,
        }
    }

    async fn register(&self, hash: &str, text: &str) {
        match &self.inner.store {
            Store::Memory(lru) => {
                if let Ok(mut lru) = lru.lock() {
                    lru.insert(hash.to_owned(), Arc::from(text));
                }
            }
            Store::Redis(store) => store.register(hash, text).await,
        }
    }

    /// How many queries the in-process store holds (none with Redis).
    pub fn stored(&self) -> usize {
        match &self.inner.store {
            Store::Memory(lru) => lru.lock().map(|l| l.len()).unwrap_or(0),
            Store::Redis(_) => 0,
        }
    }
}

impl Resolved {
    fn plain(request: GqlRequest) -> Self {
        Self {
            request,
            pending: None,
        }
    }

    /// The request, and what [`PersistedQueries::settle`] needs afterwards.
    pub fn into_parts(self) -> (GqlRequest, Option<PendingText>) {
        (self.request, self.pending)
    }
}

/// The shared store in Redis: texts in one hash, their last use in a sorted
/// set, and their total size in a counter, changed together by scripts so
/// that instances never see them apart. Registering evicts what has not been
/// used within the TTL, then the least recently used until the new text fits
/// both bounds.
struct RedisStore {
    redis: Redis,
    ttl_ms: i64,
    max_entries: usize,
    max_bytes: usize,
    register: redis::Script,
    lookup: redis::Script,
}

/// KEYS: texts (hash), used (sorted set), bytes (counter).
/// ARGV: hash, text, now (ms), ttl (ms), max entries, max bytes.
const REGISTER: &str = r"
local texts, used, bytes = KEYS[1], KEYS[2], KEYS[3]
local id, text = ARGV[1], ARGV[2]
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local max_entries, max_bytes = tonumber(ARGV[5]), tonumber(ARGV[6])
local function drop(h)
  local len = redis.call('HSTRLEN', texts, h)
  redis.call('HDEL', texts, h)
  redis.call('ZREM', used, h)
  if len > 0 then redis.call('DECRBY', bytes, len) end
end
for _, h in ipairs(redis.call('ZRANGEBYSCORE', used, '-inf', '(' .. (now - ttl), 'LIMIT', 0, 100)) do
  drop(h)
end
drop(id)
if #text > max_bytes then return 0 end
while true do
  local n = redis.call('ZCARD', used)
  if n == 0 then
    redis.call('DEL', texts)
    redis.call('SET', bytes, 0)
    break
  end
  if n < max_entries and tonumber(redis.call('GET', bytes) or '0') + #text <= max_bytes then
    break
  end
  drop(redis.call('ZRANGE', used, 0, 0)[1])
end
redis.call('HSET', texts, id, text)
redis.call('ZADD', used, now, id)
redis.call('INCRBY', bytes, #text)
return 1
";

/// KEYS: texts, used. ARGV: hash, now (ms), ttl (ms).
const LOOKUP: &str = r"
local last = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not last or tonumber(last) < tonumber(ARGV[2]) - tonumber(ARGV[3]) then return false end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return redis.call('HGET', KEYS[1], ARGV[1])
";

impl RedisStore {
    fn new(redis: Redis, config: &PersistedQueriesConfig) -> Self {
        Self {
            redis,
            ttl_ms: i64::try_from(config.ttl.as_millis()).unwrap_or(i64::MAX),
            max_entries: config.max_entries.max(1),
            max_bytes: config.max_bytes.max(1),
            register: redis::Script::new(REGISTER),
            lookup: redis::Script::new(LOOKUP),
        }
    }

    fn keys(&self) -> [String; 3] {
        ["texts", "used", "bytes"].map(|k| self.redis.key(format_args!("apq:{k}")))
    }

    async fn lookup(&self, hash: &str) -> Option<Arc<str>> {
        let [texts, used, _] = self.keys();
        let mut invocation = self.lookup.key(texts);
        invocation
            .key(used)
            .arg(hash)
            .arg(now_ms())
            .arg(self.ttl_ms);
        let mut conn = self.redis.conn();
        let found = tokio::time::timeout(
            REDIS_WAIT,
            invocation.invoke_async::<Option<String>>(&mut conn),
        )
        .await;
        match found {
            Ok(Ok(text)) => text.map(Arc::from),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "persisted query lookup failed");
                None
            }
            Err(_) => {
                tracing::warn!("persisted query lookup: Redis did not answer in time");
                None
            }
        }
    }

    async fn register(&self, hash: &str, text: &str) {
        let [texts, used, bytes] = self.keys();
        let mut invocation = self.register.key(texts);
        invocation
            .key(used)
            .key(bytes)
            .arg(hash)
            .arg(text)
            .arg(now_ms())
            .arg(self.ttl_ms)
            .arg(self.max_entries)
            .arg(self.max_bytes);
        let mut conn = self.redis.conn();
        let stored =
            tokio::time::timeout(REDIS_WAIT, invocation.invoke_async::<i64>(&mut conn)).await;
        match stored {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "storing a persisted query failed"),
            Err(_) => tracing::warn!("storing a persisted query: Redis did not answer in time"),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn not_in_list() -> Rejection {
    Rejection::new(
        NOT_IN_LIST,
        "Only registered operations run here: send the sha256Hash of an operation \
         of the persisted query manifest",
    )
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
        self.persisted
            .execute(request, |r| self.pipeline.execute(r))
            .await
    }

    /// A subscription's text is registered once its first answer shows it
    /// was not refused.
    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let this = self.clone();
        futures_util::stream::once(async move {
            let (request, pending) = match this.persisted.resolve(request).await {
                Ok(resolved) => resolved.into_parts(),
                Err(rejection) => {
                    return futures_util::stream::once(async move { rejection.into_response() })
                        .boxed();
                }
            };
            let mut stream = Executor::execute_stream(&this.pipeline, request, session_data);
            let first = stream.next().await;
            if let Some(first) = &first {
                this.persisted.settle(pending, first).await;
            }
            futures_util::stream::iter(first).chain(stream).boxed()
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
