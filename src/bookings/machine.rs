//! The booking state machine on paper (RULES.md section 5).
//!
//! | from            | event                       | who             | to            | then                |
//! |-----------------|-----------------------------|-----------------|---------------|---------------------|
//! | (none)          | createBooking               | a signed-in user, not the host | PENDING_PAYMENT | nights held for the hold window |
//! | PENDING_PAYMENT | payment authorized, instant | the worker      | CONFIRMED     | capture             |
//! | PENDING_PAYMENT | payment authorized          | the worker      | AWAITING_HOST | host answer window  |
//! | PENDING_PAYMENT | hold ran out                | the worker      | EXPIRED       |                     |
//! | AWAITING_HOST   | acceptBooking               | host, admin     | CONFIRMED     | capture             |
//! | AWAITING_HOST   | declineBooking              | host, admin     | DECLINED      | void                |
//! | AWAITING_HOST   | answer window ran out       | the worker      | EXPIRED       | void                |
//! | PENDING_PAYMENT, AWAITING_HOST, CONFIRMED | cancelBooking | guest, host, admin | CANCELLED | refund or void |
//! | CONFIRMED       | check-out date passed       | the worker      | COMPLETED     |                     |
//!
//! Every change publishes a BookingStatusEvent, notifies guest and host, and
//! emails them. This file answers "may this person do this now?"; the
//! service applies the change.

use chrono::Utc;

use crate::{
    auth::actor::Actor,
    error::{AppError, AppResult},
    properties::calendar::today,
};
use entity::booking::{BookingStatus as S, Model};

/// What a person asks of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Accept,
    Decline,
    Cancel,
}

/// The status `event` moves the booking to, or why it may not.
pub fn check(b: &Model, actor: Actor, event: Event) -> AppResult<S> {
    let is_host = b.host_id == actor.user_id || actor.is_admin();
    match event {
        Event::Accept | Event::Decline => {
            if !is_host {
                return Err(AppError::Forbidden(
                    "Only the listing's host or an admin answers a booking request".into(),
                ));
            }
            if b.status != S::AwaitingHost {
                return Err(AppError::Conflict(format!(
                    "Only a booking awaiting the host can be answered; this one is {}",
                    super::service::status_name(b.status)
                )));
            }
            if b.expires_at.is_some_and(|at| at <= Utc::now()) {
                return Err(AppError::Conflict(
                    "The time to answer this request has run out".into(),
                ));
            }
            Ok(if event == Event::Accept {
                S::Confirmed
            } else {
                S::Declined
            })
        }
        Event::Cancel => {
            if !b.status.is_active() {
                return Err(AppError::Conflict(format!(
                    "A booking that is {} cannot be cancelled",
                    super::service::status_name(b.status)
                )));
            }
            if b.check_out <= today() {
                return Err(AppError::Conflict(
                    "The stay is over; it cannot be cancelled".into(),
                ));
            }
            Ok(S::Cancelled)
        }
    }
}
