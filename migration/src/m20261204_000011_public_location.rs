//! The public point of each listing (RULES.md section 13): where everyone
//! but its host, admins and its confirmed guests is told the home is, and
//! what search by place compares. The server places it (from a key of its
//! own) when a listing is written, and fills it in for rows that have none
//! when it starts, so the columns stay empty until then.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const LISTED: &str = "status = 'LISTED' AND deleted_at IS NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in ["public_latitude", "public_longitude"] {
            db.execute_unprepared(&format!(
                "ALTER TABLE properties ADD COLUMN {column} DOUBLE PRECISION"
            ))
            .await?;
        }
        // Search by place reads the public point, never the real one.
        db.execute_unprepared("DROP INDEX IF EXISTS properties_listed_location_idx")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX properties_listed_location_idx ON properties \
             (public_latitude, public_longitude) WHERE {LISTED}"
        ))
        .await?;
        // What the fill at start looks for.
        db.execute_unprepared(
            "CREATE INDEX properties_public_point_missing_idx ON properties (id) \
             WHERE public_latitude IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS properties_public_point_missing_idx")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS properties_listed_location_idx")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX properties_listed_location_idx ON properties (latitude, longitude) \
             WHERE {LISTED}"
        ))
        .await?;
        for column in ["public_longitude", "public_latitude"] {
            db.execute_unprepared(&format!("ALTER TABLE properties DROP COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}
