//! Payments (docs/API.md, Payments): `payBooking` records a PROCESSING payment
//! and answers at once; the worker settles it with the provider.
//!
//! Settling is one idempotent job that moves a payment toward what its
//! booking implies: authorize a new payment (then confirm the booking, or
//! hand it to the host), capture when the booking is confirmed, void when it
//! ended unpaid-for, refund what a cancellation gives back. Each step is a
//! conditional update from the status it was read in, and every provider
//! call carries an idempotency key derived from the payment, so a retried
//! or duplicated job never moves money twice.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::provider::{Authorization, AuthorizeRequest, Provider, ProviderError};
use crate::{
    bookings::{
        BookingService,
        machine::{self, By, Event, Facts},
        refunds::refund_minor,
        service::Change,
    },
    error::{AppError, AppResult},
    jobs::{Job, Jobs},
    notifications::{self, Kind, NewNotification, record},
};
use domain::{
    infra::db::begin_write,
    kernel::{
        actor::Actor,
        money::{Amount, Currency},
    },
};
use entity::{
    booking::BookingStatus as B,
    payment::{ActiveModel, Column as P, Entity as Payments, Model, PaymentStatus as S},
};

const KEY_MAX: usize = 255;

/// What a payment is for, exactly, in its currency.
fn amount_of(payment: &Model) -> Amount {
    Amount::from_minor(payment.amount_minor, Currency::of_stored(&payment.currency))
}

#[derive(Clone)]
pub struct PaymentService {
    pub(crate) db: DatabaseConnection,
    pub(crate) provider: Provider,
    pub(crate) bookings: BookingService,
    pub(crate) jobs: Jobs,
}

/// `payBooking`'s input, as given.
pub struct PayRequest {
    pub booking_id: Uuid,
    pub payment_method: String,
    pub idempotency_key: String,
}

fn token(field: &str, raw: &str) -> AppResult<String> {
    let value = raw.trim();
    if value.is_empty() || value.len() > KEY_MAX || value.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("must be 1 to {KEY_MAX} characters, without control characters"),
        ));
    }
    Ok(value.to_owned())
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// What a step of settlement did.
enum Step {
    /// Moved on; look again.
    Moved,
    /// Nothing (more) to do.
    Done,
}

impl PaymentService {
    pub async fn pay(&self, actor: Actor, request: PayRequest) -> AppResult<Model> {
        let method = token("input.paymentMethod", &request.payment_method)?;
        let key = token("input.idempotencyKey", &request.idempotency_key)?;
        let booking = self.bookings.seen(actor, request.booking_id).await?;
        if booking.guest_id != actor.user_id {
            return Err(AppError::Forbidden(
                "Only the booking's guest pays for it".into(),
            ));
        }
        if let Some(existing) = self.by_key(booking.id, &key).await? {
            return same_method(existing, &method);
        }
        if booking.status != B::PendingPayment {
            return Err(AppError::Conflict(format!(
                "Only a booking waiting for payment can be paid; this one is {}",
                crate::bookings::service::status_name(booking.status)
            )));
        }
        if booking.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(AppError::Conflict(
                "The hold on these dates has expired".into(),
            ));
        }
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let inserted = ActiveModel {
            id: Set(Uuid::now_v7()),
            booking_id: Set(booking.id),
            amount_minor: Set(booking.total_minor),
            refunded_minor: Set(0),
            currency: Set(booking.currency.clone()),
            status: Set(S::Processing),
            provider: Set(self.provider.kind()),
            provider_reference: Set(None),
            payment_method: Set(method.clone()),
            idempotency_key: Set(key.clone()),
            failure_reason: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        let payment = match inserted {
            Ok(p) => p,
            Err(e) if is_unique_violation(&e) => {
                drop(txn);
                // Either the same key won a race (answer with its payment) or
                // another payment is live for this booking.
                return match self.by_key(booking.id, &key).await? {
                    Some(existing) => same_method(existing, &method),
                    None => Err(AppError::Conflict(
                        "A payment for this booking is already in progress".into(),
                    )),
                };
            }
            Err(e) => return Err(e.into()),
        };
        txn.commit().await?;
        self.jobs
            .enqueue(Job::SettlePayment {
                payment_id: payment.id,
            })
            .await;
        Ok(payment)
    }

