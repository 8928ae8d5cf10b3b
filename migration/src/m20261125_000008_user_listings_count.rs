//! How many listings each host shows the public, kept on the user row.
//!
//! A host card ("Ana, 12 listings") is on every property page; counting the
//! host's listings there cost a statement per page. `listings_count` is the
//! number of the user's properties that are LISTED and not deleted. The
//! transactions that create, edit or delete a listing recompute it for the
//! host under a lock on the host's row; existing rows are counted here.

use sea_orm_migration::prelude::*;

/// Sets the `listings_count` of every user with listings (the others keep
/// the default, 0). One aggregate joined in, not a count per user: that
/// would scan the listings once per user wherever the planner has no
/// statistics yet (a freshly seeded database).
pub const COUNT_LISTINGS: &str = "UPDATE users SET listings_count = c.n \
    FROM (SELECT host_id, count(*) AS n FROM properties \
          WHERE status = 'LISTED' AND deleted_at IS NULL GROUP BY host_id) c \
    WHERE users.id = c.host_id";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "ALTER TABLE users ADD COLUMN listings_count INTEGER NOT NULL DEFAULT 0",
            COUNT_LISTINGS,
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE users DROP COLUMN listings_count")
            .await?;
        Ok(())
    }
}
