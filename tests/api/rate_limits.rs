//! Rate limits (RULES §9): per client IP, per signed-in user, and the shared
//! budget of `register`, `login` and `refreshSession`.

use std::time::Duration;

use figment::Figment;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    helpers::{AUTH_FIELDS, PASSWORD, TestApp, code, count_rows, session_from, spawn_with},
    live_client::{Protocol, upgrade},
    own_redis::OwnRedis,
};

/// Only the limits a test names: everything else off, as in `base_figment`.
fn limits(f: Figment, pairs: &[(&str, u32)]) -> Figment {
    pairs.iter().fold(f, |f, (k, v)| f.merge((*k, *v)))
}

/// POSTs an operation, optionally as a user and through a proxy that says
/// the client is `forwarded_for`.
async fn post(
    app: &TestApp,
    token: Option<&str>,
    forwarded_for: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = app.http.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(xff) = forwarded_for {
        req = req.header("X-Forwarded-For", xff);
    }
    req.send().await.expect("request sent")
}

async fn typename(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    post(
        app,
        None,
        forwarded_for,
        json!({ "query": "{ __typename }" }),
    )
    .await
}

fn login_body(email: &str) -> Value {
    json!({
        "query": format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"),
        "variables": { "input": { "email": email, "password": PASSWORD } },
    })
}

fn register_body(email: &str) -> Value {
    json!({
        "query": format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"),
        "variables": { "input": {
            "email": email, "password": PASSWORD,
            "firstName": "Test", "lastName": "User", "role": "GUEST",
        }},
    })
}

/// Asserts an HTTP 429 with `Retry-After` equal to `extensions.retryAfter`,
/// a GraphQL-shaped RATE_LIMITED error and no data; returns the retry-after.
async fn assert_limited(resp: reqwest::Response) -> u64 {
    assert_eq!(resp.status(), 429);
    let header: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a numeric Retry-After header");
    let body: Value = resp.json().await.expect("JSON body");
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["retryAfter"], header,
        "{body}"
    );
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    header
}

async fn json_ok(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("JSON body")
}

