//! Access tokens, refresh rotation, reuse detection, logout and password
//! changes (RULES.md section 3).

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_bad_input, code, session_from, spawn_app, spawn_with, start,
};

async fn status_and_body(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn bad_tokens_are_refused_never_treated_as_anonymous() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let mut parts = ann.access_token.split('.');
    let (header, claims) = (parts.next().expect("header"), parts.next().expect("claims"));
    let alg_none = format!(
        "{}.{claims}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    let tampered_claims = {
        let mut c: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        c["exp"] = json!(c["exp"].as_i64().expect("exp") + 3600);
        URL_SAFE_NO_PAD.encode(c.to_string())
    };
    let tampered = format!(
        "{header}.{tampered_claims}.{}",
        ann.access_token.rsplit('.').next().expect("sig")
    );
    for bad in ["garbage", alg_none.as_str(), tampered.as_str(), ""] {
        let resp = app
            .http
            .post(app.url("/graphql"))
            .header("Authorization", format!("Bearer {bad}"))
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
            .await
            .expect("sent");
        if bad.is_empty() {
            // "Bearer " with nothing after it reads as no token at all.
            continue;
        }
        let (status, body) = status_and_body(resp).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{bad}");
        assert!(body.get("data").is_none());
    }
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("Authorization", format!("Token {}", ann.access_token))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    let (status, body) = status_and_body(resp).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let a = spawn_with(|f| f.merge(("jwt_secret", "one-secret-one-secret-one-secret-1"))).await;
    let b = spawn_with(|f| f.merge(("jwt_secret", "two-secret-two-secret-two-secret-2"))).await;
    let ann = a.register("ann@example.com").await;
    assert_eq!(code(&b.me(&ann.access_token).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = spawn_with(|f| f.merge(("access_token_ttl", 1))).await;
    let ann = app.register("ann@example.com").await;
    assert!(app.me(&ann.access_token).await["errors"].is_null());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = app.me(&ann.access_token).await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .expect("msg")
            .contains("expired"),
        "{resp}"
    );
    // The refresh token still gets a fresh pair.
    let refreshed = app.refresh(&ann.refresh_token).await;
    let token = refreshed["data"]["refreshSession"]["accessToken"]
        .as_str()
        .expect("new token");
    assert_eq!(
        app.me(token).await["data"]["me"]["id"],
        ann.user_id.as_str()
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_session() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let first = app.refresh(&ann.refresh_token).await;
    let second_pair = session_from(&first["data"]["refreshSession"], &ann.email).expect("pair");
    assert_ne!(second_pair.refresh_token, ann.refresh_token);
    assert_eq!(second_pair.user_id, ann.user_id);
    assert!(app.me(&second_pair.access_token).await["errors"].is_null());

    // The retired token comes back: theft. The whole session ends.
    let reuse = app.refresh(&ann.refresh_token).await;
    assert_eq!(code(&reuse), "UNAUTHENTICATED");
    assert!(
        reuse["errors"][0]["message"]
            .as_str()
            .expect("msg")
            .contains("already used")
    );
    assert_eq!(
        code(&app.refresh(&second_pair.refresh_token).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.me(&second_pair.access_token).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(code(&app.me(&ann.access_token).await), "UNAUTHENTICATED");

    // Other sessions of the same user are untouched.
    let other = app.login("ann@example.com", PASSWORD).await;
    let other_token = other["data"]["login"]["accessToken"]
        .as_str()
        .expect("token");
    assert!(app.me(other_token).await["errors"].is_null());
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_at_most_one_win() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let results =
        futures_util::future::join_all((0..6).map(|_| app.refresh(&ann.refresh_token))).await;
    let winners = results.iter().filter(|r| r["errors"].is_null()).count();
    assert!(winners <= 1, "{results:?}");
    // Every loser presented a used token, so the session is over.
    assert_eq!(code(&app.me(&ann.access_token).await), "UNAUTHENTICATED");
    for r in results.iter().filter(|r| r["errors"].is_null()) {
        let token = r["data"]["refreshSession"]["accessToken"]
            .as_str()
            .expect("token");
        assert_eq!(code(&app.me(token).await), "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn garbage_refresh_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    assert_eq!(code(&app.refresh("rt_nonsense").await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_refuses_the_sessions_tokens_at_once() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    assert!(app.me(&ann.access_token).await["errors"].is_null());
    let logout = "mutation($t: String!) { logout(refreshToken: $t) }";
    let resp = app.gql(logout, json!({ "t": ann.refresh_token })).await;
    assert_eq!(resp["data"]["logout"], true, "{resp}");
    let (status, body) = status_and_body(
        app.gql_response(Some(&ann.access_token), "{ me { id } }", json!({}))
            .await,
    )
    .await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
    assert_eq!(
        code(&app.refresh(&ann.refresh_token).await),
        "UNAUTHENTICATED"
    );
    // Twice is harmless; an unknown token ends nothing.
    assert_eq!(
        app.gql(logout, json!({ "t": ann.refresh_token })).await["data"]["logout"],
        false
    );
    assert_eq!(
        app.gql(logout, json!({ "t": "rt_unknown" })).await["data"]["logout"],
        false
    );
}

#[tokio::test]
async fn change_password_ends_every_other_session() {
    let app = spawn_app().await;
    let here = app.register("ann@example.com").await;
    let elsewhere = app.login("ann@example.com", PASSWORD).await;
    let elsewhere = session_from(&elsewhere["data"]["login"], "ann@example.com").expect("session");
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) }";
    let new_password = "a brand new password";

    let wrong = app
        .gql_as(
            Some(&here.access_token),
            change,
            json!({ "input": { "currentPassword": "not it at all", "newPassword": new_password } }),
        )
        .await;
    assert_bad_input(&wrong, "input.currentPassword");
    let short = app
        .gql_as(
            Some(&here.access_token),
            change,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": "short" } }),
        )
        .await;
    assert_bad_input(&short, "input.newPassword");
    assert!(
        app.me(&elsewhere.access_token).await["errors"].is_null(),
        "failed changes end nothing"
    );

    let ok = app
        .gql_as(
            Some(&here.access_token),
            change,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": new_password } }),
        )
        .await;
    assert_eq!(ok["data"]["changePassword"], true, "{ok}");
    assert!(
        app.me(&here.access_token).await["errors"].is_null(),
        "this session goes on"
    );
    assert!(app.refresh(&here.refresh_token).await["errors"].is_null());
    assert_eq!(
        code(&app.me(&elsewhere.access_token).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.refresh(&elsewhere.refresh_token).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.login("ann@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    assert!(app.login("ann@example.com", new_password).await["errors"].is_null());
}

#[tokio::test]
async fn change_password_needs_a_signed_in_user() {
    let app = spawn_app().await;
    let resp = app
        .gql(
            "mutation { changePassword(input: { currentPassword: \"aaaaaaaaaaaa\", newPassword: \"bbbbbbbbbbbb\" }) }",
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_generated_development_secret_keeps_tokens_valid_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = crate::helpers::TestDatabase::fresh(dir.path()).await;
    let config = || {
        domain::config::Config::from_figment(crate::helpers::base_figment(
            dir.path(),
            &database.url,
        ))
        .expect("config")
    };
    let mut first = start(config()).await;
    let ann = first.register("ann@example.com").await;
    first.stop().await.expect("stopped");
    assert!(dir.path().join("jwt-secret").exists());
    let second = start(config()).await;
    assert_eq!(
        second.me(&ann.access_token).await["data"]["me"]["id"],
        ann.user_id.as_str()
    );
}

/// Two instances on one database and one Redis: a token from one works on
/// the other, and a logout or a refresh-token reuse on one is seen by the
/// other at once.
#[tokio::test]
async fn sessions_hold_across_instances() {
    const SECRET: &str = "shared-secret-shared-secret-shared-1";
    let a = spawn_with(|f| f.merge(("jwt_secret", SECRET))).await;
    let Some((b, _dir)) =
        crate::helpers::second_instance(&a, |f| f.merge(("jwt_secret", SECRET))).await
    else {
        return;
    };

    let ann = a.register("ann@example.com").await;
    assert_eq!(
        b.me(&ann.access_token).await["data"]["me"]["id"],
        ann.user_id.as_str()
    );
    let resp = a
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": ann.refresh_token }),
        )
        .await;
    assert_eq!(resp["data"]["logout"], true);
    assert_eq!(
        code(&b.me(&ann.access_token).await),
        "UNAUTHENTICATED",
        "B sees the logout at once"
    );

    let bob = b.register("bob@example.com").await;
    assert!(a.me(&bob.access_token).await["errors"].is_null());
    let rotated = a.refresh(&bob.refresh_token).await;
    let rotated = session_from(&rotated["data"]["refreshSession"], &bob.email).expect("rotated");
    assert_eq!(
        code(&b.refresh(&bob.refresh_token).await),
        "UNAUTHENTICATED",
        "reuse on B"
    );
    assert_eq!(
        code(&a.me(&rotated.access_token).await),
        "UNAUTHENTICATED",
        "A sees the session end"
    );

    // The lockout is counted in Redis, so it holds across instances.
    for i in 0..5 {
        let on = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            code(&on.login("bob@example.com", "wrong password!").await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        code(&a.login("bob@example.com", PASSWORD).await),
        "RATE_LIMITED"
    );
    assert_eq!(
        code(&b.login("bob@example.com", PASSWORD).await),
        "RATE_LIMITED"
    );
}
