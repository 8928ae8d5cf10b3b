//! Stripe's account of what happened to a payment, as its webhooks tell
//! it (the HTTP side, with the signature check, is `http::webhooks`).
//!
//! Each event id is recorded once, in the transaction that applies it, so
//! an event delivered twice is applied once. What the event says only ever
//! moves a payment forward, from the status it was in; the settlement job
//! then does whatever follows.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde::Deserialize;

use super::{PaymentService, stripe::from_stripe_amount};
use crate::{db::begin_write, jobs::Job, money::Currency};
use entity::payment::{Column as P, Entity as Payments, PaymentStatus as S};

/// A Stripe event, as much of it as Roost reads.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

/// The payment an event is about: the one whose provider reference is the
/// PaymentIntent, or else, for a PaymentIntent event, the STRIPE payment
/// named by the intent's `metadata[payment_id]` that has no reference yet.
/// Stripe can report on an intent before Roost has recorded it: the answer
/// to Roost's own request was lost, or is still on its way, while the
/// settlement job keeps the payment PROCESSING.
async fn find_payment(
    txn: &sea_orm::DatabaseTransaction,
    event: &StripeEvent,
    reference: &str,
) -> anyhow::Result<Option<entity::payment::Model>> {
    let by_reference = Payments::find()
        .filter(P::ProviderReference.eq(reference))
        .one(txn)
        .await?;
    if by_reference.is_some() || !event.kind.starts_with("payment_intent.") {
        return Ok(by_reference);
    }
    let Some(payment_id) = event
        .data
        .object
        .pointer("/metadata/payment_id")
        .and_then(|v| v.as_str())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
    else {
        return Ok(None);
    };
    Ok(Payments::find_by_id(payment_id)
        .filter(P::Provider.eq(entity::payment::PaymentProvider::Stripe))
        .filter(P::ProviderReference.is_null())
        .one(txn)
        .await?)
}

impl PaymentService {
    /// Applies a (verified) event once; false when it had been applied
    /// already.
    pub async fn apply_stripe_event(&self, event: &StripeEvent) -> anyhow::Result<bool> {
        apply(self, event).await
    }
}

async fn apply(payments: &PaymentService, event: &StripeEvent) -> anyhow::Result<bool> {
    let db = &payments.db;
    let txn = begin_write(db).await?;
    let recorded = entity::provider_event::Entity::insert(entity::provider_event::ActiveModel {
        id: Set(event.id.clone()),
        kind: Set(event.kind.clone()),
        received_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([entity::provider_event::Column::Id])
    .exec(&txn)
    .await?;
    if matches!(recorded, sea_orm::TryInsertResult::Conflicted) {
        return Ok(false);
    }
    let intent = event
        .data
        .object
        .get("payment_intent")
        .and_then(|v| v.as_str());
    let reference = match event.kind.as_str() {
        "charge.refunded" => intent,
        _ => event.data.object.get("id").and_then(|v| v.as_str()),
    }
    .unwrap_or_default()
    .to_owned();
    let mut touched = None;
    // The booking whose payment this event moved.
    let mut moved_booking = None;
    if !reference.is_empty()
        && let Some(payment) = find_payment(&txn, event, &reference).await?
    {
        let (from, to): (&[S], Option<S>) = match event.kind.as_str() {
            "payment_intent.amount_capturable_updated" => (&[S::Processing], Some(S::Authorized)),
            "payment_intent.succeeded" => (&[S::Processing, S::Authorized], Some(S::Succeeded)),
            "payment_intent.canceled" => (&[S::Processing, S::Authorized], Some(S::Voided)),
            "payment_intent.payment_failed" => (&[S::Processing], Some(S::Failed)),
            "charge.refunded" => {
                // In Stripe's unit for the currency; kept in the payment's.
                let refunded = event
                    .data
                    .object
                    .get("amount_refunded")
                    .and_then(serde_json::Value::as_i64)
                    .map(|r| from_stripe_amount(Currency::of_stored(&payment.currency), r));
                if let Some(refunded) = refunded.filter(|r| *r > payment.refunded_minor) {
                    let status = if refunded >= payment.amount_minor {
                        S::Refunded
                    } else {
                        S::PartiallyRefunded
                    };
                    Payments::update_many()
                        .col_expr(P::RefundedMinor, Expr::value(refunded))
                        .col_expr(P::Status, Expr::value(status))
                        .col_expr(P::UpdatedAt, Expr::value(Utc::now()))
                        .filter(P::Id.eq(payment.id))
                        .exec(&txn)
                        .await?;
                    moved_booking = Some(payment.booking_id);
                }
                (&[], None)
            }
            _ => (&[], None),
        };
        if let Some(to) = to.filter(|_| from.contains(&payment.status)) {
            let reason = event
                .data
                .object
                .pointer("/last_payment_error/decline_code")
                .or_else(|| event.data.object.pointer("/last_payment_error/code"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            let mut update = Payments::update_many()
                .col_expr(P::Status, Expr::value(to))
                .col_expr(P::UpdatedAt, Expr::value(Utc::now()));
            if payment.provider_reference.is_none() {
                // Found by its metadata: record the intent, which capture,
                // void and refund will name.
                update = update.col_expr(P::ProviderReference, Expr::value(reference.clone()));
            }
            if to == S::Failed {
                update = update.col_expr(
                    P::FailureReason,
                    Expr::value(reason.unwrap_or_else(|| "card_declined".into())),
                );
            }
            let moved = update
                .filter(P::Id.eq(payment.id))
                .filter(P::Status.eq(payment.status))
                .exec(&txn)
                .await?
                .rows_affected;
            if moved == 1 {
                moved_booking = Some(payment.booking_id);
            }
        }
        touched = Some(payment.id);
    }
    txn.commit().await?;
    if let Some(booking_id) = moved_booking {
        payments.announce_payment(booking_id).await;
    }
    if let Some(payment_id) = touched {
        payments
            .jobs
            .enqueue(Job::SettlePayment { payment_id })
            .await;
    }
    Ok(true)
}
