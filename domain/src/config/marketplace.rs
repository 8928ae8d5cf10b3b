//! The marketplace's terms: fees, taxes and the booking timers.

use std::time::Duration;

use anyhow::bail;
use rust_decimal::Decimal;

/// The service fee and tax, as percentages of the subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub service_fee_percent: Decimal,
    pub tax_percent: Decimal,
}

/// The timers of the booking state machine.
#[derive(Debug, Clone, Copy)]
pub struct BookingWindows {
    /// How long an unpaid booking holds its nights.
    pub hold: Duration,
    /// How long a host has to answer a request.
    pub host_answer: Duration,
}

pub(super) fn percent(name: &str, value: Decimal) -> anyhow::Result<Decimal> {
    if value >= Decimal::ZERO && value <= Decimal::ONE_HUNDRED {
        Ok(value)
    } else {
        bail!("{name} must be between 0 and 100")
    }
}