    async fn by_key(&self, booking_id: Uuid, key: &str) -> AppResult<Option<Model>> {
        Ok(Payments::find()
            .filter(P::BookingId.eq(booking_id))
            .filter(P::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?)
    }

    /// The settlement job: moves the payment as far as its booking implies.
    /// A payment, when `actor` may see its booking.
    pub async fn visible(&self, actor: Option<Actor>, id: Uuid) -> AppResult<Option<Model>> {
        let Some(actor) = actor else {
            return Ok(None);
        };
        let Some(payment) = Payments::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let booking = entity::booking::Entity::find_by_id(payment.booking_id)
            .one(&self.db)
            .await?;
        Ok(booking
            .filter(|b| crate::bookings::service::may_see(b, actor))
            .map(|_| payment))
    }

    pub async fn settle(&self, payment_id: Uuid) -> anyhow::Result<()> {
        for _ in 0..4 {
            match self.step(payment_id).await? {
                Step::Moved => continue,
                Step::Done => return Ok(()),
            }
        }
        Ok(())
    }

    async fn step(&self, payment_id: Uuid) -> anyhow::Result<Step> {
        let Some(payment) = Payments::find_by_id(payment_id).one(&self.db).await? else {
            return Ok(Step::Done);
        };
        let Some(booking) = entity::booking::Entity::find_by_id(payment.booking_id)
            .one(&self.db)
            .await?
        else {
            return Ok(Step::Done);
        };
        let reference = payment.provider_reference.clone().unwrap_or_default();
        match (payment.status, booking.status) {
            (S::Processing, _) => self.authorize(&payment).await,
            (S::Authorized | S::Succeeded, B::PendingPayment) => {
                self.advance_booking(&booking).await
            }
            (S::Authorized, B::Confirmed | B::Completed) => {
                let key = format!("roost-capture-{}", payment.id);
                provider_call(
                    self.provider
                        .capture(&reference, amount_of(&payment), &key)
                        .await,
                )?;
                self.finish(
                    &payment,
                    S::Succeeded,
                    |_| {},
                    Some((
                        Kind::PaymentSucceeded,
                        "Payment received",
                        "Your payment was taken; the stay is paid for.",
                    )),
                )
                .await
            }
            (S::Authorized, B::Declined | B::Cancelled | B::Expired) => {
                let key = format!("roost-void-{}", payment.id);
                provider_call(self.provider.void(&reference, &key).await)?;
                self.finish(&payment, S::Voided, |_| {}, None).await
            }
            (S::Succeeded | S::PartiallyRefunded, B::Cancelled) => {
                let percent = u32::try_from(booking.refund_percent.unwrap_or(0)).unwrap_or(0);
                let target = refund_minor(payment.amount_minor, percent);
                if target <= payment.refunded_minor {
                    return Ok(Step::Done);
                }
                let key = format!("roost-refund-{}-{target}", payment.id);
                let refund = Amount::from_minor(
                    target - payment.refunded_minor,
                    Currency::of_stored(&payment.currency),
                );
                provider_call(self.provider.refund(&reference, refund, &key).await)?;
                let status = if target >= payment.amount_minor {
                    S::Refunded
                } else {
                    S::PartiallyRefunded
                };
                let moved = self
                    .finish(
                        &payment,
                        status,
                        |m| m.refunded_minor = Set(target),
                        Some((
                            Kind::PaymentRefunded,
                            "Refund on its way",
                            "Your refund was issued.",
                        )),
                    )
                    .await?;
                entity::booking::Entity::update_many()
                    .col_expr(entity::booking::Column::RefundMinor, Expr::value(target))
                    .filter(entity::booking::Column::Id.eq(booking.id))
                    .exec(&self.db)
                    .await?;
                Ok(moved)
            }
            _ => Ok(Step::Done),
        }
    }

    async fn authorize(&self, payment: &Model) -> anyhow::Result<Step> {
        let outcome = self
            .provider
            .authorize(&AuthorizeRequest {
                payment_id: payment.id,
                booking_id: payment.booking_id,
                amount: amount_of(payment),
                payment_method: payment.payment_method.clone(),
                idempotency_key: format!("roost-pay-{}", payment.id),
            })
            .await;
        match provider_call(outcome)? {
            Authorization::Declined { reason } => {
                tracing::info!(payment_id = %payment.id, %reason, "payment declined");
                metrics::counter!("roost_payments_total", "outcome" => "declined").increment(1);
                let body = format!(
                    "The payment was refused ({reason}). Try another card before the hold runs out."
                );
                self.finish(
                    payment,
                    S::Failed,
                    |m| m.failure_reason = Set(Some(reason.clone())),
                    Some((Kind::PaymentFailed, "Payment failed", body.as_str())),
                )
                .await
            }
            Authorization::Authorized { reference } => {
                metrics::counter!("roost_payments_total", "outcome" => "authorized").increment(1);
                let moved = Payments::update_many()
                    .col_expr(P::Status, Expr::value(S::Authorized))
                    .col_expr(P::ProviderReference, Expr::value(reference))
                    .col_expr(P::UpdatedAt, Expr::value(Utc::now()))
                    .filter(P::Id.eq(payment.id))
                    .filter(P::Status.eq(S::Processing))
                    .exec(&self.db)
                    .await?
                    .rows_affected;
                // Moved or not (a webhook may have been first), look again.
                let _ = moved;
                Ok(Step::Moved)
            }
        }
    }

    /// The money is held (or taken) for a booking still waiting for it: an
    /// instant-book listing confirms it, any other hands it to the host
    /// (the state machine's payment rows).
    async fn advance_booking(&self, booking: &entity::booking::Model) -> anyhow::Result<Step> {
        let txn = begin_write(&self.db).await?;
        let instant = entity::property::Entity::find_by_id(booking.property_id)
            .one(&txn)
            .await?
            .is_some_and(|p| p.instant_book);
        let step = machine::apply(
            &Facts::from(booking),
            By::Provider,
            Event::PaymentAuthorized {
                instant_book: instant,
            },
            Utc::now(),
            domain::kernel::stay::today(),
        )?;
        let change: Option<Change> = self
            .bookings
            .transition(&txn, booking, step, |_| {})
            .await?;
        txn.commit().await?;
        let moved = change.is_some();
        // This job goes on to capture; another job would only race it.
        self.bookings
            .announce(change.into_iter().collect(), false)
            .await;
        Ok(if moved { Step::Moved } else { Step::Done })
    }

    /// Moves the payment from the status it was read in to `to`, with a
    /// notification for the guest; `Moved` if it did.
    async fn finish(
        &self,
        payment: &Model,
        to: S,
        set: impl FnOnce(&mut ActiveModel),
        notice: Option<(Kind, &str, &str)>,
    ) -> anyhow::Result<Step> {
        let mut m = ActiveModel {
            status: Set(to),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        set(&mut m);
        let txn = begin_write(&self.db).await?;
        let moved = Payments::update_many()
            .set(m)
            .filter(P::Id.eq(payment.id))
            .filter(P::Status.eq(payment.status))
            .exec(&txn)
            .await?
            .rows_affected;
        let mut emails = Vec::new();
        if moved == 1
            && let Some((kind, title, body)) = notice
        {
            let guest = entity::booking::Entity::find_by_id(payment.booking_id)
                .one(&txn)
                .await?
                .map(|b| b.guest_id);
            if let Some(user_id) = guest {
                emails.push(
                    record(
                        &txn,
                        NewNotification {
                            user_id,
                            kind,
                            title: title.to_owned(),
                            body: body.to_owned(),
                            booking_id: Some(payment.booking_id),
                        },
                    )
                    .await?,
                );
            }
        }
        txn.commit().await?;
        notifications::announce(&self.bookings.bus, &self.jobs, emails).await;
        if moved == 1 {
            self.announce_payment(payment.booking_id).await;
        }
        Ok(if moved == 1 { Step::Moved } else { Step::Done })
    }
}

impl PaymentService {
    /// Tells the booking's subscribers its payment moved (after the commit
    /// that moved it), so that none is left with the payment as it was.
    pub(crate) async fn announce_payment(&self, booking_id: Uuid) {
        match entity::booking::Entity::find_by_id(booking_id)
            .one(&self.db)
            .await
        {
            Ok(Some(booking)) => {
                self.bookings
                    .bus
                    .publish(domain::infra::events::Event::BookingChanged(Box::new(
                        crate::bookings::service::payment_event(&booking),
                    )))
                    .await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, %booking_id, "could not announce a payment's change");
            }
        }
    }
}

fn same_method(existing: Model, method: &str) -> AppResult<Model> {
    if existing.payment_method == method {
        Ok(existing)
    } else {
        Err(AppError::Conflict(
            "This idempotency key was already used with another payment method".into(),
        ))
    }
}

/// A provider error is the job's error: transient ones are retried with
/// backoff; permanent ones too, until the job is given up and kept visible.
fn provider_call<T>(result: Result<T, ProviderError>) -> anyhow::Result<T> {
    result.map_err(|e| {
        metrics::counter!("roost_payment_provider_errors_total").increment(1);
        anyhow::Error::new(e)
    })
}
