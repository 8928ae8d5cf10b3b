//! Bookings, their payments, the notifications they cause, and the record of
//! payment-provider webhook events.
//!
//! Two active bookings of one listing never overlap: on PostgreSQL an
//! exclusion constraint over (property, [check_in, check_out)) for the active
//! statuses (needs btree_gist); on SQLite triggers that refuse an overlapping
//! row (and writers are serialized there anyway). The service checks first,
//! for a clear answer; the database is what guarantees it.
//!
//! A booking has at most one payment that is not FAILED (a partial unique
//! index), and (booking, idempotency key) names one payment. A provider event
//! id is recorded once, so a webhook delivered twice is applied once.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use super::m20261123_000001_create_users::Users;
use super::m20261124_000004_create_properties::Properties;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ACTIVE: &str = "('PENDING_PAYMENT', 'AWAITING_HOST', 'CONFIRMED')";

const BOOKING_STATUSES: [&str; 7] = [
    "PENDING_PAYMENT",
    "AWAITING_HOST",
    "CONFIRMED",
    "DECLINED",
    "CANCELLED",
    "EXPIRED",
    "COMPLETED",
];

const PAYMENT_STATUSES: [&str; 7] = [
    "PROCESSING",
    "AUTHORIZED",
    "SUCCEEDED",
    "FAILED",
    "VOIDED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        let cents = |c: Bookings| big_integer(c).default(0).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(pk_uuid(Bookings::Id))
                    .col(uuid(Bookings::PropertyId))
                    .col(uuid(Bookings::GuestId))
                    .col(uuid(Bookings::HostId))
                    .col(date(Bookings::CheckIn))
                    .col(date(Bookings::CheckOut))
                    .col(integer(Bookings::Nights))
                    .col(integer(Bookings::Guests))
                    .col(
                        string_len(Bookings::Status, 16)
                            .check(Expr::col(Bookings::Status).is_in(BOOKING_STATUSES)),
                    )
                    // Bumped at every status change: events carry it, so a
                    // subscriber can put one booking's events in order.
                    .col(integer(Bookings::Version).default(1))
                    .col(string_len(Bookings::Currency, 3))
                    .col(cents(Bookings::NightsTotalCents))
                    .col(cents(Bookings::DiscountCents))
                    .col(cents(Bookings::CleaningFeeCents))
                    .col(cents(Bookings::ServiceFeeCents))
                    .col(cents(Bookings::TaxesCents))
                    .col(cents(Bookings::TotalCents))
                    .col(timestamp_with_time_zone_null(Bookings::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Bookings::CancelledAt))
                    .col(string_len_null(Bookings::CancelledBy, 8))
                    .col(string_len_null(Bookings::CancellationReason, 500))
                    // The share of the captured amount a cancellation gives
                    // back (set when cancelled), and what it came to.
                    .col(integer_null(Bookings::RefundPercent))
                    .col(big_integer_null(Bookings::RefundCents))
                    .col(timestamp_with_time_zone(Bookings::CreatedAt))
                    .col(timestamp_with_time_zone(Bookings::UpdatedAt))
                    .check(Expr::col(Bookings::CheckIn).lt(Expr::col(Bookings::CheckOut)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("bookings_property_id_fkey")
                            .from(Bookings::Table, Bookings::PropertyId)
                            .to(Properties::Table, Properties::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("bookings_guest_id_fkey")
                            .from(Bookings::Table, Bookings::GuestId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for sql in [
            // Availability: a listing's bookings by date.
            "CREATE INDEX bookings_property_dates_idx ON bookings (property_id, check_in, check_out)",
            // myBookings and hostBookings, newest check-in first.
            "CREATE INDEX bookings_guest_idx ON bookings (guest_id, check_in, id)",
            "CREATE INDEX bookings_host_idx ON bookings (host_id, check_in, id)",
            // The worker's sweeps: holds and requests that ran out, stays that ended.
            "CREATE INDEX bookings_expiry_idx ON bookings (status, expires_at)",
            "CREATE INDEX bookings_completion_idx ON bookings (status, check_out)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist")
                .await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist \
                 (property_id WITH =, daterange(check_in, check_out, '[)') WITH &&) \
                 WHERE (status IN {ACTIVE})"
            ))
            .await?;
        } else {
            let overlap = |old: &str| {
                format!(
                    "NEW.status IN {ACTIVE} AND EXISTS (SELECT 1 FROM bookings b \
                     WHERE b.property_id = NEW.property_id AND b.status IN {ACTIVE} \
                     AND b.check_in < NEW.check_out AND NEW.check_in < b.check_out{old})"
                )
            };
            db.execute_unprepared(&format!(
                "CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings \
                 WHEN {} BEGIN SELECT RAISE(ABORT, 'bookings_no_overlap'); END",
                overlap("")
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF status, check_in, check_out \
                 ON bookings WHEN {} BEGIN SELECT RAISE(ABORT, 'bookings_no_overlap'); END",
                overlap(" AND b.id <> NEW.id")
            ))
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid(Payments::BookingId))
                    .col(big_integer(Payments::AmountCents))
                    .col(big_integer(Payments::RefundedCents).default(0))
                    .col(string_len(Payments::Currency, 3))
                    .col(
                        string_len(Payments::Status, 20)
                            .check(Expr::col(Payments::Status).is_in(PAYMENT_STATUSES)),
                    )
                    .col(
                        string_len(Payments::Provider, 16)
                            .check(Expr::col(Payments::Provider).is_in(["SIMULATED", "STRIPE"])),
                    )
                    .col(string_len_null(Payments::ProviderReference, 255))
                    .col(string_len(Payments::PaymentMethod, 255))
                    .col(string_len(Payments::IdempotencyKey, 255))
                    .col(string_len_null(Payments::FailureReason, 255))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("payments_booking_id_fkey")
                            .from(Payments::Table, Payments::BookingId)
                            .to(Bookings::Table, Bookings::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for sql in [
            "CREATE UNIQUE INDEX payments_idempotency_key ON payments (booking_id, idempotency_key)",
            "CREATE UNIQUE INDEX payments_one_live_key ON payments (booking_id) WHERE status <> 'FAILED'",
            "CREATE INDEX payments_reference_idx ON payments (provider_reference)",
        ] {
            db.execute_unprepared(sql).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ProviderEvents::Table)
                    .col(string_len(ProviderEvents::Id, 255).primary_key())
                    .col(string_len(ProviderEvents::Kind, 100))
                    .col(timestamp_with_time_zone(ProviderEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string_len(Notifications::Title, 200))
                    .col(text(Notifications::Body))
                    .col(uuid_null(Notifications::BookingId))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone_null(Notifications::EmailedAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("notifications_user_id_fkey")
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX notifications_user_idx ON notifications (user_id, created_at, id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notifications", "provider_events", "payments", "bookings"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Bookings {
    Table,
    Id,
    PropertyId,
    GuestId,
    HostId,
    CheckIn,
    CheckOut,
    Nights,
    Guests,
    Status,
    Version,
    Currency,
    NightsTotalCents,
    DiscountCents,
    CleaningFeeCents,
    ServiceFeeCents,
    TaxesCents,
    TotalCents,
    ExpiresAt,
    CancelledAt,
    CancelledBy,
    CancellationReason,
    RefundPercent,
    RefundCents,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    BookingId,
    AmountCents,
    RefundedCents,
    Currency,
    Status,
    Provider,
    ProviderReference,
    PaymentMethod,
    IdempotencyKey,
    FailureReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderEvents {
    Table,
    Id,
    Kind,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    BookingId,
    ReadAt,
    EmailedAt,
    CreatedAt,
}
