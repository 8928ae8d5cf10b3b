//! Login lockout: after `max_failures` failed logins for one email within
//! `window`, further attempts are refused until the oldest of them leaves the
//! window (a sliding window).
//!
//! An attempt is counted *before* its password is checked, and forgiven only
//! when it succeeds (which clears the email's record). So a burst of parallel
//! guesses cannot slip past the count while the hashes are being computed.
//! Counted in Redis when configured, so the lockout holds on every instance.
//! Emails are keyed by their SHA-256, keeping addresses out of Redis.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use redis::Script;
use sha2::{Digest, Sha256};

use super::tokens::hex;
use crate::redis::Redis;

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub retry_after_secs: u64,
}

#[derive(Clone)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Redis(Redis, Arc<Script>),
    Memory(Arc<Mutex<HashMap<String, VecDeque<i64>>>>),
}

/// Atomically: drop attempts older than the window; refuse when the window
/// is full (answering the milliseconds until its oldest attempt leaves);
/// otherwise record this attempt.
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
";

impl LoginThrottle {
    pub fn new(redis: Option<Redis>, max_failures: u32, window: Duration) -> Self {
        let backend = match redis {
            Some(redis) => Backend::Redis(redis, Arc::new(Script::new(RESERVE))),
            None => Backend::Memory(Arc::default()),
        };
        Self {
            max_failures,
            window,
            backend,
        }
    }

    fn subject(email: &str) -> String {
        hex(&Sha256::digest(email.as_bytes()))
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// Counts an attempt for `email`, or refuses it when the window is full.
    /// A limit of 0 turns the lockout off.
    pub async fn reserve(&self, email: &str) -> Result<Result<(), Locked>, redis::RedisError> {
        if self.max_failures == 0 {
            return Ok(Ok(()));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let wait_ms: i64 = match &self.backend {
            Backend::Redis(redis, script) => {
                let key = redis.key(format_args!("login-failures:{}", Self::subject(email)));
                script
                    .key(key)
                    .arg(now)
                    .arg(self.window_ms())
                    .arg(self.max_failures)
                    .arg(uuid::Uuid::now_v7().to_string())
                    .invoke_async(&mut redis.conn())
                    .await?
            }
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() > 10_000 {
                    let horizon = now - self.window_ms();
                    map.retain(|_, attempts| attempts.back().is_some_and(|t| *t > horizon));
                }
                let attempts = map.entry(Self::subject(email)).or_default();
                while attempts
                    .front()
                    .is_some_and(|t| *t <= now - self.window_ms())
                {
                    attempts.pop_front();
                }
                if attempts.len() >= self.max_failures as usize {
                    attempts.front().map_or(0, |t| t + self.window_ms() - now)
                } else {
                    attempts.push_back(now);
                    0
                }
            }
        };
        Ok(if wait_ms > 0 {
            Err(Locked {
                retry_after_secs: u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1),
            })
        } else {
            Ok(())
        })
    }

    /// A successful login forgives the email's failed attempts.
    pub async fn clear(&self, email: &str) -> Result<(), redis::RedisError> {
        match &self.backend {
            Backend::Redis(redis, _) => {
                let key = redis.key(format_args!("login-failures:{}", Self::subject(email)));
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut redis.conn())
                    .await
            }
            Backend::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&Self::subject(email));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sixth_attempt_is_refused_until_cleared() {
        let t = LoginThrottle::new(None, 5, Duration::from_secs(900));
        for _ in 0..5 {
            assert_eq!(t.reserve("a@example.com").await.expect("memory"), Ok(()));
        }
        let refused = t.reserve("a@example.com").await.expect("memory");
        assert!(
            matches!(refused, Err(Locked { retry_after_secs }) if (899..=900).contains(&retry_after_secs))
        );
        assert_eq!(t.reserve("b@example.com").await.expect("memory"), Ok(()));
        t.clear("a@example.com").await.expect("memory");
        assert_eq!(t.reserve("a@example.com").await.expect("memory"), Ok(()));
    }
}
