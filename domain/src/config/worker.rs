//! The background worker and its scheduler.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub in_serve: bool,
    pub poll_interval: Duration,
    pub max_attempts: u32,
    pub scheduler_interval: Duration,
}
