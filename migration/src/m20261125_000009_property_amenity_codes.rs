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

/// Sets the `amenity_codes` of every listing with amenities (the others
/// keep the default, ''), from one aggregate joined in.
pub fn fill_amenity_codes(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE properties SET amenity_codes = a.codes \
             FROM (SELECT property_id, string_agg(amenity_code, ',') AS codes \
                   FROM property_amenities GROUP BY property_id) a \
             WHERE properties.id = a.property_id"
        }
        _ => {
            "UPDATE properties SET amenity_codes = a.codes \
             FROM (SELECT property_id, group_concat(amenity_code, ',') AS codes \
                   FROM property_amenities GROUP BY property_id) a \
             WHERE properties.id = a.property_id"
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
