//! Schema migrations of Roost. Each one runs on PostgreSQL and on SQLite, and
//! each `down` undoes its `up` exactly, so `roost migrate down` then `up`
//! round-trips.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_sessions;
mod m20261124_000003_create_amenities;
mod m20261124_000004_create_properties;
mod m20261124_000005_create_bookings;
mod m20261124_000006_create_reviews;
mod m20261124_000007_create_conversations;
mod m20261125_000008_user_listings_count;
mod m20261125_000009_property_amenity_codes;
mod m20261204_000010_price_key;
mod m20261204_000011_public_location;

pub use m20261124_000003_create_amenities::CATALOGUE as AMENITY_CATALOGUE;
pub use m20261125_000008_user_listings_count::COUNT_LISTINGS;
pub use m20261125_000009_property_amenity_codes::fill_amenity_codes;
pub use m20261204_000010_price_key::{
    THREE_PLACE_CURRENCIES, ZERO_PLACE_CURRENCIES, price_key_expression,
};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_sessions::Migration),
            Box::new(m20261124_000003_create_amenities::Migration),
            Box::new(m20261124_000004_create_properties::Migration),
            Box::new(m20261124_000005_create_bookings::Migration),
            Box::new(m20261124_000006_create_reviews::Migration),
            Box::new(m20261124_000007_create_conversations::Migration),
            Box::new(m20261125_000008_user_listings_count::Migration),
            Box::new(m20261125_000009_property_amenity_codes::Migration),
            Box::new(m20261204_000010_price_key::Migration),
            Box::new(m20261204_000011_public_location::Migration),
        ]
    }
}
