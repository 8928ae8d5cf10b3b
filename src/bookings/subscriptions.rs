//! `bookingStatusChanged` and `hostBookingEvents`.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, Subscription};
use futures_util::{Stream, StreamExt, future};
use uuid::Uuid;

use super::types::{Booking, BookingStatus};
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
        scalars::DateTime,
    },
    realtime::{self, Topic},
};
use domain::infra::events::{BookingChanged, Event};

/// A booking changed status (created included, with no previous status).
pub struct BookingStatusEvent(BookingChanged);

#[Object]
impl BookingStatusEvent {
    /// The booking as this change left it.
    async fn booking(&self) -> Booking {
        Booking::from(self.0.booking.clone())
    }

    async fn previous_status(&self) -> Option<BookingStatus> {
        use sea_orm::ActiveEnum;
        let name = self.0.previous_status.clone()?;
        entity::booking::BookingStatus::try_from_value(&name)
            .ok()
            .map(Into::into)
    }

    async fn status(&self) -> BookingStatus {
        self.0.booking.status.into()
    }

    async fn occurred_at(&self) -> DateTime {
        DateTime(self.0.occurred_at)
    }
}

/// Bookings' events in the order they happened: an event older than one
/// already delivered for the same booking (two instances published close
/// together) is dropped, so a client never sees a booking go backwards. A
/// payment's move comes as an event of the same status, so that the last
/// event a subscriber gets shows the payment as it is.
fn in_order(
    events: impl Stream<Item = std::sync::Arc<Event>> + Send + 'static,
) -> impl Stream<Item = BookingStatusEvent> + Send + 'static {
    /// Bookings remembered per subscription before the memory is reset.
    const REMEMBERED: usize = 10_000;
    let mut last: HashMap<Uuid, i32> = HashMap::new();
    events.filter_map(move |event| {
        let out = match &*event {
            Event::BookingChanged(change) => {
                let seen = last.get(&change.booking_id).copied();
                // A payment's move keeps the status's version: it is news
                // after that status, never before it.
                let stale = match seen {
                    Some(v) if change.payment_changed => v > change.version,
                    Some(v) => v >= change.version,
                    None => false,
                };
                if stale {
                    None
                } else {
                    if last.len() >= REMEMBERED {
                        last.clear();
                    }
                    last.insert(change.booking_id, change.version);
                    Some(BookingStatusEvent((**change).clone()))
                }
            }
            _ => None,
        };
        future::ready(out)
    })
}

#[derive(Default)]
pub struct BookingSubscription;

#[Subscription]
impl BookingSubscription {
    /// Status changes of one booking: its guest, its host and admins may
    /// subscribe. Anyone else (or an unknown id) gets FORBIDDEN.
    async fn booking_status_changed(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = BookingStatusEvent> + use<>> {
        let actor = require_actor(ctx).await?;
        let forbidden =
            || AppError::Forbidden("Only the guest, the host and admins follow a booking".into());
        let id = decode_as(NodeType::Booking, &booking_id)
            .ok_or_else(forbidden)
            .extend()?;
        ctx.services()?
            .bookings
            .visible(Some(actor), id)
            .await
            .extend()?
            .ok_or_else(forbidden)
            .extend()?;
        let events = realtime::open(ctx, "bookingStatusChanged", Topic::Booking(id))?;
        Ok(in_order(events))
    }

    /// Every status change of bookings on properties the viewer hosts, new
    /// requests included.
    async fn host_booking_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = BookingStatusEvent> + use<>> {
        let actor = require_actor(ctx).await?;
        let events = realtime::open(ctx, "hostBookingEvents", Topic::HostBookings(actor.user_id))?;
        Ok(in_order(events))
    }
}
