//! The booking types as clients see them.

use async_graphql::{Enum, ID};
use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    graphql::{
        ids::{self, NodeType},
        money::Money,
        scalars::Date,
    },
    properties::pricing::{Breakdown, PriceQuote},
};

use domain::kernel::money::Currency;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Created; the dates are held until payment or until the hold expires.
    PendingPayment,
    /// Paid (authorized); a request-to-book listing waits for the host.
    AwaitingHost,
    Confirmed,
    Declined,
    Cancelled,
    /// The hold or the host's decision window ran out.
    Expired,
    /// The stay is over (checkOut has passed).
    Completed,
}

impl From<entity::booking::BookingStatus> for BookingStatus {
    fn from(s: entity::booking::BookingStatus) -> Self {
        use entity::booking::BookingStatus as S;
        match s {
            S::PendingPayment => Self::PendingPayment,
            S::AwaitingHost => Self::AwaitingHost,
            S::Confirmed => Self::Confirmed,
            S::Declined => Self::Declined,
            S::Cancelled => Self::Cancelled,
            S::Expired => Self::Expired,
            S::Completed => Self::Completed,
        }
    }
}

impl From<BookingStatus> for entity::booking::BookingStatus {
    fn from(s: BookingStatus) -> Self {
        use BookingStatus as S;
        match s {
            S::PendingPayment => Self::PendingPayment,
            S::AwaitingHost => Self::AwaitingHost,
            S::Confirmed => Self::Confirmed,
            S::Declined => Self::Declined,
            S::Cancelled => Self::Cancelled,
            S::Expired => Self::Expired,
            S::Completed => Self::Completed,
        }
    }
}

/// A booking as the resolvers hold it.
#[derive(Debug, Clone)]
pub struct Booking {
    pub row: entity::booking::Model,
}

impl From<entity::booking::Model> for Booking {
    fn from(row: entity::booking::Model) -> Self {
        Self { row }
    }
}

impl Booking {
    pub fn global_id(&self) -> ID {
        ids::encode(NodeType::Booking, self.row.id)
    }

    pub fn uuid(&self) -> Uuid {
        self.row.id
    }

    pub fn currency(&self) -> Currency {
        Currency::of_stored(&self.row.currency)
    }

    /// `minor` units of the booking's currency, for the wire.
    pub fn money(&self, minor: i64) -> Money {
        Money::of(minor, self.currency())
    }

    /// The quote stored when the booking was made.
    pub fn quote(&self) -> PriceQuote {
        let r = &self.row;
        PriceQuote::new(
            Date(r.check_in),
            Date(r.check_out),
            r.guests,
            usize::try_from(r.nights).unwrap_or(0),
            Breakdown {
                nights_total: r.nights_total_minor,
                discount: r.discount_minor,
                cleaning_fee: r.cleaning_fee_minor,
                service_fee: r.service_fee_minor,
                taxes: r.taxes_minor,
                total: r.total_minor,
            },
            self.currency(),
        )
    }
}

/// Nights of [check_in, check_out).
pub fn nights(check_in: NaiveDate, check_out: NaiveDate) -> i64 {
    (check_out - check_in).num_days()
}

pub fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}
