//! Running migrations, safely when several instances start at once.
//!
//! On PostgreSQL the run holds a session-level advisory lock on a connection
//! of its own, so instances that start together apply each migration once,
//! one after the other. A SQLite file belongs to one process.

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::config::DatabaseConfig;

/// An arbitrary constant naming Roost's migration lock.
const MIGRATION_LOCK_ID: i64 = 0x526f_6f73_744d_6967; // "RoostMig"

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationStep {
    /// Apply every pending migration.
    Up,
    /// Roll back this many of the latest migrations (`None`: all of them).
    Down(Option<u32>),
}

pub async fn migrate(config: &DatabaseConfig, step: MigrationStep) -> anyhow::Result<()> {
    let db = super::connect_with(config, 1).await?;
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
            .await
            .context("taking the migration lock")?;
    }
    let result = match step {
        MigrationStep::Up => {
            let pending = match Migrator::install(&db).await {
                Ok(()) => Migrator::get_pending_migrations(&db)
                    .await
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            for m in &pending {
                tracing::info!(migration = m.name(), "applying migration");
            }
            Migrator::up(&db, None).await
        }
        MigrationStep::Down(steps) => match steps {
            Some(n) => Migrator::down(&db, Some(n)).await,
            None => Migrator::reset(&db).await,
        },
    };
    if postgres {
        // Closing the connection would release it too; unlock explicitly so
        // a waiting instance goes on at once.
        let _ = db
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))
            .await;
    }
    let _ = db.close().await;
    result.context("running migrations")
}

/// Every known migration and whether it is applied, in order.
pub async fn migration_status(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, bool)>> {
    let migrations = Migrator::get_migration_with_status(db).await?;
    Ok(migrations
        .iter()
        .map(|m| {
            (
                m.name().to_owned(),
                matches!(m.status(), migration::MigrationStatus::Applied),
            )
        })
        .collect())
}
