//! The shared Redis connection, with the key prefix every key and channel
//! carries so that several deployments can share one Redis.
//!
//! Every command is bounded: it answers within `ROOST_REDIS_TIMEOUT` (250 ms
//! by default) or fails. A failure to reach Redis (a refused or dropped
//! connection, no answer in time) marks it down: from then on commands fail
//! at once, without touching the network, while one task probes it in the
//! background and marks it up at its first answer. So an outage costs a
//! request at most one timeout, never the client library's reconnect
//! back-off, and each caller falls back straight away (sessions to the
//! database, rate limits open, login lockouts in process, caches missed).

use std::{
    io,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use redis::{
    Cmd, RedisError, RedisFuture, RedisResult, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
};
use secrecy::ExposeSecret;

use crate::config::RedisConfig;

/// How often a Redis marked down is tried again.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// How long the first connection at start may take.
const STARTUP_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Redis {
    health: Arc<Health>,
    prefix: String,
}

/// The connection and what is known of Redis's state.
struct Health {
    manager: ConnectionManager,
    timeout: Duration,
    up: AtomicBool,
    /// How many times Redis has been found down since start.
    outages: AtomicU64,
}

impl Redis {
    pub async fn connect(config: &RedisConfig) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.url.expose_secret())
            .context("REDIS_URL is not a valid Redis URL")?;
        // One attempt per reconnection, each bounded: a Redis that does not
        // answer is the probe's business, not the requests'.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(PROBE_INTERVAL);
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
            .context("REDIS_URL is not a valid Redis URL")?;
        let redis = Self {
            health: Arc::new(Health {
                manager,
                timeout: config.timeout,
                up: AtomicBool::new(true),
                outages: AtomicU64::new(0),
            }),
            prefix: config.prefix.clone(),
        };
        // At start, Redis must answer (a wrong URL is said at once).
        let started = tokio::time::Instant::now();
        loop {
            let mut conn = redis.health.manager.clone();
            let answer = tokio::time::timeout(
                config.timeout.max(Duration::from_secs(1)),
                redis::cmd("PING").query_async::<String>(&mut conn),
            )
            .await;
            match answer {
                Ok(Ok(_)) => break,
                Ok(Err(e)) if started.elapsed() >= STARTUP_WAIT => {
                    return Err(e).context("could not connect to Redis at REDIS_URL");
                }
                Err(_) if started.elapsed() >= STARTUP_WAIT => {
                    anyhow::bail!("could not connect to Redis at REDIS_URL: no answer in time");
                }
                _ => tokio::time::sleep(PROBE_INTERVAL).await,
            }
        }
        metrics::gauge!("roost_redis_up").set(1.0);
        Ok(redis)
    }

    /// A connection handle: cheap to clone, reconnects by itself, and
    /// bounds every command (see the module's documentation).
    pub fn conn(&self) -> Conn {
        Conn {
            manager: self.health.manager.clone(),
            health: self.health.clone(),
        }
    }

    /// `<prefix><name>`, e.g. `roost:session:<id>`.
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether Redis answered last time it was asked.
    pub fn is_up(&self) -> bool {
        self.health.up.load(Ordering::SeqCst)
    }

    /// How many times Redis has been found down since start: a change means
    /// an outage happened in between (whatever it missed may need writing
    /// again).
    pub fn outages(&self) -> u64 {
        self.health.outages.load(Ordering::SeqCst)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }
}

/// A command of a Redis marked down.
fn unavailable() -> RedisError {
    io::Error::new(io::ErrorKind::NotConnected, "Redis is unavailable").into()
}

impl Health {
    /// Runs `command` within the timeout, unless Redis is down; a failure
    /// to reach it marks it down.
    async fn bounded<T>(
        self: Arc<Self>,
        command: impl Future<Output = RedisResult<T>>,
    ) -> RedisResult<T> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(unavailable());
        }
        let result = tokio::time::timeout(self.timeout, command)
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(io::ErrorKind::TimedOut, "Redis did not answer in time").into())
            });
        if let Err(e) = &result
            && e.is_io_error()
        {
            self.mark_down(e);
        }
        result
    }

    fn mark_down(self: &Arc<Self>, error: &RedisError) {
        if !self.up.swap(false, Ordering::SeqCst) {
            return;
        }
        self.outages.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!("roost_redis_up").set(0.0);
        metrics::counter!("roost_redis_outages_total").increment(1);
        tracing::error!(
            error = %error,
            "Redis is unavailable; sessions are checked in the database, rate limits let requests through and login lockouts count in process until it answers"
        );
        tokio::spawn(probe(Arc::downgrade(self)));
    }
}

/// Pings a Redis marked down until it answers, then marks it up. Ends
/// early when every handle on it is gone.
async fn probe(health: Weak<Health>) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(health) = health.upgrade() else {
            return;
        };
        let mut conn = health.manager.clone();
        let answer = tokio::time::timeout(
            health.timeout,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        if matches!(answer, Ok(Ok(_))) {
            health.up.store(true, Ordering::SeqCst);
            metrics::gauge!("roost_redis_up").set(1.0);
            tracing::info!("Redis answers again");
            return;
        }
    }
}

/// A bounded connection to Redis (see the module's documentation); use it
/// as any `redis` connection.
#[derive(Clone)]
pub struct Conn {
    manager: ConnectionManager,
    health: Arc<Health>,
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(
            self.health
                .clone()
                .bounded(self.manager.req_packed_command(cmd)),
        )
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(
            self.health
                .clone()
                .bounded(self.manager.req_packed_commands(pipeline, offset, count)),
        )
    }

    fn get_db(&self) -> i64 {
        self.manager.get_db()
    }
}
