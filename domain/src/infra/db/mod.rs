//! The database connection: PostgreSQL in production, a SQLite file by default.

mod migrate;
mod recent_writers;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};

pub use migrate::{MigrationStep, migrate, migration_status};
pub use recent_writers::RecentWriters;

use crate::config::DatabaseConfig;

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening one connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DatabaseConnection> {
    Ok(connect_counted(config).await?.0)
}

/// Counts the statements a connection pool sends: a figure for `/metrics`
/// and for tests that hold the number of queries a request makes.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Connects, and counts and times every statement sent through the pool.
pub async fn connect_counted(
    config: &DatabaseConfig,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let db = connect_with(config, config.max_connections).await?;
    Ok(counted(db, &PRIMARY_METRICS))
}

/// The read replica's pool (`DATABASE_READ_URL`).
#[derive(Clone)]
pub struct ReplicaPool {
    pub db: DatabaseConnection,
    /// Statements sent to the replica, apart from the primary's.
    pub statements: StatementCounter,
    pub max_connections: u32,
}

/// Connects to the read replica, when one is configured. It is not
/// migrated: it follows the primary.
pub async fn connect_replica(config: &DatabaseConfig) -> anyhow::Result<Option<ReplicaPool>> {
    let Some(read) = &config.read else {
        return Ok(None);
    };
    let db = connect_url(&read.url, read.max_connections, "DATABASE_READ_URL").await?;
    let (db, statements) = counted(db, &REPLICA_METRICS);
    Ok(Some(ReplicaPool {
        db,
        statements,
        max_connections: read.max_connections,
    }))
}

/// The names a pool's statements are counted and timed under.
struct StatementMetrics {
    total: &'static str,
    duration: &'static str,
}

const PRIMARY_METRICS: StatementMetrics = StatementMetrics {
    total: "roost_db_statements_total",
    duration: "roost_db_statement_duration_seconds",
};

const REPLICA_METRICS: StatementMetrics = StatementMetrics {
    total: "roost_db_replica_statements_total",
    duration: "roost_db_replica_statement_duration_seconds",
};

fn counted(
    mut db: DatabaseConnection,
    names: &'static StatementMetrics,
) -> (DatabaseConnection, StatementCounter) {
    let counter = StatementCounter::default();
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(names.total, "outcome" => if info.failed { "error" } else { "ok" })
            .increment(1);
        metrics::histogram!(names.duration).record(info.elapsed.as_secs_f64());
    });
    (db, counter)
}

pub async fn connect_with(
    config: &DatabaseConfig,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    connect_url(&config.url, max_connections, "DATABASE_URL").await
}

/// `setting` names where `url` came from, for the error.
async fn connect_url(
    url: &SecretString,
    max_connections: u32,
    setting: &str,
) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        probe_postgres(url, setting).await?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            // WAL lets readers run beside the one writer; NORMAL sync is
            // durable across application crashes, which is what WAL needs.
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .with_context(|| format!("could not connect to the database at {setting}"))
}

/// Opens one connection and closes it. The pool retries a refused
/// connection until its acquire timeout and then reports only the timeout;
/// one attempt of its own says at once what is wrong ("connection refused
/// to 127.0.0.1:5433"). The URL's password never appears in the error.
async fn probe_postgres(url: &str, setting: &str) -> anyhow::Result<()> {
    use sea_orm::sqlx::{
        self, Connection,
        postgres::{PgConnectOptions, PgConnection},
    };
    let options: PgConnectOptions = url
        .parse()
        .map_err(|_| anyhow::anyhow!("{setting} is not a valid PostgreSQL URL"))?;
    let target = match options.get_socket() {
        Some(dir) => format!("the socket in {}", dir.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let failed =
        |why: String| anyhow::anyhow!("could not connect to the database at {setting}: {why}");
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(failed(format!("connection refused to {target}")))
        }
        Ok(Err(sqlx::Error::Io(e))) => Err(failed(format!("{target}: {e}"))),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(_) => Err(failed(format!(
            "no answer from {target} within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead
/// of one failing when it upgrades from reading to writing.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// `SELECT 1`, for readiness checks.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Connection pool numbers for the metrics endpoint.
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

pub fn pool_stats(db: &DatabaseConnection, max: u32) -> PoolStats {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    };
    PoolStats { size, idle, max }
}

/// Custom SQL with `?` placeholders, numbered (`$1`, `$2`, ...) for
/// PostgreSQL, whose query builder only reads numbered ones.
pub fn custom_sql<V, I>(backend: DbBackend, sql: &str, values: I) -> sea_orm::sea_query::Expr
where
    V: Into<sea_orm::Value>,
    I: IntoIterator<Item = V>,
{
    let sql = if backend == DbBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                numbered.push_str(&format!("${n}"));
            } else {
                numbered.push(c);
            }
        }
        numbered
    } else {
        sql.to_owned()
    };
    sea_orm::sea_query::Expr::cust_with_values(sql, values)
}

/// The values of a statement written by hand, each bound where its
/// placeholder is written: `$1`, `$2`... on PostgreSQL, `?` on SQLite (which
/// binds by position, so placeholders must be asked for in the order they
/// appear in the text).
pub struct Placeholders {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Placeholders {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value`; its placeholder.
    pub fn bind(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    /// `sql` with the values bound.
    pub fn statement(self, sql: String) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn custom_sql_binds_on_both_backends() {
        let build = |backend, builder: &dyn Fn(&sea_orm::sea_query::SelectStatement) -> String| {
            builder(
                &Query::select()
                    .expr(custom_sql(backend, "? + ? = ?", [1, 2, 3]))
                    .to_owned(),
            )
        };
        assert_eq!(
            build(DbBackend::Postgres, &|q| q.to_string(PostgresQueryBuilder)),
            "SELECT 1 + 2 = 3"
        );
        assert_eq!(
            build(DbBackend::Sqlite, &|q| q.to_string(SqliteQueryBuilder)),
            "SELECT 1 + 2 = 3"
        );
    }
}
