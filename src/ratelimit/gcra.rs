//! One GCRA limiter, in Redis or in process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::Script;

use super::Kind;
use domain::infra::redis::Redis;

/// `count` requests per `period`, with bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Microseconds between two requests at the sustained rate.
    interval_us: u64,
    burst: u64,
}

impl Quota {
    /// `None` (the limit is off) when `count` or `burst` is 0.
    pub fn per(count: u32, period: Duration, burst: u32) -> Option<Self> {
        if count == 0 || burst == 0 {
            return None;
        }
        let period_us = u64::try_from(period.as_micros()).unwrap_or(u64::MAX);
        Some(Self {
            interval_us: (period_us / u64::from(count)).max(1),
            burst: u64::from(burst),
        })
    }

    pub fn burst(&self) -> u64 {
        self.burst
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused: the same request would be allowed after this many seconds.
    Denied {
        retry_after_secs: u64,
    },
}

/// The in-process map holds at most this many keys (per limit). A key
/// whose TAT has passed means the same as no key, so those are dropped
/// when the map is full; new keys beyond the bound are allowed unrecorded.
const MAX_KEYS: usize = 100_000;

#[derive(Clone)]
enum Backend {
    Redis(Redis, Arc<Script>),
    Memory(Arc<Mutex<Memory>>),
}

struct Memory {
    epoch: Instant,
    /// Key -> TAT in microseconds since `epoch`.
    tats: HashMap<String, u64>,
    /// Earliest time (µs since epoch) of the next sweep of a full map, so
    /// a flood of new keys costs one sweep per second, not one per request.
    next_sweep: u64,
}

/// Atomically, on Redis's clock (microseconds): read the key's TAT (now if
/// absent or past), add `cost` intervals; refuse when that is more than
/// `burst` intervals ahead of now, answering the microseconds to wait;
/// else store it until it passes and answer 0. Numbers are written with
/// `%d`, as Lua would print large ones in exponent form.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return allow_at - now
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
if ttl_ms < 1 then ttl_ms = 1 end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', ttl_ms))
return 0
";

#[derive(Clone)]
pub struct Limiter {
    kind: Kind,
    quota: Quota,
    backend: Backend,
}

impl Limiter {
    pub fn new(kind: Kind, quota: Quota, redis: Option<Redis>) -> Self {
        let backend = match redis {
            Some(redis) => Backend::Redis(redis, Arc::new(Script::new(GCRA))),
            None => Backend::Memory(Arc::new(Mutex::new(Memory {
                epoch: Instant::now(),
                tats: HashMap::new(),
                next_sweep: 0,
            }))),
        };
        Self {
            kind,
            quota,
            backend,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Spends `cost` requests of `subject`'s budget, or refuses (spending
    /// nothing). Redis errors are logged and the request allowed.
    pub async fn check(&self, subject: &str, cost: u32) -> Decision {
        let cost = u64::from(cost.max(1));
        let wait_us = match &self.backend {
            Backend::Redis(redis, script) => {
                let key = redis.key(format_args!("ratelimit:{}:{subject}", self.kind.label()));
                let mut conn = redis.conn();
                let mut invocation = script.key(key);
                invocation
                    .arg(self.quota.interval_us)
                    .arg(self.quota.burst)
                    .arg(cost);
                // Bounded by the connection: a Redis that does not answer
                // in time (or is known to be down) fails the check at once.
                match invocation.invoke_async::<i64>(&mut conn).await {
                    Ok(wait) => u64::try_from(wait).unwrap_or(0),
                    Err(e) => {
                        // An outage is logged once, where Redis is marked
                        // down; anything else, each time.
                        if redis.is_up() {
                            tracing::warn!(
                                error = %e,
                                limit = self.kind.label(),
                                "rate limit check failed; allowing the request"
                            );
                        }
                        0
                    }
                }
            }
            Backend::Memory(memory) => {
                let mut memory = memory.lock().unwrap_or_else(|p| p.into_inner());
                let now = u64::try_from(memory.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
                memory.check(subject, now, self.quota, cost)
            }
        };
        if wait_us == 0 {
            Decision::Allowed
        } else {
            Decision::Denied {
                retry_after_secs: wait_us.div_ceil(1_000_000).max(1),
            }
        }
    }
}

impl Memory {
    /// The GCRA step; answers the microseconds to wait (0: allowed).
    fn check(&mut self, subject: &str, now: u64, quota: Quota, cost: u64) -> u64 {
        let tat = self.tats.get(subject).copied().unwrap_or(now).max(now);
        let new_tat = tat.saturating_add(cost.saturating_mul(quota.interval_us));
        let allow_at = new_tat.saturating_sub(quota.burst.saturating_mul(quota.interval_us));
        if allow_at > now {
            return allow_at - now;
        }
        if !self.tats.contains_key(subject) && self.tats.len() >= MAX_KEYS {
            if now >= self.next_sweep {
                self.tats.retain(|_, t| *t > now);
                self.next_sweep = now + 1_000_000;
            }
            if self.tats.len() >= MAX_KEYS {
                return 0;
            }
        }
        self.tats.insert(subject.to_owned(), new_tat);
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Memory {
        Memory {
            epoch: Instant::now(),
            tats: HashMap::new(),
            next_sweep: 0,
        }
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        // 10 per second, bursts of 3.
        let q = Quota::per(10, Duration::from_secs(1), 3).expect("on");
        let mut m = memory();
        let t0 = 5_000_000;
        for _ in 0..3 {
            assert_eq!(m.check("a", t0, q, 1), 0);
        }
        assert_eq!(
            m.check("a", t0, q, 1),
            100_000,
            "the 4th waits one interval"
        );
        assert_eq!(m.check("b", t0, q, 1), 0, "keys are apart");
        assert_eq!(m.check("a", t0 + 100_000, q, 1), 0);
        assert_eq!(m.check("a", t0 + 100_000, q, 1), 100_000);
        assert_eq!(
            m.check("a", t0 + 10_000_000, q, 3),
            0,
            "a full bucket again"
        );
        assert_eq!(m.check("a", t0 + 10_000_000, q, 1), 100_000);
    }

    #[test]
    fn a_cost_spends_several_cells_at_once_or_none() {
        let q = Quota::per(3, Duration::from_secs(60), 3).expect("on");
        let mut m = memory();
        assert_eq!(m.check("ip", 0, q, 2), 0);
        assert_eq!(m.check("ip", 0, q, 2), 20_000_000, "2 + 2 > 3");
        assert_eq!(m.check("ip", 0, q, 1), 0, "the refusal spent nothing");
        assert_eq!(m.check("ip", 0, q, 1), 20_000_000);
    }

    #[test]
    fn zero_turns_a_limit_off() {
        assert!(Quota::per(0, Duration::from_secs(1), 5).is_none());
        assert!(Quota::per(5, Duration::from_secs(1), 0).is_none());
    }

    #[test]
    fn the_map_is_bounded() {
        let q = Quota::per(1, Duration::from_secs(1), 1).expect("on");
        let mut m = memory();
        for i in 0..MAX_KEYS {
            m.check(&i.to_string(), 0, q, 1);
        }
        assert_eq!(m.check("new", 0, q, 1), 0, "allowed, unrecorded");
        assert_eq!(m.tats.len(), MAX_KEYS);
        // Two seconds on, every old key has passed and is swept.
        assert_eq!(m.check("new", 2_000_000, q, 1), 0);
        assert_eq!(m.tats.len(), 1);
    }
}