#[tokio::test]
async fn an_address_over_its_budget_gets_429_until_the_retry_after() {
    let app = spawn_with(|f| {
        limits(
            f,
            &[("rate_limit_ip_per_second", 1), ("rate_limit_ip_burst", 3)],
        )
    })
    .await;
    // POST and GET spend from one budget.
    assert_eq!(typename(&app, None).await.status(), 200);
    assert_eq!(typename(&app, None).await.status(), 200);
    let get = app
        .http
        .get(app.url("/graphql?query=%7B__typename%7D"))
        .header("Accept", "application/json")
        .send()
        .await
        .expect("sent");
    assert_eq!(get.status(), 200);
    assert_eq!(assert_limited(typename(&app, None).await).await, 1);
    // So does a WebSocket upgrade.
    match upgrade(&app, Protocol::TransportWs).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429)
        }
        other => panic!("expected a 429, got {:?}", other.map(|r| r.1.status())),
    }
    // Health, readiness and metrics are never limited.
    for path in ["/health", "/ready", "/metrics"] {
        for _ in 0..3 {
            let resp = app.http.get(app.url(path)).send().await.expect("sent");
            assert_eq!(resp.status(), 200, "{path}");
        }
    }
    let metrics = app.metrics_page().await;
    assert!(
        metrics.contains(r#"roost_rate_limited_total{limit="ip"}"#),
        "{metrics}"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = json_ok(typename(&app, None).await).await;
    assert_eq!(body["data"]["__typename"], "Query");
    assert_limited(typename(&app, None).await).await;
}

#[tokio::test]
async fn a_user_over_their_budget_is_refused_from_any_address_while_others_are_served() {
    let app = spawn_with(|f| {
        limits(
            f,
            &[
                ("rate_limit_user_per_second", 1),
                ("rate_limit_user_burst", 2),
            ],
        )
        .merge(("trusted_proxies", "127.0.0.1"))
    })
    .await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let me = json!({ "query": "{ me { email } }" });
    let ok = json_ok(
        post(
            &app,
            Some(&ann.access_token),
            Some("198.51.100.1"),
            me.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(ok["data"]["me"]["email"], "ann@example.com");
    // A batch of one spends one as well.
    let ok = json_ok(
        post(
            &app,
            Some(&ann.access_token),
            Some("198.51.100.2"),
            json!([me.clone()]),
        )
        .await,
    )
    .await;
    assert_eq!(ok[0]["data"]["me"]["email"], "ann@example.com");
    let retry = assert_limited(
        post(
            &app,
            Some(&ann.access_token),
            Some("198.51.100.3"),
            me.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(retry, 1);
    let ok = json_ok(
        post(
            &app,
            Some(&bob.access_token),
            Some("198.51.100.3"),
            me.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(ok["data"]["me"]["email"], "bob@example.com");
    // Anonymous operations are not counted against anyone.
    for _ in 0..4 {
        assert_eq!(typename(&app, Some("198.51.100.3")).await.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ok = json_ok(post(&app, Some(&ann.access_token), Some("198.51.100.4"), me).await).await;
    assert_eq!(ok["data"]["me"]["email"], "ann@example.com");
}

#[tokio::test]
async fn sign_ins_share_a_budget_per_address_and_every_attempt_counts() {
    let app = spawn_with(|f| {
        limits(f, &[("rate_limit_auth_per_minute", 3)]).merge(("trusted_proxies", "127.0.0.1"))
    })
    .await;
    let first = Some("192.0.2.1");
    let reg = json_ok(post(&app, None, first, register_body("ann@example.com")).await).await;
    let ann = session_from(&reg["data"]["register"], "ann@example.com").expect("registered");
    let login = json_ok(post(&app, None, first, login_body("ann@example.com")).await).await;
    assert!(login["errors"].is_null(), "{login}");
    let refresh = json_ok(
        post(
            &app,
            None,
            first,
            json!({
                "query": "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
                "variables": { "t": ann.refresh_token },
            }),
        )
        .await,
    )
    .await;
    assert!(refresh["errors"].is_null(), "{refresh}");
    let retry = assert_limited(post(&app, None, first, login_body("ann@example.com")).await).await;
    assert!(
        (19..=20).contains(&retry),
        "60 s / 3 = one every 20 s: {retry}"
    );
    assert_limited(post(&app, None, first, register_body("bob@example.com")).await).await;
    // Other operations from the address are served; other addresses sign in.
    let me = json_ok(
        post(
            &app,
            Some(&ann.access_token),
            first,
            json!({ "query": "{ me { email } }" }),
        )
        .await,
    )
    .await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com");
    let other =
        json_ok(post(&app, None, Some("192.0.2.2"), login_body("ann@example.com")).await).await;
    assert!(other["errors"].is_null(), "{other}");

    // Aliases: four logins in one operation are four attempts, over the
    // budget of three: refused before any runs.
    let aliased = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("a{i}: login(input: $input) {{ accessToken }} "))
            .collect();
        json!({
            "query": format!("mutation($input: LoginInput!) {{ {fields} }}"),
            "variables": { "input": { "email": "ann@example.com", "password": PASSWORD } },
        })
    };
    let sessions = count_rows(&app.db, "sessions").await;
    assert_limited(post(&app, None, Some("192.0.2.3"), aliased(4)).await).await;
    assert_eq!(count_rows(&app.db, "sessions").await, sessions, "none ran");
    // Two, then two more: the second pair is over (2 + 2 > 3); one more fits.
    let two = json_ok(post(&app, None, Some("192.0.2.4"), aliased(2)).await).await;
    assert!(two["errors"].is_null(), "{two}");
    assert!(two["data"]["a1"]["accessToken"].is_string(), "{two}");
    assert_limited(post(&app, None, Some("192.0.2.4"), aliased(2)).await).await;
    let one = json_ok(post(&app, None, Some("192.0.2.4"), aliased(1)).await).await;
    assert!(one["errors"].is_null(), "{one}");
    assert_limited(post(&app, None, Some("192.0.2.4"), aliased(1)).await).await;
    assert_eq!(count_rows(&app.db, "sessions").await, sessions + 3);

    // A batch of four logins: three run, the fourth is refused.
    let batch = json_ok(
        post(
            &app,
            None,
            Some("192.0.2.5"),
            json!(
                (0..4)
                    .map(|_| login_body("ann@example.com"))
                    .collect::<Vec<_>>()
            ),
        )
        .await,
    )
    .await;
    let items = batch.as_array().expect("a batch answer");
    assert_eq!(items.len(), 4);
    for item in &items[..3] {
        assert!(item["data"]["login"]["accessToken"].is_string(), "{item}");
    }
    assert_eq!(code(&items[3]), "RATE_LIMITED", "{batch}");
    assert!(
        items[3]["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some_and(|r| r > 0)
    );
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies_and_honoured_with_them() {
    let tuned = |f: Figment| {
        limits(
            f,
            &[("rate_limit_ip_per_second", 1), ("rate_limit_ip_burst", 1)],
        )
    };
    let direct = spawn_with(tuned).await;
    assert_eq!(typename(&direct, Some("203.0.113.1")).await.status(), 200);
    assert_limited(typename(&direct, Some("203.0.113.2")).await).await;
    // The session records the peer, not what the client claims.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reg = json_ok(
        post(
            &direct,
            None,
            Some("203.0.113.3"),
            register_body("ann@example.com"),
        )
        .await,
    )
    .await;
    let ann = session_from(&reg["data"]["register"], "ann@example.com").expect("registered");
    assert_eq!(session_ip(&direct, &ann.user_id).await, "127.0.0.1");

    let proxied =
        spawn_with(|f| tuned(f).merge(("trusted_proxies", "10.0.0.0/8, 127.0.0.1"))).await;
    assert_eq!(typename(&proxied, Some("203.0.113.1")).await.status(), 200);
    assert_eq!(typename(&proxied, Some("203.0.113.2")).await.status(), 200);
    // The right-most untrusted entry is the client; a forged left part is not.
    assert_limited(typename(&proxied, Some("6.6.6.6, 203.0.113.1, 10.1.2.3")).await).await;
    assert_eq!(
        typename(&proxied, Some("203.0.113.1, 203.0.113.9"))
            .await
            .status(),
        200
    );
    let reg = json_ok(
        post(
            &proxied,
            None,
            Some("6.6.6.6, 203.0.113.7"),
            register_body("bob@example.com"),
        )
        .await,
    )
    .await;
    let bob = session_from(&reg["data"]["register"], "bob@example.com").expect("registered");
    assert_eq!(session_ip(&proxied, &bob.user_id).await, "203.0.113.7");
}

async fn session_ip(app: &TestApp, user_id: &str) -> String {
    let user = roost::graphql::ids::decode_as(roost::graphql::ids::NodeType::User, user_id)
        .expect("a user id");
    let rows = entity::session::Entity::find()
        .filter(entity::session::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .expect("sessions");
    assert_eq!(rows.len(), 1);
    rows[0].ip_address.clone().expect("an address")
}

#[tokio::test]
async fn each_limit_can_be_turned_off() {
    let defaults = domain::config::RateLimitConfig::default();
    assert_eq!(
        (
            defaults.ip_per_second,
            defaults.ip_burst,
            defaults.user_per_second,
            defaults.user_burst,
            defaults.auth_per_minute
        ),
        (100, 200, 50, 100, 60)
    );
    // A burst of 0 turns a limit off as well as a rate of 0.
    let app = spawn_with(|f| {
        limits(
            f,
            &[
                ("rate_limit_ip_per_second", 1),
                ("rate_limit_ip_burst", 0),
                ("rate_limit_user_per_second", 0),
                ("rate_limit_user_burst", 1),
                ("rate_limit_auth_per_minute", 0),
            ],
        )
    })
    .await;
    let ann = app.register("ann@example.com").await;
    for _ in 0..5 {
        let login = app.login("ann@example.com", PASSWORD).await;
        assert!(login["errors"].is_null(), "{login}");
        assert_eq!(
            app.me(&ann.access_token).await["data"]["me"]["email"],
            "ann@example.com"
        );
        assert_eq!(typename(&app, None).await.status(), 200);
    }
}

#[tokio::test]
async fn instances_share_one_budget() {
    const SECRET: &str = "shared-secret-shared-secret-shared-1";
    let tuned = |f: Figment| {
        limits(
            f,
            &[
                ("rate_limit_auth_per_minute", 3),
                ("rate_limit_user_per_second", 1),
                ("rate_limit_user_burst", 2),
            ],
        )
        .merge(("jwt_secret", SECRET))
    };
    let a = spawn_with(tuned).await;
    let Some((b, _dir)) = crate::helpers::second_instance(&a, tuned).await else {
        return;
    };
    let redis = a
        .config
        .redis
        .as_ref()
        .expect("a second instance means Redis");
    let ann = a.register("ann@example.com").await;
    assert!(b.login("ann@example.com", PASSWORD).await["errors"].is_null());
    assert!(a.login("ann@example.com", PASSWORD).await["errors"].is_null());
    assert_limited(post(&b, None, None, login_body("ann@example.com")).await).await;
    assert_limited(post(&a, None, None, login_body("ann@example.com")).await).await;

    let me = json!({ "query": "{ me { email } }" });
    json_ok(post(&a, Some(&ann.access_token), None, me.clone()).await).await;
    json_ok(post(&b, Some(&ann.access_token), None, me.clone()).await).await;
    assert_limited(post(&a, Some(&ann.access_token), None, me).await).await;
    let redis_keys = domain::infra::redis::Redis::connect(redis)
        .await
        .expect("redis");
    let mut conn = redis_keys.conn();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}ratelimit:*", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 2, "one auth key and one user key: {keys:?}");
}

#[tokio::test]
async fn the_limits_fail_open_when_redis_is_gone() {
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let url = redis.url();
    let app = spawn_with(move |f| {
        limits(
            f.merge(("redis_url", url))
                .merge(("redis_prefix", "failopen:")),
            &[("rate_limit_ip_per_second", 1), ("rate_limit_ip_burst", 2)],
        )
    })
    .await;
    // Counted in Redis: the third request within the second is refused.
    assert_eq!(typename(&app, None).await.status(), 200);
    assert_eq!(typename(&app, None).await.status(), 200);
    assert_limited(typename(&app, None).await).await;

    redis.stop();
    // Redis is gone: the limiter lets requests through rather than failing
    // them, and does not keep them waiting.
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let body = json_ok(typename(&app, None).await).await;
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
    }
}

#[tokio::test]
async fn each_entry_of_a_batch_spends_the_address_budget() {
    let app = spawn_with(|f| {
        limits(
            f,
            &[("rate_limit_ip_per_second", 1), ("rate_limit_ip_burst", 5)],
        )
    })
    .await;
    let batch = json!(vec![json!({ "query": "{ __typename }" }); 10]);
    // The request spends one at the door and its first entry runs on it;
    // the other nine spend one each: four run, five are refused.
    let answers = json_ok(post(&app, None, None, batch.clone()).await).await;
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 10);
    let ran = answers
        .iter()
        .filter(|a| a["data"]["__typename"] == "Query")
        .count();
    assert_eq!(ran, 5, "{answers:?}");
    for refused in answers.iter().filter(|a| a.get("data").is_none()) {
        assert_eq!(code(refused), "RATE_LIMITED", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["retryAfter"], 1);
    }
    // Nothing is left for another request.
    assert_limited(post(&app, None, None, batch).await).await;
}
