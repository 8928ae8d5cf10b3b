//! Reviews of completed stays, and the host's rating aggregates.
//!
//! A booking has at most one review (a unique index), so two requests racing
//! to review one stay cannot both succeed. The listing's rating columns
//! (created with the properties) and the host's columns added here are kept
//! up to date in the transaction that writes a review, so reading a rating
//! never scans reviews.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;
use super::m20261124_000004_create_properties::Properties;
use super::m20261124_000005_create_bookings::Bookings;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CATEGORIES: [Reviews; 6] = [
    Reviews::Cleanliness,
    Reviews::Accuracy,
    Reviews::CheckIn,
    Reviews::Communication,
    Reviews::Location,
    Reviews::Value,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let one_to_five = |c: Reviews| Expr::col(c).between(1, 5);
        let mut table = Table::create();
        table
            .table(Reviews::Table)
            .col(pk_uuid(Reviews::Id))
            .col(uuid(Reviews::BookingId))
            .col(uuid(Reviews::PropertyId))
            .col(uuid(Reviews::AuthorId))
            .col(uuid(Reviews::HostId))
            .col(integer(Reviews::Rating).check(one_to_five(Reviews::Rating)));
        for c in CATEGORIES {
            table.col(integer_null(c).check(one_to_five(c)));
        }
        table
            .col(text(Reviews::Comment))
            .col(text_null(Reviews::HostResponse))
            .col(timestamp_with_time_zone_null(Reviews::HostRespondedAt))
            .col(timestamp_with_time_zone(Reviews::CreatedAt))
            .col(timestamp_with_time_zone(Reviews::UpdatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("reviews_booking_id_fkey")
                    .from(Reviews::Table, Reviews::BookingId)
                    .to(Bookings::Table, Bookings::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("reviews_property_id_fkey")
                    .from(Reviews::Table, Reviews::PropertyId)
                    .to(Properties::Table, Properties::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("reviews_author_id_fkey")
                    .from(Reviews::Table, Reviews::AuthorId)
                    .to(Users::Table, Users::Id),
            );
        manager.create_table(table.to_owned()).await?;
        for sql in [
            // One review a stay.
            "CREATE UNIQUE INDEX reviews_booking_idx ON reviews (booking_id)",
            // A listing's reviews, NEWEST and HIGHEST/LOWEST.
            "CREATE INDEX reviews_property_newest_idx ON reviews (property_id, created_at, id)",
            "CREATE INDEX reviews_property_rating_idx ON reviews (property_id, rating, created_at, id)",
            // User.reviewsWritten.
            "CREATE INDEX reviews_author_idx ON reviews (author_id, created_at, id)",
            // The host's rating aggregates: the sum and count of the overall
            // ratings of reviews of all their listings.
            "ALTER TABLE users ADD COLUMN host_rating_sum BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE users ADD COLUMN host_rating_count INTEGER NOT NULL DEFAULT 0",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .drop_table(Table::drop().table(Reviews::Table).to_owned())
            .await?;
        for sql in [
            "ALTER TABLE users DROP COLUMN host_rating_count",
            "ALTER TABLE users DROP COLUMN host_rating_sum",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Reviews {
    Table,
    Id,
    BookingId,
    PropertyId,
    AuthorId,
    HostId,
    Rating,
    Cleanliness,
    Accuracy,
    CheckIn,
    Communication,
    Location,
    Value,
    Comment,
    HostResponse,
    HostRespondedAt,
    CreatedAt,
    UpdatedAt,
}
