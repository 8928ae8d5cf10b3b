use serde_json::{Value, json};

use crate::helpers::{AUTH_FIELDS, PASSWORD, assert_bad_input, code, count_rows, spawn_app};

fn register_query() -> String {
    format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}")
}

fn input(overrides: Value) -> Value {
    let mut base = json!({
        "email": "ann@example.com", "password": PASSWORD,
        "firstName": "Ann", "lastName": "Lee",
    });
    if let (Value::Object(base), Value::Object(o)) = (&mut base, overrides) {
        base.extend(o);
    }
    json!({ "input": base })
}

#[tokio::test]
async fn register_creates_a_guest_and_signs_them_in() {
    let app = spawn_app().await;
    let resp = app
        .gql(
            &register_query(),
            input(json!({ "email": "  Ann@Example.COM ", "phoneNumber": "+1 555 010 9999" })),
        )
        .await;
    let payload = &resp["data"]["register"];
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(payload["user"]["email"], "ann@example.com");
    assert_eq!(payload["user"]["role"], "GUEST");
    assert_eq!(payload["user"]["firstName"], "Ann");
    assert!(
        payload["refreshToken"]
            .as_str()
            .expect("refresh")
            .starts_with("rt_")
    );
    let expires = chrono::DateTime::parse_from_rfc3339(
        payload["accessTokenExpiresAt"].as_str().expect("expiry"),
    )
    .expect("RFC 3339");
    let minutes = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    assert!(
        (14 * 60..=15 * 60).contains(&minutes),
        "access token lives 15 minutes, got {minutes}s"
    );

    let token = payload["accessToken"].as_str().expect("token");
    let me = app
        .gql_as(
            Some(token),
            "{ me { id email phoneNumber role } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["id"], payload["user"]["id"]);
    assert_eq!(me["data"]["me"]["phoneNumber"], "+1 555 010 9999");
    assert_eq!(count_rows(&app.db, "users").await, 1);
    assert_eq!(count_rows(&app.db, "sessions").await, 1);
}

#[tokio::test]
async fn register_may_choose_host_but_never_admin() {
    let app = spawn_app().await;
    let resp = app
        .gql(&register_query(), input(json!({ "role": "HOST" })))
        .await;
    assert_eq!(resp["data"]["register"]["user"]["role"], "HOST", "{resp}");
    let resp = app
        .gql(
            &register_query(),
            input(json!({ "email": "b@example.com", "role": "ADMIN" })),
        )
        .await;
    assert_bad_input(&resp, "input.role");
    assert_eq!(count_rows(&app.db, "users").await, 1);
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    let resp = app
        .gql(
            &register_query(),
            input(json!({ "email": "ANN@example.com" })),
        )
        .await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    assert_eq!(resp["data"], Value::Null);
    assert_eq!(count_rows(&app.db, "users").await, 1);
    assert_eq!(
        count_rows(&app.db, "sessions").await,
        1,
        "the failed registration started no session"
    );
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_make_one_account() {
    let app = spawn_app().await;
    let query = register_query();
    let attempts = (0..8).map(|_| app.gql(&query, input(json!({}))));
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = results
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{results:?}");
    assert_eq!(count_rows(&app.db, "users").await, 1);
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "email": "not-an-email" }), "input.email"),
        (json!({ "email": "" }), "input.email"),
        (json!({ "password": "short" }), "input.password"),
        (json!({ "password": "x".repeat(129) }), "input.password"),
        (json!({ "firstName": "   " }), "input.firstName"),
        (json!({ "lastName": "l".repeat(101) }), "input.lastName"),
        (
            json!({ "phoneNumber": "call me maybe" }),
            "input.phoneNumber",
        ),
        (json!({ "role": "ADMIN" }), "input.role"),
    ];
    for (overrides, field) in cases {
        let resp = app.gql(&register_query(), input(overrides.clone())).await;
        assert_bad_input(&resp, field);
        let message = resp["errors"][0]["message"].as_str().expect("message");
        assert!(!message.is_empty(), "{overrides}");
    }
    let resp = app
        .gql(&register_query(), input(json!({ "password": "short" })))
        .await;
    assert_eq!(
        resp["errors"][0]["message"],
        "must be 10 to 128 characters long"
    );
    assert_eq!(
        count_rows(&app.db, "users").await,
        0,
        "nothing half-written"
    );
}
