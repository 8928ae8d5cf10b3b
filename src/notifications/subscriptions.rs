//! `notificationReceived`.

use async_graphql::{Context, Subscription};
use futures_util::{Stream, StreamExt, future};

use super::types::Notification;
use crate::{
    auth::actor::require_actor,
    realtime::{self, Topic},
};
use domain::infra::events::Event;

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// Notifications recorded for the viewer from now on.
    async fn notification_received(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Notification> + use<>> {
        let actor = require_actor(ctx).await?;
        let events = realtime::open(
            ctx,
            "notificationReceived",
            Topic::Notifications(actor.user_id),
        )?;
        Ok(events.filter_map(|event| {
            future::ready(match &*event {
                Event::NotificationCreated(n) => Some(Notification(n.notification.clone())),
                _ => None,
            })
        }))
    }
}
