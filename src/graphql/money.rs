//! Money on the wire: an exact decimal with exactly the currency's places
//! (`129.50` USD, `12000` JPY, `12.345` KWD), never a float. Built only from
//! an [`Amount`], which is exact in the currency's minor unit.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use domain::kernel::money::{Amount, Currency};

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    /// ISO 4217 code, e.g. USD.
    pub currency: String,
}

impl From<Amount> for Money {
    fn from(amount: Amount) -> Self {
        Self {
            amount: amount.to_decimal(),
            currency: amount.currency().code().to_owned(),
        }
    }
}

impl Money {
    pub fn of(minor: i64, currency: Currency) -> Self {
        Self::from(Amount::from_minor(minor, currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_the_currencys_places() {
        let money = |minor, code| Money::of(minor, Currency::parse(code).expect("currency"));
        assert_eq!(money(12950, "USD").amount.to_string(), "129.50");
        assert_eq!(money(100, "EUR").amount.to_string(), "1.00");
        assert_eq!(money(12000, "JPY").amount.to_string(), "12000");
        assert_eq!(money(12345, "KWD").amount.to_string(), "12.345");
        assert_eq!(money(12345, "KWD").currency, "KWD");
    }
}
