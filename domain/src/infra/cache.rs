//! The response cache for public reads: whole `data` of anonymous query
//! operations, keyed by the operation's text, name and variables (never by
//! anything private), in Redis when configured (shared by every instance)
//! and in process otherwise.
//!
//! Invalidation is by version: two counters name the state of the public
//! data, `catalog` (listings, photos, calendars, amenities, profiles,
//! reviews) and `bookings` (which nights are taken). An entry's key holds
//! the versions it was computed under, so a write that moves a counter makes
//! every entry computed before it unreachable at once, on every instance;
//! the entries themselves expire by their TTL. The counters live beside the
//! event bus: every booking event moves `bookings` where it is published
//! (the worker's too), and every mutation that can change public data moves
//! `catalog` (see `graphql::pipeline::ResponseCache`).

use std::{
    collections::HashMap,
    fmt::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::infra::redis::Redis;

/// What public data a cached answer may depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Listings, their photos, calendars and amenities, public profiles,
    /// reviews and ratings.
    Catalog,
    /// Bookings: availability.
    Bookings,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Catalog => "catalog",
            Scope::Bookings => "bookings",
        }
    }

    fn index(self) -> usize {
        match self {
            Scope::Catalog => 0,
            Scope::Bookings => 1,
        }
    }
}

/// The version counters of the public data.
#[derive(Clone)]
pub struct Versions {
    redis: Option<Redis>,
    local: Arc<[AtomicU64; 2]>,
    /// With read replicas: how far behind a replica may be. Every move is
    /// repeated after this long, so an answer computed from a replica that
    /// had not yet seen a write is not served past it.
    settle: Option<Duration>,
}

impl Versions {
    pub fn in_process() -> Self {
        Self {
            redis: None,
            local: Arc::default(),
            settle: None,
        }
    }

    pub fn over_redis(redis: Redis) -> Self {
        Self {
            redis: Some(redis),
            local: Arc::default(),
            settle: None,
        }
    }

    fn key(redis: &Redis, scope: Scope) -> String {
        redis.key(format_args!("cache:version:{}", scope.name()))
    }

    /// Repeats every move after `lag` (see `settle`).
    pub fn settling_after(mut self, lag: Option<Duration>) -> Self {
        self.settle = lag.filter(|d| !d.is_zero());
        self
    }

    /// Moves `scope` on: answers computed before are no longer served.
    pub async fn bump(&self, scope: Scope) {
        self.bump_now(scope).await;
        self.bump_later(scope);
    }

    /// The repeat of a move, once a replica has caught up.
    pub(crate) fn bump_later(&self, scope: Scope) {
        if let Some(lag) = self.settle {
            let versions = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(lag).await;
                versions.bump_now(scope).await;
            });
        }
    }

    async fn bump_now(&self, scope: Scope) {
        match &self.redis {
            Some(redis) => {
                let bumped: Result<i64, _> = redis::cmd("INCR")
                    .arg(Self::key(redis, scope))
                    .query_async(&mut redis.conn())
                    .await;
                if let Err(e) = bumped {
                    tracing::warn!(error = %e, scope = scope.name(), "could not move a cache version");
                }
            }
            None => {
                self.local[scope.index()].fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    pub(crate) fn bump_locally(&self, scope: Scope) {
        self.local[scope.index()].fetch_add(1, Ordering::SeqCst);
        self.bump_later(scope);
    }

    /// The current versions of `scopes`, in their order; `None` when Redis
    /// does not answer (the caller then neither reads nor writes the cache).
    pub async fn current(&self, scopes: &[Scope]) -> Option<Vec<u64>> {
        match &self.redis {
            Some(redis) => {
                let keys: Vec<String> = scopes.iter().map(|s| Self::key(redis, *s)).collect();
                let values: Vec<Option<u64>> = redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut redis.conn())
                    .await
                    .ok()?;
                Some(values.into_iter().map(Option::unwrap_or_default).collect())
            }
            None => Some(
                scopes
                    .iter()
                    .map(|s| self.local[s.index()].load(Ordering::SeqCst))
                    .collect(),
            ),
        }
    }
}

/// Entries held in process when there is no Redis.
const LOCAL_MAX_ENTRIES: usize = 10_000;

/// Where cached answers are kept.
#[derive(Clone)]
pub struct ResponseCache {
    store: Store,
    versions: Versions,
    ttl: Duration,
    max_bytes: usize,
}

#[derive(Clone)]
enum Store {
    Redis(Redis),
    Local(Arc<Mutex<HashMap<String, (Instant, Bytes)>>>),
}

impl ResponseCache {
    pub fn new(redis: Option<Redis>, versions: Versions, ttl: Duration, max_bytes: usize) -> Self {
        let store = match redis {
            Some(redis) => Store::Redis(redis),
            None => Store::Local(Arc::default()),
        };
        Self {
            store,
            versions,
            ttl,
            max_bytes,
        }
    }

    pub fn versions(&self) -> &Versions {
        &self.versions
    }

    /// The key of an operation under the given versions.
    pub fn key(
        &self,
        query: &str,
        operation_name: Option<&str>,
        variables: &[u8],
        scopes: &[Scope],
        versions: &[u64],
    ) -> String {
        let mut hash = Sha256::new();
        for part in [
            query.as_bytes(),
            operation_name.unwrap_or("").as_bytes(),
            variables,
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let mut key = String::with_capacity(100);
        key.push_str("cache:response:");
        for byte in hash.finalize() {
            let _ = write!(key, "{byte:02x}");
        }
        for (scope, version) in scopes.iter().zip(versions) {
            let _ = write!(key, ":{}{version}", &scope.name()[..1]);
        }
        match &self.store {
            Store::Redis(redis) => redis.key(key),
            Store::Local(_) => key,
        }
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        match &self.store {
            Store::Redis(redis) => {
                let value: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut redis.conn())
                    .await
                    .ok()?;
                value.map(Bytes::from)
            }
            Store::Local(map) => {
                let map = map.lock().unwrap_or_else(|p| p.into_inner());
                map.get(key)
                    .filter(|(expires, _)| *expires > Instant::now())
                    .map(|(_, value)| value.clone())
            }
        }
    }

    /// Keeps `value` for the TTL, unless it is larger than allowed.
    pub async fn put(&self, key: String, value: Bytes) {
        if value.len() > self.max_bytes {
            return;
        }
        match &self.store {
            Store::Redis(redis) => {
                let stored: Result<(), _> = redis::cmd("SET")
                    .arg(&key)
                    .arg(value.as_ref())
                    .arg("PX")
                    .arg(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX))
                    .query_async(&mut redis.conn())
                    .await;
                if let Err(e) = stored {
                    tracing::debug!(error = %e, "could not store a cached response");
                }
            }
            Store::Local(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= LOCAL_MAX_ENTRIES {
                    map.retain(|_, (expires, _)| *expires > now);
                    if map.len() >= LOCAL_MAX_ENTRIES {
                        map.clear();
                    }
                }
                map.insert(key, (now + self.ttl, value));
            }
        }
    }
}
