//! Money on the wire: exact decimals with two places, never floats. Stored
//! as integer minor units.

use async_graphql::SimpleObject;
use rust_decimal::{Decimal, RoundingStrategy};

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    /// ISO 4217 code, e.g. USD.
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: &str) -> Self {
        Self {
            amount: two_places(amount),
            currency: currency.to_owned(),
        }
    }

    pub fn from_cents(cents: i64, currency: &str) -> Self {
        Self::new(from_cents(cents), currency)
    }
}

/// Rounds to cents, half away from zero, and always shows two places
/// (`129.5` is written `129.50`).
pub fn two_places(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Minor units of an amount that has at most two places.
pub fn to_cents(amount: Decimal) -> Option<i64> {
    let scaled = amount.checked_mul(Decimal::ONE_HUNDRED)?;
    if scaled.fract().is_zero() {
        i64::try_from(scaled.trunc()).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn cents_round_trip_and_refuse_fractions_of_cents() {
        assert_eq!(to_cents(d("129.5")), Some(12950));
        assert_eq!(to_cents(d("0.01")), Some(1));
        assert_eq!(to_cents(d("1.005")), None);
        assert_eq!(from_cents(12950).to_string(), "129.50");
        assert_eq!(Money::from_cents(100, "EUR").amount.to_string(), "1.00");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(two_places(d("0.125")).to_string(), "0.13");
        assert_eq!(two_places(d("0.135")).to_string(), "0.14");
        assert_eq!(two_places(d("-0.125")).to_string(), "-0.13");
        assert_eq!(two_places(d("2.5")).to_string(), "2.50");
    }
}
