//! Seeded listings: evenly spread over the 50 cities (round robin), each a
//! few kilometres around its city's centre, with 5 to 15 amenities; one in
//! five has nights blocked in the coming three months.

use chrono::NaiveDate;
use migration::AMENITY_CATALOGUE;
use rand::{Rng, seq::index::sample};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{SeedOptions, batch_rows, data, rng, stamp};
use crate::properties::{location::PublicPoints, validation::search_key};
use entity::property::{ActiveModel, CancellationPolicy, Entity, ListingStatus, PropertyType};

pub struct Listings {
    pub count: usize,
    pub amenity_links: usize,
    pub blocked_nights: usize,
    /// What the bookings need to know of each listing, in insertion order.
    pub listings: Vec<Listing>,
}

/// A seeded listing, as its bookings see it.
pub struct Listing {
    pub id: Uuid,
    pub host_id: Uuid,
    pub currency: &'static str,
    pub price_minor: i64,
    pub cleaning_fee_minor: i64,
    pub weekly_discount_percent: i32,
    pub monthly_discount_percent: i32,
    pub max_guests: i32,
    pub min_nights: i32,
    pub max_nights: i32,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    /// The nights its host blocked, in ascending order.
    pub blocked: Vec<NaiveDate>,
}

const CURRENCY: &str = "USD";

