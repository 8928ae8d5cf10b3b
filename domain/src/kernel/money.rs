//! Money as the rules see it (docs/API.md, Listings): an exact integer
//! count of a currency's ISO 4217 minor unit. USD and EUR have 2 places
//! (12950 is 129.50), JPY and KRW none (12000 is 12000), KWD and BHD 3
//! (12345 is 12.345). Amounts are only ever rounded to that unit, half away
//! from zero, and become decimals only on the wire.
//!
//! Which codes exist and how many places each has comes from the ISO 4217
//! list as the `iso_currency` crate carries it; a currency is accepted when
//! it is current (not superseded), is a currency rather than a fund or a
//! special code (gold, SDR, the test code XTS), and has a minor unit.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// The most places any accepted currency has (the dinars: KWD, BHD, ...).
pub const MAX_EXPONENT: u32 = 3;

/// An ISO 4217 currency with its minor unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    pub const USD: Self = Self {
        code: *b"USD",
        exponent: 2,
    };

    /// An active ISO 4217 code, exactly as written (upper case).
    pub fn parse(code: &str) -> Option<Self> {
        let iso = iso_currency::Currency::from_code(code)?;
        if iso.is_fund() || iso.is_special() || iso.is_superseded().is_some() {
            return None;
        }
        let exponent = u8::try_from(iso.exponent()?).ok()?;
        let code: [u8; 3] = iso.code().as_bytes().try_into().ok()?;
        (u32::from(exponent) <= MAX_EXPONENT).then_some(Self { code, exponent })
    }

    /// The currency of a stored row. Rows hold codes [`Currency::parse`]
    /// accepted; a code written before the list was checked (three
    /// upper-case letters, not on the list) keeps its text and is read with
    /// two places, as every amount was then.
    pub fn of_stored(code: &str) -> Self {
        if let Some(currency) = Self::parse(code) {
            return currency;
        }
        let mut bytes = [b'X'; 3];
        for (slot, b) in bytes.iter_mut().zip(code.bytes()) {
            *slot = b.to_ascii_uppercase();
        }
        Self {
            code: bytes,
            exponent: 2,
        }
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Places of the minor unit: 0, 2 or 3.
    pub fn exponent(self) -> u32 {
        u32::from(self.exponent)
    }

    /// Minor units in one major unit (1, 100 or 1000).
    pub fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// Minor units of `amount`, when it has no more places than the
    /// currency and fits.
    pub fn to_minor(self, amount: Decimal) -> Option<i64> {
        let scaled = amount.checked_mul(Decimal::from(self.minor_per_major()))?;
        if scaled.fract().is_zero() {
            i64::try_from(scaled.trunc()).ok()
        } else {
            None
        }
    }

    /// `minor` as a decimal with exactly the currency's places
    /// (`12950` USD is `129.50`, `12000` JPY is `12000`).
    pub fn to_decimal(self, minor: i64) -> Decimal {
        Decimal::new(minor, self.exponent())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Every accepted code with the given number of places, in code order.
pub fn codes_with_exponent(exponent: u32) -> Vec<&'static str> {
    let mut codes: Vec<&'static str> =
        <iso_currency::Currency as iso_currency::IntoEnumIterator>::iter()
            .filter_map(|c| {
                Currency::parse(c.code())
                    .filter(|p| p.exponent() == exponent)
                    .map(|_| c.code())
            })
            .collect();
    codes.sort_unstable();
    codes
}

/// An amount of money: a count of minor units and its currency. It is made
/// only from minor units or from a decimal that converts exactly, so it can
/// never silently become something else (such as 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// `amount` when it has no more places than the currency and fits.
    pub fn from_decimal(amount: Decimal, currency: Currency) -> Option<Self> {
        currency
            .to_minor(amount)
            .map(|minor| Self::from_minor(minor, currency))
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    /// The amount as a decimal with the currency's places.
    pub fn to_decimal(self) -> Decimal {
        self.currency.to_decimal(self.minor)
    }

    /// `percent`% of this amount, rounded to the minor unit half away from
    /// zero.
    pub fn percent(self, percent: Decimal) -> Self {
        Self::from_minor(percent_of(self.minor, percent), self.currency)
    }

    /// This amount less `other` (of the same currency), never below 0.
    pub fn saturating_sub(self, other: i64) -> Self {
        Self::from_minor(self.minor.saturating_sub(other).max(0), self.currency)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

/// `percent`% of `minor` minor units, rounded to a whole minor unit half
/// away from zero. Saturates at the bounds of `i64`, far beyond any price.
pub fn percent_of(minor: i64, percent: Decimal) -> i64 {
    let exact = Decimal::from(minor)
        .checked_mul(percent)
        .map(|p| p / Decimal::ONE_HUNDRED)
        .unwrap_or(if (minor < 0) != percent.is_sign_negative() {
            Decimal::MIN
        } else {
            Decimal::MAX
        });
    let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(rounded).unwrap_or(if rounded.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn c(code: &str) -> Currency {
        Currency::parse(code).expect("an active currency")
    }

    #[test]
    fn places_come_from_the_iso_list() {
        assert_eq!(c("USD").exponent(), 2);
        assert_eq!(c("EUR").exponent(), 2);
        assert_eq!(c("JPY").exponent(), 0);
        assert_eq!(c("KRW").exponent(), 0);
        assert_eq!(c("KWD").exponent(), 3);
        assert_eq!(c("BHD").exponent(), 3);
        assert_eq!(Currency::USD, c("USD"));
    }

    #[test]
    fn only_active_currencies_with_a_minor_unit_are_accepted() {
        for bad in [
            "usd", "XYZ", "US", "USDD", "", "XAU", "XTS", "XXX", "XDR", "CLF", "BOV", "HRK",
        ] {
            assert_eq!(Currency::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals_convert_exactly_or_not_at_all() {
        assert_eq!(c("USD").to_minor(d("129.5")), Some(12950));
        assert_eq!(c("USD").to_minor(d("129.505")), None);
        assert_eq!(c("JPY").to_minor(d("12000")), Some(12000));
        assert_eq!(c("JPY").to_minor(d("12000.00")), Some(12000));
        assert_eq!(c("JPY").to_minor(d("12000.5")), None);
        assert_eq!(c("KWD").to_minor(d("12.345")), Some(12345));
        assert_eq!(c("KWD").to_minor(d("12.3456")), None);
        assert_eq!(c("USD").to_minor(Decimal::MAX), None);
    }

    #[test]
    fn amounts_are_written_with_the_currencys_places() {
        let amount = |minor, code| Amount::from_minor(minor, c(code)).to_decimal().to_string();
        assert_eq!(amount(12950, "USD"), "129.50");
        assert_eq!(amount(12000, "JPY"), "12000");
        assert_eq!(amount(12345, "KWD"), "12.345");
        assert_eq!(amount(12000, "KWD"), "12.000");
        assert_eq!(amount(0, "EUR"), "0.00");
    }

    #[test]
    fn percentages_round_to_the_minor_unit_half_away_from_zero() {
        assert_eq!(percent_of(37_051, d("50")), 18_526);
        assert_eq!(percent_of(37_050, d("50")), 18_525);
        assert_eq!(percent_of(125, d("10")), 13);
        assert_eq!(percent_of(-125, d("10")), -13);
        assert_eq!(percent_of(10_000, d("0")), 0);
        assert_eq!(percent_of(i64::MAX, d("200")), i64::MAX);
        // 14% of JPY 12345 is 1728.3 yen: a whole yen.
        assert_eq!(
            Amount::from_minor(12_345, c("JPY"))
                .percent(d("14"))
                .minor(),
            1_728
        );
        // 14% of KWD 12.345 is 1.7283: 1.728.
        assert_eq!(
            Amount::from_minor(12_345, c("KWD"))
                .percent(d("14"))
                .to_string(),
            "1.728 KWD"
        );
    }

    #[test]
    fn stored_codes_off_the_list_keep_their_text_and_two_places() {
        let old = Currency::of_stored("XYZ");
        assert_eq!(old.code(), "XYZ");
        assert_eq!(old.exponent(), 2);
        assert_eq!(Currency::of_stored("JPY").exponent(), 0);
    }

    #[test]
    fn the_lists_by_places_hold_what_iso_says() {
        let zero = codes_with_exponent(0);
        assert!(zero.contains(&"JPY") && zero.contains(&"KRW") && zero.contains(&"ISK"));
        assert!(!zero.contains(&"UYI"), "a fund");
        let three = codes_with_exponent(3);
        assert_eq!(three, ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);
        assert!(codes_with_exponent(2).contains(&"USD"));
        assert!(codes_with_exponent(4).is_empty());
    }

    /// The database derives `price_key` from lists of its own (a migration
    /// cannot follow the crate): they must say what ISO 4217 says.
    #[test]
    fn the_price_key_knows_every_currency_by_its_places() {
        assert_eq!(codes_with_exponent(0), migration::ZERO_PLACE_CURRENCIES);
        assert_eq!(codes_with_exponent(3), migration::THREE_PLACE_CURRENCIES);
    }
}
