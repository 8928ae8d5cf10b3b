//! Login lockout: after `max_failures` failed logins for one email within
//! `window`, further attempts are refused until the oldest of them leaves the
//! window (a sliding window).
//!
//! An attempt is counted *before* its password is checked, and forgiven only
//! when it succeeds (which clears the email's record). So a burst of parallel
//! guesses cannot slip past the count while the hashes are being computed.
//! Counted in Redis when configured, so the lockout holds on every instance;
//! while Redis cannot be reached, in process (logins keep working, and the
//! lockout holds per instance). Emails are keyed by their SHA-256, keeping
//! addresses out of Redis.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use redis::Script;
use sha2::{Digest, Sha256};

use super::tokens::hex;
use domain::infra::redis::Redis;

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub retry_after_secs: u64,
}

#[derive(Clone)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    redis: Option<(Redis, Arc<Script>)>,
    /// The count without Redis; with Redis, the count while Redis cannot be
    /// reached (each instance then counts on its own, so an attacker
    /// spreading guesses over N instances gets N times the attempts until
    /// Redis is back).
    memory: Arc<Mutex<Memory>>,
}

/// Emails the in-process count holds at most. Past it (after the attempts
/// older than the window are dropped, once a second at most), attempts for
/// new emails are let through uncounted rather than refused: refusing
/// would let a flood of invented emails lock everyone out.
const MAX_EMAILS: usize = 100_000;

#[derive(Default)]
struct Memory {
    attempts: HashMap<String, VecDeque<i64>>,
    /// When (ms) the map may next be swept of old attempts.
    next_sweep: i64,
}

impl Memory {
    /// Counts an attempt at `now`, or answers the milliseconds to wait.
    fn reserve(&mut self, subject: String, now: i64, window: i64, max: u32) -> i64 {
        if !self.attempts.contains_key(&subject) && self.attempts.len() >= MAX_EMAILS {
            if now >= self.next_sweep {
                self.attempts
                    .retain(|_, attempts| attempts.back().is_some_and(|t| *t > now - window));
                self.next_sweep = now + 1000;
            }
            if self.attempts.len() >= MAX_EMAILS {
                return 0;
            }
        }
        let attempts = self.attempts.entry(subject).or_default();
        while attempts.front().is_some_and(|t| *t <= now - window) {
            attempts.pop_front();
        }
        if attempts.len() >= max as usize {
            attempts.front().map_or(0, |t| t + window - now)
        } else {
            attempts.push_back(now);
            0
        }
    }
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
        Self {
            max_failures,
            window,
            redis: redis.map(|redis| (redis, Arc::new(Script::new(RESERVE)))),
            memory: Arc::default(),
        }
    }

    fn subject(email: &str) -> String {
        hex(&Sha256::digest(email.as_bytes()))
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    fn key(redis: &Redis, email: &str) -> String {
        redis.key(format_args!("login-failures:{}", Self::subject(email)))
    }

    /// Counts an attempt for `email`, or refuses it when the window is full.
    /// A limit of 0 turns the lockout off.
    pub async fn reserve(&self, email: &str) -> Result<(), Locked> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp_millis();
        let counted = match &self.redis {
            Some((redis, script)) => {
                let counted: redis::RedisResult<i64> = script
                    .key(Self::key(redis, email))
                    .arg(now)
                    .arg(self.window_ms())
                    .arg(self.max_failures)
                    .arg(uuid::Uuid::now_v7().to_string())
                    .invoke_async(&mut redis.conn())
                    .await;
                if let Err(e) = &counted
                    && redis.is_up()
                {
                    tracing::warn!(error = %e, "could not count a login attempt in Redis; counting it in process");
                }
                counted.ok()
            }
            None => None,
        };
        let wait_ms = match counted {
            Some(wait_ms) => wait_ms,
            None => self
                .memory
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .reserve(
                    Self::subject(email),
                    now,
                    self.window_ms(),
                    self.max_failures,
                ),
        };
        if wait_ms > 0 {
            Err(Locked {
                retry_after_secs: u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1),
            })
        } else {
            Ok(())
        }
    }

    /// A successful login forgives the email's failed attempts, wherever
    /// they were counted.
    pub async fn clear(&self, email: &str) {
        if let Some((redis, _)) = &self.redis {
            let cleared = redis::cmd("DEL")
                .arg(Self::key(redis, email))
                .query_async::<()>(&mut redis.conn())
                .await;
            if let Err(e) = cleared
                && redis.is_up()
            {
                tracing::warn!(error = %e, "could not clear a login lockout in Redis");
            }
        }
        self.memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .attempts
            .remove(&Self::subject(email));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sixth_attempt_is_refused_until_cleared() {
        let t = LoginThrottle::new(None, 5, Duration::from_secs(900));
        for _ in 0..5 {
            assert_eq!(t.reserve("a@example.com").await, Ok(()));
        }
        let refused = t.reserve("a@example.com").await;
        assert!(
            matches!(refused, Err(Locked { retry_after_secs }) if (899..=900).contains(&retry_after_secs))
        );
        assert_eq!(t.reserve("b@example.com").await, Ok(()));
        t.clear("a@example.com").await;
        assert_eq!(t.reserve("a@example.com").await, Ok(()));
    }

    #[test]
    fn the_in_process_count_holds_a_bounded_number_of_emails() {
        let mut m = Memory::default();
        let window = 900_000;
        for i in 0..MAX_EMAILS {
            assert_eq!(m.reserve(i.to_string(), 0, window, 5), 0);
        }
        // Full of recent attempts: a new email passes, uncounted.
        assert_eq!(m.reserve("new".into(), 1, window, 5), 0);
        assert_eq!(m.attempts.len(), MAX_EMAILS);
        // Known emails are still counted and locked.
        for _ in 0..4 {
            assert_eq!(m.reserve("7".into(), 20, window, 5), 0);
        }
        assert_eq!(m.reserve("7".into(), 21, window, 5), window - 21);
        // Once the window has passed, the old attempts are swept.
        assert_eq!(m.reserve("new".into(), window + 10, window, 5), 0);
        assert_eq!(m.attempts.len(), 2, "7's recent attempts, and new");
    }
}
