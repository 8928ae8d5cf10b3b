//! What guest and host are told when a booking changes.

use uuid::Uuid;

use crate::notifications::Kind;
use entity::booking::{BookingStatus as S, Model};

pub struct Text {
    pub kind: Kind,
    pub title: String,
    pub body: String,
}

fn text(kind: Kind, title: impl Into<String>, body: impl Into<String>) -> Text {
    Text {
        kind,
        title: title.into(),
        body: body.into(),
    }
}

/// (recipient, text) for the guest and the host.
pub fn for_status(b: &Model, listing: &str, previous: Option<S>) -> Vec<(Uuid, Text)> {
    let stay = format!("{listing}, {} to {}", b.check_in, b.check_out);
    let (guest, host) = match b.status {
        S::PendingPayment => (
            text(
                Kind::BookingRequested,
                "Your booking is waiting for payment",
                format!("{stay}: pay to hold these nights before the hold runs out."),
            ),
            text(
                Kind::BookingRequested,
                "A guest is booking your listing",
                format!("{stay}: waiting for the guest's payment."),
            ),
        ),
        S::AwaitingHost => (
            text(
                Kind::BookingRequested,
                "Your request was sent",
                match b.expires_at {
                    Some(at) => format!(
                        "{stay}: paid; the host has until {} UTC to answer.",
                        at.format("%Y-%m-%d %H:%M")
                    ),
                    None => format!("{stay}: paid; waiting for the host's answer."),
                },
            ),
            text(
                Kind::BookingRequested,
                "New booking request",
                format!("{stay}: accept or decline the request."),
            ),
        ),
        S::Confirmed => (
            text(
                Kind::BookingConfirmed,
                "Your booking is confirmed",
                format!("{stay}: you're all set."),
            ),
            text(
                Kind::BookingConfirmed,
                "Booking confirmed",
                format!("{stay}: a guest is coming."),
            ),
        ),
        S::Declined => (
            text(
                Kind::BookingDeclined,
                "Your request was declined",
                format!("{stay}: the host declined; the hold on your card is released."),
            ),
            text(
                Kind::BookingDeclined,
                "You declined a request",
                format!("{stay}: declined."),
            ),
        ),
        S::Cancelled => {
            let refund = b
                .refund_percent
                .map(|p| format!(" {p}% of what was paid comes back."))
                .unwrap_or_default();
            (
                text(
                    Kind::BookingCancelled,
                    "Your booking was cancelled",
                    format!("{stay}: cancelled.{refund}"),
                ),
                text(
                    Kind::BookingCancelled,
                    "A booking was cancelled",
                    format!("{stay}: cancelled."),
                ),
            )
        }
        S::Expired => {
            let why = if previous == Some(S::AwaitingHost) {
                "the host did not answer in time; the hold on your card is released"
            } else {
                "it was not paid in time"
            };
            (
                text(
                    Kind::BookingExpired,
                    "Your booking expired",
                    format!("{stay}: {why}."),
                ),
                text(
                    Kind::BookingExpired,
                    "A booking expired",
                    format!("{stay}: expired."),
                ),
            )
        }
        S::Completed => (
            text(
                Kind::BookingCompleted,
                "How was your stay?",
                format!("{stay}: tell others about it with a review."),
            ),
            text(
                Kind::BookingCompleted,
                "A stay is over",
                format!("{stay}: completed."),
            ),
        ),
    };
    vec![(b.guest_id, guest), (b.host_id, host)]
}
