//! The event bus: status changes and other things that happened, fanned out
//! to whoever listens in this process (subscriptions, tests).
//!
//! In process by default. With Redis, every event is published on one Redis
//! channel and each instance holds a single subscription to it, forwarding
//! what arrives to its local listeners, so an event caused on any instance
//! (or by a worker) reaches listeners on every instance.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::config::RedisConfig;

use crate::infra::redis::Redis;

/// A booking changed status (created included: `previous_status` none), or
/// its payment did (`payment_changed`; the status is then the same as
/// before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingChanged {
    pub booking_id: Uuid,
    pub property_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    /// Stored names, e.g. `PENDING_PAYMENT`.
    pub previous_status: Option<String>,
    pub status: String,
    /// The booking's version after the change: one booking's events can be
    /// put in order by it.
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    /// The booking as this change left it: subscribers answer from it
    /// without reading the database.
    pub booking: entity::booking::Model,
    /// The booking's payment moved (captured, voided, refunded, failed...)
    /// and its status did not: `version` is the status's, and subscribers
    /// take the event even after one of the same version.
    #[serde(default)]
    pub payment_changed: bool,
}

/// A notification was recorded for a user (its transaction committed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationCreated {
    pub notification: entity::notification::Model,
}

/// A message was sent in a conversation (its transaction committed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub sender_id: Uuid,
    /// The other participants: whom the message is for.
    pub recipient_ids: Vec<Uuid>,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    BookingChanged(Box<BookingChanged>),
    NotificationCreated(NotificationCreated),
    MessageSent(MessageSent),
    /// Sessions ended (logout, refresh-token reuse, password change): their
    /// WebSockets close wherever they are.
    SessionsEnded {
        session_ids: Vec<Uuid>,
    },
}

/// Events a slow listener may fall behind by before it is told it lagged.
const LOCAL_CAPACITY: usize = 4096;
/// How long subscribing to the events' channel may take at start.
const STARTUP_WAIT: Duration = Duration::from_secs(5);
/// How long one attempt to subscribe again may take (a Redis that accepts
/// connections but does not answer must not hold the loop for good).
const RESUBSCRIBE_WAIT: Duration = Duration::from_secs(2);

/// A subscription to `channel`, within `wait`.
async fn subscribe(
    client: &redis::Client,
    channel: &str,
    wait: Duration,
) -> anyhow::Result<redis::aio::PubSub> {
    let subscribed = tokio::time::timeout(wait, async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    })
    .await;
    match subscribed {
        Ok(result) => Ok(result?),
        Err(_) => anyhow::bail!("Redis did not answer the subscription in time"),
    }
}

#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Event>,
    redis: Option<(Redis, String)>,
    /// Moved on by every booking event, for the response cache.
    versions: crate::infra::cache::Versions,
}

impl EventBus {
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(LOCAL_CAPACITY).0,
            redis: None,
            versions: crate::infra::cache::Versions::in_process(),
        }
    }

    /// Publishes through Redis and starts this instance's one subscription.
    pub async fn over_redis(redis: Redis, config: &RedisConfig) -> anyhow::Result<Self> {
        let channel = redis.key("events");
        let bus = Self {
            local: broadcast::channel(LOCAL_CAPACITY).0,
            redis: Some((redis.clone(), channel.clone())),
            versions: crate::infra::cache::Versions::over_redis(redis),
        };
        let client = redis::Client::open(config.url.expose_secret())?;
        let local = bus.local.clone();
        // Subscribe before returning, so nothing published afterwards is
        // missed; then keep the subscription up for the life of the process.
        let mut pubsub = subscribe(&client, &channel, STARTUP_WAIT).await?;
        tokio::spawn(async move {
            loop {
                forward(pubsub, &local).await;
                tracing::warn!("event subscription lost; reconnecting");
                pubsub = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Ok(p) = subscribe(&client, &channel, RESUBSCRIBE_WAIT).await {
                        tracing::info!("event subscription back");
                        break p;
                    }
                };
            }
        });
        Ok(bus)
    }

    pub async fn publish(&self, event: Event) {
        match &self.redis {
            Some((redis, channel)) => {
                let payload = match serde_json::to_string(&event) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = %e, "could not encode an event");
                        return;
                    }
                };
                if let Event::BookingChanged(_) = &event {
                    self.versions
                        .bump(crate::infra::cache::Scope::Bookings)
                        .await;
                }
                let published: Result<i64, _> = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async(&mut redis.conn())
                    .await;
                if let Err(e) = published {
                    tracing::error!(error = %e, "could not publish an event");
                    // Sockets of ended sessions on this instance close all
                    // the same (closing twice is harmless, should the
                    // event get through after all).
                    if let Event::SessionsEnded { .. } = &event {
                        let _ = self.local.send(event);
                    }
                }
            }
            None => {
                if let Event::BookingChanged(_) = &event {
                    self.versions
                        .bump_locally(crate::infra::cache::Scope::Bookings);
                }
                let _ = self.local.send(event);
            }
        }
        metrics::counter!("roost_events_published_total").increment(1);
    }

    /// With read replicas that may lag by up to `lag`: the cache's versions
    /// move again once it has passed.
    pub fn with_replica_lag(mut self, lag: Option<Duration>) -> Self {
        self.versions = self.versions.settling_after(lag);
        self
    }

    /// The public data's version counters (see `crate::infra::cache`).
    pub fn versions(&self) -> &crate::infra::cache::Versions {
        &self.versions
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

async fn forward(pubsub: redis::aio::PubSub, local: &broadcast::Sender<Event>) {
    let mut messages = pubsub.into_on_message();
    while let Some(message) = messages.next().await {
        let Ok(payload) = message.get_payload::<String>() else {
            continue;
        };
        match serde_json::from_str::<Event>(&payload) {
            Ok(event) => {
                let _ = local.send(event);
            }
            Err(e) => tracing::warn!(error = %e, "an event that does not decode"),
        }
    }
}
