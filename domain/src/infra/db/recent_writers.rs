//! Read-your-writes for a read replica: who changed something a moment ago.
//!
//! A replica lags the primary a little. A user who has just written (a
//! mutation, a registration, a sign-in) reads from the primary for a short
//! window afterwards, so they see their own change; everyone else keeps
//! reading from the replica. With Redis the marks are shared by every
//! instance (the next request may land on another one); without it they
//! live in this process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use uuid::Uuid;

use crate::infra::redis::Redis;

/// How long a Redis check may take before the answer is "read from the
/// primary", which is always correct, only slower.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// In-process marks kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

#[derive(Clone)]
pub struct RecentWriters {
    window: Duration,
    store: Store,
}

#[derive(Clone)]
enum Store {
    Redis(Redis),
    Local(Arc<Mutex<HashMap<Uuid, Instant>>>),
}

impl RecentWriters {
    /// Marks last `window` (zero: read-your-writes is off).
    pub fn new(window: Duration, redis: Option<Redis>) -> Self {
        Self {
            window,
            store: match redis {
                Some(redis) => Store::Redis(redis),
                None => Store::Local(Arc::default()),
            },
        }
    }

    fn key(redis: &Redis, user_id: Uuid) -> String {
        redis.key(format!("wrote:{user_id}"))
    }

    /// Records that `user_id` has just written.
    pub async fn mark(&self, user_id: Uuid) {
        if self.window.is_zero() {
            return;
        }
        match &self.store {
            Store::Redis(redis) => {
                let millis = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
                let mut conn = redis.conn();
                let mut set = redis::cmd("SET");
                set.arg(Self::key(redis, user_id))
                    .arg(1)
                    .arg("PX")
                    .arg(millis);
                let set = set.query_async::<()>(&mut conn);
                match tokio::time::timeout(REDIS_TIMEOUT, set).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "could not record a write for read-your-writes")
                    }
                    Err(_) => tracing::warn!("Redis did not answer in time recording a write"),
                }
            }
            Store::Local(marks) => {
                let now = Instant::now();
                let mut marks = marks.lock().unwrap_or_else(|p| p.into_inner());
                if marks.len() >= SWEEP_AT {
                    let window = self.window;
                    marks.retain(|_, at| now.duration_since(*at) < window);
                }
                marks.insert(user_id, now);
            }
        }
    }

    /// Whether `user_id` wrote within the window. When Redis cannot tell,
    /// the answer is yes: reading from the primary is never wrong.
    pub async fn wrote_recently(&self, user_id: Uuid) -> bool {
        if self.window.is_zero() {
            return false;
        }
        match &self.store {
            Store::Redis(redis) => {
                let mut conn = redis.conn();
                let mut exists = redis::cmd("EXISTS");
                exists.arg(Self::key(redis, user_id));
                let exists = exists.query_async::<bool>(&mut conn);
                match tokio::time::timeout(REDIS_TIMEOUT, exists).await {
                    Ok(Ok(exists)) => exists,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "could not check read-your-writes; reading from the primary");
                        true
                    }
                    Err(_) => true,
                }
            }
            Store::Local(marks) => marks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&user_id)
                .is_some_and(|at| at.elapsed() < self.window),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mark_lasts_the_window() {
        let writers = RecentWriters::new(Duration::from_millis(50), None);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        writers.mark(a).await;
        assert!(writers.wrote_recently(a).await);
        assert!(!writers.wrote_recently(b).await);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!writers.wrote_recently(a).await);
    }

    #[tokio::test]
    async fn a_zero_window_marks_nothing() {
        let writers = RecentWriters::new(Duration::ZERO, None);
        let a = Uuid::now_v7();
        writers.mark(a).await;
        assert!(!writers.wrote_recently(a).await);
    }
}
