//! Routes events from the bus to the subscriptions that want them.
//!
//! One task per process reads the bus and looks each event's topics up in a
//! table, so an event costs a hash lookup per topic, not a wake-up of every
//! subscription. Each subscription has a bounded queue: a client that reads
//! too slowly fills it, and is then told and dropped (its connection is
//! closed) instead of making the server buffer without limit.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use futures_util::Stream;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use uuid::Uuid;

use super::control::Connection;
use domain::infra::events::{Event, EventBus};

/// What a subscription listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Status changes of one booking.
    Booking(Uuid),
    /// Status changes of bookings on a host's listings.
    HostBookings(Uuid),
    /// Notifications recorded for a user.
    Notifications(Uuid),
    /// Messages sent to a user.
    Messages(Uuid),
    /// The end of a session.
    Session(Uuid),
}

/// The topics an event is delivered to.
fn topics_of(event: &Event) -> Vec<Topic> {
    match event {
        Event::BookingChanged(c) => {
            vec![Topic::Booking(c.booking_id), Topic::HostBookings(c.host_id)]
        }
        Event::NotificationCreated(n) => vec![Topic::Notifications(n.notification.user_id)],
        Event::MessageSent(m) => m
            .recipient_ids
            .iter()
            .map(|id| Topic::Messages(*id))
            .collect(),
        Event::SessionsEnded { session_ids } => {
            session_ids.iter().map(|id| Topic::Session(*id)).collect()
        }
    }
}

struct Slot {
    id: u64,
    tx: mpsc::Sender<Arc<Event>>,
    /// Closed when this subscription overflows.
    connection: Option<Connection>,
}

struct Table {
    topics: Mutex<HashMap<Topic, Vec<Slot>>>,
    next_id: AtomicU64,
    buffer: usize,
}

/// The process's subscription table (and its count of open sockets).
/// Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    table: Arc<Table>,
    sockets: super::Sockets,
}

impl Hub {
    /// Starts routing `bus`'s events; `buffer` is each subscription's queue.
    pub fn start(bus: &EventBus, buffer: usize) -> Self {
        let hub = Self {
            table: Arc::new(Table {
                topics: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                buffer: buffer.max(1),
            }),
            sockets: super::Sockets::default(),
        };
        let mut events = bus.subscribe();
        let table = Arc::downgrade(&hub.table);
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        let Some(table) = table.upgrade() else { break };
                        route(&table, Arc::new(event));
                    }
                    Err(RecvError::Lagged(missed)) => {
                        metrics::counter!("roost_events_missed_total").increment(missed);
                        tracing::error!(
                            missed,
                            "the subscription router fell behind the event bus"
                        );
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        hub
    }

    /// A feed of `topic`'s events from now on. `connection` is closed if
    /// the feed's queue overflows.
    pub fn subscribe(&self, topic: Topic, connection: Option<Connection>) -> Feed {
        let (tx, rx) = mpsc::channel(self.table.buffer);
        let id = self.table.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut topics) = self.table.topics.lock() {
            topics
                .entry(topic)
                .or_default()
                .push(Slot { id, tx, connection });
        }
        Feed {
            rx,
            _registration: Registration {
                table: Arc::downgrade(&self.table),
                topic,
                id,
            },
        }
    }

    /// Subscriptions currently registered (all topics).
    pub fn len(&self) -> usize {
        self.table
            .topics
            .lock()
            .map(|t| t.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Subscriptions of clients (session watchers left out).
    pub fn subscriptions(&self) -> usize {
        self.table
            .topics
            .lock()
            .map(|t| {
                t.iter()
                    .filter(|(topic, _)| !matches!(topic, Topic::Session(_)))
                    .map(|(_, slots)| slots.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The open WebSockets, per client address and per user.
    pub fn sockets(&self) -> &super::Sockets {
        &self.sockets
    }
}

fn route(table: &Table, event: Arc<Event>) {
    let Ok(mut topics) = table.topics.lock() else {
        return;
    };
    for topic in topics_of(&event) {
        let Some(slots) = topics.get_mut(&topic) else {
            continue;
        };
        slots.retain(|slot| match slot.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("roost_subscriptions_dropped_total", "reason" => "slow")
                    .increment(1);
                if let Some(connection) = &slot.connection {
                    connection.close(super::control::TOO_SLOW);
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if slots.is_empty() {
            topics.remove(&topic);
        }
    }
}

/// Removes its subscription from the table when the feed is dropped.
struct Registration {
    table: Weak<Table>,
    topic: Topic,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(table) = self.table.upgrade() else {
            return;
        };
        let Ok(mut topics) = table.topics.lock() else {
            return;
        };
        if let Some(slots) = topics.get_mut(&self.topic) {
            slots.retain(|s| s.id != self.id);
            if slots.is_empty() {
                topics.remove(&self.topic);
            }
        }
    }
}

/// The events of one subscription, in the order the bus delivered them.
pub struct Feed {
    rx: mpsc::Receiver<Arc<Event>>,
    _registration: Registration,
}

impl Stream for Feed {
    type Item = Arc<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::infra::events::NotificationCreated;
    use futures_util::StreamExt;

    fn notification(user_id: Uuid) -> Event {
        let now = chrono::Utc::now();
        Event::NotificationCreated(NotificationCreated {
            notification: entity::notification::Model {
                id: Uuid::now_v7(),
                user_id,
                kind: "MESSAGE_RECEIVED".into(),
                title: "t".into(),
                body: "b".into(),
                booking_id: None,
                read_at: None,
                emailed_at: None,
                created_at: now,
            },
        })
    }

    #[tokio::test]
    async fn events_reach_only_their_topic_and_a_dropped_feed_unregisters() {
        let bus = EventBus::in_process();
        let hub = Hub::start(&bus, 8);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut feed_a = hub.subscribe(Topic::Notifications(a), None);
        let feed_b = hub.subscribe(Topic::Notifications(b), None);
        assert_eq!(hub.len(), 2);
        bus.publish(notification(a)).await;
        let got = tokio::time::timeout(std::time::Duration::from_secs(2), feed_a.next())
            .await
            .ok()
            .flatten();
        match got.as_deref() {
            Some(Event::NotificationCreated(n)) => assert_eq!(n.notification.user_id, a),
            other => panic!("expected a's notification, got {other:?}"),
        }
        drop(feed_b);
        assert_eq!(hub.len(), 1);
    }

    #[tokio::test]
    async fn a_feed_that_overflows_closes_its_connection() {
        let bus = EventBus::in_process();
        let hub = Hub::start(&bus, 2);
        let user = Uuid::now_v7();
        let connection = Connection::new(None);
        let _feed = hub.subscribe(Topic::Notifications(user), Some(connection.clone()));
        for _ in 0..3 {
            bus.publish(notification(user)).await;
        }
        tokio::time::timeout(std::time::Duration::from_secs(2), connection.closed())
            .await
            .ok();
        assert_eq!(connection.reason(), Some(super::super::control::TOO_SLOW));
        // The overflowing subscription was removed.
        assert_eq!(hub.len(), 0);
    }
}
