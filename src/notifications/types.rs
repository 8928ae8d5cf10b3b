//! Notifications as clients see them.

use async_graphql::{Context, Enum, ID, Object};

use super::service::Kind;
use crate::graphql::context::loader;
use crate::{
    bookings::{Booking, loaders::BookingLoader},
    error::{AppError, GraphqlError as _},
    graphql::{
        ids::{self, NodeType},
        scalars::DateTime,
    },
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    BookingRequested,
    BookingConfirmed,
    BookingDeclined,
    BookingCancelled,
    BookingExpired,
    /// A stay ended; the guest may now review it.
    BookingCompleted,
    PaymentSucceeded,
    PaymentFailed,
    PaymentRefunded,
    ReviewReceived,
    MessageReceived,
}

impl From<Kind> for NotificationKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::BookingRequested => Self::BookingRequested,
            Kind::BookingConfirmed => Self::BookingConfirmed,
            Kind::BookingDeclined => Self::BookingDeclined,
            Kind::BookingCancelled => Self::BookingCancelled,
            Kind::BookingExpired => Self::BookingExpired,
            Kind::BookingCompleted => Self::BookingCompleted,
            Kind::PaymentSucceeded => Self::PaymentSucceeded,
            Kind::PaymentFailed => Self::PaymentFailed,
            Kind::PaymentRefunded => Self::PaymentRefunded,
            Kind::ReviewReceived => Self::ReviewReceived,
            Kind::MessageReceived => Self::MessageReceived,
        }
    }
}

/// Something the viewer was told about.
#[derive(Debug, Clone)]
pub struct Notification(pub entity::notification::Model);

#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Notification, self.0.id)
    }

    async fn kind(&self) -> async_graphql::Result<NotificationKind> {
        Kind::parse(&self.0.kind).map(Into::into).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "notification {} has an unknown kind",
                self.0.id
            ))
            .extend()
        })
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// The booking it is about, if any. A notification is only ever seen by
    /// its own user, who is that booking's guest or host.
    async fn booking(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Booking>> {
        let Some(id) = self.0.booking_id else {
            return Ok(None);
        };
        let row = loader::<BookingLoader>(ctx)?
            .load_one(id)
            .await
            .map_err(|e| AppError::from(e).extend())?;
        Ok(row.map(Booking::from))
    }

    async fn read_at(&self) -> Option<DateTime> {
        self.0.read_at.map(DateTime)
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

crate::connection_types!(
    NotificationConnection,
    NotificationEdge,
    Notification,
    /// All of the viewer's unread notifications, whatever the page holds.
    unread_count: i64,
);
