//! Cancellation refunds (docs/API.md, Bookings), measured from 00:00 UTC on the
//! check-in date, as a share of what was captured:
//!
//! | policy   | 100% when cancelled | 50% when cancelled     | otherwise         |
//! | FLEXIBLE | >= 1 day before     | later, up to check-in  | 0% after check-in |
//! | MODERATE | >= 5 days before    | later, up to check-in  | 0% after check-in |
//! | STRICT   | >= 14 days before   | >= 7 and < 14 days     | 0%                |
//!
//! A host's or an admin's cancellation refunds everything.

use chrono::{DateTime, NaiveDate, Utc};

use domain::kernel::money::percent_of;
use entity::property::CancellationPolicy;

/// Who cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelledBy {
    Guest,
    Host,
    Admin,
}

impl CancelledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Host => "host",
            Self::Admin => "admin",
        }
    }
}

/// The percentage of the captured amount a cancellation at `at` gets back.
pub fn refund_percent(
    policy: CancellationPolicy,
    check_in: NaiveDate,
    at: DateTime<Utc>,
    by: CancelledBy,
) -> u32 {
    if by != CancelledBy::Guest {
        return 100;
    }
    let start = check_in
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(at);
    let before = start - at;
    let days = |n: i64| chrono::Duration::days(n);
    let full_from = match policy {
        CancellationPolicy::Flexible => days(1),
        CancellationPolicy::Moderate => days(5),
        CancellationPolicy::Strict => days(14),
    };
    if before >= full_from {
        100
    } else if policy == CancellationPolicy::Strict {
        if before >= days(7) { 50 } else { 0 }
    } else if before >= chrono::Duration::zero() {
        50
    } else {
        0
    }
}

/// The refund in the payment's minor units: the percentage of what was
/// captured, rounded to a whole minor unit half away from zero (a cent, a
/// yen, a fils: whatever the currency's smallest unit is).
pub fn refund_minor(captured_minor: i64, percent: u32) -> i64 {
    percent_of(captured_minor, rust_decimal::Decimal::from(percent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use CancellationPolicy::{Flexible, Moderate, Strict};
    use chrono::TimeZone;

    fn check_in() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 6, 20).expect("date")
    }

    /// `hours` before 00:00 UTC on the check-in date (negative: after).
    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 6, 20, 0, 0, 0)
            .single()
            .expect("time")
            - chrono::Duration::hours(hours)
    }

    #[test]
    fn flexible() {
        assert_eq!(
            refund_percent(Flexible, check_in(), at(24 * 30), CancelledBy::Guest),
            100
        );
        assert_eq!(
            refund_percent(Flexible, check_in(), at(24), CancelledBy::Guest),
            100,
            "exactly one day"
        );
        assert_eq!(
            refund_percent(Flexible, check_in(), at(23), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Flexible, check_in(), at(0), CancelledBy::Guest),
            50,
            "at check-in"
        );
        assert_eq!(
            refund_percent(Flexible, check_in(), at(-1), CancelledBy::Guest),
            0,
            "after check-in"
        );
    }

    #[test]
    fn moderate() {
        assert_eq!(
            refund_percent(Moderate, check_in(), at(24 * 5), CancelledBy::Guest),
            100
        );
        assert_eq!(
            refund_percent(Moderate, check_in(), at(24 * 5 - 1), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Moderate, check_in(), at(1), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Moderate, check_in(), at(-24), CancelledBy::Guest),
            0
        );
    }

    #[test]
    fn strict() {
        assert_eq!(
            refund_percent(Strict, check_in(), at(24 * 14), CancelledBy::Guest),
            100
        );
        assert_eq!(
            refund_percent(Strict, check_in(), at(24 * 14 - 1), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Strict, check_in(), at(24 * 10), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Strict, check_in(), at(24 * 7), CancelledBy::Guest),
            50
        );
        assert_eq!(
            refund_percent(Strict, check_in(), at(24 * 7 - 1), CancelledBy::Guest),
            0
        );
        assert_eq!(
            refund_percent(Strict, check_in(), at(1), CancelledBy::Guest),
            0
        );
    }

    #[test]
    fn hosts_and_admins_refund_everything() {
        for policy in [Flexible, Moderate, Strict] {
            assert_eq!(
                refund_percent(policy, check_in(), at(-48), CancelledBy::Host),
                100
            );
            assert_eq!(
                refund_percent(policy, check_in(), at(-48), CancelledBy::Admin),
                100
            );
        }
    }

    #[test]
    fn half_refunds_round_half_away_from_zero() {
        assert_eq!(refund_minor(37_051, 50), 18_526); // 185.255 -> 185.26
        assert_eq!(refund_minor(37_050, 50), 18_525);
        assert_eq!(refund_minor(10_000, 100), 10_000);
        assert_eq!(refund_minor(10_000, 0), 0);
        // ¥12,345 at 50% is ¥6,172.5: ¥6,173. KWD 12.345 is 12345 fils: 6.173.
        assert_eq!(refund_minor(12_345, 50), 6_173);
    }
}
