//! Stay dates: the rules a stay asked for now must meet, written once for
//! search, quotes and bookings.

use chrono::{NaiveDate, Utc};

use super::error::{AppError, AppResult};

/// How far ahead a stay may start.
pub const BOOKING_WINDOW_DAYS: i64 = 365;
/// The longest stay.
pub const MAX_STAY_NIGHTS: i64 = 365;

/// Today's date (UTC): the first night a stay may start on.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A check-in and a check-out that a stay starting now may have: check-out
/// after check-in, check-in from `today` up to [`BOOKING_WINDOW_DAYS`]
/// ahead, at most [`MAX_STAY_NIGHTS`] nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StayDates {
    check_in: NaiveDate,
    check_out: NaiveDate,
}

impl StayDates {
    /// The stay, or BAD_USER_INPUT on `checkIn` or `checkOut` (relative
    /// paths: put them under the input's with [`AppError::under`]).
    pub fn new(check_in: NaiveDate, check_out: NaiveDate, today: NaiveDate) -> AppResult<Self> {
        if check_out <= check_in {
            return Err(AppError::bad_input("checkOut", "must be after checkIn"));
        }
        if check_in < today {
            return Err(AppError::bad_input("checkIn", "must not be in the past"));
        }
        if (check_in - today).num_days() > BOOKING_WINDOW_DAYS {
            return Err(AppError::bad_input(
                "checkIn",
                format!("must be at most {BOOKING_WINDOW_DAYS} days ahead"),
            ));
        }
        if (check_out - check_in).num_days() > MAX_STAY_NIGHTS {
            return Err(AppError::bad_input(
                "checkOut",
                format!("must be at most {MAX_STAY_NIGHTS} nights after checkIn"),
            ));
        }
        Ok(Self {
            check_in,
            check_out,
        })
    }

    /// Whether [`StayDates::new`] would accept these dates.
    pub fn allowed(check_in: NaiveDate, check_out: NaiveDate, today: NaiveDate) -> bool {
        Self::new(check_in, check_out, today).is_ok()
    }

    pub fn check_in(self) -> NaiveDate {
        self.check_in
    }

    pub fn check_out(self) -> NaiveDate {
        self.check_out
    }

    /// The nights of the stay, at least one.
    pub fn nights(self) -> i64 {
        (self.check_out - self.check_in).num_days()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn refused(i: &str, o: &str) -> (String, String) {
        match StayDates::new(day(i), day(o), day("2026-06-01")) {
            Err(AppError::BadUserInput { field, message }) => (field, message),
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn a_stay_from_today_up_to_a_year_ahead_is_allowed() {
        let today = day("2026-06-01");
        let stay = StayDates::new(today, day("2026-06-04"), today).expect("allowed");
        assert_eq!(stay.nights(), 3);
        assert_eq!(
            (stay.check_in(), stay.check_out()),
            (today, day("2026-06-04"))
        );
        assert!(StayDates::allowed(
            day("2027-06-01"),
            day("2028-05-31"),
            today
        ));
    }

    #[test]
    fn each_rule_names_its_field() {
        let at = |f: &str, m: &str| (f.to_owned(), m.to_owned());
        assert_eq!(
            refused("2026-06-05", "2026-06-05"),
            at("checkOut", "must be after checkIn")
        );
        assert_eq!(
            refused("2026-05-31", "2026-06-02"),
            at("checkIn", "must not be in the past")
        );
        assert_eq!(
            refused("2027-06-02", "2027-06-03"),
            at("checkIn", "must be at most 365 days ahead")
        );
        assert_eq!(
            refused("2026-06-01", "2027-06-02"),
            at("checkOut", "must be at most 365 nights after checkIn")
        );
        assert!(!StayDates::allowed(
            day("2026-06-01"),
            day("2027-06-02"),
            day("2026-06-01")
        ));
    }
}
