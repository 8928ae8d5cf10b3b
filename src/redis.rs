//! The shared Redis connection, with the key prefix every key and channel
//! carries so that several deployments can share one Redis.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;

use crate::config::RedisConfig;

#[derive(Clone)]
pub struct Redis {
    conn: ConnectionManager,
    prefix: String,
}

impl Redis {
    pub async fn connect(config: &RedisConfig) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.url.expose_secret())
            .context("REDIS_URL is not a valid Redis URL")?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, manager_config)
            .await
            .context("could not connect to Redis at REDIS_URL")?;
        Ok(Self {
            conn,
            prefix: config.prefix.clone(),
        })
    }

    /// A connection handle; cheap to clone, reconnects by itself.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// `<prefix><name>`, e.g. `roost:session:<id>`.
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        format!("{}{name}", self.prefix)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}
