//! Redis unavailable (RULES.md section 20): no request waits on it longer
//! than a second; sessions are checked in the database and logins keep
//! working; `/ready` says Redis is down; all recovers when it is back.
//!
//! On the PostgreSQL + Redis pass only: each test starts a Redis of its own,
//! then stops it (or pauses it) under a running server.

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::{
    helpers::{PASSWORD, SOON, TestApp, session_from, spawn_with},
    live_client::{Got, Live, Protocol},
    own_redis::OwnRedis,
};

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Killed: connections are refused.
    Stopped,
    /// SIGSTOP: connections stay open and nothing answers.
    Paused,
}

/// `what`, asserted to be done within a second.
async fn within_a_second<T>(what: &str, f: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "{what} took {took:?}");
    out
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let resp = app.http.get(app.url("/ready")).send().await.expect("sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

/// The session an access token names (its `sid` claim).
fn session_of(token: &str) -> String {
    let claims = token.split('.').nth(1).expect("claims");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64")).expect("JSON");
    claims["sid"].as_str().expect("sid").to_owned()
}

async fn logout(app: &TestApp, refresh_token: &str) -> Value {
    app.gql(
        "mutation($t: String!) { logout(refreshToken: $t) }",
        serde_json::json!({ "t": refresh_token }),
    )
    .await
}

async fn requests_do_not_wait_for(fault: Fault) {
    if crate::helpers::redis_url().is_none() || std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!(
            "skipped: runs on the PostgreSQL + Redis pass (TEST_DATABASE_URL, TEST_REDIS_URL)"
        );
        return;
    }
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let url = redis.url();
    let prefix = format!("faults_{}:", uuid::Uuid::new_v4().simple());
    let app = spawn_with(|f| {
        // Every limit on, as in production: each asks Redis too.
        f.merge(("redis_url", url))
            .merge(("redis_prefix", prefix.clone()))
            .merge(("rate_limit_ip_per_second", 1000))
            .merge(("rate_limit_user_per_second", 1000))
            .merge(("rate_limit_auth_per_minute", 1000))
    })
    .await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    // Both sessions are cached live in Redis.
    for who in [&ann, &bob] {
        assert_eq!(
            app.me(&who.access_token).await["data"]["me"]["email"],
            who.email.as_str()
        );
    }

    match fault {
        Fault::Stopped => redis.stop(),
        Fault::Paused => redis.pause(),
    }
    // Signed-in requests answer from the database's session record.
    for _ in 0..3 {
        let me = within_a_second("a signed-in request", app.me(&ann.access_token)).await;
        assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    }
    // Logins work, and so do their tokens.
    let login = within_a_second("login", app.login("ann@example.com", PASSWORD)).await;
    let again = session_from(&login["data"]["login"], &ann.email)
        .unwrap_or_else(|| panic!("login failed: {login}"));
    let me = within_a_second("the new token", app.me(&again.access_token)).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    // Ending a session takes effect at once, from the database.
    let ended = within_a_second("logout", logout(&app, &bob.refresh_token)).await;
    assert_eq!(ended["data"]["logout"], true, "{ended}");
    let refused = within_a_second("an ended session", app.me(&bob.access_token)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    // New sockets are acknowledged at once.
    within_a_second(
        "a socket",
        Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)),
    )
    .await;
    // /ready says what is down.
    let (status, body) = within_a_second("/ready", ready(&app)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["redis"], "unavailable", "{body}");
    assert_eq!(body["database"], "ok", "{body}");

    match fault {
        Fault::Stopped => redis.restart().await,
        Fault::Paused => redis.resume(),
    }
    let deadline = tokio::time::Instant::now() + SOON;
    while ready(&app).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/ready stays 503 with Redis back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let me = app.me(&ann.access_token).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    let refused = app.me(&bob.access_token).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    // The ending Redis missed is written there once it answers, so that no
    // instance reads bob's session as live from what it cached before.
    let key = format!("{prefix}session:{}", session_of(&bob.access_token));
    let client = redis::Client::open(redis.url()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let state: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("GET");
        if state.as_deref() == Some("ended") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{key} is {state:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Events go through Redis again: a session's socket closes when it ends.
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let login = app.login("ann@example.com", PASSWORD).await;
        let session = session_from(&login["data"]["login"], &ann.email).expect("a session");
        let mut live =
            Live::connect(&app, Protocol::TransportWs, Some(&session.access_token)).await;
        assert_eq!(
            logout(&app, &session.refresh_token).await["data"]["logout"],
            true
        );
        match live.next_within(Duration::from_secs(1)).await {
            Some(Got::Closed(Some(4401))) => break,
            None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events never came through Redis again"
        );
    }
}

#[tokio::test]
async fn signed_in_requests_and_logins_do_not_wait_for_a_stopped_redis() {
    requests_do_not_wait_for(Fault::Stopped).await;
}

#[tokio::test]
async fn signed_in_requests_and_logins_do_not_wait_for_a_paused_redis() {
    requests_do_not_wait_for(Fault::Paused).await;
}
