//! A read replica (`DATABASE_READ_URL`): queries read from it; mutations,
//! the reads inside them and subscriptions use the primary; and a viewer who
//! has just written reads from the primary for the read-your-writes window.
//!
//! The replica here is a second database that nothing replicates to: a test
//! copies rows into it, changed on purpose, so every answer tells which
//! database it came from.

use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use serde_json::{Value, json};

use crate::{
    helpers::{Session, TestApp, spawn_with_replica},
    live_client::{Live, Protocol},
};

/// Longer than these tests' read-your-writes window (1 s): a mark made
/// before a sleep this long has expired.
const PAST_WINDOW: Duration = Duration::from_millis(1300);

async fn spawn() -> TestApp {
    spawn_with_replica(|f| f.merge(("read_your_writes", "1s"))).await
}

fn replica(app: &TestApp) -> &DatabaseConnection {
    &app.replica.as_ref().expect("the app has a replica").db
}

async fn user_row(db: &DatabaseConnection, email: &str) -> Option<entity::user::Model> {
    entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .one(db)
        .await
        .expect("read users")
}

/// Copies `email`'s user row to the replica, as replication would, but
/// with another first name.
async fn replicate_user(app: &TestApp, email: &str, first_name: &str) {
    let row = user_row(&app.db, email).await.expect("on the primary");
    let mut row = row.into_active_model().reset_all();
    row.first_name = Set(first_name.to_owned());
    row.insert(replica(app)).await.expect("copy to the replica");
}

const USER: &str = "query($id: ID!) { user(id: $id) { firstName lastName } }";
const ME: &str = "{ me { firstName lastName } }";

async fn user_as(app: &TestApp, viewer: Option<&Session>, id: &str) -> Value {
    app.gql_as(
        viewer.map(|s| s.access_token.as_str()),
        USER,
        json!({ "id": id }),
    )
    .await
}

async fn me(app: &TestApp, viewer: &Session) -> Value {
    app.gql_as(Some(&viewer.access_token), ME, json!({})).await
}

fn names(field: &str, first: &str, last: &str) -> Value {
    json!({ "data": { field: { "firstName": first, "lastName": last } } })
}

const UPDATE_LAST_NAME: &str =
    "mutation($last: String!) { updateProfile(input: { lastName: $last }) { firstName lastName } }";

