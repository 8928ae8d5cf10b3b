use serde_json::{Value, json};

use crate::helpers::{code, redis_url, spawn_app};

#[tokio::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let health = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.expect("json"),
        json!({ "status": "ok" })
    );

    let ready = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["replica"], "not configured");
    let expected_redis = if redis_url().is_some() {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(body["redis"], expected_redis);
}

#[tokio::test]
async fn ready_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.expect("close pool");
    let ready = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "unavailable");
}

#[tokio::test]
async fn metrics_count_operations_by_name_and_show_the_pool() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let resp = app.gql("query HealthProbe { __typename }", json!({})).await;
        assert_eq!(resp["data"]["__typename"], "Query");
    }
    // Refused before it runs, and counted all the same, by its code.
    let broken = app.gql("query Broken { __typename ", json!({})).await;
    assert_eq!(code(&broken), "GRAPHQL_PARSE_FAILED", "{broken}");
    let text = app.metrics_page().await;
    let parse_errors = text
        .lines()
        .find(|l| {
            l.starts_with("roost_graphql_errors_total")
                && l.contains(r#"code="GRAPHQL_PARSE_FAILED""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no parse error counter in:\n{text}"));
    assert!(parse_errors >= 1.0, "{parse_errors}");
    // Other tests share the process-wide recorder, so counts only grow.
    let count = text
        .lines()
        .find(|l| {
            l.starts_with("roost_graphql_operations_total")
                && l.contains(r#"operation="HealthProbe""#)
                && l.contains(r#"outcome="ok""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no HealthProbe counter in:\n{text}"));
    assert!(count >= 3.0, "{count}");
    assert!(
        text.contains("roost_graphql_operation_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"roost_db_pool_connections{state="idle"}"#),
        "{text}"
    );
    assert!(text.contains("roost_db_pool_max_connections"), "{text}");
    assert!(
        text.contains(r#"roost_http_requests_total{method="POST",route="/graphql",status="200"}"#),
        "{text}"
    );
    // With Redis (the second CI pass): whether it answers.
    if app.config.redis.is_some() {
        assert!(text.contains("roost_redis_up 1"), "{text}");
        assert!(text.contains("roost_redis_ping_seconds"), "{text}");
    }
}

#[tokio::test]
async fn internal_errors_are_masked_and_carry_the_request_id() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    assert!(app.me(&ann.access_token).await["errors"].is_null());
    // The session is known to the session store; the database is not there.
    app.db.clone().close().await.expect("close pool");
    let resp = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&ann.access_token)
        .header("x-request-id", "req-1234")
        .json(&json!({ "query": "{ me { id firstName } }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.headers()["x-request-id"], "req-1234");
    let text = resp.text().await.expect("text");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        body["errors"][0]["message"], "Internal server error",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "req-1234");
    for leak in ["pool", "sqlx", "database", "closed", "/"] {
        assert!(
            !text.to_lowercase().contains(leak),
            "{leak:?} leaked: {text}"
        );
    }
}
