//! Seeded bookings and their payments.
//!
//! Each stay goes to a listing drawn at random (so some listings are busier
//! than others). A listing's stays lie in the two years around the day of
//! seeding, which is cut into as many equal slots as it has stays, one stay
//! inside each: so no two stays of a listing overlap, whatever their status.
//! A stay is moved within its slot off the nights its host blocked; if no
//! place in the slot is free of them, it is seeded as cancelled, which holds
//! no nights.
//!
//! A stay's status follows its dates (see the module above), its price is
//! the app's quote for it, and its history (created, paid, confirmed,
//! cancelled, completed) is counted back from the day of seeding; only the
//! holds and requests still open are counted from the moment of seeding, so
//! that they run out when the app would let them.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{SeedOptions, batch_rows, id_at, properties::Listing, rng};
use crate::{
    bookings::refunds::{CancelledBy, refund_minor, refund_percent},
    properties::pricing,
};
use domain::{
    config::Fees,
    kernel::stay::{BOOKING_WINDOW_DAYS, today},
};
use entity::{
    booking::{ActiveModel as BookingRow, BookingStatus as S, Entity as Bookings},
    payment::{ActiveModel as PaymentRow, Entity as Payments, PaymentProvider, PaymentStatus as P},
};

pub struct Stays {
    pub bookings: usize,
    pub payments: usize,
}

pub fn count(scale: f64) -> usize {
    ((50_000.0 * scale).round() as usize).max(1)
}

/// Stays check in at the earliest this many days before the day of seeding,
const PAST_DAYS: i64 = 550;
/// and check out at the latest this many days after it: two years in all,
/// most of it past, so there are enough finished stays for the workload's
/// 30,000 reviews.
const FUTURE_DAYS: i64 = 180;
const _: () = assert!(FUTURE_DAYS <= BOOKING_WINDOW_DAYS);

/// The app's default fees (ROOST_SERVICE_FEE_PERCENT, ROOST_TAX_PERCENT).
const FEES: Fees = Fees {
    service_fee_percent: Decimal::from_parts(14, 0, 0, false, 0),
    tax_percent: Decimal::ZERO,
};

/// The app's default windows: an unpaid hold, and a host's time to answer.
const HOLD_SECONDS: i64 = 15 * 60;
const HOST_ANSWER_SECONDS: i64 = 24 * 3600;

const DAY: i64 = 24 * 3600;
const HOUR: i64 = 3600;

const GUEST_REASONS: [&str; 4] = [
    "Our plans changed.",
    "We found a place closer to the venue.",
    "Travel dates moved.",
    "Flight cancelled.",
];
const HOST_REASONS: [&str; 2] = [
    "The place needs an urgent repair; sorry for the trouble.",
    "A double booking on another site; very sorry.",
];
const DECLINE_REASONS: [&str; 2] = [
    "Sorry, those dates no longer work for us.",
    "The place is not suited to this group, sorry.",
];

