//! PostgreSQL or SQLite, its read replica, and Redis.

use std::time::Duration;

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// May hold a password: never printed.
    pub url: SecretString,
    pub max_connections: u32,
    /// Apply pending migrations when `roost serve` starts.
    pub auto_migrate: bool,
    /// Where read-only queries go, when there is a replica.
    pub read: Option<ReadReplicaConfig>,
}

/// A read replica of the database (`DATABASE_READ_URL`).
#[derive(Debug, Clone)]
pub struct ReadReplicaConfig {
    /// May hold a password: never printed.
    pub url: SecretString,
    pub max_connections: u32,
    /// A user's queries read from the primary for this long after their
    /// last mutation, so they see their own writes despite replication lag.
    pub read_your_writes: Duration,
}

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: SecretString,
    /// Put in front of every key and channel, so deployments can share a Redis.
    pub prefix: String,
    /// Longest one command may take; past it Redis counts as down.
    pub timeout: Duration,
}
