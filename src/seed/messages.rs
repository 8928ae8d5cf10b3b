//! Seeded conversations and their messages.
//!
//! Scale 1: 20,000 messages in about 4,000 conversations of 1 to 9
//! messages (the last one cut to make the count exact). Seven in ten are
//! between the guest and the host of a seeded booking, about its listing;
//! the rest between a traveller and a host, about no listing. Senders take
//! turns (now and then someone writes twice in a row), and times fall in
//! the two years before the day of seeding, minutes to two days apart.
//!
//! One conversation in ten is recent (its messages within the last 30
//! days). Messages are read within hours of being sent, except in
//! conversations whose last message is less than 30 days old: there the
//! last sender's trailing messages are, six times in ten, still unread. The denormalized
//! fields (the conversations' `updated_at` and last message, each
//! participant's `updated_at` and unread count) are computed from the
//! messages as written.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, Set, Statement};
use uuid::Uuid;

use super::{SeedOptions, batch_rows, id_at, rng};
use crate::messaging::service::pair_key;
use domain::kernel::stay::today;
use entity::{
    conversation::{ActiveModel as ConversationRow, Entity as Conversations},
    conversation_participant::{ActiveModel as ParticipantRow, Entity as Participants},
    message::{ActiveModel as MessageRow, Entity as Messages},
};

pub struct Threads {
    pub conversations: usize,
    pub messages: usize,
}

pub fn count(scale: f64) -> usize {
    ((20_000.0 * scale).round() as usize).max(1)
}

const OPENERS: [&str; 6] = [
    "Hi! Is the place available for our dates?",
    "Hello, we are looking forward to our stay. Is early check-in possible?",
    "Hi there, is there parking nearby?",
    "Good morning! How do we get the keys?",
    "Hello, is the flat suitable for a small child?",
    "Hi, could you recommend a good restaurant in the area?",
];
const ANSWERS: [&str; 6] = [
    "Hi! Yes, of course. Let me know if you need anything else.",
    "Thanks for your message. Check-in is from 3 pm, but I can try to make it earlier.",
    "There is a public car park two streets away, about 12 a day.",
    "The keys are in a lockbox by the door; I will send you the code the day before.",
    "Sure, I can put a travel cot in the bedroom.",
    "Great question! The bistro on the corner is our favourite.",
];
const FOLLOW_UPS: [&str; 6] = [
    "Perfect, thank you!",
    "Great, see you soon.",
    "Thanks a lot, that helps.",
    "One more question: is there a hair dryer?",
    "We will arrive around 6 pm.",
    "Wonderful, thank you for the quick answer.",
];

/// Two users who talk, and the listing they talk about (if any).
#[derive(FromQueryResult)]
struct Stay {
    guest_id: Uuid,
    host_id: Uuid,
    property_id: Uuid,
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    options: SeedOptions,
    hosts: &[Uuid],
    travellers: &[Uuid],
) -> anyhow::Result<Threads> {
    let total = count(options.scale);
    // The booked stays, in a fixed order: conversations about them.
    let stays = Stay::find_by_statement(Statement::from_string(
        conn.get_database_backend(),
        "SELECT guest_id, host_id, property_id FROM bookings ORDER BY id",
    ))
    .all(conn)
    .await?;
    if (stays.is_empty() && (hosts.is_empty() || travellers.is_empty())) || total == 0 {
        return Ok(Threads {
            conversations: 0,
            messages: 0,
        });
    }
    let mut rng = rng(options.seed, 4);
    let end = today().and_time(NaiveTime::MIN).and_utc();
    let recent = end - Duration::days(30);
    let mut keys = HashSet::new();
    let mut conversations = Vec::new();
    let mut participants = Vec::new();
    let mut messages = Vec::with_capacity(total);
    let mut attempts = 0;
    while messages.len() < total && attempts < total * 10 {
        attempts += 1;
        let (guest, host, property) =
            if !stays.is_empty() && (hosts.is_empty() || rng.random_bool(0.7)) {
                let s = &stays[rng.random_range(0..stays.len())];
                (s.guest_id, s.host_id, Some(s.property_id))
            } else {
                (pick(&mut rng, travellers), pick(&mut rng, hosts), None)
            };
        if guest == host || !keys.insert(pair_key(guest, host, property)) {
            continue;
        }
        let size = rng.random_range(1..=9).min(total - messages.len());
        // The first message within the two years before the day of seeding,
        // leaving room for the rest (at most two days apart) before it.
        let room = i64::try_from(size).unwrap_or(9) * 48 * 60 + 60;
        // One in ten is lately active: its first message within 30 days.
        let oldest = if rng.random_bool(0.1) {
            room + 30 * 24 * 60
        } else {
            2 * 365 * 24 * 60
        };
        let mut at = end - Duration::minutes(rng.random_range(room..oldest));
        let first_at = at;
        let thread: Vec<(Uuid, DateTime<Utc>, String)> = (0..size)
            .map(|i| {
                if i > 0 {
                    at += Duration::minutes(rng.random_range(2..48 * 60));
                }
                let guest_writes = i == 0 || (i % 2 == 0) != rng.random_bool(0.15);
                let body = match (i, guest_writes) {
                    (0, _) => pick(&mut rng, &OPENERS),
                    (_, false) => pick(&mut rng, &ANSWERS),
                    (_, true) => pick(&mut rng, &FOLLOW_UPS),
                };
                (if guest_writes { guest } else { host }, at, body.to_owned())
            })
            .collect();
        let last_at = thread.last().map_or(end, |m| m.1);
        let last_sender = thread.last().map_or(guest, |m| m.0);
        // The last sender's trailing messages may still be unread.
        let trailing = thread
            .iter()
            .rev()
            .take_while(|m| m.0 == last_sender)
            .count();
        let unread = if last_at > recent && rng.random_bool(0.6) {
            trailing
        } else {
            0
        };
        let conversation_id = id_at(&mut rng, first_at);
        let mut last_id = None;
        for (i, (sender, sent_at, body)) in thread.into_iter().enumerate() {
            let id = id_at(&mut rng, sent_at);
            let read_at = (i + unread < size)
                .then(|| (sent_at + Duration::minutes(rng.random_range(1..=240))).min(end));
            messages.push(MessageRow {
                id: Set(id),
                conversation_id: Set(conversation_id),
                sender_id: Set(sender),
                body: Set(body),
                sent_at: Set(sent_at),
                read_at: Set(read_at),
            });
            last_id = Some(id);
        }
        conversations.push(ConversationRow {
            id: Set(conversation_id),
            pair_key: Set(pair_key(guest, host, property)),
            property_id: Set(property),
            last_message_id: Set(last_id),
            created_at: Set(first_at),
            updated_at: Set(last_at),
        });
        for user in [guest, host] {
            let unread_count = if user == last_sender { 0 } else { unread };
            participants.push(ParticipantRow {
                conversation_id: Set(conversation_id),
                user_id: Set(user),
                unread_count: Set(i32::try_from(unread_count).unwrap_or(0)),
                last_read_at: Set(None),
                updated_at: Set(last_at),
            });
        }
    }
    let threads = Threads {
        conversations: conversations.len(),
        messages: messages.len(),
    };
    let mut rows = conversations.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(batch_rows(6)).collect();
        Conversations::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    let mut rows = participants.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(batch_rows(5)).collect();
        Participants::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    let mut rows = messages.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(batch_rows(6)).collect();
        Messages::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(threads)
}
