//! Prices (docs/API.md, Listings): exact integer minor units of the
//! listing's currency, every line rounded to that unit half away from zero.
//!
//! nightsTotal = sum of each stayed night's price; discount = nightsTotal ×
//! monthly% from 28 nights, weekly% from 7; base = nightsTotal − discount +
//! cleaningFee; serviceFee and taxes are percentages of base; total = base +
//! serviceFee + taxes.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use crate::graphql::{money::Money, scalars::Date};

use domain::{
    config::Fees,
    kernel::money::{Amount, Currency, percent_of},
};

pub const WEEKLY_FROM: usize = 7;
pub const MONTHLY_FROM: usize = 28;

/// The arithmetic of a stay in minor units, before it is dressed in a
/// currency. Rounding to the minor unit is rounding to a whole number here,
/// whatever the currency's places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakdown {
    pub nights_total: i64,
    pub discount: i64,
    pub cleaning_fee: i64,
    pub service_fee: i64,
    pub taxes: i64,
    pub total: i64,
}

/// Prices a stay from the price of each night, all in minor units.
pub fn price(
    nightly: &[i64],
    cleaning_fee: i64,
    weekly_discount_percent: i32,
    monthly_discount_percent: i32,
    fees: Fees,
) -> Breakdown {
    let nights_total = nightly.iter().fold(0_i64, |sum, n| sum.saturating_add(*n));
    let discount_percent = if nightly.len() >= MONTHLY_FROM {
        monthly_discount_percent
    } else if nightly.len() >= WEEKLY_FROM {
        weekly_discount_percent
    } else {
        0
    };
    let discount = percent_of(nights_total, Decimal::from(discount_percent));
    let base = nights_total - discount + cleaning_fee;
    let service_fee = percent_of(base, fees.service_fee_percent);
    let taxes = percent_of(base, fees.tax_percent);
    Breakdown {
        nights_total,
        discount,
        cleaning_fee,
        service_fee,
        taxes,
        total: base + service_fee + taxes,
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
        currency: Currency,
    ) -> Self {
        let money = |minor| Money::from(Amount::from_minor(minor, currency));
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

    /// Minor units of a USD amount written as a decimal.
    fn usd(s: &str) -> i64 {
        Currency::USD.to_minor(d(s)).expect("whole cents")
    }

    const FEES: Fees = Fees {
        service_fee_percent: Decimal::from_parts(14, 0, 0, false, 0),
        tax_percent: Decimal::ZERO,
    };

    fn nights(price: &str, n: usize) -> Vec<i64> {
        vec![usd(price); n]
    }

    #[test]
    fn a_short_stay_has_no_discount() {
        let b = price(&nights("100.00", 3), usd("25"), 10, 20, FEES);
        assert_eq!(b.nights_total, usd("300.00"));
        assert_eq!(b.discount, 0);
        assert_eq!(b.cleaning_fee, usd("25.00"));
        assert_eq!(b.service_fee, usd("45.50")); // 14% of 325
        assert_eq!(b.taxes, 0);
        assert_eq!(b.total, usd("370.50"));
    }

    #[test]
    fn weekly_from_seven_nights_and_monthly_from_twenty_eight() {
        let six = price(&nights("100", 6), 0, 10, 20, FEES);
        assert_eq!(six.discount, 0);
        let seven = price(&nights("100", 7), 0, 10, 20, FEES);
        assert_eq!(seven.discount, usd("70.00"));
        let twenty_seven = price(&nights("100", 27), 0, 10, 20, FEES);
        assert_eq!(twenty_seven.discount, usd("270.00"));
        let twenty_eight = price(&nights("100", 28), 0, 10, 20, FEES);
        assert_eq!(twenty_eight.discount, usd("560.00"));
        assert_eq!(twenty_eight.total, usd("2553.60")); // (2800 - 560) * 1.14
    }

    #[test]
    fn each_line_is_rounded_half_away_from_zero() {
        // 7 × 14.29 = 100.03; 5% = 5.0015 → 5.00
        let b = price(&nights("14.29", 7), 0, 5, 0, FEES);
        assert_eq!(b.nights_total, usd("100.03"));
        assert_eq!(b.discount, usd("5.00"));
        // base 95.03; 14% = 13.3042 → 13.30
        assert_eq!(b.service_fee, usd("13.30"));
        assert_eq!(b.total, usd("108.33"));

        // 7 × 14.30 = 100.10; 5% = 5.005 → 5.01 (half away from zero)
        let b = price(&nights("14.30", 7), 0, 5, 0, FEES);
        assert_eq!(b.discount, usd("5.01"));
        // base 95.09; 14% = 13.3126 → 13.31
        assert_eq!(b.service_fee, usd("13.31"));

        // base 33.75; 14% = 4.725 → 4.73
        let b = price(&nights("33.75", 1), 0, 0, 0, FEES);
        assert_eq!(b.service_fee, usd("4.73"));
        assert_eq!(b.total, usd("38.48"));
    }

    #[test]
    fn nightly_overrides_are_summed_as_they_are() {
        let b = price(
            &[usd("80"), usd("120.50"), usd("99.99")],
            usd("10.00"),
            0,
            0,
            FEES,
        );
        assert_eq!(b.nights_total, usd("300.49"));
        assert_eq!(b.service_fee, usd("43.47")); // 14% of 310.49 = 43.4686
        assert_eq!(b.total, usd("353.96"));
    }

    #[test]
    fn taxes_come_from_configuration() {
        let fees = Fees {
            service_fee_percent: d("12.5"),
            tax_percent: d("7.25"),
        };
        let b = price(&nights("100", 2), 0, 0, 0, fees);
        assert_eq!(b.service_fee, usd("25.00"));
        assert_eq!(b.taxes, usd("14.50"));
        assert_eq!(b.total, usd("239.50"));
    }

    #[test]
    fn yen_round_to_the_yen_and_dinars_to_the_fils() {
        let jpy = Currency::parse("JPY").expect("JPY");
        // 3 × ¥12,345 = ¥37,035, cleaning ¥3,000: base ¥40,035; 14% is
        // ¥5,604.9 → ¥5,605.
        let b = price(&[12_345; 3], 3_000, 0, 0, FEES);
        assert_eq!(b.service_fee, 5_605);
        assert_eq!(b.total, 45_640);
        let quote = PriceQuote::new(
            Date(chrono::NaiveDate::MIN),
            Date(chrono::NaiveDate::MIN),
            1,
            3,
            b,
            jpy,
        );
        assert_eq!(quote.total.amount.to_string(), "45640");
        assert_eq!(quote.service_fee.amount.to_string(), "5605");

        // KWD 12.345 a night for 7 nights with 5% weekly: 86.415, less
        // 4.32075 → 4.321; base 82.094; 14% = 11.49316 → 11.493.
        let kwd = Currency::parse("KWD").expect("KWD");
        let b = price(&[12_345; 7], 0, 5, 0, FEES);
        assert_eq!(b.discount, 4_321);
        assert_eq!(b.service_fee, 11_493);
        assert_eq!(b.total, 93_587);
        let quote = PriceQuote::new(
            Date(chrono::NaiveDate::MIN),
            Date(chrono::NaiveDate::MIN),
            1,
            7,
            b,
            kwd,
        );
        assert_eq!(quote.total.amount.to_string(), "93.587");
        assert_eq!(quote.discount.amount.to_string(), "4.321");
    }
}
