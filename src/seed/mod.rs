//! `roost seed`: the reference dataset of the workload, deterministic from a
//! seed number, written in large batches inside one transaction.
//!
//! Scale 1: 10,000 users (2,000 hosts, one admin), 5,000 listed properties
//! spread evenly over 50 cities, each with 5 to 15 amenities and a price of
//! 30 to 800 a night, and 50,000 bookings with one payment per paid booking.
//! Every seeded user's password is `password123!`.
//!
//! The bookings' stays fall in the 550 days before and the 180 days after the
//! day of seeding, and no two stays of one listing overlap (nor touch a night its
//! host blocked). Stays that ended are mostly COMPLETED (some of them in the
//! last two weeks, not reviewed yet), the rest CANCELLED with their refund,
//! EXPIRED or DECLINED; a stay under way is CONFIRMED; coming stays are
//! mostly CONFIRMED, some AWAITING_HOST or CANCELLED, a few PENDING_PAYMENT.
//! Each is priced as the app prices it. Payments follow their booking:
//! SUCCEEDED when it was confirmed, AUTHORIZED while the host decides,
//! REFUNDED or PARTIALLY_REFUNDED when cancelled, VOIDED when declined or
//! unanswered, none while unpaid. No notifications are seeded.
//!
//! 20,000 messages in about 4,000 conversations between guests and hosts,
//! most about a listing the guest booked (see `messages`).
//! 30,000 reviews at scale 1 go to completed stays that ended more than 14
//! days ago (of about 32,000 such stays at scale 1); the
//! stays of the last 14 days stay unreviewed. Ratings lean to 4 and 5, most
//! reviews rate the categories too, about a third have the host's response,
//! and every listing's rating summary and every host's rating is exactly
//! what its reviews give.
//!
//! Identifiers and creation times of users and listings derive from the
//! seed and a fixed anchor date; calendar dates, and the times of bookings
//! and payments, are counted from the day of seeding (holds and requests
//! still open run out counted from the moment of seeding).

mod bookings;
mod data;
mod messages;
pub mod photos;
mod properties;
mod reviews;
mod users;

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::{auth::passwords::Passwords, properties::location::PublicPoints};

use domain::infra::db::begin_write;

/// The password of every seeded account.
pub const PASSWORD: &str = "password123!";
/// The seeded admin.
pub const ADMIN_EMAIL: &str = "admin@example.com";

#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    /// Multiplies every row count (1 is the reference size; 0.02 a demo).
    pub scale: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    pub users: usize,
    pub hosts: usize,
    pub properties: usize,
    pub amenity_links: usize,
    pub blocked_nights: usize,
    pub bookings: usize,
    pub payments: usize,
    pub conversations: usize,
    pub messages: usize,
    pub reviews: usize,
    pub seconds: f64,
}

/// Rows per INSERT: large batches, under both backends' limits on bound
/// parameters (SQLite 32,766; PostgreSQL 65,535).
pub(crate) fn batch_rows(columns: usize) -> usize {
    (30_000 / columns.max(1)).max(1)
}

/// The random source of one part of the dataset. Each part has its own
/// stream, so adding rows to one does not shift the others.
pub(crate) fn rng(seed: u64, part: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(part);
    rng
}

/// 2026-01-01: creation times are drawn from the two years before it.
pub(crate) fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// A time within the two years before the anchor, and a UUIDv7 for it.
pub(crate) fn stamp(rng: &mut ChaCha8Rng) -> (DateTime<Utc>, Uuid) {
    let seconds_back = rng.random_range(0..2 * 365 * 24 * 3600);
    let at = anchor() - chrono::Duration::seconds(seconds_back);
    (at, id_at(rng, at))
}

/// A UUIDv7 for the time `at`, its random part drawn from `rng`.
pub(crate) fn id_at(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Seeds an empty database; `points` places the listings' public points
/// (the server's, so that they are the ones it would place).
pub async fn seed(
    db: &DatabaseConnection,
    passwords: &Passwords,
    points: &PublicPoints,
    options: SeedOptions,
) -> anyhow::Result<SeedReport> {
    if !(options.scale > 0.0 && options.scale <= 100.0) {
        bail!("--scale must be more than 0 and at most 100");
    }
    let already = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(ADMIN_EMAIL))
        .one(db)
        .await?;
    if already.is_some() {
        bail!("this database is already seeded ({ADMIN_EMAIL} exists); seed an empty one");
    }
    let started = Instant::now();
    let password_hash = passwords
        .hash(PASSWORD.to_owned())
        .await
        .context("hashing the seed password")?;
    let txn = begin_write(db).await?;
    let people = users::insert(&txn, options, &password_hash).await?;
    let listings = properties::insert(&txn, options, &people.hosts, points).await?;
    let stays = bookings::insert(&txn, options, &listings.listings, &people.travellers).await?;
    let threads = messages::insert(&txn, options, &people.hosts, &people.travellers).await?;
    let reviews = reviews::insert(&txn, options).await?;
    txn.commit().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Fresh statistics for the planner, and a visibility map so that
        // index-only scans are possible at once.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(SeedReport {
        users: people.count,
        hosts: people.hosts.len(),
        properties: listings.count,
        amenity_links: listings.amenity_links,
        blocked_nights: listings.blocked_nights,
        bookings: stays.bookings,
        payments: stays.payments,
        conversations: threads.conversations,
        messages: threads.messages,
        reviews,
        seconds: started.elapsed().as_secs_f64(),
    })
}
