//! The job worker: `roost worker` as its own process beside servers that run
//! none, several workers sharing one queue, a job that keeps failing, and
//! the scheduler's sweeps.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{
    fake_stripe,
    helpers::{SOON, Session, TestApp, count_where, spawn_with},
};

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// A `roost worker` on the app's database (and Redis), until dropped.
struct Worker {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Worker {
    fn start(app: &TestApp) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(roost::startup::run_worker(app.config.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops it and waits for it to finish its running jobs: up to the
    /// queue's 30 s shutdown timeout (a job retrying after a busy database
    /// counts as running), then closing its pools.
    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => tokio::time::timeout(Duration::from_secs(45), task).await??,
            None => Ok(()),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Servers that leave the jobs to `roost worker`, as in production.
async fn without_worker(tune: impl FnOnce(figment::Figment) -> figment::Figment) -> TestApp {
    spawn_with(|f| tune(f.merge(("serve_runs_worker", false)))).await
}

async fn setup(app: &TestApp) -> (Session, Session, String) {
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    (host, guest, property)
}

/// Jobs of the queue in `status`, read from apalis' table.
async fn jobs_in(app: &TestApp, status: &str) -> i64 {
    let table = if app.database().is_postgres() {
        "apalis.jobs"
    } else {
        "Jobs"
    };
    count_where(&app.db, table, &format!("status = '{status}'")).await
}

#[tokio::test]
async fn roost_worker_settles_payments_for_servers_that_run_no_worker() {
    let app = without_worker(|f| f).await;
    let (_host, guest, property) = setup(&app).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    app.pay(&guest, &id(&booking), "pm_card_visa").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = app.booking(&guest, &id(&booking)).await;
    assert_eq!(
        (
            waiting["status"].as_str(),
            waiting["payment"]["status"].as_str()
        ),
        (Some("PENDING_PAYMENT"), Some("PROCESSING")),
        "nothing works the queue yet"
    );

    let worker = Worker::start(&app);
    app.wait_for_status(&guest, &id(&booking), "CONFIRMED", "SUCCEEDED")
        .await;
    worker.stop().await.expect("the worker stops cleanly");
}

#[tokio::test]
async fn however_many_workers_run_each_job_runs_once() {
    let stripe = fake_stripe::start().await;
    let base = stripe.url.clone();
    let app = without_worker(move |f| {
        f.merge(("payment_provider", "stripe"))
            .merge(("stripe_secret_key", "sk_test_workers"))
            .merge(("stripe_api_base", base))
    })
    .await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let workers: Vec<Worker> = (0..3).map(|_| Worker::start(&app)).collect();
    let mut bookings = Vec::new();
    for i in 0..10 {
        let property = app
            .instant_listing(&host, json!({ "title": format!("Place number {i}") }))
            .await;
        let booking = app.book(&guest, &property, 5, 1).await;
        app.pay(&guest, &id(&booking), "pm_card_visa").await;
        bookings.push(id(&booking));
    }
    for booking in &bookings {
        app.wait_for_status(&guest, booking, "CONFIRMED", "SUCCEEDED")
            .await;
    }
    let requests = stripe.requests();
    let created = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payment_intents")
        .count();
    let captured = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/capture"))
        .count();
    assert_eq!(
        (created, captured, requests.len()),
        (10, 10, 20),
        "{requests:#?}"
    );
    for worker in workers {
        worker.stop().await.expect("the worker stops cleanly");
    }
    assert_eq!(jobs_in(&app, "Failed").await, 0);
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_kept_as_failed_and_counted() {
    let stripe = fake_stripe::start().await;
    stripe.fail_next(1_000);
    let base = stripe.url.clone();
    let app = spawn_with(move |f| {
        f.merge(("payment_provider", "stripe"))
            .merge(("stripe_secret_key", "sk_test_failing"))
            .merge(("stripe_api_base", base))
            .merge(("job_max_attempts", 3))
    })
    .await;
    let (_host, guest, property) = setup(&app).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    let payment = app.pay(&guest, &id(&booking), "pm_card_visa").await;

    let deadline = tokio::time::Instant::now() + SOON;
    while jobs_in(&app, "Failed").await + jobs_in(&app, "Killed").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job was never given up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Three attempts, each with the payment's own idempotency key, then kept.
    let attempts: Vec<_> = stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/payment_intents")
        .collect();
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    let payment_uuid = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payment["id"].as_str().expect("id"))
            .expect("a global id");
        String::from_utf8(raw)
            .expect("utf-8")
            .trim_start_matches("Payment:")
            .to_owned()
    };
    let key = format!("roost-pay-{payment_uuid}");
    assert!(
        attempts
            .iter()
            .all(|r| r.idempotency_key.as_deref() == Some(key.as_str()))
    );
    let now = app.booking(&guest, &id(&booking)).await;
    assert_eq!(now["payment"]["status"], "PROCESSING");
    assert_eq!(now["status"], "PENDING_PAYMENT");

    let metrics = app.metrics_page().await;
    let errors = metrics
        .lines()
        .find(|l| {
            l.starts_with("roost_jobs_total")
                && l.contains(r#"job="settle_payment""#)
                && l.contains(r#"outcome="error""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no failed-job counter in:\n{metrics}"));
    // The recorder is shared by every test in this process: at least ours.
    assert!(errors >= 3.0, "{errors}");
}

#[tokio::test]
async fn confirmed_stays_are_completed_the_day_after_check_out() {
    let app = spawn_with(|f| f.merge(("scheduler_interval", "200ms"))).await;
    let (_host, guest, property) = setup(&app).await;
    let ended = app.confirmed_booking(&guest, &property, 10, 2).await;
    let today = app.confirmed_booking(&guest, &property, 20, 2).await;
    // Stays cannot be booked in the past: move these two there.
    let move_to = |booking: &Value, from: i64, to: i64| {
        let uuid = {
            use base64::Engine;
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(booking["id"].as_str().expect("id"))
                .expect("a global id");
            String::from_utf8(raw)
                .expect("utf-8")
                .trim_start_matches("Booking:")
                .to_owned()
        };
        let uuid = uuid::Uuid::parse_str(&uuid).expect("a uuid");
        let db = app.db.clone();
        async move {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
            let date = |d: i64| chrono::Utc::now().date_naive() + chrono::Duration::days(d);
            entity::booking::Entity::update_many()
                .col_expr(entity::booking::Column::CheckIn, Expr::value(date(from)))
                .col_expr(entity::booking::Column::CheckOut, Expr::value(date(to)))
                .filter(entity::booking::Column::Id.eq(uuid))
                .exec(&db)
                .await
                .expect("move the stay");
        }
    };
    move_to(&ended, -4, -2).await;
    move_to(&today, -2, 0).await;
    app.wait_for(&guest, &id(&ended), "COMPLETED", |b| {
        b["status"] == "COMPLETED"
    })
    .await;
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'BOOKING_COMPLETED'").await,
        2
    );
    // Checking out today: still CONFIRMED (a few more sweeps to be sure).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        app.booking(&guest, &id(&today)).await["status"],
        "CONFIRMED"
    );
}

#[tokio::test]
async fn the_worker_deletes_sessions_a_week_after_they_expired() {
    let app = without_worker(|f| f).await;
    let old = app.register("old@example.com").await;
    let recent = app.register("recent@example.com").await;
    let expire = |email: &str, days: i64| {
        let db = app.db.clone();
        let email = email.to_owned();
        async move {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
            let user: uuid::Uuid = entity::user::Entity::find()
                .select_only()
                .column(entity::user::Column::Id)
                .filter(entity::user::Column::Email.eq(email))
                .into_tuple()
                .one(&db)
                .await
                .expect("query")
                .expect("the user");
            entity::session::Entity::update_many()
                .col_expr(
                    entity::session::Column::ExpiresAt,
                    Expr::value(chrono::Utc::now() - chrono::Duration::days(days)),
                )
                .filter(entity::session::Column::UserId.eq(user))
                .exec(&db)
                .await
                .expect("expire the session");
        }
    };
    expire(&old.email, 8).await;
    expire(&recent.email, 1).await;
    assert_eq!(crate::helpers::count_rows(&app.db, "sessions").await, 2);
    let worker = Worker::start(&app);
    let deadline = tokio::time::Instant::now() + SOON;
    while crate::helpers::count_rows(&app.db, "sessions").await > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old session is still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await.expect("the worker stops cleanly");
    assert_eq!(
        crate::helpers::count_rows(&app.db, "refresh_tokens").await,
        1
    );
    // The recent one's refresh is refused (expired), not purged.
    let resp = app.refresh(&recent.refresh_token).await;
    assert_eq!(crate::helpers::code(&resp), "UNAUTHENTICATED", "{resp}");
}
