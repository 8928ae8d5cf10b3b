//! Prices (RULES.md section 6): exact decimals, every line rounded to cents
//! half away from zero.
//!
//! nightsTotal = sum of each stayed night's price; discount = nightsTotal ×
//! monthly% from 28 nights, weekly% from 7; base = nightsTotal − discount +
//! cleaningFee; serviceFee and taxes are percentages of base; total = base +
//! serviceFee + taxes.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use crate::graphql::{
    money::{Money, two_places},
    scalars::Date,
};

pub const WEEKLY_FROM: usize = 7;
pub const MONTHLY_FROM: usize = 28;

/// The fee percentages, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub service_fee_percent: Decimal,
    pub tax_percent: Decimal,
}

/// The arithmetic of a stay, before it is dressed in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakdown {
    pub nights_total: Decimal,
    pub discount: Decimal,
    pub cleaning_fee: Decimal,
    pub service_fee: Decimal,
    pub taxes: Decimal,
    pub total: Decimal,
}

fn percent_of(amount: Decimal, percent: Decimal) -> Decimal {
    two_places(amount * percent / Decimal::ONE_HUNDRED)
}

/// Prices a stay from the price of each night.
pub fn price(
    nightly: &[Decimal],
    cleaning_fee: Decimal,
    weekly_discount_percent: i32,
    monthly_discount_percent: i32,
    fees: Fees,
) -> Breakdown {
    let nights_total = two_places(nightly.iter().copied().sum());
    let discount_percent = if nightly.len() >= MONTHLY_FROM {
        monthly_discount_percent
    } else if nightly.len() >= WEEKLY_FROM {
        weekly_discount_percent
    } else {
        0
    };
    let discount = percent_of(nights_total, Decimal::from(discount_percent));
    let cleaning_fee = two_places(cleaning_fee);
    let base = nights_total - discount + cleaning_fee;
    let service_fee = percent_of(base, fees.service_fee_percent);
    let taxes = percent_of(base, fees.tax_percent);
    Breakdown {
        nights_total,
        discount,
        cleaning_fee,
        service_fee,
        taxes,
        total: two_places(base + service_fee + taxes),
    }
}

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct PriceQuote {
    pub check_in: Date,
    pub check_out: Date,
    pub nights: i32,
    pub guests: i32,
    /// Sum of the nightly prices of the stayed nights, before discounts.
    pub nights_total: Money,
    pub discount: Money,
    pub cleaning_fee: Money,
    pub service_fee: Money,
    pub taxes: Money,
    pub total: Money,
}

impl PriceQuote {
    pub fn new(
        check_in: Date,
        check_out: Date,
        guests: i32,
        nights: usize,
        b: Breakdown,
        currency: &str,
    ) -> Self {
        let money = |amount| Money::new(amount, currency);
        Self {
            check_in,
            check_out,
            nights: i32::try_from(nights).unwrap_or(i32::MAX),
            guests,
            nights_total: money(b.nights_total),
            discount: money(b.discount),
            cleaning_fee: money(b.cleaning_fee),
            service_fee: money(b.service_fee),
            taxes: money(b.taxes),
            total: money(b.total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    const FEES: Fees = Fees {
        service_fee_percent: Decimal::from_parts(14, 0, 0, false, 0),
        tax_percent: Decimal::ZERO,
    };

    fn nights(price: &str, n: usize) -> Vec<Decimal> {
        vec![d(price); n]
    }

    #[test]
    fn a_short_stay_has_no_discount() {
        let b = price(&nights("100.00", 3), d("25"), 10, 20, FEES);
        assert_eq!(b.nights_total, d("300.00"));
        assert_eq!(b.discount, d("0.00"));
        assert_eq!(b.cleaning_fee, d("25.00"));
        assert_eq!(b.service_fee, d("45.50")); // 14% of 325
        assert_eq!(b.taxes, d("0.00"));
        assert_eq!(b.total, d("370.50"));
        assert_eq!(b.total.to_string(), "370.50");
    }

    #[test]
    fn weekly_from_seven_nights_and_monthly_from_twenty_eight() {
        let six = price(&nights("100", 6), d("0"), 10, 20, FEES);
        assert_eq!(six.discount, d("0"));
        let seven = price(&nights("100", 7), d("0"), 10, 20, FEES);
        assert_eq!(seven.discount, d("70.00"));
        let twenty_seven = price(&nights("100", 27), d("0"), 10, 20, FEES);
        assert_eq!(twenty_seven.discount, d("270.00"));
        let twenty_eight = price(&nights("100", 28), d("0"), 10, 20, FEES);
        assert_eq!(twenty_eight.discount, d("560.00"));
        assert_eq!(twenty_eight.total, d("2553.60")); // (2800 - 560) * 1.14
    }

    #[test]
    fn each_line_is_rounded_half_away_from_zero() {
        // 7 × 14.29 = 100.03; 5% = 5.0015 → 5.00
        let b = price(&nights("14.29", 7), d("0"), 5, 0, FEES);
        assert_eq!(b.nights_total, d("100.03"));
        assert_eq!(b.discount, d("5.00"));
        // base 95.03; 14% = 13.3042 → 13.30
        assert_eq!(b.service_fee, d("13.30"));
        assert_eq!(b.total, d("108.33"));

        // 7 × 14.30 = 100.10; 5% = 5.005 → 5.01 (half away from zero)
        let b = price(&nights("14.30", 7), d("0"), 5, 0, FEES);
        assert_eq!(b.discount, d("5.01"));
        // base 95.09; 14% = 13.3126 → 13.31
        assert_eq!(b.service_fee, d("13.31"));

        // base 33.75; 14% = 4.725 → 4.73
        let b = price(&nights("33.75", 1), d("0"), 0, 0, FEES);
        assert_eq!(b.service_fee, d("4.73"));
        assert_eq!(b.total, d("38.48"));
    }

    #[test]
    fn nightly_overrides_are_summed_as_they_are() {
        let b = price(&[d("80"), d("120.50"), d("99.99")], d("10.00"), 0, 0, FEES);
        assert_eq!(b.nights_total, d("300.49"));
        assert_eq!(b.service_fee, d("43.47")); // 14% of 310.49 = 43.4686
        assert_eq!(b.total, d("353.96"));
    }

    #[test]
    fn taxes_come_from_configuration() {
        let fees = Fees {
            service_fee_percent: d("12.5"),
            tax_percent: d("7.25"),
        };
        let b = price(&nights("100", 2), d("0"), 0, 0, fees);
        assert_eq!(b.service_fee, d("25.00"));
        assert_eq!(b.taxes, d("14.50"));
        assert_eq!(b.total, d("239.50"));
    }
}