#[tokio::test]
async fn queries_read_the_replica_and_a_writer_reads_the_primary_for_a_while() {
    let app = spawn().await;
    let ann = app.host("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    replicate_user(&app, "ann@example.com", "Replica").await;
    replicate_user(&app, "bob@example.com", "Replica").await;
    // Registering marked both as writers; let that pass.
    tokio::time::sleep(PAST_WINDOW).await;

    // Anonymous and signed-in queries read from the replica.
    let statements = app.replica.as_ref().expect("replica").statements.get();
    assert_eq!(
        user_as(&app, None, &ann.user_id).await,
        names("user", "Replica", "User")
    );
    assert_eq!(
        app.replica.as_ref().expect("replica").statements.get() - statements,
        1,
        "one SELECT, on the replica"
    );
    assert_eq!(me(&app, &ann).await, names("me", "Replica", "User"));
    assert_eq!(
        user_as(&app, Some(&bob), &ann.user_id).await,
        names("user", "Replica", "User")
    );

    // A mutation writes to the primary only, and what it answers is read there.
    let resp = app
        .gql_as(
            Some(&ann.access_token),
            UPDATE_LAST_NAME,
            json!({ "last": "Primary" }),
        )
        .await;
    assert_eq!(resp, names("updateProfile", "Test", "Primary"));
    // Right after, the writer reads from the primary...
    assert_eq!(me(&app, &ann).await, names("me", "Test", "Primary"));
    assert_eq!(
        user_as(&app, Some(&ann), &ann.user_id).await,
        names("user", "Test", "Primary")
    );
    // ...while everyone else still reads from the replica.
    assert_eq!(
        user_as(&app, Some(&bob), &ann.user_id).await,
        names("user", "Replica", "User")
    );
    assert_eq!(
        user_as(&app, None, &ann.user_id).await,
        names("user", "Replica", "User")
    );
    let primary = user_row(&app.db, "ann@example.com").await.expect("row");
    let copy = user_row(replica(&app), "ann@example.com")
        .await
        .expect("row");
    assert_eq!(
        (primary.first_name.as_str(), primary.last_name.as_str()),
        ("Test", "Primary")
    );
    assert_eq!(
        (copy.first_name.as_str(), copy.last_name.as_str()),
        ("Replica", "User")
    );

    // Reads inside a mutation (a loader here) come from the primary too.
    let resp = app
        .gql_as(
            Some(&ann.access_token),
            "mutation($input: CreatePropertyInput!) { createProperty(input: $input) { title host { firstName } } }",
            json!({ "input": crate::helpers::property_input(json!({})) }),
        )
        .await;
    assert_eq!(
        resp,
        json!({ "data": { "createProperty": { "title": "Sunny loft by the river", "host": { "firstName": "Test" } } } })
    );

    // Once the window has passed, the writer reads from the replica again.
    tokio::time::sleep(PAST_WINDOW).await;
    assert_eq!(me(&app, &ann).await, names("me", "Replica", "User"));

    let metrics = app.metrics_page().await;
    for line in [
        r#"roost_db_route_total{pool="replica"}"#,
        r#"roost_db_route_total{pool="primary"}"#,
        r#"roost_db_replica_statements_total{outcome="ok"}"#,
        r#"roost_db_replica_pool_connections{state="idle"}"#,
    ] {
        assert!(metrics.contains(line), "no {line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_new_user_reads_their_own_row_until_the_window_passes() {
    let app = spawn().await;
    // Nothing is copied: the replica has not caught up with this user.
    let carl = app.register("carl@example.com").await;
    let me_id = "{ me { id } }";
    assert_eq!(
        app.gql_as(Some(&carl.access_token), me_id, json!({})).await,
        json!({ "data": { "me": { "id": carl.user_id } } }),
        "registering marks the new user as a writer"
    );
    tokio::time::sleep(PAST_WINDOW).await;
    assert_eq!(
        app.gql_as(Some(&carl.access_token), me_id, json!({})).await,
        json!({ "data": { "me": null } }),
        "the replica does not have the row"
    );

    // Signing in marks the user too.
    let login = app
        .login("carl@example.com", crate::helpers::PASSWORD)
        .await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {login}"));
    assert_eq!(
        app.gql_as(Some(token), me_id, json!({})).await,
        json!({ "data": { "me": { "id": carl.user_id } } })
    );
}

#[tokio::test]
async fn websocket_queries_use_the_replica_and_subscriptions_the_primary() {
    let app = spawn().await;
    let ann = app.host("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let listing = app
        .create_property(
            &ann,
            json!({ "status": "LISTED", "instantBook": false, "title": "Loft by the canal" }),
        )
        .await;
    replicate_user(&app, "ann@example.com", "Replica").await;
    replicate_user(&app, "bob@example.com", "Replica").await;
    tokio::time::sleep(PAST_WINDOW).await;

    let mut live = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    live.subscribe("1", ME, json!({})).await;
    assert_eq!(
        live.event("1").await,
        json!({ "me": { "firstName": "Replica", "lastName": "User" } })
    );
    live.completed("1").await;

    // Events are resolved on the primary, where the booking, the listing
    // and the guest's real name are.
    live.subscribe(
        "2",
        "subscription { hostBookingEvents { status booking { guest { firstName } property { title } } } }",
        json!({}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + crate::helpers::SOON;
    while app.hub.subscriptions() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.book(&bob, &listing, 5, 3).await;
    assert_eq!(
        live.event("2").await,
        json!({ "hostBookingEvents": { "status": "PENDING_PAYMENT", "booking": {
            "guest": { "firstName": "Test" }, "property": { "title": "Loft by the canal" } } } })
    );

    // A mutation over the socket marks its viewer like one over HTTP.
    live.subscribe("3", UPDATE_LAST_NAME, json!({ "last": "Socket" }))
        .await;
    assert_eq!(
        live.event("3").await,
        json!({ "updateProfile": { "firstName": "Test", "lastName": "Socket" } })
    );
    live.completed("3").await;
    live.subscribe("4", ME, json!({})).await;
    assert_eq!(
        live.event("4").await,
        json!({ "me": { "firstName": "Test", "lastName": "Socket" } })
    );
}

#[tokio::test]
async fn ready_checks_the_replica() {
    let app = spawn().await;
    let ready: Value = app
        .http
        .get(app.url("/ready"))
        .send()
        .await
        .expect("ready")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["replica"], "ok");
    replica(&app).clone().close().await.expect("close the pool");
    let ready = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("JSON");
    assert_eq!(body["replica"], "unavailable");
    assert_eq!(body["database"], "ok");
}

/// With the response cache on, a write moves the cache's versions twice:
/// at once, and again when the replica has had the read-your-writes window
/// to catch up, so an answer computed from a replica that had not yet seen
/// the write is served no longer than that.
#[tokio::test]
async fn cached_answers_from_a_lagging_replica_last_only_the_window() {
    let app = spawn_with_replica(|f| {
        f.merge(("read_your_writes", "1s"))
            .merge(("response_cache", true))
            .merge(("serve_runs_worker", false))
    })
    .await;
    let ann = app.register("ann@example.com").await;
    replicate_user(&app, "ann@example.com", "Replica").await;
    let cache = |app: &TestApp| {
        let id = ann.user_id.clone();
        let app_url = app.url("/graphql");
        let http = app.http.clone();
        async move {
            let resp = http
                .post(app_url)
                .json(&json!({ "query": USER, "variables": { "id": id } }))
                .send()
                .await
                .expect("sent");
            let header = resp
                .headers()
                .get("x-roost-cache")
                .map(|v| v.to_str().expect("ascii").to_owned());
            let body: Value = resp.json().await.expect("json");
            (header, body["data"]["user"]["lastName"].clone())
        }
    };
    let (header, last) = cache(&app).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(last, "User");
    // Ann renames herself on the primary; the replica has not seen it.
    let renamed = app
        .gql_as(
            Some(&ann.access_token),
            UPDATE_LAST_NAME,
            json!({ "last": "Renamed" }),
        )
        .await;
    assert_eq!(renamed["data"]["updateProfile"]["lastName"], "Renamed");
    // The next anonymous read misses, reads the lagging replica, and its
    // answer is kept...
    let (header, last) = cache(&app).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(last, "User");
    let mut kept = false;
    for _ in 0..25 {
        if cache(&app).await.0.as_deref() == Some("hit") {
            kept = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(kept);
    // ...until the window has passed: then it is computed again.
    tokio::time::sleep(PAST_WINDOW).await;
    let (header, _) = cache(&app).await;
    assert_eq!(header.as_deref(), Some("miss"));
}
