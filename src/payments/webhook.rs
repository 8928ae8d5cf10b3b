//! Stripe's account of what happened to a payment, as its webhooks tell
//! it (the HTTP side, with the signature check, is `http::webhooks`).
//!
//! Each event id is recorded once, in the transaction that applies it, so
//! an event delivered twice is applied once. What the event says only ever
//! moves a payment forward, from the status it was in; the settlement job
//! then does whatever follows.
//!
//! What is recorded is bounded as it is read: an event whose id or type
//! could not be Stripe's (an id over the 255 characters it is recorded in,
//! or holding anything but letters, digits, `_` and `-`) does not
//! deserialize, and the endpoint answers 400 without recording anything.
//! Ids and codes inside the event's object that could not be Stripe's are
//! not looked up or stored.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde::{Deserialize, Deserializer, de::Error as _};

use super::{PaymentService, stripe::from_stripe_amount};
use crate::jobs::Job;
use domain::{infra::db::begin_write, kernel::money::Currency};
use entity::payment::{Column as P, Entity as Payments, PaymentStatus as S};

/// A Stripe event, as much of it as Roost reads.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    #[serde(deserialize_with = "stripe_id")]
    pub id: String,
    #[serde(rename = "type", deserialize_with = "event_type")]
    pub kind: String,
    pub data: EventData,
}

/// The longest id Roost records (`provider_events.id`,
/// `payments.provider_reference`, `payments.failure_reason`).
const MAX_ID: usize = 255;
/// The longest event type (`provider_events.kind`).
const MAX_TYPE: usize = 100;

/// Whether `s` could be a Stripe id or code (`evt_1NG8Du2eZvKYlo2C`,
/// `pi_3MtwBw`, `insufficient_funds`): 1 to 255 letters, digits, `_` or
/// `-`.
fn is_stripe_id(s: &str) -> bool {
    (1..=MAX_ID).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn stripe_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let id = String::deserialize(deserializer)?;
    if is_stripe_id(&id) {
        Ok(id)
    } else {
        Err(D::Error::custom(
            "an event id is 1 to 255 letters, digits, `_` or `-`",
        ))
    }
}

/// `payment_intent.succeeded`: 1 to 100 printable ASCII characters.
fn event_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let kind = String::deserialize(deserializer)?;
    if (1..=MAX_TYPE).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(kind)
    } else {
        Err(D::Error::custom(
            "an event type is 1 to 100 printable ASCII characters",
        ))
    }
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
    .filter(|r| is_stripe_id(r))
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
                .filter(|r| is_stripe_id(r))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, kind: &str) -> serde_json::Result<StripeEvent> {
        serde_json::from_value(serde_json::json!({
            "id": id, "type": kind, "data": { "object": {} }
        }))
    }

    #[test]
    fn events_whose_id_or_type_could_not_be_stripes_do_not_deserialize() {
        assert!(event("evt_1NG8Du2eZvKYlo2CUI79vXWy", "payment_intent.succeeded").is_ok());
        assert!(event(&"e".repeat(255), &"t".repeat(100)).is_ok());
        assert!(event(&"e".repeat(256), "charge.refunded").is_err());
        assert!(event("", "charge.refunded").is_err());
        assert!(event("evt_1\u{0}", "charge.refunded").is_err());
        assert!(event("evt 1", "charge.refunded").is_err());
        assert!(event("évt_1", "charge.refunded").is_err());
        assert!(event("evt_1", &"t".repeat(101)).is_err());
        assert!(event("evt_1", "charge.\nrefunded").is_err());
        assert!(event("evt_1", "").is_err());
    }
}
