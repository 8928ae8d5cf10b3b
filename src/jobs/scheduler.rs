//! The worker's timers: every `scheduler_interval` it expires unpaid holds
//! and unanswered requests, completes finished stays, and re-queues any
//! payment or email whose job was lost (a crash between a commit and its
//! enqueue). Each sweep is idempotent, and each booking moves once however
//! many workers sweep at the same time: every move is a conditional update.

use std::{
    collections::{HashMap, hash_map::Entry},
    future::Future,
    time::{Duration, Instant},
};

use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Job, Jobs};
use crate::bookings::BookingService;
use entity::{booking::BookingStatus as B, payment::PaymentStatus as P};

/// Payments and emails left alone this long are assumed to have lost their job.
const STALE: Duration = Duration::from_secs(60);
/// A job re-queued for one of them is not queued again before this: a
/// payment whose jobs keep failing is retried this often, not every sweep.
const REQUEUE_EVERY: Duration = Duration::from_secs(5 * 60);

/// How often finished jobs and long-expired sessions are deleted.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);
/// Sessions are kept this long after they expired.
const SESSION_KEPT: chrono::Duration = chrono::Duration::days(7);

/// What this process re-queued, and when; and when it last kept house.
#[derive(Default)]
pub struct Requeued {
    items: HashMap<Uuid, Instant>,
    housekeeping: Option<Instant>,
}

impl Requeued {
    /// True (and remembered) when the hourly housekeeping is due.
    fn housekeeping_due(&mut self) -> bool {
        let now = Instant::now();
        if self
            .housekeeping
            .is_some_and(|at| now.duration_since(at) < HOUSEKEEPING_EVERY)
        {
            return false;
        }
        self.housekeeping = Some(now);
        true
    }

    /// True (and remembered) when `id` may be queued again now.
    fn take(&mut self, id: Uuid) -> bool {
        let now = Instant::now();
        self.items
            .retain(|_, at| now.duration_since(*at) < REQUEUE_EVERY);
        match self.items.entry(id) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(now);
                true
            }
        }
    }
}

pub async fn run(bookings: BookingService, jobs: Jobs, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requeued = Requeued::default();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        sweep(&bookings, &jobs, &mut requeued).await;
    }
}

/// One tick: every sweep runs whatever the others did. A sweep that fails
/// is logged and counted (`roost_scheduler_failures_total` by sweep) and
/// tried again on the next tick; within the booking sweeps, a booking that
/// cannot move is skipped the same way and the others still move.
pub async fn sweep(bookings: &BookingService, jobs: &Jobs, requeued: &mut Requeued) {
    let expired = part("expire_holds", bookings.expire_holds()).await;
    let unanswered = part("expire_requests", bookings.expire_requests()).await;
    let completed = part("complete_stays", bookings.complete_stays()).await;
    if expired + unanswered + completed > 0 {
        tracing::info!(expired, unanswered, completed, "scheduler moved bookings");
    }
    let db = bookings.db();
    part(
        "requeue_payments",
        requeue_payments(db, jobs, &mut *requeued),
    )
    .await;
    part("requeue_emails", requeue_emails(db, jobs, &mut *requeued)).await;
    if requeued.housekeeping_due() {
        part("housekeeping", housekeeping(db, jobs)).await;
    }
}

/// Runs one sweep; its failure is logged and counted, and reads as nothing done.
async fn part<T: Default, E: std::fmt::Display>(
    name: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> T {
    match work.await {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(sweep = name, error = %e, "a scheduler sweep failed");
            metrics::counter!("roost_scheduler_failures_total", "sweep" => name).increment(1);
            T::default()
        }
    }
}

/// Payments not settled for their booking's state: processing too long,
/// held for a booking that is confirmed or over, taken for a cancelled one.
async fn requeue_payments(
    db: &DatabaseConnection,
    jobs: &Jobs,
    requeued: &mut Requeued,
) -> anyhow::Result<()> {
    let stale = Utc::now() - STALE;
    let unsettled: Vec<Uuid> = entity::payment::Entity::find()
        .select_only()
        .column(entity::payment::Column::Id)
        .filter(entity::payment::Column::UpdatedAt.lt(stale))
        .filter(
            Condition::any()
                .add(entity::payment::Column::Status.eq(P::Processing))
                .add(
                    Condition::all()
                        .add(entity::payment::Column::Status.eq(P::Authorized))
                        .add(booking_in(&[
                            B::PendingPayment,
                            B::Confirmed,
                            B::Completed,
                            B::Declined,
                            B::Cancelled,
                            B::Expired,
                        ])),
                )
                .add(
                    Condition::all()
                        .add(
                            entity::payment::Column::Status
                                .is_in([P::Succeeded, P::PartiallyRefunded]),
                        )
                        .add(booking_in(&[B::Cancelled, B::PendingPayment])),
                ),
        )
        .limit(500)
        .into_tuple()
        .all(db)
        .await?;
    for payment_id in unsettled {
        if requeued.take(payment_id) {
            jobs.enqueue(Job::SettlePayment { payment_id }).await;
        }
    }
    Ok(())
}

/// Notifications whose email was never sent.
async fn requeue_emails(
    db: &DatabaseConnection,
    jobs: &Jobs,
    requeued: &mut Requeued,
) -> anyhow::Result<()> {
    let unsent: Vec<Uuid> = entity::notification::Entity::find()
        .select_only()
        .column(entity::notification::Column::Id)
        .filter(entity::notification::Column::EmailedAt.is_null())
        .filter(entity::notification::Column::CreatedAt.lt(Utc::now() - STALE))
        .limit(500)
        .into_tuple()
        .all(db)
        .await?;
    for notification_id in unsent {
        if requeued.take(notification_id) {
            jobs.enqueue(Job::SendEmail { notification_id }).await;
        }
    }
    Ok(())
}

/// Finished jobs and long-expired sessions go.
async fn housekeeping(db: &DatabaseConnection, jobs: &Jobs) -> anyhow::Result<()> {
    let jobs_pruned = jobs.prune().await?;
    let sessions_purged = entity::session::Entity::delete_many()
        .filter(entity::session::Column::ExpiresAt.lt(Utc::now() - SESSION_KEPT))
        .exec(db)
        .await?
        .rows_affected;
    tracing::info!(jobs_pruned, sessions_purged, "housekeeping");
    Ok(())
}

fn booking_in(statuses: &[B]) -> sea_orm::sea_query::SimpleExpr {
    let names: Vec<String> = statuses
        .iter()
        .map(|s| crate::bookings::service::status_name(*s))
        .collect();
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    sea_orm::sea_query::Expr::cust(format!(
        "EXISTS (SELECT 1 FROM bookings b WHERE b.id = payments.booking_id AND b.status IN ({list}))"
    ))
}
