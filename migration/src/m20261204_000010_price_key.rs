//! Prices that compare across currencies by face value.
//!
//! `price_cents` holds a nightly price in its currency's ISO 4217 minor unit
//! (the name is older than currencies without cents: ¥12000 is 12000, KWD
//! 12.345 is 12345). Comparing those integers across currencies compares
//! yen with cents. `price_key` is the same price in thousandths of the
//! major unit (three places: the most any accepted currency has), derived by
//! the database from `price_cents` and `currency`, so that `minPrice`,
//! `maxPrice` and the price orders compare face values in each listing's
//! own currency, with an index, and rows written by any tool get it too.
//!
//! The currencies by places are ISO 4217's at the time of writing; a unit
//! test of the server checks them against the ISO list it validates with,
//! so a change there asks for a new migration. Codes on neither list have
//! two places.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Active ISO 4217 currencies without a minor unit.
pub const ZERO_PLACE_CURRENCIES: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Active ISO 4217 currencies with three places.
pub const THREE_PLACE_CURRENCIES: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

const LISTED: &str = "status = 'LISTED' AND deleted_at IS NULL";

/// (name, columns with the price key, columns before) of the search
/// indexes that hold a price.
const PRICE_INDEXES: [(&str, &str, &str); 4] = [
    (
        "properties_listed_price_idx",
        "price_key, id",
        "price_cents, id",
    ),
    (
        "properties_listed_city_price_idx",
        "search_city, price_key, id",
        "search_city, price_cents, id",
    ),
    (
        "properties_listed_country_price_idx",
        "search_country, price_key, id",
        "search_country, price_cents, id",
    ),
    (
        "properties_listed_guests_idx",
        "max_guests, price_key",
        "max_guests, price_cents",
    ),
];

/// The newest-first index carries the simple filters' columns on PostgreSQL
/// (see the properties migration): the price among them.
fn newest_include(price: &str) -> String {
    format!(
        "INCLUDE (property_type, instant_book, bedrooms, max_guests, {price}, \
         rating_count, rating_avg, min_nights, max_nights)"
    )
}

fn quoted(codes: &[&str]) -> String {
    codes
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `price_key` from a row's `price_cents` and `currency`.
pub fn price_key_expression() -> String {
    format!(
        "price_cents * CASE WHEN currency IN ({}) THEN 1000 WHEN currency IN ({}) THEN 1 ELSE 10 END",
        quoted(&ZERO_PLACE_CURRENCIES),
        quoted(&THREE_PLACE_CURRENCIES)
    )
}

async fn index_prices(
    db: &SchemaManagerConnection<'_>,
    postgres: bool,
    with_key: bool,
) -> Result<(), DbErr> {
    for (name, key, before) in PRICE_INDEXES {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
        let columns = if with_key { key } else { before };
        db.execute_unprepared(&format!(
            "CREATE INDEX {name} ON properties ({columns}) WHERE {LISTED}"
        ))
        .await?;
    }
    if postgres {
        db.execute_unprepared("DROP INDEX IF EXISTS properties_listed_newest_idx")
            .await?;
        let price = if with_key { "price_key" } else { "price_cents" };
        db.execute_unprepared(&format!(
            "CREATE INDEX properties_listed_newest_idx ON properties (created_at, id) {} WHERE {LISTED}",
            newest_include(price)
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        // SQLite adds only virtual generated columns to a table; they can
        // be indexed all the same.
        let (kind, stored) = if postgres {
            ("bigint", "STORED")
        } else {
            ("INTEGER", "VIRTUAL")
        };
        db.execute_unprepared(&format!(
            "ALTER TABLE properties ADD COLUMN price_key {kind} GENERATED ALWAYS AS ({}) {stored}",
            price_key_expression()
        ))
        .await?;
        index_prices(db, postgres, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        index_prices(db, postgres, false).await?;
        db.execute_unprepared("ALTER TABLE properties DROP COLUMN price_key")
            .await?;
        Ok(())
    }
}
