//! Recording notifications.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::{
    error::AppResult,
    jobs::{Job, Jobs},
};

use domain::infra::events::{Event, EventBus, NotificationCreated};

/// What a notification is about; stored by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BookingRequested,
    BookingConfirmed,
    BookingDeclined,
    BookingCancelled,
    BookingExpired,
    BookingCompleted,
    PaymentSucceeded,
    PaymentFailed,
    PaymentRefunded,
    ReviewReceived,
    MessageReceived,
}

impl Kind {
    pub const ALL: [Self; 11] = [
        Self::BookingRequested,
        Self::BookingConfirmed,
        Self::BookingDeclined,
        Self::BookingCancelled,
        Self::BookingExpired,
        Self::BookingCompleted,
        Self::PaymentSucceeded,
        Self::PaymentFailed,
        Self::PaymentRefunded,
        Self::ReviewReceived,
        Self::MessageReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingRequested => "BOOKING_REQUESTED",
            Self::BookingConfirmed => "BOOKING_CONFIRMED",
            Self::BookingDeclined => "BOOKING_DECLINED",
            Self::BookingCancelled => "BOOKING_CANCELLED",
            Self::BookingExpired => "BOOKING_EXPIRED",
            Self::BookingCompleted => "BOOKING_COMPLETED",
            Self::PaymentSucceeded => "PAYMENT_SUCCEEDED",
            Self::PaymentFailed => "PAYMENT_FAILED",
            Self::PaymentRefunded => "PAYMENT_REFUNDED",
            Self::ReviewReceived => "REVIEW_RECEIVED",
            Self::MessageReceived => "MESSAGE_RECEIVED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub booking_id: Option<Uuid>,
}

/// A notification written in a transaction: what [`announce`] needs once
/// that transaction has committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded(pub entity::notification::Model);

impl Recorded {
    pub fn id(&self) -> Uuid {
        self.0.id
    }
}

/// Writes a notification inside the caller's transaction. Once it has
/// committed, the caller hands what this returns to [`announce`].
pub async fn record(conn: &impl ConnectionTrait, n: NewNotification) -> AppResult<Recorded> {
    let id = Uuid::now_v7();
    entity::notification::ActiveModel {
        id: Set(id),
        user_id: Set(n.user_id),
        kind: Set(n.kind.as_str().to_owned()),
        title: Set(n.title),
        body: Set(n.body),
        booking_id: Set(n.booking_id),
        read_at: Set(None),
        emailed_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
    .map(Recorded)
    .map_err(Into::into)
}

/// After the transaction that recorded them has committed: tells the users'
/// live subscriptions and queues the emails.
pub async fn announce(bus: &EventBus, jobs: &Jobs, recorded: impl IntoIterator<Item = Recorded>) {
    for Recorded(notification) in recorded {
        let notification_id = notification.id;
        bus.publish(Event::NotificationCreated(NotificationCreated {
            notification,
        }))
        .await;
        jobs.enqueue(Job::SendEmail { notification_id }).await;
    }
}
