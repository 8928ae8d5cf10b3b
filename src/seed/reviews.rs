//! Seeded reviews: on completed stays that ended more than 14 days before
//! the day of seeding (the stays of the last 14 days are left to be
//! reviewed), overall ratings skewed towards 4 and 5, most with category
//! ratings, some answered by the host. The listings' rating summaries and
//! the hosts' ratings are then set to exactly what the reviews give.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SubsecRound, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{SeedOptions, batch_rows, id_at, rng};
use crate::reviews::service::REVIEW_WINDOW_DAYS;
use domain::kernel::stay::today;
use entity::{
    booking::{BookingStatus, Column as B, Entity as Bookings},
    review::{ActiveModel as ReviewRow, Entity as Reviews},
};

/// Reviews at scale `scale` (30,000 at scale 1), when there are as many
/// stays to review.
pub fn count(scale: f64) -> usize {
    (30_000.0 * scale).round() as usize
}

const GOOD: [&str; 6] = [
    "Spotless, comfortable and exactly as described. We would happily come back.",
    "A lovely place in a great neighbourhood; the host was quick to answer.",
    "Great value. Check-in was easy and the beds were very comfortable.",
    "Everything we needed for a relaxed stay, and a perfect location.",
    "Bright, quiet and well equipped. Highly recommended.",
    "The host's tips for restaurants nearby were excellent. Thank you!",
];
const MIXED: [&str; 4] = [
    "Nice location, but the flat could have been cleaner.",
    "Fine for a short stay; the photos make it look a bit bigger.",
    "Comfortable enough, though the street was noisy at night.",
    "Good value overall, with a few small things that need fixing.",
];
const BAD: [&str; 3] = [
    "Not as described, and the check-in instructions were unclear.",
    "Disappointing: the place was dirty when we arrived.",
    "We had trouble reaching the host and the heating did not work.",
];
const RESPONSES: [&str; 4] = [
    "Thank you for staying with us, you are welcome back any time!",
    "Thanks for the kind words, it was a pleasure hosting you.",
    "Thank you for the feedback; we have fixed what you pointed out.",
    "Sorry your stay was not perfect; we are looking into it.",
];

/// Overall ratings: about 55% fives, 30% fours, 10% threes.
fn overall(rng: &mut ChaCha8Rng) -> i32 {
    match rng.random_range(0..100) {
        0..2 => 1,
        2..5 => 2,
        5..15 => 3,
        15..45 => 4,
        _ => 5,
    }
}

/// A category rating near the overall one.
fn near(rng: &mut ChaCha8Rng, rating: i32) -> i32 {
    let delta = match rng.random_range(0..10) {
        0 => -1,
        1 => 1,
        _ => 0,
    };
    (rating + delta).clamp(1, 5)
}

fn pick<'a>(rng: &mut ChaCha8Rng, texts: &[&'a str]) -> &'a str {
    texts[rng.random_range(0..texts.len())]
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Writes the reviews and sets the rating aggregates; how many it wrote.
pub async fn insert(conn: &impl ConnectionTrait, options: SeedOptions) -> anyhow::Result<usize> {
    let cutoff = today() - Duration::days(REVIEW_WINDOW_DAYS);
    let stays: Vec<(Uuid, Uuid, Uuid, Uuid, NaiveDate)> = Bookings::find()
        .select_only()
        .columns([B::Id, B::PropertyId, B::GuestId, B::HostId, B::CheckOut])
        .filter(B::Status.eq(BookingStatus::Completed))
        .filter(B::CheckOut.lt(cutoff))
        .order_by_asc(B::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut rng = rng(options.seed, 5);
    let wanted = count(options.scale).min(stays.len());
    let mut chosen = rand::seq::index::sample(&mut rng, stays.len(), wanted).into_vec();
    chosen.sort_unstable();
    let now = Utc::now();
    let mut rows = Vec::with_capacity(wanted);
    for i in chosen {
        let (booking_id, property_id, author_id, host_id, check_out) = stays[i];
        let rating = overall(&mut rng);
        let categories = rng.random_bool(0.85);
        let mut category = || categories.then(|| near(&mut rng, rating));
        let (cleanliness, accuracy, check_in, communication, location, value) = (
            category(),
            category(),
            category(),
            category(),
            category(),
            category(),
        );
        let comment = match rating {
            4 | 5 => pick(&mut rng, &GOOD),
            3 => pick(&mut rng, &MIXED),
            _ => pick(&mut rng, &BAD),
        };
        let created_at = (midnight(check_out)
            + Duration::seconds(rng.random_range(3600..REVIEW_WINDOW_DAYS * 24 * 3600)))
        .min(now)
        .trunc_subsecs(6);
        let id = id_at(&mut rng, created_at);
        let response = rng.random_bool(0.3).then(|| {
            let text = if rating >= 4 {
                pick(&mut rng, &RESPONSES[..2])
            } else {
                pick(&mut rng, &RESPONSES[2..])
            };
            let at = (created_at + Duration::seconds(rng.random_range(600..3 * 24 * 3600)))
                .min(now)
                .trunc_subsecs(6);
            (text.to_owned(), at)
        });
        rows.push(ReviewRow {
            id: Set(id),
            booking_id: Set(booking_id),
            property_id: Set(property_id),
            author_id: Set(author_id),
            host_id: Set(host_id),
            rating: Set(rating),
            cleanliness: Set(cleanliness),
            accuracy: Set(accuracy),
            check_in: Set(check_in),
            communication: Set(communication),
            location: Set(location),
            value: Set(value),
            comment: Set(comment.to_owned()),
            host_response: Set(response.as_ref().map(|r| r.0.clone())),
            host_responded_at: Set(response.as_ref().map(|r| r.1)),
            created_at: Set(created_at),
            updated_at: Set(response.as_ref().map_or(created_at, |r| r.1)),
        });
    }
    let written = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ReviewRow> = rows.by_ref().take(batch_rows(17)).collect();
        Reviews::insert_many(chunk).exec(conn).await?;
    }
    set_aggregates(conn).await?;
    Ok(written)
}

/// Sets every listing's rating summary and every host's rating to what the
/// (freshly seeded) reviews give.
async fn set_aggregates(conn: &impl ConnectionTrait) -> anyhow::Result<()> {
    let category = |c: &str| format!("COUNT({c}) AS {c}_count, COALESCE(SUM({c}), 0) AS {c}_sum");
    let categories = [
        "cleanliness",
        "accuracy",
        "check_in",
        "communication",
        "location",
        "value",
    ];
    let sums: Vec<String> = categories.iter().map(|c| category(c)).collect();
    let sets: Vec<String> = categories
        .iter()
        .map(|c| format!("{c}_count = a.{c}_count, {c}_sum = a.{c}_sum"))
        .collect();
    conn.execute_unprepared(&format!(
        "UPDATE properties SET rating_count = a.n, rating_sum = a.total, \
         rating_avg = CAST(a.total AS DOUBLE PRECISION) / a.n, {} \
         FROM (SELECT property_id, COUNT(*) AS n, SUM(rating) AS total, {} \
         FROM reviews GROUP BY property_id) a WHERE properties.id = a.property_id",
        sets.join(", "),
        sums.join(", ")
    ))
    .await?;
    conn.execute_unprepared(
        "UPDATE users SET host_rating_count = a.n, host_rating_sum = a.total \
         FROM (SELECT host_id, COUNT(*) AS n, SUM(rating) AS total FROM reviews GROUP BY host_id) a \
         WHERE users.id = a.host_id",
    )
    .await?;
    Ok(())
}
