use serde_json::Value;

use crate::helpers::{PASSWORD, code, spawn_app, spawn_with};

#[tokio::test]
async fn login_starts_a_new_session() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let resp = app.login(" ANN@example.com", PASSWORD).await;
    let payload = &resp["data"]["login"];
    assert_eq!(payload["user"]["id"], first.user_id.as_str(), "{resp}");
    let token = payload["accessToken"].as_str().expect("token");
    assert_ne!(token, first.access_token);
    assert_eq!(
        app.me(token).await["data"]["me"]["id"],
        first.user_id.as_str()
    );
    // Both sessions live.
    assert_eq!(
        app.me(&first.access_token).await["data"]["me"]["id"],
        first.user_id.as_str()
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_read_the_same() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    let wrong = app.login("ann@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
    assert_eq!(code(&unknown), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(wrong["data"], Value::Null);
}

#[tokio::test]
async fn five_failures_lock_the_email_until_the_window_passes() {
    let app = spawn_with(|f| f.merge(("login_failure_window", 3))).await;
    app.register("ann@example.com").await;
    app.register("bob@example.com").await;
    for _ in 0..5 {
        assert_eq!(
            code(&app.login("ann@example.com", "wrong password!").await),
            "UNAUTHENTICATED"
        );
    }
    // Locked, even with the right password.
    let locked = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(code(&locked), "RATE_LIMITED", "{locked}");
    let retry = locked["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!((1..=3).contains(&retry), "{retry}");
    // Another email is not affected.
    assert!(app.login("bob@example.com", PASSWORD).await["errors"].is_null());

    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let resp = app.login("ann@example.com", PASSWORD).await;
    assert!(resp["errors"].is_null(), "the window has passed: {resp}");
}

#[tokio::test]
async fn a_successful_login_forgives_earlier_failures() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    for _ in 0..4 {
        app.login("ann@example.com", "wrong password!").await;
    }
    assert!(app.login("ann@example.com", PASSWORD).await["errors"].is_null());
    for _ in 0..5 {
        assert_eq!(
            code(&app.login("ann@example.com", "wrong password!").await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        code(&app.login("ann@example.com", "wrong password!").await),
        "RATE_LIMITED"
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_lockout() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    let guesses = (0..20).map(|_| app.login("ann@example.com", "wrong password!"));
    let results = futures_util::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| code_or_ok(r) == "UNAUTHENTICATED")
        .count();
    assert_eq!(checked, 5, "only five attempts are checked: {results:?}");
    let locked = results
        .iter()
        .filter(|r| code_or_ok(r) == "RATE_LIMITED")
        .count();
    assert_eq!(locked, 15);
}

fn code_or_ok(resp: &Value) -> &str {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

#[tokio::test]
async fn unknown_emails_are_locked_too() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            code(&app.login("ghost@example.com", PASSWORD).await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        code(&app.login("ghost@example.com", PASSWORD).await),
        "RATE_LIMITED"
    );
}
