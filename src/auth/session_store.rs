//! The hot copy of each session's state, read on every authenticated request.
//!
//! The database holds the durable record; this store answers "is session S
//! still live, and whose is it?" without a database round trip. It lives in
//! Redis when configured, so a logout on one instance is seen by every other
//! at once, and in process otherwise (one instance).
//!
//! Filling a missing entry from the database uses set-if-absent and a
//! revocation overwrites: a fill that read the database just before a
//! revocation cannot put a live state back over the revoked one.
//!
//! Redis is a cache here, never the only copy: when it is down the store
//! answers "unknown" at once and sessions are read from the database. An
//! ending that could not be written to Redis (and any outage, during which
//! endings elsewhere may have been missed too) leaves Redis untrusted until
//! the endings are written again (see `AuthService::resync_sessions`):
//! until then a "live" entry cached before the outage could outlive its
//! session.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use uuid::Uuid;

use domain::infra::redis::Redis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Live { user_id: Uuid },
    Ended,
}

impl SessionState {
    fn encode(self) -> String {
        match self {
            Self::Live { user_id } => format!("live:{user_id}"),
            Self::Ended => "ended".into(),
        }
    }

    fn decode(s: &str) -> Option<Self> {
        match s.split_once(':') {
            Some(("live", id)) => Uuid::parse_str(id)
                .ok()
                .map(|user_id| Self::Live { user_id }),
            _ if s == "ended" => Some(Self::Ended),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub enum SessionStore {
    Redis(Arc<RedisSessions>),
    Memory(Arc<Mutex<MemoryStore>>),
}

/// Endings waiting to be written again, at most; beyond, the database's
/// record of recent endings is what the resync writes.
const MAX_PENDING: usize = 100_000;

pub struct RedisSessions {
    redis: Redis,
    /// Endings that could not be written (counted, and their ids kept).
    unwritten: AtomicU64,
    pending: Mutex<Vec<Uuid>>,
    /// `redis.outages() + unwritten` as of the last resync: Redis is
    /// trusted while it still is.
    synced: AtomicU64,
    resyncing: AtomicBool,
}

impl RedisSessions {
    fn epoch(&self) -> u64 {
        self.redis.outages() + self.unwritten.load(Ordering::SeqCst)
    }

    fn trusted(&self) -> bool {
        self.redis.is_up() && self.synced.load(Ordering::SeqCst) == self.epoch()
    }
}

#[derive(Default)]
pub struct MemoryStore {
    entries: HashMap<Uuid, (SessionState, Instant)>,
    writes: u64,
}

impl MemoryStore {
    fn get(&self, id: Uuid) -> Option<SessionState> {
        self.entries
            .get(&id)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(state, _)| *state)
    }

    fn put(&mut self, id: Uuid, state: SessionState, ttl: Duration, only_if_absent: bool) {
        let now = Instant::now();
        self.writes += 1;
        if self.writes.is_multiple_of(1024) {
            self.entries.retain(|_, (_, until)| *until > now);
        }
        if only_if_absent && self.get(id).is_some() {
            return;
        }
        self.entries.insert(id, (state, now + ttl));
    }
}

/// The right to resync, held by one task at a time.
pub struct Resync {
    store: Arc<RedisSessions>,
    epoch: u64,
    pending: Vec<Uuid>,
}

impl Resync {
    /// The endings this instance could not write.
    pub fn pending(&self) -> &[Uuid] {
        &self.pending
    }

    /// Writes `ids` ended; once all are written, Redis is trusted again
    /// (unless something else failed meanwhile).
    pub async fn finish(mut self, ids: &[Uuid], ttl: Duration) -> bool {
        for chunk in ids.chunks(1000) {
            if write_ended(&self.store.redis, chunk, ttl).await.is_err() {
                return false;
            }
        }
        self.pending.clear();
        self.store.synced.fetch_max(self.epoch, Ordering::SeqCst);
        true
    }
}

impl Drop for Resync {
    fn drop(&mut self) {
        // Not finished: what it took is still owed.
        if !self.pending.is_empty() {
            let mut pending = lock(&self.store.pending);
            pending.append(&mut self.pending);
            pending.truncate(MAX_PENDING);
        }
        self.store.resyncing.store(false, Ordering::SeqCst);
    }
}

impl SessionStore {
    pub fn new(redis: Option<Redis>) -> Self {
        match redis {
            Some(redis) => Self::Redis(Arc::new(RedisSessions {
                synced: AtomicU64::new(redis.outages()),
                redis,
                unwritten: AtomicU64::new(0),
                pending: Mutex::default(),
                resyncing: AtomicBool::new(false),
            })),
            None => Self::Memory(Arc::default()),
        }
    }

    fn key(redis: &Redis, id: Uuid) -> String {
        redis.key(format!("session:{id}"))
    }

    /// The right to write missed endings again, when Redis answers but is
    /// not trusted yet and no one else is at it.
    pub fn begin_resync(&self) -> Option<Resync> {
        let Self::Redis(store) = self else {
            return None;
        };
        if !store.redis.is_up() || store.trusted() {
            return None;
        }
        if store.resyncing.swap(true, Ordering::SeqCst) {
            return None;
        }
        let epoch = store.epoch();
        let pending = std::mem::take(&mut *lock(&store.pending));
        Some(Resync {
            store: store.clone(),
            epoch,
            pending,
        })
    }

    /// The cached state; `None` when the store does not know the session,
    /// cannot be reached, or cannot be trusted now: the database decides.
    pub async fn get(&self, id: Uuid) -> Option<SessionState> {
        match self {
            Self::Redis(store) => {
                if !store.trusted() {
                    return None;
                }
                let key = Self::key(&store.redis, id);
                let value: Option<String> = store.redis.conn().get(key).await.ok()?;
                value.as_deref().and_then(SessionState::decode)
            }
            Self::Memory(store) => lock(store).get(id),
        }
    }

    /// Caches what the database said, unless someone wrote first (and not
    /// while the store is untrusted). Best effort.
    pub async fn fill(&self, id: Uuid, state: SessionState, ttl: Duration) {
        match self {
            Self::Redis(store) => {
                if !store.trusted() {
                    return;
                }
                let opts = redis::SetOptions::default()
                    .conditional_set(redis::ExistenceCheck::NX)
                    .with_expiration(redis::SetExpiry::PX(millis(ttl)));
                let filled: redis::RedisResult<Option<String>> = store
                    .redis
                    .conn()
                    .set_options(Self::key(&store.redis, id), state.encode(), opts)
                    .await;
                if let Err(e) = filled
                    && store.redis.is_up()
                {
                    tracing::warn!(error = %e, "could not cache a session's state");
                }
            }
            Self::Memory(store) => lock(store).put(id, state, ttl, true),
        }
    }

    /// Marks sessions ended, overwriting whatever was cached. What cannot
    /// be written is remembered, and Redis untrusted until it is.
    pub async fn end(&self, ids: &[Uuid], ttl: Duration) {
        if ids.is_empty() {
            return;
        }
        match self {
            Self::Redis(store) => {
                if let Err(e) = write_ended(&store.redis, ids, ttl).await {
                    tracing::warn!(
                        error = %e,
                        sessions = ids.len(),
                        "could not mark sessions ended in Redis; the database decides until they are"
                    );
                    let mut pending = lock(&store.pending);
                    let room = MAX_PENDING.saturating_sub(pending.len());
                    pending.extend(ids.iter().take(room));
                    store.unwritten.fetch_add(1, Ordering::SeqCst);
                }
            }
            Self::Memory(store) => {
                let mut store = lock(store);
                for id in ids {
                    store.put(*id, SessionState::Ended, ttl, false);
                }
            }
        }
    }
}

async fn write_ended(redis: &Redis, ids: &[Uuid], ttl: Duration) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for id in ids {
        pipe.set_ex(
            SessionStore::key(redis, *id),
            SessionState::Ended.encode(),
            ttl.as_secs().max(1),
        )
        .ignore();
    }
    pipe.query_async::<()>(&mut redis.conn()).await
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A poisoned lock only means another thread panicked mid-update of a cache;
/// the map is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fill_never_overwrites_an_ending() {
        let store = SessionStore::new(None);
        let (sid, uid) = (Uuid::now_v7(), Uuid::now_v7());
        let ttl = Duration::from_secs(60);
        assert_eq!(store.get(sid).await, None);
        store.end(&[sid], ttl).await;
        store
            .fill(sid, SessionState::Live { user_id: uid }, ttl)
            .await;
        assert_eq!(store.get(sid).await, Some(SessionState::Ended));
    }

    #[test]
    fn states_round_trip_through_text() {
        let live = SessionState::Live {
            user_id: Uuid::now_v7(),
        };
        assert_eq!(SessionState::decode(&live.encode()), Some(live));
        assert_eq!(SessionState::decode("ended"), Some(SessionState::Ended));
        assert_eq!(SessionState::decode("garbage"), None);
    }
}
