//! How `Booking` and `Payment` resolve their fields.

use async_graphql::{Context, Enum, ID, Object};

use super::{
    loaders::{BookingLoader, CurrentPaymentLoader, ListingOfBookingLoader},
    types::{Booking, BookingStatus},
};
use crate::graphql::context::loader;
use crate::{
    error::{AppError, GraphqlResult as _},
    graphql::{
        ids::{self, NodeType},
        money::Money,
        scalars::{Date, DateTime},
    },
    properties::{Property, pricing::PriceQuote},
    users::{User, loader::load_user},
};
use domain::kernel::money::Currency;

#[Object]
impl Booking {
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    async fn property(&self, ctx: &Context<'_>) -> async_graphql::Result<Property> {
        loader::<ListingOfBookingLoader>(ctx)?
            .load_one(self.row.property_id)
            .await
            .map_err(AppError::from)
            .extend()?
            .map(Property::from)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("booking without a listing")))
            .extend()
    }

    async fn guest(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, self.row.guest_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("booking without a guest")))
            .extend()
    }

    async fn check_in(&self) -> Date {
        Date(self.row.check_in)
    }

    async fn check_out(&self) -> Date {
        Date(self.row.check_out)
    }

    async fn nights(&self) -> i32 {
        self.row.nights
    }

    async fn guests(&self) -> i32 {
        self.row.guests
    }

    async fn status(&self) -> BookingStatus {
        self.row.status.into()
    }

    /// The quote stored when the booking was made; later price edits do not change it.
    async fn price(&self) -> PriceQuote {
        self.quote()
    }

    async fn total(&self) -> Money {
        self.money(self.row.total_minor)
    }

    /// The booking's current payment: the one that is not FAILED if there is one, else the latest attempt.
    async fn payment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Payment>> {
        Ok(loader::<CurrentPaymentLoader>(ctx)?
            .load_one(self.row.id)
            .await
            .map_err(AppError::from)
            .extend()?
            .flatten()
            .map(Payment::from))
    }

    /// When an unpaid hold or an unanswered request expires.
    async fn expires_at(&self) -> Option<DateTime> {
        self.row.expires_at.map(Into::into)
    }

    async fn cancelled_at(&self) -> Option<DateTime> {
        self.row.cancelled_at.map(Into::into)
    }

    /// Why the booking was cancelled or declined, when a reason was given.
    async fn cancellation_reason(&self) -> Option<&str> {
        self.row.cancellation_reason.as_deref()
    }

    /// What the guest gets back after a cancellation, per the cancellation policy.
    async fn refund_amount(&self) -> Option<Money> {
        self.row.refund_minor.map(|c| self.money(c))
    }

    /// The guest's review of this stay, once written.
    async fn review(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::reviews::Review>> {
        crate::reviews::queries::of_booking(ctx, self.row.id).await
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Waiting for the payment provider.
    Processing,
    /// Funds held; captured when the booking is confirmed.
    Authorized,
    Succeeded,
    Failed,
    /// An authorization released without capture.
    Voided,
    PartiallyRefunded,
    Refunded,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PaymentProvider {
    Simulated,
    Stripe,
}

/// A payment as clients see it.
#[derive(Debug, Clone)]
pub struct Payment {
    pub row: entity::payment::Model,
}

impl From<entity::payment::Model> for Payment {
    fn from(row: entity::payment::Model) -> Self {
        Self { row }
    }
}

#[Object]
impl Payment {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Payment, self.row.id)
    }

    async fn booking(&self, ctx: &Context<'_>) -> async_graphql::Result<Booking> {
        loader::<BookingLoader>(ctx)?
            .load_one(self.row.booking_id)
            .await
            .map_err(AppError::from)
            .extend()?
            .map(Booking::from)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment without a booking")))
            .extend()
    }

    async fn amount(&self) -> Money {
        Money::of(
            self.row.amount_minor,
            Currency::of_stored(&self.row.currency),
        )
    }

    async fn refunded_amount(&self) -> Money {
        Money::of(
            self.row.refunded_minor,
            Currency::of_stored(&self.row.currency),
        )
    }

    async fn status(&self) -> PaymentStatus {
        use entity::payment::PaymentStatus as S;
        match self.row.status {
            S::Processing => PaymentStatus::Processing,
            S::Authorized => PaymentStatus::Authorized,
            S::Succeeded => PaymentStatus::Succeeded,
            S::Failed => PaymentStatus::Failed,
            S::Voided => PaymentStatus::Voided,
            S::PartiallyRefunded => PaymentStatus::PartiallyRefunded,
            S::Refunded => PaymentStatus::Refunded,
        }
    }

    async fn provider(&self) -> PaymentProvider {
        match self.row.provider {
            entity::payment::PaymentProvider::Simulated => PaymentProvider::Simulated,
            entity::payment::PaymentProvider::Stripe => PaymentProvider::Stripe,
        }
    }

    /// The provider's id for this payment, e.g. a Stripe PaymentIntent id.
    async fn provider_reference(&self) -> Option<&str> {
        self.row.provider_reference.as_deref()
    }

    async fn failure_reason(&self) -> Option<&str> {
        self.row.failure_reason.as_deref()
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
}
