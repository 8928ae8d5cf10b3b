//! The payment provider interface: what Roost asks of whoever moves the
//! money. Two implementations: `Simulated` (the embedded default, answering
//! to Stripe's test payment methods) and `Stripe` (PaymentIntents with manual
//! capture over Stripe's REST API).
//!
//! Every call carries an idempotency key, forwarded to the provider, so a
//! job that is retried after a timeout never moves money twice.

use uuid::Uuid;

use super::{simulated::Simulated, stripe::Stripe};
use domain::kernel::money::Amount;

/// Authorize (hold) an amount on a payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub payment_id: Uuid,
    pub booking_id: Uuid,
    /// Exact, in the currency's minor unit.
    pub amount: Amount,
    /// A provider payment-method token, e.g. `pm_card_visa`.
    pub payment_method: String,
    pub idempotency_key: String,
}

/// What became of an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// The funds are held; `reference` is the provider's id (a
    /// PaymentIntent id for Stripe).
    Authorized { reference: String },
    /// The provider refused: `reason` is a short machine word such as
    /// `card_declined`, `insufficient_funds` or `invalid_payment_method`.
    Declined { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth retrying: the network, a timeout, a 5xx, a rate limit.
    #[error("payment provider unavailable: {0}")]
    Transient(String),
    /// Retrying will not help: a bad request, bad credentials, an unknown
    /// reference.
    #[error("payment provider refused the request: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum Provider {
    Simulated(Simulated),
    Stripe(Stripe),
}

impl Provider {
    pub fn kind(&self) -> entity::payment::PaymentProvider {
        match self {
            Self::Simulated(_) => entity::payment::PaymentProvider::Simulated,
            Self::Stripe(_) => entity::payment::PaymentProvider::Stripe,
        }
    }

    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorization, ProviderError> {
        match self {
            Self::Simulated(p) => p.authorize(request).await,
            Self::Stripe(p) => p.authorize(request).await,
        }
    }

    /// Takes `amount` of an authorization.
    pub async fn capture(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        match self {
            Self::Simulated(p) => p.capture(reference, amount, idempotency_key).await,
            Self::Stripe(p) => p.capture(reference, amount, idempotency_key).await,
        }
    }

    /// Releases an authorization without taking anything.
    pub async fn void(&self, reference: &str, idempotency_key: &str) -> Result<(), ProviderError> {
        match self {
            Self::Simulated(p) => p.void(reference, idempotency_key).await,
            Self::Stripe(p) => p.void(reference, idempotency_key).await,
        }
    }

    /// Gives back `amount` of a captured payment.
    pub async fn refund(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        match self {
            Self::Simulated(p) => p.refund(reference, amount, idempotency_key).await,
            Self::Stripe(p) => p.refund(reference, amount, idempotency_key).await,
        }
    }
}
