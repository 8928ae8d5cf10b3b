//! The response cache for anonymous queries (ROOST_RESPONSE_CACHE): hits
//! send no SQL, writes to public data make the next read a miss with the new
//! answer, private readers are never served from it, and instances share
//! it through Redis.

use figment::Figment;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, day, spawn_with};

/// The cache on; and no worker in the process, so that the statements
/// counted around a request are the request's own.
fn cached(f: Figment) -> Figment {
    f.merge(("response_cache", true))
        .merge(("serve_runs_worker", false))
}

const PROPERTY: &str = "query Page($id: ID!) { property(id: $id) { id title pricePerNight { amount } rating { count } } }";
const SEARCH: &str = "query Search($city: String!) { properties(filter: { city: $city }, orderBy: PRICE_ASC, first: 20) { edges { node { id title } } } }";
const AVAILABLE: &str = "query Free($filter: PropertyFilter!) { properties(filter: $filter, orderBy: PRICE_ASC, first: 20) { edges { node { id } } } }";

/// The answer, whether the cache answered, and the statements it took.
async fn ask(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (Value, Option<String>, u64) {
    let before = app.statements.get();
    let resp = app.gql_response(token, query, variables).await;
    assert_eq!(resp.status(), 200);
    let header = resp
        .headers()
        .get("x-roost-cache")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body: Value = resp.json().await.expect("json");
    (body, header, app.statements.get() - before)
}

async fn listing(app: &TestApp, host: &Session, title: &str) -> String {
    app.instant_listing(host, json!({ "title": title, "city": "Porto" }))
        .await
}

fn ids(resp: &Value) -> Vec<String> {
    resp["data"]["properties"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn anonymous_reads_are_served_from_the_cache_until_a_write_changes_them() {
    let app = spawn_with(cached).await;
    let host = app.host("host@example.com").await;
    let id = listing(&app, &host, "Blue door flat").await;
    let vars = json!({ "id": id });

    let (first, header, statements) = ask(&app, None, PROPERTY, vars.clone()).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert!(statements > 0);
    assert_eq!(first["data"]["property"]["title"], "Blue door flat");
    // The entry is written beside the answer; give it a moment.
    let mut second = None;
    for _ in 0..50 {
        let (body, header, statements) = ask(&app, None, PROPERTY, vars.clone()).await;
        if header.as_deref() == Some("hit") {
            assert_eq!(statements, 0, "a hit sends no SQL");
            second = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(second.expect("a cache hit"), first);
    // Other variables are another entry.
    let other = listing(&app, &host, "Green door flat").await;
    let (body, header, _) = ask(&app, None, PROPERTY, json!({ "id": other })).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(body["data"]["property"]["title"], "Green door flat");

    // The host renames the listing: the next anonymous read sees it.
    let renamed = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { title: \"Red door flat\" }) { title } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        renamed["data"]["updateProperty"]["title"], "Red door flat",
        "{renamed}"
    );
    let (body, header, _) = ask(&app, None, PROPERTY, vars.clone()).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(body["data"]["property"]["title"], "Red door flat");

    // Signed-in readers are never served from it, nor stored into it.
    let guest = app.register("guest@example.com").await;
    for _ in 0..2 {
        let (body, header, statements) =
            ask(&app, Some(&guest.access_token), PROPERTY, vars.clone()).await;
        assert_eq!(header, None);
        assert!(statements > 0);
        assert_eq!(body["data"]["property"]["title"], "Red door flat");
    }
    // Answers with errors are not kept.
    let too_many = "query($first: Int) { properties(first: $first) { edges { node { id } } } }";
    let (a, _, _) = ask(&app, None, too_many, json!({ "first": 500 })).await;
    assert_eq!(crate::helpers::code(&a), "BAD_USER_INPUT", "{a}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (_, header, _) = ask(&app, None, too_many, json!({ "first": 500 })).await;
    assert_eq!(header.as_deref(), Some("miss"));

    let metrics = app.metrics_page().await;
    assert!(
        metrics.contains("roost_response_cache_requests_total{result=\"hit\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("roost_response_cache_hit_ratio"));
}

async fn hit_eventually(app: &TestApp, query: &str, vars: &Value) -> Value {
    for _ in 0..50 {
        let (body, header, _) = ask(app, None, query, vars.clone()).await;
        if header.as_deref() == Some("hit") {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no cache hit for {query}");
}

#[tokio::test]
async fn a_booking_invalidates_availability_but_not_plain_listing_pages() {
    let app = spawn_with(cached).await;
    let host = app.host("host@example.com").await;
    let a = listing(&app, &host, "Flat A").await;
    let b = listing(&app, &host, "Flat B").await;
    let search = json!({ "city": "Porto" });
    let free = json!({ "filter": { "city": "Porto", "checkIn": day(30), "checkOut": day(35), "guests": 2 } });

    let (listed, _, _) = ask(&app, None, SEARCH, search.clone()).await;
    assert_eq!(ids(&listed).len(), 2);
    let (both, _, _) = ask(&app, None, AVAILABLE, free.clone()).await;
    assert_eq!(ids(&both).len(), 2, "{both}");
    hit_eventually(&app, SEARCH, &search).await;
    hit_eventually(&app, AVAILABLE, &free).await;

    let guest = app.register("guest@example.com").await;
    app.book(&guest, &a, 31, 2).await;

    // The dates search is answered afresh: flat A is no longer free.
    let (now_free, header, _) = ask(&app, None, AVAILABLE, free.clone()).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(ids(&now_free), vec![b.clone()]);
    // The plain search does not depend on bookings and stays cached.
    let (still, header, statements) = ask(&app, None, SEARCH, search.clone()).await;
    assert_eq!(header.as_deref(), Some("hit"));
    assert_eq!(statements, 0);
    assert_eq!(still, listed);

    // A new listing changes the catalogue: both searches are recomputed.
    listing(&app, &host, "Flat C").await;
    let (three, header, _) = ask(&app, None, SEARCH, search).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(ids(&three).len(), 3);
}

#[tokio::test]
async fn instances_share_the_cache_and_its_invalidation() {
    const SECRET: &str = "shared-secret-shared-secret-shared-2";
    let tuned = |f: Figment| cached(f).merge(("jwt_secret", SECRET));
    let a = spawn_with(tuned).await;
    let Some((b, _dir)) = crate::helpers::second_instance(&a, tuned).await else {
        return;
    };
    let host = a.host("host@example.com").await;
    let id = listing(&a, &host, "Shared flat").await;
    let vars = json!({ "id": id });
    let (first, header, _) = ask(&a, None, PROPERTY, vars.clone()).await;
    assert_eq!(header.as_deref(), Some("miss"));
    // B answers from what A stored.
    let from_b = hit_eventually(&b, PROPERTY, &vars).await;
    assert_eq!(from_b, first);
    // A write through B is seen by the next read through A.
    let renamed = b
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { title: \"Renamed flat\" }) { title } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(renamed["data"]["updateProperty"]["title"], "Renamed flat");
    let (body, header, _) = ask(&a, None, PROPERTY, vars).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(body["data"]["property"]["title"], "Renamed flat");
}

#[tokio::test]
async fn the_cache_is_off_by_default() {
    let app = spawn_with(|f| f).await;
    let host = app.host("host@example.com").await;
    let id = listing(&app, &host, "Plain flat").await;
    for _ in 0..2 {
        let (body, header, statements) = ask(&app, None, PROPERTY, json!({ "id": id })).await;
        assert_eq!(header, None);
        assert!(statements > 0);
        assert_eq!(body["data"]["property"]["title"], "Plain flat");
    }
}