/// A payment as the seed writes it.
struct Paid {
    status: P,
    refunded_minor: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// How a booking came to where it stands.
struct Story {
    status: S,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    cancelled: Option<(DateTime<Utc>, CancelledBy, u32, i64)>,
    reason: Option<&'static str>,
    payment: Option<Paid>,
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn seconds(n: i64) -> Duration {
    Duration::seconds(n)
}

/// How many stays each listing gets: drawn one by one, with a cap that
/// keeps every listing's slots long enough for two weeks.
fn shares(rng: &mut ChaCha8Rng, stays: usize, listings: usize) -> Vec<usize> {
    let cap = (stays.div_ceil(listings) * 3).max(30);
    let mut counts = vec![0; listings];
    for _ in 0..stays {
        loop {
            let i = rng.random_range(0..listings);
            if counts[i] < cap {
                counts[i] += 1;
                break;
            }
        }
    }
    counts
}

/// Someone other than the host.
fn guest_for(rng: &mut ChaCha8Rng, travellers: &[Uuid], host: Uuid) -> Option<Uuid> {
    for _ in 0..16 {
        let guest = travellers[rng.random_range(0..travellers.len())];
        if guest != host {
            return Some(guest);
        }
    }
    travellers.iter().copied().find(|g| *g != host)
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    options: SeedOptions,
    listings: &[Listing],
    travellers: &[Uuid],
) -> anyhow::Result<Stays> {
    if listings.is_empty() || travellers.is_empty() {
        return Ok(Stays {
            bookings: 0,
            payments: 0,
        });
    }
    let total = count(options.scale);
    let mut rng = rng(options.seed, 3);
    let today = today();
    let now = Utc::now();
    let start = today - Duration::days(PAST_DAYS);
    let window = PAST_DAYS + FUTURE_DAYS;
    let shares = shares(&mut rng, total, listings.len());
    let mut bookings = Vec::with_capacity(total);
    let mut payments = Vec::with_capacity(total);
    for (listing, &stays) in listings.iter().zip(&shares) {
        let stays = i64::try_from(stays).context("stays per listing")?;
        for slot in 0..stays {
            let from = start + Duration::days(slot * window / stays);
            let slot_days = (slot + 1) * window / stays - slot * window / stays;
            let wanted: i64 = if rng.random_bool(0.8) {
                rng.random_range(1..=7)
            } else {
                rng.random_range(8..=14)
            };
            let nights = wanted
                .clamp(i64::from(listing.min_nights), i64::from(listing.max_nights))
                .min(slot_days)
                .max(1);
            let places = slot_days - nights + 1;
            let offset = rng.random_range(0..places);
            let clashes = |at: i64| {
                let check_in = from + Duration::days(at);
                let check_out = check_in + Duration::days(nights);
                listing
                    .blocked
                    .iter()
                    .any(|d| *d >= check_in && *d < check_out)
            };
            let free = (0..places)
                .map(|step| (offset + step) % places)
                .find(|at| !clashes(*at));
            let check_in = from + Duration::days(free.unwrap_or(offset));
            let check_out = check_in + Duration::days(nights);
            let (booking, payment) = stay(
                &mut rng,
                listing,
                travellers,
                (check_in, check_out),
                free.is_none(),
                today,
                now,
            )?;
            bookings.push(booking);
            payments.extend(payment);
        }
    }
    let counts = Stays {
        bookings: bookings.len(),
        payments: payments.len(),
    };
    let mut bookings = bookings.into_iter().peekable();
    while bookings.peek().is_some() {
        let chunk: Vec<BookingRow> = bookings.by_ref().take(batch_rows(26)).collect();
        Bookings::insert_many(chunk).exec(conn).await?;
    }
    let mut payments = payments.into_iter().peekable();
    while payments.peek().is_some() {
        let chunk: Vec<PaymentRow> = payments.by_ref().take(batch_rows(13)).collect();
        Payments::insert_many(chunk).exec(conn).await?;
    }
    Ok(counts)
}

/// One stay of `listing` on `dates`, and its payment if it was paid.
/// `clashes`: the dates touch a blocked night, so it may not hold them.
fn stay(
    rng: &mut ChaCha8Rng,
    listing: &Listing,
    travellers: &[Uuid],
    (check_in, check_out): (NaiveDate, NaiveDate),
    clashes: bool,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<(BookingRow, Option<PaymentRow>)> {
    let Some(guest_id) = guest_for(rng, travellers, listing.host_id) else {
        bail!("no seeded user can book the listing {}", listing.id);
    };
    let nights = (check_out - check_in).num_days();
    let guests = rng.random_range(1..=listing.max_guests.max(1));
    let price = pricing::price(
        &vec![listing.price_minor; usize::try_from(nights)?],
        listing.cleaning_fee_minor,
        listing.weekly_discount_percent,
        listing.monthly_discount_percent,
        FEES,
    );
    let total_minor = price.total;

    // Everything happened before the stay began and before today.
    let bound = midnight(check_in).min(midnight(today));
    let nominal = midnight(check_in) - seconds(rng.random_range(DAY..=120 * DAY));
    let created = if nominal > bound - seconds(2 * HOUR) {
        bound - seconds(2 * HOUR + rng.random_range(0..30 * DAY))
    } else {
        nominal
    };
    let booking_id = id_at(rng, created);
    let payment_id = id_at(rng, created + seconds(60));

    let ended = check_out < today;
    let under_way = !ended && check_in <= today;
    let roll: f64 = rng.random();
    let status = if clashes {
        S::Cancelled
    } else if ended {
        match roll {
            r if r < 0.85 => S::Completed,
            r if r < 0.95 => S::Cancelled,
            r if r < 0.98 || listing.instant_book => S::Expired,
            _ => S::Declined,
        }
    } else if under_way {
        S::Confirmed
    } else {
        match roll {
            r if r < 0.80 => S::Confirmed,
            r if r < 0.88 && !listing.instant_book => S::AwaitingHost,
            r if r < 0.88 => S::Confirmed,
            r if r < 0.89 => S::PendingPayment,
            _ => S::Cancelled,
        }
    };

    let paid_at = created + seconds(rng.random_range(30..=600));
    let paid = |status, refunded_minor, updated_at| {
        Some(Paid {
            status,
            refunded_minor,
            created_at: paid_at,
            updated_at,
        })
    };
    let story = match status {
        S::PendingPayment => {
            let created_at = now - seconds(rng.random_range(0..300));
            Story {
                status,
                version: 1,
                created_at,
                updated_at: created_at,
                expires_at: Some(created_at + seconds(HOLD_SECONDS)),
                cancelled: None,
                reason: None,
                payment: None,
            }
        }
        S::AwaitingHost => {
            let created_at = now - seconds(rng.random_range(600..=20 * HOUR));
            let paid_at = created_at + seconds(rng.random_range(30..=300));
            Story {
                status,
                version: 2,
                created_at,
                updated_at: paid_at,
                expires_at: Some(paid_at + seconds(HOST_ANSWER_SECONDS)),
                cancelled: None,
                reason: None,
                payment: Some(Paid {
                    status: P::Authorized,
                    refunded_minor: 0,
                    created_at: paid_at,
                    updated_at: paid_at + seconds(2),
                }),
            }
        }
        S::Declined => {
            let at = paid_at + seconds(rng.random_range(600..=20 * HOUR));
            let reason = rng
                .random_bool(0.5)
                .then(|| DECLINE_REASONS[rng.random_range(0..DECLINE_REASONS.len())]);
            Story {
                status,
                version: 3,
                created_at: created,
                updated_at: at,
                expires_at: None,
                cancelled: None,
                reason,
                payment: paid(P::Voided, 0, at + seconds(1)),
            }
        }
        S::Expired if listing.instant_book || rng.random_bool(0.5) => {
            // The hold ran out unpaid.
            let at = created + seconds(HOLD_SECONDS + rng.random_range(0..=30));
            Story {
                status,
                version: 2,
                created_at: created,
                updated_at: at,
                expires_at: None,
                cancelled: None,
                reason: None,
                payment: None,
            }
        }
        S::Expired => {
            // The host did not answer in time.
            let at = paid_at + seconds(HOST_ANSWER_SECONDS + rng.random_range(0..=30));
            Story {
                status,
                version: 3,
                created_at: created,
                updated_at: at,
                expires_at: None,
                cancelled: None,
                reason: None,
                payment: paid(P::Voided, 0, at + seconds(1)),
            }
        }
        S::Confirmed | S::Completed | S::Cancelled => {
            let (confirmed_at, version) = if listing.instant_book {
                (paid_at + seconds(rng.random_range(1..=5)), 2)
            } else {
                (paid_at + seconds(rng.random_range(600..=12 * HOUR)), 3)
            };
            let confirmed_at = confirmed_at.min(bound - seconds(HOUR));
            let captured = paid(P::Succeeded, 0, confirmed_at + seconds(1));
            match status {
                S::Completed => {
                    let at = (midnight(check_out + Duration::days(1))
                        + seconds(rng.random_range(0..=300)))
                    .min(now);
                    Story {
                        status,
                        version: version + 1,
                        created_at: created,
                        updated_at: at,
                        expires_at: None,
                        cancelled: None,
                        reason: None,
                        payment: captured,
                    }
                }
                S::Cancelled => {
                    let earliest = confirmed_at + seconds(300);
                    let latest = bound - seconds(60);
                    let at = earliest
                        + seconds(rng.random_range(0..=(latest - earliest).num_seconds().max(0)));
                    let mut by = if rng.random_bool(0.75) {
                        CancelledBy::Guest
                    } else {
                        CancelledBy::Host
                    };
                    let mut percent = refund_percent(listing.cancellation_policy, check_in, at, by);
                    if percent == 0 {
                        // Seeded cancellations all give something back.
                        by = CancelledBy::Host;
                        percent = 100;
                    }
                    let refund = refund_minor(total_minor, percent);
                    let reason = rng.random_bool(0.6).then(|| match by {
                        CancelledBy::Guest => {
                            GUEST_REASONS[rng.random_range(0..GUEST_REASONS.len())]
                        }
                        _ => HOST_REASONS[rng.random_range(0..HOST_REASONS.len())],
                    });
                    let refunded = if refund >= total_minor {
                        P::Refunded
                    } else {
                        P::PartiallyRefunded
                    };
                    Story {
                        status,
                        version: version + 1,
                        created_at: created,
                        updated_at: at,
                        expires_at: None,
                        cancelled: Some((at, by, percent, refund)),
                        reason,
                        payment: paid(refunded, refund, at + seconds(2)),
                    }
                }
                _ => Story {
                    status,
                    version,
                    created_at: created,
                    updated_at: confirmed_at,
                    expires_at: None,
                    cancelled: None,
                    reason: None,
                    payment: captured,
                },
            }
        }
    };

    let payment = story.payment.map(|p| PaymentRow {
        id: Set(payment_id),
        booking_id: Set(booking_id),
        amount_minor: Set(total_minor),
        refunded_minor: Set(p.refunded_minor),
        currency: Set(listing.currency.to_owned()),
        status: Set(p.status),
        provider: Set(PaymentProvider::Simulated),
        provider_reference: Set(Some(format!("sim_pi_{}", payment_id.simple()))),
        payment_method: Set("pm_card_visa".to_owned()),
        idempotency_key: Set(format!("seed-{booking_id}")),
        failure_reason: Set(None),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    });
    let (cancelled_at, cancelled_by, percent, refund) = match story.cancelled {
        Some((at, by, percent, refund)) => (
            Some(at),
            Some(by.as_str().to_owned()),
            Some(i32::try_from(percent)?),
            Some(refund),
        ),
        None => (None, None, None, None),
    };
    let booking = BookingRow {
        id: Set(booking_id),
        property_id: Set(listing.id),
        guest_id: Set(guest_id),
        host_id: Set(listing.host_id),
        check_in: Set(check_in),
        check_out: Set(check_out),
        nights: Set(i32::try_from(nights)?),
        guests: Set(guests),
        status: Set(story.status),
        version: Set(story.version),
        currency: Set(listing.currency.to_owned()),
        nights_total_minor: Set(price.nights_total),
        discount_minor: Set(price.discount),
        cleaning_fee_minor: Set(price.cleaning_fee),
        service_fee_minor: Set(price.service_fee),
        taxes_minor: Set(price.taxes),
        total_minor: Set(total_minor),
        expires_at: Set(story.expires_at),
        cancelled_at: Set(cancelled_at),
        cancelled_by: Set(cancelled_by),
        cancellation_reason: Set(story.reason.map(str::to_owned)),
        refund_percent: Set(percent),
        refund_minor: Set(refund),
        created_at: Set(story.created_at),
        updated_at: Set(story.updated_at),
    };
    Ok((booking, payment))
}
