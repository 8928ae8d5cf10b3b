//! acceptBooking, declineBooking, cancelBooking, and the worker's sweeps.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    machine::{self, By, Event, Facts, Share, Who},
    refunds::{CancelledBy, refund_minor, refund_percent},
    service::{BookingService, holds_due, requests_due, stays_due},
    types::Booking,
};
use crate::error::{AppError, AppResult};
use domain::kernel::{actor::Actor, stay::today};

const REASON_MAX: usize = 500;

fn reason(field: &str, reason: Option<String>) -> AppResult<Option<String>> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > REASON_MAX)
    {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {REASON_MAX} characters long"),
        ));
    }
    Ok(reason)
}

impl BookingService {
    pub async fn accept(&self, actor: Actor, id: Uuid) -> AppResult<Booking> {
        self.act(actor, id, Event::Accept, |_| {}).await
    }

    pub async fn decline(&self, actor: Actor, id: Uuid, why: Option<String>) -> AppResult<Booking> {
        let why = reason("reason", why)?;
        self.act(actor, id, Event::Decline, |m| {
            m.cancellation_reason = Set(why);
        })
        .await
    }

    /// Cancels; the refund is the share the machine's row gives (by the
    /// listing's policy when the guest cancels, whole when the host or an
    /// admin does) of what was captured. What was only authorized is
    /// released instead.
    pub async fn cancel(&self, actor: Actor, id: Uuid, why: Option<String>) -> AppResult<Booking> {
        let why = reason("input.reason", why)?;
        let booking = self.seen(actor, id).await?;
        let now = Utc::now();
        let step = machine::apply(
            &Facts::from(&booking),
            By::Person(actor),
            Event::Cancel,
            now,
            today(),
        )?;
        let by = match step.who() {
            Who::Guest => CancelledBy::Guest,
            Who::Host => CancelledBy::Host,
            Who::Admin | Who::Worker | Who::Provider => CancelledBy::Admin,
        };
        let percent = match step.refund() {
            Some(Share::Whole) => Some(100),
            Some(Share::Policy) => {
                let policy = entity::property::Entity::find_by_id(booking.property_id)
                    .one(&self.db)
                    .await?
                    .map_or(entity::property::CancellationPolicy::Strict, |p| {
                        p.cancellation_policy
                    });
                Some(refund_percent(policy, booking.check_in, now, by))
            }
            None => None,
        };
        let captured: i64 = entity::payment::Entity::find()
            .filter(entity::payment::Column::BookingId.eq(id))
            .filter(entity::payment::Column::Status.is_in([
                entity::payment::PaymentStatus::Succeeded,
                entity::payment::PaymentStatus::PartiallyRefunded,
            ]))
            .all(&self.db)
            .await?
            .iter()
            .map(|p| p.amount_minor)
            .sum();
        self.carry_out(&booking, step, |m| {
            m.cancelled_at = Set(Some(now));
            m.cancelled_by = Set(Some(by.as_str().to_owned()));
            m.cancellation_reason = Set(why);
            m.refund_percent = Set(percent.map(|p| i32::try_from(p).unwrap_or(0)));
            m.refund_minor = Set(percent.map(|p| refund_minor(captured, p)));
        })
        .await
    }

    /// Unpaid holds that ran out.
    pub async fn expire_holds(&self) -> AppResult<usize> {
        self.sweep(holds_due(), Event::HoldRanOut).await
    }

    /// Requests the host did not answer in time.
    pub async fn expire_requests(&self) -> AppResult<usize> {
        self.sweep(requests_due(), Event::AnswerWindowRanOut).await
    }

    /// Stays whose check-out date has passed.
    pub async fn complete_stays(&self) -> AppResult<usize> {
        self.sweep(stays_due(), Event::CheckOutPassed).await
    }
}
