//! The embedded payment provider: no network, no account, no money. It
//! answers to Stripe's test payment methods so that the same client code and
//! the same tests work against SIMULATED and against Stripe in test mode.
//!
//! It keeps no state and uses no randomness: the answer depends only on the
//! request, so a retried job always gets the answer the first attempt got.

use super::provider::{Authorization, AuthorizeRequest, ProviderError};
use domain::kernel::money::Amount;

/// Every reference this provider hands out starts with this, and it accepts
/// no other: a reference from another provider is a bug, not a payment.
const REFERENCE_PREFIX: &str = "sim_pi_";

/// The simulated provider (the default when no Stripe key is configured).
#[derive(Debug, Clone, Default)]
pub struct Simulated;

impl Simulated {
    /// Holds the amount when the payment method is one of Stripe's succeeding
    /// test methods; declines with Stripe's reason for its declining ones and
    /// with `invalid_payment_method` for anything else.
    ///
    /// The reference is derived from the payment id, so authorizing the same
    /// payment twice yields the same reference.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorization, ProviderError> {
        check_amount(request.amount)?;
        let decline = |reason: &str| Authorization::Declined {
            reason: reason.to_owned(),
        };
        Ok(match request.payment_method.as_str() {
            "pm_card_visa" | "pm_card_mastercard" => Authorization::Authorized {
                reference: format!("{REFERENCE_PREFIX}{}", request.payment_id.simple()),
            },
            "pm_card_chargeDeclined" => decline("card_declined"),
            "pm_card_chargeDeclinedInsufficientFunds" => decline("insufficient_funds"),
            _ => decline("invalid_payment_method"),
        })
    }

    /// Takes `amount` of an authorization this provider made.
    pub async fn capture(
        &self,
        reference: &str,
        amount: Amount,
        _idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        check_reference(reference)?;
        check_amount(amount)
    }

    /// Releases an authorization this provider made.
    pub async fn void(&self, reference: &str, _idempotency_key: &str) -> Result<(), ProviderError> {
        check_reference(reference)
    }

    /// Gives back `amount` of a payment this provider captured.
    pub async fn refund(
        &self,
        reference: &str,
        amount: Amount,
        _idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        check_reference(reference)?;
        check_amount(amount)
    }
}

/// Refuses references this provider did not issue.
fn check_reference(reference: &str) -> Result<(), ProviderError> {
    match reference.strip_prefix(REFERENCE_PREFIX) {
        Some(rest) if !rest.is_empty() => Ok(()),
        _ => Err(ProviderError::Permanent(format!(
            "unknown simulated payment reference {reference:?}"
        ))),
    }
}

/// Refuses amounts no real provider would accept, so that a bug upstream
/// surfaces with SIMULATED too and not only in production.
fn check_amount(amount: Amount) -> Result<(), ProviderError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(ProviderError::Permanent(format!(
            "amount must be positive, got {amount}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use domain::kernel::money::Currency;

    fn eur(minor: i64) -> Amount {
        Amount::from_minor(minor, Currency::parse("EUR").expect("EUR"))
    }

    fn request(payment_method: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            payment_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            booking_id: Uuid::from_u128(2),
            amount: eur(12_345),
            payment_method: payment_method.to_owned(),
            idempotency_key: "key-1".to_owned(),
        }
    }

    async fn authorize(payment_method: &str) -> Authorization {
        Simulated.authorize(&request(payment_method)).await.unwrap()
    }

    fn declined(reason: &str) -> Authorization {
        Authorization::Declined {
            reason: reason.to_owned(),
        }
    }

    const REFERENCE: &str = "sim_pi_0193000000007000800000000000001";

    #[tokio::test]
    async fn visa_is_authorized_with_a_reference_from_the_payment_id() {
        assert_eq!(
            authorize("pm_card_visa").await,
            Authorization::Authorized {
                reference: "sim_pi_01930000000070008000000000000001".to_owned()
            }
        );
    }

    #[tokio::test]
    async fn mastercard_is_authorized() {
        assert!(matches!(
            authorize("pm_card_mastercard").await,
            Authorization::Authorized { reference } if reference.starts_with("sim_pi_")
        ));
    }

    #[tokio::test]
    async fn charge_declined_is_card_declined() {
        assert_eq!(
            authorize("pm_card_chargeDeclined").await,
            declined("card_declined")
        );
    }

    #[tokio::test]
    async fn insufficient_funds_is_declined_with_that_reason() {
        assert_eq!(
            authorize("pm_card_chargeDeclinedInsufficientFunds").await,
            declined("insufficient_funds")
        );
    }

    #[tokio::test]
    async fn anything_else_is_an_invalid_payment_method() {
        for method in [
            "",
            "pm_card_amex",
            "PM_CARD_VISA",
            "pm_card_visa ",
            "tok_visa",
        ] {
            assert_eq!(
                authorize(method).await,
                declined("invalid_payment_method"),
                "{method:?}"
            );
        }
    }

    #[tokio::test]
    async fn retries_get_the_same_answer() {
        for method in ["pm_card_visa", "pm_card_chargeDeclined", "nope"] {
            assert_eq!(authorize(method).await, authorize(method).await);
        }
    }

    #[tokio::test]
    async fn a_non_positive_amount_is_refused() {
        for amount in [0, -1] {
            let mut req = request("pm_card_visa");
            req.amount = eur(amount);
            let err = Simulated.authorize(&req).await.unwrap_err();
            assert!(matches!(err, ProviderError::Permanent(_)), "{err}");
        }
    }

    #[tokio::test]
    async fn capture_void_and_refund_accept_a_simulated_reference() {
        let p = Simulated;
        p.capture(REFERENCE, eur(100), "k").await.unwrap();
        p.void(REFERENCE, "k").await.unwrap();
        p.refund(REFERENCE, eur(100), "k").await.unwrap();
    }

    #[tokio::test]
    async fn capture_void_and_refund_refuse_a_foreign_reference() {
        let p = Simulated;
        for reference in ["pi_3Nabc", "", "sim_pi_", "SIM_PI_x"] {
            let errors = [
                p.capture(reference, eur(100), "k").await.unwrap_err(),
                p.void(reference, "k").await.unwrap_err(),
                p.refund(reference, eur(100), "k").await.unwrap_err(),
            ];
            for err in errors {
                assert!(matches!(err, ProviderError::Permanent(_)), "{err}");
            }
        }
    }

    #[tokio::test]
    async fn capture_and_refund_refuse_a_non_positive_amount() {
        let p = Simulated;
        for amount in [0, -5] {
            let err = p.capture(REFERENCE, eur(amount), "k").await.unwrap_err();
            assert!(matches!(err, ProviderError::Permanent(_)), "{err}");
            let err = p.refund(REFERENCE, eur(amount), "k").await.unwrap_err();
            assert!(matches!(err, ProviderError::Permanent(_)), "{err}");
        }
    }
}
