//! Listings and what hangs off them: amenities, photos, calendar days and
//! wishlists.
//!
//! Money is stored as integer minor units (`*_cents`), exact on both
//! backends. A property is never deleted while bookings may refer to it: it
//! is marked `deleted_at` and disappears from every read.
//!
//! Search is served by partial indexes over the rows search can return
//! (`status = 'LISTED' AND deleted_at IS NULL`), one per common filter and
//! order, and by full-text search: a generated `tsvector` with a GIN index on
//! PostgreSQL, an FTS5 table kept in step by triggers on SQLite.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use super::m20261123_000001_create_users::Users;
use super::m20261124_000003_create_amenities::Amenities;

#[derive(DeriveMigrationName)]
pub struct Migration;

const LISTED: &str = "status = 'LISTED' AND deleted_at IS NULL";

/// (name, columns) of the partial indexes over searchable rows.
const SEARCH_INDEXES: [(&str, &str); 8] = [
    ("properties_listed_newest_idx", "created_at, id"),
    ("properties_listed_price_idx", "price_cents, id"),
    ("properties_listed_rating_idx", "rating_avg, id"),
    (
        "properties_listed_city_price_idx",
        "search_city, price_cents, id",
    ),
    (
        "properties_listed_city_newest_idx",
        "search_city, created_at, id",
    ),
    (
        "properties_listed_country_price_idx",
        "search_country, price_cents, id",
    ),
    ("properties_listed_location_idx", "latitude, longitude"),
    ("properties_listed_guests_idx", "max_guests, price_cents"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let rating = |name: Properties| integer(name).default(0).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Properties::Table)
                    .col(pk_uuid(Properties::Id))
                    .col(uuid(Properties::HostId))
                    .col(string_len(Properties::Title, 120))
                    .col(text(Properties::Description))
                    .col(string_len(Properties::PropertyType, 16).check(
                        Expr::col(Properties::PropertyType).is_in([
                            "ENTIRE_PLACE",
                            "PRIVATE_ROOM",
                            "SHARED_ROOM",
                        ]),
                    ))
                    .col(string_len(Properties::Status, 16).check(
                        Expr::col(Properties::Status).is_in(["DRAFT", "LISTED", "UNLISTED"]),
                    ))
                    .col(string_len(Properties::Address, 200))
                    .col(string_len(Properties::City, 100))
                    .col(string_len(Properties::Country, 100))
                    .col(string_len(Properties::SearchCity, 100))
                    .col(string_len(Properties::SearchCountry, 100))
                    .col(double(Properties::Latitude))
                    .col(double(Properties::Longitude))
                    .col(string_len(Properties::Currency, 3))
                    .col(
                        big_integer(Properties::PriceCents)
                            .check(Expr::col(Properties::PriceCents).gt(0)),
                    )
                    .col(
                        big_integer(Properties::CleaningFeeCents)
                            .check(Expr::col(Properties::CleaningFeeCents).gte(0)),
                    )
                    .col(integer(Properties::WeeklyDiscountPercent))
                    .col(integer(Properties::MonthlyDiscountPercent))
                    .col(
                        integer(Properties::MaxGuests)
                            .check(Expr::col(Properties::MaxGuests).gte(1)),
                    )
                    .col(integer(Properties::Bedrooms))
                    .col(integer(Properties::Beds))
                    .col(double(Properties::Bathrooms))
                    .col(boolean(Properties::InstantBook))
                    .col(
                        string_len(Properties::CancellationPolicy, 16).check(
                            Expr::col(Properties::CancellationPolicy)
                                .is_in(["FLEXIBLE", "MODERATE", "STRICT"]),
                        ),
                    )
                    .col(integer(Properties::MinNights))
                    .col(integer(Properties::MaxNights))
                    // Review summary, kept up to date by the transaction that
                    // writes each review; the average is 0 until there is one.
                    .col(rating(Properties::RatingCount))
                    .col(rating(Properties::RatingSum))
                    .col(double(Properties::RatingAvg).default(0.0))
                    .col(rating(Properties::CleanlinessSum))
                    .col(rating(Properties::CleanlinessCount))
                    .col(rating(Properties::AccuracySum))
                    .col(rating(Properties::AccuracyCount))
                    .col(rating(Properties::CheckInSum))
                    .col(rating(Properties::CheckInCount))
                    .col(rating(Properties::CommunicationSum))
                    .col(rating(Properties::CommunicationCount))
                    .col(rating(Properties::LocationSum))
                    .col(rating(Properties::LocationCount))
                    .col(rating(Properties::ValueSum))
                    .col(rating(Properties::ValueCount))
                    .col(timestamp_with_time_zone(Properties::CreatedAt))
                    .col(timestamp_with_time_zone(Properties::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Properties::DeletedAt))
                    .check(Expr::col(Properties::MinNights).lte(Expr::col(Properties::MaxNights)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("properties_host_id_fkey")
                            .from(Properties::Table, Properties::HostId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX properties_host_idx ON properties (host_id, created_at)",
        )
        .await?;
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for (name, columns) in SEARCH_INDEXES {
            // On PostgreSQL the newest-first index also carries the columns
            // the simple filters test, so that counting a broad search
            // (every listing that takes instant bookings) reads this narrow
            // index alone instead of the whole table.
            let include = if postgres && name == "properties_listed_newest_idx" {
                " INCLUDE (property_type, instant_book, bedrooms, max_guests, price_cents, \
                 rating_count, rating_avg, min_nights, max_nights)"
            } else {
                ""
            };
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON properties ({columns}){include} WHERE {LISTED}"
            ))
            .await?;
        }
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE properties ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
                     (to_tsvector('english', title || ' ' || description || ' ' || city)) STORED",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX properties_search_idx ON properties USING GIN (search_vector)",
                )
                .await?;
            }
            _ => {
                for statement in SQLITE_FTS {
                    db.execute_unprepared(statement).await?;
                }
            }
        }

        manager
            .create_table(
                Table::create()
                    .table(PropertyAmenities::Table)
                    .col(uuid(PropertyAmenities::PropertyId))
                    .col(string_len(PropertyAmenities::AmenityCode, 32))
                    .primary_key(
                        Index::create()
                            .col(PropertyAmenities::PropertyId)
                            .col(PropertyAmenities::AmenityCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("property_amenities_property_id_fkey")
                            .from(PropertyAmenities::Table, PropertyAmenities::PropertyId)
                            .to(Properties::Table, Properties::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("property_amenities_amenity_code_fkey")
                            .from(PropertyAmenities::Table, PropertyAmenities::AmenityCode)
                            .to(Amenities::Table, Amenities::Code),
                    )
                    .to_owned(),
            )
            .await?;
        // "Has every one of these amenities" starts from the amenity.
        db.execute_unprepared(
            "CREATE INDEX property_amenities_amenity_idx ON property_amenities (amenity_code, property_id)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PropertyPhotos::Table)
                    .col(pk_uuid(PropertyPhotos::Id))
                    .col(uuid(PropertyPhotos::PropertyId))
                    .col(string_len(PropertyPhotos::StorageKey, 300))
                    .col(string_len(PropertyPhotos::ContentType, 32))
                    .col(big_integer(PropertyPhotos::SizeBytes))
                    .col(string_len_null(PropertyPhotos::Caption, 300))
                    .col(integer(PropertyPhotos::Position))
                    .col(timestamp_with_time_zone(PropertyPhotos::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("property_photos_property_id_fkey")
                            .from(PropertyPhotos::Table, PropertyPhotos::PropertyId)
                            .to(Properties::Table, Properties::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX property_photos_position_key ON property_photos (property_id, position)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(uuid(CalendarDays::PropertyId))
                    .col(date(CalendarDays::Day))
                    .col(boolean(CalendarDays::Blocked))
                    .col(big_integer_null(CalendarDays::PriceCents))
                    .primary_key(
                        Index::create()
                            .col(CalendarDays::PropertyId)
                            .col(CalendarDays::Day),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("calendar_days_property_id_fkey")
                            .from(CalendarDays::Table, CalendarDays::PropertyId)
                            .to(Properties::Table, Properties::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Nights blocked in a date range, across listings: what an
        // availability search rules out.
        db.execute_unprepared(
            "CREATE INDEX calendar_days_blocked_idx ON calendar_days (day, property_id) WHERE blocked",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SavedProperties::Table)
                    .col(uuid(SavedProperties::UserId))
                    .col(uuid(SavedProperties::PropertyId))
                    .col(timestamp_with_time_zone(SavedProperties::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SavedProperties::UserId)
                            .col(SavedProperties::PropertyId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("saved_properties_user_id_fkey")
                            .from(SavedProperties::Table, SavedProperties::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("saved_properties_property_id_fkey")
                            .from(SavedProperties::Table, SavedProperties::PropertyId)
                            .to(Properties::Table, Properties::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX saved_properties_user_idx ON saved_properties (user_id, created_at, property_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "saved_properties",
            "calendar_days",
            "property_photos",
            "property_amenities",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        if manager.get_database_backend() != DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS properties_fts")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Properties::Table).to_owned())
            .await
    }
}

/// An FTS5 index over the properties table's own rows (external content),
/// with the Porter stemmer so that "beaches" finds "beach" as PostgreSQL's
/// english configuration does, and accents kept, as PostgreSQL keeps them.
const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE properties_fts USING fts5(title, description, city, \
     content='properties', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 0')",
    "CREATE TRIGGER properties_fts_insert AFTER INSERT ON properties BEGIN \
     INSERT INTO properties_fts(rowid, title, description, city) \
     VALUES (new.rowid, new.title, new.description, new.city); END",
    "CREATE TRIGGER properties_fts_delete AFTER DELETE ON properties BEGIN \
     INSERT INTO properties_fts(properties_fts, rowid, title, description, city) \
     VALUES ('delete', old.rowid, old.title, old.description, old.city); END",
    "CREATE TRIGGER properties_fts_update AFTER UPDATE OF title, description, city ON properties BEGIN \
     INSERT INTO properties_fts(properties_fts, rowid, title, description, city) \
     VALUES ('delete', old.rowid, old.title, old.description, old.city); \
     INSERT INTO properties_fts(rowid, title, description, city) \
     VALUES (new.rowid, new.title, new.description, new.city); END",
];

#[derive(DeriveIden)]
pub enum Properties {
    Table,
    Id,
    HostId,
    Title,
    Description,
    PropertyType,
    Status,
    Address,
    City,
    Country,
    SearchCity,
    SearchCountry,
    Latitude,
    Longitude,
    Currency,
    PriceCents,
    CleaningFeeCents,
    WeeklyDiscountPercent,
    MonthlyDiscountPercent,
    MaxGuests,
    Bedrooms,
    Beds,
    Bathrooms,
    InstantBook,
    CancellationPolicy,
    MinNights,
    MaxNights,
    RatingCount,
    RatingSum,
    RatingAvg,
    CleanlinessSum,
    CleanlinessCount,
    AccuracySum,
    AccuracyCount,
    CheckInSum,
    CheckInCount,
    CommunicationSum,
    CommunicationCount,
    LocationSum,
    LocationCount,
    ValueSum,
    ValueCount,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum PropertyAmenities {
    Table,
    PropertyId,
    AmenityCode,
}

#[derive(DeriveIden)]
enum PropertyPhotos {
    Table,
    Id,
    PropertyId,
    StorageKey,
    ContentType,
    SizeBytes,
    Caption,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    PropertyId,
    Day,
    Blocked,
    PriceCents,
}

#[derive(DeriveIden)]
enum SavedProperties {
    Table,
    UserId,
    PropertyId,
    CreatedAt,
}
