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

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use uuid::Uuid;

use crate::redis::Redis;

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
    Redis(Redis),
    Memory(Arc<Mutex<MemoryStore>>),
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

impl SessionStore {
    pub fn new(redis: Option<Redis>) -> Self {
        match redis {
            Some(redis) => Self::Redis(redis),
            None => Self::Memory(Arc::default()),
        }
    }

    fn key(redis: &Redis, id: Uuid) -> String {
        redis.key(format!("session:{id}"))
    }

    /// The cached state, or `None` when the store does not know the session.
    pub async fn get(&self, id: Uuid) -> Result<Option<SessionState>, redis::RedisError> {
        match self {
            Self::Redis(redis) => {
                let value: Option<String> = redis.conn().get(Self::key(redis, id)).await?;
                Ok(value.as_deref().and_then(SessionState::decode))
            }
            Self::Memory(store) => Ok(lock(store).get(id)),
        }
    }

    /// Caches what the database said, unless someone wrote first.
    pub async fn fill(
        &self,
        id: Uuid,
        state: SessionState,
        ttl: Duration,
    ) -> Result<(), redis::RedisError> {
        match self {
            Self::Redis(redis) => {
                let opts = redis::SetOptions::default()
                    .conditional_set(redis::ExistenceCheck::NX)
                    .with_expiration(redis::SetExpiry::PX(millis(ttl)));
                let _: Option<String> = redis
                    .conn()
                    .set_options(Self::key(redis, id), state.encode(), opts)
                    .await?;
                Ok(())
            }
            Self::Memory(store) => {
                lock(store).put(id, state, ttl, true);
                Ok(())
            }
        }
    }

    /// Marks sessions ended, overwriting whatever was cached.
    pub async fn end(&self, ids: &[Uuid], ttl: Duration) -> Result<(), redis::RedisError> {
        if ids.is_empty() {
            return Ok(());
        }
        match self {
            Self::Redis(redis) => {
                let mut pipe = redis::pipe();
                for id in ids {
                    pipe.set_ex(
                        Self::key(redis, *id),
                        SessionState::Ended.encode(),
                        ttl.as_secs().max(1),
                    )
                    .ignore();
                }
                pipe.query_async::<()>(&mut redis.conn()).await
            }
            Self::Memory(store) => {
                let mut store = lock(store);
                for id in ids {
                    store.put(*id, SessionState::Ended, ttl, false);
                }
                Ok(())
            }
        }
    }
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
        assert_eq!(store.get(sid).await.expect("get"), None);
        store.end(&[sid], ttl).await.expect("end");
        store
            .fill(sid, SessionState::Live { user_id: uid }, ttl)
            .await
            .expect("fill");
        assert_eq!(
            store.get(sid).await.expect("get"),
            Some(SessionState::Ended)
        );
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