pub fn count(scale: f64) -> usize {
    ((5_000.0 * scale).round() as usize).max(1)
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    options: SeedOptions,
    hosts: &[Uuid],
    points: &PublicPoints,
) -> anyhow::Result<Listings> {
    let total = count(options.scale);
    let mut rng = rng(options.seed, 2);
    let mut rows = Vec::with_capacity(total);
    let mut links = Vec::with_capacity(total * 10);
    let mut blocked = Vec::new();
    let mut listings = Vec::with_capacity(total);
    let today = chrono::Utc::now().date_naive();
    for i in 0..total {
        let (at, id) = stamp(&mut rng);
        let (city, country, lat, lng) = data::CITIES[i % data::CITIES.len()];
        let (place, kind) = data::PLACES[rng.random_range(0..data::PLACES.len())];
        let adjective = data::ADJECTIVES[rng.random_range(0..data::ADJECTIVES.len())];
        let feature = data::FEATURES[rng.random_range(0..data::FEATURES.len())];
        let property_type = match kind {
            "PRIVATE_ROOM" => PropertyType::PrivateRoom,
            "SHARED_ROOM" => PropertyType::SharedRoom,
            _ => PropertyType::EntirePlace,
        };
        let bedrooms = if property_type == PropertyType::EntirePlace {
            rng.random_range(0..=5)
        } else {
            1
        };
        let max_guests = (bedrooms * 2).max(1) + rng.random_range(0..=2);
        let weekly: i32 = rng.random_range(0..=15);
        let lng_scale = lat.to_radians().cos().max(0.1);
        // Drawn in the order the fields used to be written in, so that a
        // seed number keeps giving the same listings.
        let host_id: Uuid = hosts[rng.random_range(0..hosts.len())];
        let address = format!(
            "{} {} Street",
            rng.random_range(1..200),
            data::LAST_NAMES[rng.random_range(0..data::LAST_NAMES.len())]
        );
        let latitude: f64 = lat + rng.random_range(-0.08..0.08);
        let longitude: f64 = lng + rng.random_range(-0.08..0.08) / lng_scale;
        let price_minor: i64 = rng.random_range(30..=800) * 100;
        let cleaning_fee_minor: i64 = rng.random_range(0..=12) * 1000;
        let monthly: i32 = weekly + rng.random_range(0..=15);
        let beds: i32 = bedrooms.max(1) + rng.random_range(0..=1);
        let bathrooms = f64::from(rng.random_range(2..=6)) / 2.0;
        let instant_book = rng.random_bool(0.4);
        let cancellation_policy = match rng.random_range(0..3) {
            0 => CancellationPolicy::Flexible,
            1 => CancellationPolicy::Moderate,
            _ => CancellationPolicy::Strict,
        };
        let min_nights: i32 = rng.random_range(1..=3);
        let max_nights: i32 = [14, 30, 60, 90, 365][rng.random_range(0..5)];
        let public = points.of(id, latitude, longitude);
        rows.push(ActiveModel {
            id: Set(id),
            host_id: Set(host_id),
            title: Set(format!("{adjective} {place} {feature}")),
            description: Set(format!(
                "A {} {place} in {city} {feature}. Sleeps {max_guests}; fast wifi and a well-stocked kitchen make longer stays easy.",
                adjective.to_lowercase()
            )),
            property_type: Set(property_type),
            status: Set(ListingStatus::Listed),
            address: Set(address),
            city: Set(city.to_owned()),
            country: Set(country.to_owned()),
            search_city: Set(search_key(city)),
            search_country: Set(search_key(country)),
            latitude: Set(latitude),
            longitude: Set(longitude),
            public_latitude: Set(Some(public.0)),
            public_longitude: Set(Some(public.1)),
            currency: Set(CURRENCY.to_owned()),
            price_minor: Set(price_minor),
            cleaning_fee_minor: Set(cleaning_fee_minor),
            weekly_discount_percent: Set(weekly),
            monthly_discount_percent: Set(monthly),
            max_guests: Set(max_guests),
            bedrooms: Set(bedrooms),
            beds: Set(beds),
            bathrooms: Set(bathrooms),
            instant_book: Set(instant_book),
            cancellation_policy: Set(cancellation_policy),
            min_nights: Set(min_nights),
            max_nights: Set(max_nights),
            created_at: Set(at),
            updated_at: Set(at),
            deleted_at: Set(None),
            // The review summary starts at its column defaults (no reviews).
            ..Default::default()
        });
        // One listing in five has some nights blocked by its host in the
        // next three months.
        let mut nights = Vec::new();
        if rng.random_bool(0.2) {
            let mut day = today + chrono::Duration::days(rng.random_range(0..30));
            for _ in 0..rng.random_range(1..=3) {
                for _ in 0..rng.random_range(2..=7) {
                    nights.push(day);
                    blocked.push(entity::calendar_day::ActiveModel {
                        property_id: Set(id),
                        day: Set(day),
                        blocked: Set(true),
                        price_minor: Set(None),
                    });
                    day += chrono::Duration::days(1);
                }
                day += chrono::Duration::days(rng.random_range(3..30));
            }
        }
        listings.push(Listing {
            id,
            host_id,
            currency: CURRENCY,
            price_minor,
            cleaning_fee_minor,
            weekly_discount_percent: weekly,
            monthly_discount_percent: monthly,
            max_guests,
            min_nights,
            max_nights,
            instant_book,
            cancellation_policy,
            blocked: nights,
        });
        let n = rng.random_range(5..=15);
        for index in sample(&mut rng, AMENITY_CATALOGUE.len(), n) {
            links.push(entity::property_amenity::ActiveModel {
                property_id: Set(id),
                amenity_code: Set(AMENITY_CATALOGUE[index].0.to_owned()),
            });
        }
    }
    let count = rows.len();
    let amenity_links = links.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ActiveModel> = rows.by_ref().take(batch_rows(46)).collect();
        Entity::insert_many(chunk).exec(conn).await?;
    }
    let mut links = links.into_iter().peekable();
    while links.peek().is_some() {
        let chunk: Vec<_> = links.by_ref().take(batch_rows(2)).collect();
        entity::property_amenity::Entity::insert_many(chunk)
            .exec(conn)
            .await?;
    }
    conn.execute_unprepared(migration::COUNT_LISTINGS).await?;
    conn.execute_unprepared(migration::fill_amenity_codes(conn.get_database_backend()))
        .await?;
    let blocked_nights = blocked.len();
    let mut blocked = blocked.into_iter().peekable();
    while blocked.peek().is_some() {
        let chunk: Vec<_> = blocked.by_ref().take(batch_rows(4)).collect();
        entity::calendar_day::Entity::insert_many(chunk)
            .exec(conn)
            .await?;
    }
    Ok(Listings {
        count,
        amenity_links,
        blocked_nights,
        listings,
    })
}
