//! `roost migrate up|down|status` through the real binary, on a fresh database.

use std::process::Command;

use crate::helpers::{TestDatabase, base_figment};

fn roost(data_dir: &std::path::Path, database_url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_roost"))
        .args(args)
        .env("ROOST_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env_remove("REDIS_URL")
        .env("ROOST_LOG_LEVEL", "warn")
        .output()
        .expect("run roost");
    assert!(
        out.status.success(),
        "roost {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn statuses(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(s, n)| (s.to_owned(), n.trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::fresh(dir.path()).await;
    let run = |args: &[&str]| roost(dir.path(), &db.url, args);

    let pending = statuses(&run(&["migrate", "status"]));
    assert!(pending.len() >= 2, "{pending:?}");
    assert!(pending.iter().all(|(s, _)| s == "pending"), "{pending:?}");

    let up = statuses(&run(&["migrate", "up"]));
    assert!(up.iter().all(|(s, _)| s == "applied"), "{up:?}");
    assert_eq!(
        up.iter().map(|(_, n)| n).collect::<Vec<_>>(),
        pending.iter().map(|(_, n)| n).collect::<Vec<_>>()
    );

    let one_down = statuses(&run(&["migrate", "down"]));
    assert_eq!(one_down.last().map(|(s, _)| s.as_str()), Some("pending"));
    assert_eq!(
        one_down.iter().filter(|(s, _)| s == "applied").count(),
        up.len() - 1
    );

    let all_down = statuses(&run(&["migrate", "down", "--all"]));
    assert!(all_down.iter().all(|(s, _)| s == "pending"), "{all_down:?}");

    let again = statuses(&run(&["migrate", "up"]));
    assert_eq!(again, up);

    // The schema that came back works: a server on it registers a user.
    let config = domain::config::Config::from_figment(
        base_figment(dir.path(), &db.url).merge(("auto_migrate", false)),
    )
    .expect("config");
    let app = crate::helpers::start(config).await;
    app.register("ann@example.com").await;
}

/// Instances that start at the same moment take turns on the migration
/// lock: every one of them succeeds and each migration is applied once.
#[tokio::test]
async fn simultaneous_starts_do_not_race_on_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::fresh(dir.path()).await;
    if !db.is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (several instances share one PostgreSQL)");
        return;
    }
    let config =
        domain::config::Config::from_figment(base_figment(dir.path(), &db.url)).expect("config");
    let runs = (0..4).map(|_| {
        domain::infra::db::migrate(&config.database, domain::infra::db::MigrationStep::Up)
    });
    for result in futures_util::future::join_all(runs).await {
        result.expect("every instance migrates without error");
    }
    let conn = domain::infra::db::connect(&config.database)
        .await
        .expect("connect");
    let status = domain::infra::db::migration_status(&conn)
        .await
        .expect("status");
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
    assert_eq!(
        crate::helpers::count_rows(&conn, "seaql_migrations").await,
        status.len() as i64
    );
}
