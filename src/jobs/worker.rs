//! The worker: runs queued jobs and the scheduler's sweeps until told to
//! stop. `roost worker` runs it alone; in the embedded default `roost serve`
//! runs it beside the server.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use apalis::{
    layers::retry::{
        HasherRng, RetryPolicy,
        backoff::{ExponentialBackoffMaker, MakeBackoff},
    },
    prelude::*,
};
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, Statement};
use tokio_util::sync::CancellationToken;

use super::{Job, Jobs, Storage, scheduler};
use crate::{
    bookings::BookingService,
    notifications::email::{Delivery, Mailer, deliver},
    payments::PaymentService,
};
use domain::config::WorkerConfig;

/// The longest a job may run before it counts as failed (and is retried).
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// Wakes the worker every `interval` to look for jobs.
///
/// apalis' own `IntervalStrategy` re-arms its timer without polling it, so
/// when a fetch answers at once the worker is never woken again and queued
/// jobs wait forever; this one polls each new timer, which registers the
/// waker.
struct Tick {
    interval: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Tick {
    fn every(interval: Duration) -> Self {
        Self {
            interval,
            sleep: Box::pin(tokio::time::sleep(interval)),
        }
    }
}

impl PollStrategy for Tick {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + self.interval;
        self.sleep.as_mut().reset(next);
        // Armed now, so the waker is registered for the next tick.
        let _ = self.sleep.as_mut().poll(cx);
        Poll::Ready(Some(()))
    }
}

/// What the jobs need.
#[derive(Clone)]
pub struct Handlers {
    pub db: DatabaseConnection,
    pub payments: PaymentService,
    pub mailer: Mailer,
}

async fn handle(job: Job, handlers: Data<Handlers>, attempt: Attempt) -> Result<(), BoxDynError> {
    let name = job.name();
    let work = async {
        match job {
            Job::SettlePayment { payment_id } => handlers.payments.settle(payment_id).await,
            Job::SendEmail { notification_id } => {
                deliver(&handlers.db, &handlers.mailer, notification_id)
                    .await
                    .map(|d: Delivery| {
                        let _ = d;
                    })
            }
        }
    };
    let span = tracing::info_span!("job", otel.name = %format!("job {name}"), job = name, attempt = attempt.current());
    let outcome = match tokio::time::timeout(
        JOB_TIMEOUT,
        tracing::Instrument::instrument(work, span),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("timed out after {JOB_TIMEOUT:?}")),
    };
    match outcome {
        Ok(()) => {
            metrics::counter!("roost_jobs_total", "job" => name, "outcome" => "ok").increment(1);
            Ok(())
        }
        Err(e) => {
            metrics::counter!("roost_jobs_total", "job" => name, "outcome" => "error").increment(1);
            tracing::warn!(
                job = name,
                attempt = attempt.current(),
                error = format!("{e:#}"),
                "job failed"
            );
            Err(e.into())
        }
    }
}

fn backoff() -> Result<apalis::layers::retry::backoff::ExponentialBackoff, BoxDynError> {
    Ok(ExponentialBackoffMaker::new(
        Duration::from_millis(200),
        Duration::from_secs(60),
        0.2,
        HasherRng::default(),
    )?
    .make_backoff())
}

/// Runs the jobs and the scheduler until `stop` is cancelled; in-flight
/// jobs finish first (up to 30 s).
pub async fn run(
    jobs: Jobs,
    handlers: Handlers,
    bookings: BookingService,
    config: WorkerConfig,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let name = format!(
        "roost-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let retries = config.max_attempts.saturating_sub(1) as usize;
    let poll = config.poll_interval;
    let sweeper = tokio::spawn(scheduler::run(
        bookings,
        jobs.clone(),
        config.scheduler_interval,
        stop.clone(),
    ));
    let depth = tokio::spawn(report_depth(
        handlers.db.clone(),
        config.scheduler_interval,
        stop.clone(),
    ));
    let retry = move || match backoff() {
        Ok(b) => RetryPolicy::retries(retries).with_backoff(b),
        Err(_) => RetryPolicy::retries(retries)
            .with_backoff(ExponentialBackoffMaker::default().make_backoff()),
    };
    // One arm per backend: the monitor needs the worker's concrete type.
    let monitor = match jobs.storage().clone() {
        Storage::Postgres(s) => Monitor::new().register(move |_| {
            WorkerBuilder::new(name.clone())
                .backend(s.clone().poll_with_strategy(Tick::every(poll)))
                .concurrency(8)
                .retry(retry())
                .data(handlers.clone())
                .build(handle)
        }),
        Storage::Sqlite(s) => Monitor::new().register(move |_| {
            WorkerBuilder::new(name.clone())
                .backend(s.clone().poll_with_strategy(Tick::every(poll)))
                .concurrency(4)
                .retry(retry())
                .data(handlers.clone())
                .build(handle)
        }),
    };
    let monitor = monitor
        .should_restart(|ctx, err| {
            tracing::warn!(worker = ctx.name(), error = %err, "job worker stopped; restarting it");
            true
        })
        .shutdown_timeout(Duration::from_secs(30));
    let result = monitor
        .run_with_signal(async move {
            stop.cancelled().await;
            Ok(())
        })
        .await;
    sweeper.abort();
    depth.abort();
    result.map_err(|e| anyhow::anyhow!("job worker: {e}"))
}

#[derive(FromQueryResult)]
struct Depth {
    ready: i64,
    scheduled: i64,
    running: i64,
    dead: i64,
}

/// Queue depth and failed (given up) jobs, for `/metrics`.
async fn report_depth(db: DatabaseConnection, every: Duration, stop: CancellationToken) {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT \
             COUNT(*) FILTER (WHERE status = 'Pending' AND run_at <= now()) AS ready, \
             COUNT(*) FILTER (WHERE status = 'Pending' AND run_at > now()) AS scheduled, \
             COUNT(*) FILTER (WHERE status IN ('Queued', 'Running')) AS running, \
             COUNT(*) FILTER (WHERE status IN ('Failed', 'Killed')) AS dead \
             FROM apalis.jobs WHERE job_type = '{}'",
            super::QUEUE
        ),
        _ => format!(
            "SELECT \
             COALESCE(SUM(status = 'Pending' AND run_at <= unixepoch()), 0) AS ready, \
             COALESCE(SUM(status = 'Pending' AND run_at > unixepoch()), 0) AS scheduled, \
             COALESCE(SUM(status IN ('Queued', 'Running')), 0) AS running, \
             COALESCE(SUM(status IN ('Failed', 'Killed')), 0) AS dead \
             FROM Jobs WHERE job_type = '{}'",
            super::QUEUE
        ),
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let row = Depth::find_by_statement(Statement::from_string(
            db.get_database_backend(),
            sql.clone(),
        ))
        .one(&db)
        .await;
        match row {
            Ok(Some(d)) => {
                metrics::gauge!("roost_jobs_queued", "state" => "ready").set(d.ready as f64);
                metrics::gauge!("roost_jobs_queued", "state" => "scheduled")
                    .set(d.scheduled as f64);
                metrics::gauge!("roost_jobs_queued", "state" => "running").set(d.running as f64);
                metrics::gauge!("roost_jobs_failed").set(d.dead as f64);
                if d.dead > 0 {
                    tracing::warn!(
                        failed = d.dead,
                        "jobs given up after every retry are kept in the queue for inspection"
                    );
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the job queue's depth"),
        }
    }
}
