//! Live updates: GraphQL subscriptions fed from the event bus.
//!
//! The bus (in process, or Redis pub/sub across instances) carries every
//! event to every instance; the [`Hub`] routes each to the subscriptions of
//! its topic through bounded queues; a subscription resolver opens a feed
//! with [`open`], which also enforces the per-socket subscription limit and
//! closes a client that falls behind.

pub mod control;
pub mod hub;
pub mod sockets;

use std::sync::Arc;

use async_graphql::Context;
use futures_util::{Stream, StreamExt};

pub use control::Connection;
pub use hub::{Feed, Hub, Topic};
pub use sockets::{Holder, Slot, Sockets};

use crate::error::{AppError, GraphqlError as _};

use domain::infra::events::Event;

/// The events of `topic` for a subscription resolver, counted in the
/// socket's limit and in the delivery metrics as `name`.
pub fn open(
    ctx: &Context<'_>,
    name: &'static str,
    topic: Topic,
) -> async_graphql::Result<impl Stream<Item = Arc<Event>> + use<>> {
    let hub = ctx.data::<Hub>().map_err(|_| {
        AppError::Internal(anyhow::anyhow!("the subscription hub is missing")).extend()
    })?;
    let connection = ctx.data_opt::<Connection>().cloned();
    let active = match &connection {
        Some(c) => Some(c.begin(name).ok_or_else(|| {
            AppError::RateLimited {
                message: format!(
                    "A connection may hold at most {} subscriptions; complete some first",
                    c.max()
                ),
                retry_after_secs: 1,
            }
            .extend()
        })?),
        None => None,
    };
    let feed = hub.subscribe(topic, connection);
    Ok(feed.map(move |event| {
        // Held for as long as the stream lives.
        let _held = &active;
        metrics::counter!("roost_subscription_events_total", "subscription" => name).increment(1);
        event
    }))
}
