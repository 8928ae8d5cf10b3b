//! Operating Roost (RULES §19): settings it does not know, a database that
//! is not there, host names to listen on, the log level, production's
//! defaults, `/metrics` on an address of its own, and scheduler sweeps that
//! go on past a booking that cannot move.

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{
    SOON, TestApp, TestDatabase, base_figment, client, count_rows, free_port, spawn_with, start,
};

/// `roost ARGS` with a data folder and nothing else from the environment of
/// the tests (no stray `ROOST_*`, `DATABASE_URL` or `REDIS_URL`).
pub fn roost(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roost"));
    cmd.args(args)
        .env_clear()
        .env("ROOST_DATA_DIR", dir)
        .env("ROOST_ARGON2_MEMORY_KIB", "256")
        .env("ROOST_ARGON2_ITERATIONS", "1")
        .envs(envs.iter().copied());
    cmd
}

fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    roost(dir, args, envs).output().expect("run roost")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A random secret production accepts.
pub fn production_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// `roost serve` as a process of its own, logging to a pipe.
pub struct Server {
    child: Option<Child>,
    pub base: String,
}

impl Server {
    /// `roost ARGS` (a `serve`) on 127.0.0.1:`port` with JSON logs, `envs`
    /// laid over that; waits until it answers `/health`.
    pub async fn start(dir: &Path, args: &[&str], port: u16, envs: &[(&str, &str)]) -> Self {
        let bind = format!("127.0.0.1:{port}");
        let mut cmd = roost(
            dir,
            args,
            &[("ROOST_BIND", &bind), ("ROOST_LOG_FORMAT", "json")],
        );
        cmd.envs(envs.iter().copied());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn roost");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let http = client();
        while http.get(format!("{base}/health")).send().await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("roost exited with {status} before it answered");
            }
            assert!(started.elapsed() < SOON * 3, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child: Some(child),
            base,
        }
    }

    /// Stops it with SIGTERM; what it logged.
    pub fn stop(mut self) -> String {
        let child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.expect("kill").success());
        let out = child.wait_with_output().expect("wait for roost");
        assert!(out.status.success(), "roost: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8 log")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The JSON log lines (`ROOST_LOG_FORMAT=json`).
pub fn log_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect()
}

/// The log lines whose message starts with `prefix`.
fn logged(log: &str, prefix: &str) -> Vec<Value> {
    log_lines(log)
        .into_iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with(prefix)))
        .collect()
}

#[test]
fn an_unknown_roost_variable_stops_the_start_naming_the_closest_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(
        dir.path(),
        &["serve"],
        &[("ROOST_DATABSE_URL", "postgres://db/roost")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: unknown setting ROOST_DATABSE_URL; did you mean ROOST_DATABASE_URL?\n"
    );
    assert!(!dir.path().join("roost.db").exists(), "nothing was started");
}

#[test]
fn an_unknown_key_in_the_configuration_file_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("roost.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:0\"\nmax_query_deph = 5\n").expect("write");
    let path = file.to_str().expect("utf-8 path");
    let out = run(dir.path(), &["--config", path, "serve"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: unknown setting max_query_deph in {path}; did you mean max_query_depth?\n")
    );
}

#[test]
fn variables_outside_roosts_prefix_are_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let out = run(
        dir.path(),
        &["migrate", "status"],
        &[
            ("DATABASE_URL", &url),
            ("JWT_SECRET", &production_secret()),
            ("OTEL_SERVICE_NAME", "roost"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("ROOSTER", "not ours"),
            ("ROOST_LOG_LEVEL", "warn"),
            ("roost_bind", "127.0.0.1:0"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.lines().count() >= 2, "{listed}");
    assert!(
        listed.lines().all(|l| l.starts_with("pending ")),
        "{listed}"
    );
}

#[test]
fn a_database_that_refuses_connections_says_so_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/roost");
    for args in [&["serve"][..], &["worker"], &["migrate", "status"]] {
        let started = Instant::now();
        let out = run(dir.path(), args, &[("DATABASE_URL", &url)]);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: could not connect to the database at DATABASE_URL: connection refused to 127.0.0.1:{port}\n"
            ),
            "{args:?}"
        );
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
    }
}

#[tokio::test]
async fn a_host_name_in_roost_bind_is_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let bind = format!("localhost:{port}");
    let server = Server::start(dir.path(), &["serve"], port, &[("ROOST_BIND", &bind)]).await;
    let health = client()
        .get(format!("{}/health", server.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
    let log = server.stop();
    let listening = logged(&log, "Roost listening");
    assert_eq!(listening.len(), 1, "{log}");
    assert_eq!(
        listening[0]["message"],
        format!("Roost listening on http://127.0.0.1:{port}/graphql")
    );
}

#[test]
fn an_address_without_a_port_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), &["serve"], &[("ROOST_BIND", "localhost")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: ROOST_BIND=localhost is not an address to listen on (host:port, e.g. \
         127.0.0.1:8000): invalid socket address\n"
    );
}

