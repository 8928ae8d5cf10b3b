//! Each listing's amenity codes, kept on its row as well.
//!
//! A property page shows the listing's amenities; reading them from
//! `property_amenities` cost a statement per page. `amenity_codes` holds the
//! same codes, comma-separated, written by the transactions that set a
//! listing's amenities. `property_amenities` stays: the search's amenity
//! filters use its index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Sets every listing's `amenity_codes` from `property_amenities`.
pub fn fill_amenity_codes(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE properties SET amenity_codes = coalesce((SELECT string_agg(pa.amenity_code, ',') \
             FROM property_amenities pa WHERE pa.property_id = properties.id), '')"
        }
        _ => {
            "UPDATE properties SET amenity_codes = coalesce((SELECT group_concat(pa.amenity_code, ',') \
             FROM property_amenities pa WHERE pa.property_id = properties.id), '')"
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "ALTER TABLE properties ADD COLUMN amenity_codes TEXT NOT NULL DEFAULT ''",
        )
        .await?;
        db.execute_unprepared(fill_amenity_codes(manager.get_database_backend()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE properties DROP COLUMN amenity_codes")
            .await?;
        Ok(())
    }
}
