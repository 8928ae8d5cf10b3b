//! Background jobs, on apalis: a durable queue in the application's own
//! database (apalis-postgres on PostgreSQL, apalis-sqlite in the embedded
//! default), worked by `roost worker` processes, or inside `roost serve`
//! in the embedded default.
//!
//! Every job is idempotent (it reads the current state and does only what
//! is still to do), retried with exponential backoff, and kept, as failed,
//! when it keeps failing: counted in `/metrics` and logged. Workers claim
//! jobs with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so however many run,
//! each job runs once; a worker that dies mid-job has its jobs taken over
//! when its lease runs out.

pub mod scheduler;
pub mod worker;

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The queue's name in the storage tables.
pub const QUEUE: &str = "roost";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Authorize, capture, void or refund: whatever the payment's booking
    /// now implies (payments::service::PaymentService::settle).
    SettlePayment { payment_id: Uuid },
    /// Email a notification to its user.
    SendEmail { notification_id: Uuid },
}

impl Job {
    pub fn name(&self) -> &'static str {
        match self {
            Self::SettlePayment { .. } => "settle_payment",
            Self::SendEmail { .. } => "send_email",
        }
    }
}

#[derive(Clone)]
pub enum Storage {
    Postgres(PostgresStorage<Job>),
    Sqlite(SqliteStorage<Job>),
}

#[derive(Clone)]
pub struct Jobs {
    storage: Storage,
    max_attempts: u32,
    /// The queue's own small pool, so polling never waits behind requests
    /// (nor requests behind polling), and closing one leaves the other.
    db: DatabaseConnection,
}

impl Jobs {
    /// Opens the queue in the application's database, creating its tables
    /// on first use (apalis keeps its own migrations, apart from ours).
    pub async fn open(db: DatabaseConnection, max_attempts: u32) -> anyhow::Result<Self> {
        let storage = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                PostgresStorage::setup(&pool).await?;
                let config = apalis_postgres::Config::default()
                    .queue(QUEUE)
                    .batch_size(16)
                    .heartbeat_interval(Duration::from_secs(10))
                    .missed_heartbeats(3);
                Storage::Postgres(PostgresStorage::new(&pool).with_config(config))
            }
            _ => {
                let pool = db.get_sqlite_connection_pool().clone();
                // Not `setup()`: it would change durability pragmas on
                // whichever pooled connection runs it.
                SqliteStorage::migrations().run(&pool).await?;
                let config = apalis_sqlite::Config::default().queue(QUEUE).batch_size(16);
                Storage::Sqlite(SqliteStorage::new(&pool).with_config(config))
            }
        };
        Ok(Self {
            storage,
            max_attempts,
            db,
        })
    }

    /// Closes the queue's pool (after the worker has stopped).
    pub async fn close(&self) {
        let _ = self.db.clone().close().await;
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Queues a job. A job that cannot be queued is logged and counted, not
    /// returned: the change that asked for it has committed, and the
    /// scheduler's sweeps find whatever was left undone.
    pub async fn enqueue(&self, job: Job) {
        let name = job.name();
        // The worker retries a job itself, with backoff; the storage must
        // not re-run it on top of that, hence one storage attempt.
        let task = TaskBuilder::new(job).max_attempts(1).build();
        let pushed = match &self.storage {
            Storage::Postgres(s) => s.clone().push_task(task).await.map_err(|e| e.to_string()),
            Storage::Sqlite(s) => s.clone().push_task(task).await.map_err(|e| e.to_string()),
        };
        match pushed {
            Ok(()) => metrics::counter!("roost_jobs_enqueued_total", "job" => name).increment(1),
            Err(e) => {
                metrics::counter!("roost_jobs_enqueue_failures_total", "job" => name).increment(1);
                tracing::warn!(job = name, error = %e, "could not queue a job; the scheduler will redo it");
            }
        }
    }

    /// Deletes finished jobs after a day, and failed ones after a week:
    /// apalis keeps every job row forever.
    pub async fn prune(&self) -> anyhow::Result<u64> {
        let sql = match self.db.get_database_backend() {
            DbBackend::Postgres => format!(
                "DELETE FROM apalis.jobs WHERE job_type = '{QUEUE}' AND \
                 ((status = 'Done' AND done_at < now() - interval '1 day') OR \
                 (status IN ('Failed', 'Killed') AND attempts >= max_attempts \
                 AND COALESCE(done_at, run_at) < now() - interval '7 days'))"
            ),
            _ => format!(
                "DELETE FROM Jobs WHERE job_type = '{QUEUE}' AND \
                 ((status = 'Done' AND done_at < unixepoch() - 86400) OR \
                 (status IN ('Failed', 'Killed') AND attempts >= max_attempts \
                 AND COALESCE(done_at, run_at) < unixepoch() - 7 * 86400))"
            ),
        };
        Ok(self.db.execute_unprepared(&sql).await?.rows_affected())
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}