#[tokio::test]
async fn the_log_level_holds_for_the_access_log_too() {
    for (level, access_lines) in [("info", 3), ("warn", 0)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let server =
            Server::start(dir.path(), &["serve"], port, &[("ROOST_LOG_LEVEL", level)]).await;
        for _ in 0..3 {
            let ready = client()
                .get(format!("{}/ready", server.base))
                .send()
                .await
                .expect("sent");
            assert_eq!(ready.status(), 200);
        }
        let lines = log_lines(&server.stop());
        let access = lines
            .iter()
            .filter(|l| {
                l["message"] == "finished processing request" && l["span"]["path"] == "/ready"
            })
            .count();
        assert_eq!(access, access_lines, "{level}: {lines:?}");
        if level == "warn" {
            assert!(
                lines
                    .iter()
                    .all(|l| l["level"] == "WARN" || l["level"] == "ERROR"),
                "{lines:?}"
            );
        }
    }
}

/// The playground page's status, and the answer to an introspection query.
async fn playground_and_introspection(app: &TestApp) -> (u16, Value) {
    let page = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("sent");
    let schema = app
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    (page.status().as_u16(), schema)
}

#[tokio::test]
async fn production_turns_the_playground_and_introspection_off_unless_asked() {
    let secret = production_secret();
    let production = |f: figment::Figment| {
        f.merge(("env", "production"))
            .merge(("jwt_secret", secret.clone()))
    };
    let (page, schema) = playground_and_introspection(&spawn_with(production).await).await;
    assert_eq!(page, 404);
    assert_eq!(schema["data"], Value::Null, "{schema}");
    assert_eq!(
        schema["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{schema}"
    );

    let on = spawn_with(|f| {
        production(f)
            .merge(("playground", true))
            .merge(("introspection", true))
    })
    .await;
    let (page, schema) = playground_and_introspection(&on).await;
    assert_eq!(page, 200);
    assert_eq!(
        schema["data"]["__schema"]["queryType"]["name"], "Query",
        "{schema}"
    );
}

#[test]
fn production_refuses_seed_and_demo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = production_secret();
    let production = [("ROOST_ENV", "production"), ("JWT_SECRET", secret.as_str())];
    for (args, command) in [
        (&["seed"][..], "roost seed"),
        (&["seed", "--scale", "0.01"], "roost seed"),
        (&["serve", "--demo"], "roost serve --demo"),
    ] {
        let out = run(dir.path(), args, &production);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: {command} writes made-up accounts with a published password, so it \
                 does not run when ROOST_ENV=production\n"
            )
        );
    }
    assert!(
        !dir.path().join("roost.db").exists(),
        "no database was made"
    );
}

#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::fresh(dir.path()).await;
    let config = domain::config::Config::from_figment(
        base_figment(dir.path(), &db.url).merge(("metrics_bind", "127.0.0.1:0")),
    )
    .expect("config");
    let app = roost::startup::Application::build(config)
        .await
        .expect("build");
    let api = app.local_addr().expect("addr");
    let metrics = app.metrics_addr().expect("addr").expect("metrics apart");
    assert_ne!(api.port(), metrics.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let http = client();
    let health = http
        .get(format!("http://{api}/health"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
    let on_api = http
        .get(format!("http://{api}/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(on_api.status(), 404, "not on the API's port");
    let apart = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(apart.status(), 200);
    assert_eq!(
        apart.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = apart.text().await.expect("text");
    assert!(
        text.lines().any(
            |l| l.starts_with("roost_http_requests_total{") && l.contains(r#"route="/health""#)
        ),
        "{text}"
    );
    let other = http
        .get(format!("http://{metrics}/health"))
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status(), 404, "only /metrics there");
    let _ = stop.send(());
    server.await.expect("task").expect("stopped cleanly");
    assert!(
        http.get(format!("http://{metrics}/metrics"))
            .send()
            .await
            .is_err(),
        "the metrics listener stops with the server"
    );
}

/// The UUID inside a booking's global id.
fn booking_uuid(booking: &Value) -> uuid::Uuid {
    use base64::Engine;
    let id = booking["id"].as_str().expect("id");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .expect("a global id");
    let raw = String::from_utf8(raw).expect("utf-8");
    uuid::Uuid::parse_str(raw.trim_start_matches("Booking:")).expect("a uuid")
}

/// Makes the database refuse to change the status of `refused` bookings (a
/// trigger), as a row that breaks a rule would.
async fn refuse_status_changes(db: &sea_orm::DatabaseConnection, refused: &[uuid::Uuid]) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let setup: &[&str] = if postgres {
        &[
            "CREATE TABLE refused_bookings (id uuid PRIMARY KEY)",
            "CREATE FUNCTION refuse_status_change() RETURNS trigger AS $$ BEGIN \
             IF NEW.status <> OLD.status AND OLD.id IN (SELECT id FROM refused_bookings) THEN \
             RAISE EXCEPTION 'this booking may not move'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_status_change BEFORE UPDATE ON bookings FOR EACH ROW \
             EXECUTE FUNCTION refuse_status_change()",
        ]
    } else {
        &[
            "CREATE TABLE refused_bookings (id PRIMARY KEY)",
            "CREATE TRIGGER refuse_status_change BEFORE UPDATE ON bookings \
             WHEN NEW.status <> OLD.status AND OLD.id IN (SELECT id FROM refused_bookings) \
             BEGIN SELECT RAISE(ABORT, 'this booking may not move'); END",
        ]
    };
    for sql in setup {
        db.execute_unprepared(sql).await.expect("trigger");
    }
    let insert = if postgres {
        "INSERT INTO refused_bookings (id) VALUES ($1)"
    } else {
        "INSERT INTO refused_bookings (id) VALUES (?)"
    };
    for id in refused {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            insert,
            [(*id).into()],
        ))
        .await
        .expect("refuse");
    }
}

#[tokio::test]
async fn a_booking_that_cannot_move_is_skipped_and_the_other_sweeps_go_on() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_with(|f| f.merge(("scheduler_interval", "200ms"))).await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let stuck_stay = app.confirmed_booking(&guest, &property, 10, 2).await;
    let ended_stay = app.confirmed_booking(&guest, &property, 20, 2).await;
    let stuck_hold = app.book(&guest, &property, 30, 2).await;
    let lapsed_hold = app.book(&guest, &property, 40, 2).await;
    // The first sweep, expiring holds, meets a refused booking first or
    // last; either way the later sweeps must still run.
    refuse_status_changes(
        &app.db,
        &[booking_uuid(&stuck_stay), booking_uuid(&stuck_hold)],
    )
    .await;
    let date = |d: i64| chrono::Utc::now().date_naive() + chrono::Duration::days(d);
    for (stay, from) in [(&stuck_stay, -6), (&ended_stay, -4)] {
        entity::booking::Entity::update_many()
            .col_expr(entity::booking::Column::CheckIn, Expr::value(date(from)))
            .col_expr(
                entity::booking::Column::CheckOut,
                Expr::value(date(from + 2)),
            )
            .filter(entity::booking::Column::Id.eq(booking_uuid(stay)))
            .exec(&app.db)
            .await
            .expect("move the stay into the past");
    }
    entity::booking::Entity::update_many()
        .col_expr(
            entity::booking::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(
            entity::booking::Column::Id
                .is_in([booking_uuid(&stuck_hold), booking_uuid(&lapsed_hold)]),
        )
        .exec(&app.db)
        .await
        .expect("let the holds lapse");

    let id = |b: &Value| b["id"].as_str().expect("id").to_owned();
    app.wait_for(&guest, &id(&lapsed_hold), "EXPIRED", |b| {
        b["status"] == "EXPIRED"
    })
    .await;
    app.wait_for(&guest, &id(&ended_stay), "COMPLETED", |b| {
        b["status"] == "COMPLETED"
    })
    .await;
    // A few more sweeps: the refused ones stay where they are, and are
    // tried again each time.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        app.booking(&guest, &id(&stuck_stay)).await["status"],
        "CONFIRMED"
    );
    assert_eq!(
        app.booking(&guest, &id(&stuck_hold)).await["status"],
        "PENDING_PAYMENT"
    );
    assert_eq!(
        crate::helpers::count_where(&app.db, "notifications", "kind = 'BOOKING_COMPLETED'").await,
        2,
        "the guest and the host of the ended stay; the stuck stay's rolled-back move wrote nothing"
    );
    let skipped: f64 = app
        .metrics_page()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("roost_scheduler_skipped_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("roost_scheduler_skipped_total");
    assert!(
        skipped >= 4.0,
        "two bookings, refused on each of several sweeps: {skipped}"
    );
}

#[test]
fn demo_without_serve_points_to_serve_demo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), &["--demo"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unexpected argument '--demo' found\n"),
        "{err}"
    );
    assert!(
        err.contains("\n  tip: --demo belongs to serve: run 'roost serve --demo'\n"),
        "{err}"
    );
}

#[tokio::test]
async fn demo_on_a_database_with_users_says_how_to_start_fresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::fresh(dir.path()).await;
    let mut first = start(
        domain::config::Config::from_figment(base_figment(dir.path(), &db.url)).expect("config"),
    )
    .await;
    first.register("ann@example.com").await;
    first.stop().await.expect("stopped");

    let server = Server::start(
        dir.path(),
        &["serve", "--demo"],
        free_port(),
        &[("DATABASE_URL", &db.url)],
    )
    .await;
    let log = server.stop();
    let demo = logged(&log, "--demo");
    assert_eq!(demo.len(), 1, "{log}");
    assert_eq!(demo[0]["level"], "WARN");
    assert_eq!(
        demo[0]["message"],
        "--demo: the database already has 1 user, so the demo dataset was not added; to \
         start fresh with it, point DATABASE_URL at an empty database"
    );
    let conn = sea_orm::Database::connect(&db.url).await.expect("connect");
    assert_eq!(count_rows(&conn, "users").await, 1, "nothing was seeded");
    let _ = conn.close().await;
}
