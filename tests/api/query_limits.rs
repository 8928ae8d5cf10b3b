//! Query cost limits (RULES.md sections 9 and 19): refused with
//! QUERY_TOO_COMPLEX before anything runs, in milliseconds, while the
//! server serves others, saying what was measured and the limit; and
//! fragment cycles, which are invalid documents, not costly ones.

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, code, spawn_app},
    live_client::{Live, Protocol, first_code},
    transport::post_accepting_graphql_json,
};

/// Each listing costs 11: id, title, pricePerNight and its two fields,
/// host and its two, rating and its two.
const LISTING: &str = "nodes { id title pricePerNight { amount currency } host { id firstName } rating { average count } }";

/// Asserts the answer is QUERY_TOO_COMPLEX, `measure` being `value` over
/// `limit`, and that nothing ran.
#[track_caller]
fn assert_too_complex(resp: &Value, measure: &str, value: u64, limit: u64) {
    let mut expected = json!({ "code": "QUERY_TOO_COMPLEX", "limit": limit });
    expected[measure] = json!(value);
    assert_eq!(resp["errors"][0]["extensions"], expected, "{resp}");
    assert!(resp.get("data").is_none(), "nothing ran: {resp}");
}

#[tokio::test]
async fn a_connection_costs_its_page_size_times_its_items() {
    let app = spawn_app().await;
    let page = |first: i64| format!("{{ properties(first: {first}) {{ {LISTING} }} }}");
    // properties and nodes, then 11 per listing: 10 fit in 1000, 100 do not.
    let ten = app.gql(&page(10), json!({})).await;
    assert!(ten["errors"].is_null(), "{ten}");
    let hundred = app.gql(&page(100), json!({})).await;
    assert_too_complex(&hundred, "cost", 1102, 1000);
    assert_eq!(
        hundred["errors"][0]["message"],
        "The query costs 1102; at most 1000 is allowed"
    );
    // Nested connections multiply: 2 + 40 × (reviews, nodes, 40 × comment).
    let nested = app
        .gql(
            "{ properties(first: 40) { nodes { reviews(first: 40) { nodes { comment } } } } }",
            json!({}),
        )
        .await;
    assert_too_complex(&nested, "cost", 1682, 1000);
    // The page size may come from a variable.
    let sized = app
        .gql(
            &format!("query($n: Int) {{ properties(first: $n) {{ {LISTING} }} }}"),
            json!({ "n": 91 }),
        )
        .await;
    assert_too_complex(&sized, "cost", 2 + 91 * 11, 1000);
    // A page size out of range is the argument's error, not a cost.
    let zero = app.gql(&page(0), json!({})).await;
    assert_eq!(code(&zero), "BAD_USER_INPUT", "{zero}");
}

/// A search page of 50 cards, each with what a card shows.
const CARD: &str = "id title pricePerNight { amount currency } \
    host { id firstName avatarUrl } rating { average count } \
    location { city country latitude longitude } photos { url }";

/// 50 listings (the seed at 1%), each given 5 photos.
async fn fifty_listings_with_five_photos(app: &TestApp) {
    let report = app.seed(0.01, 1).await;
    assert_eq!(report.properties, 50);
    let listings = entity::property::Entity::find()
        .all(&app.db)
        .await
        .expect("listings");
    let photos: Vec<_> = listings
        .iter()
        .flat_map(|listing| {
            (0..5).map(|position| entity::property_photo::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                property_id: Set(listing.id),
                storage_key: Set(format!("properties/{}/{position}.png", listing.id)),
                content_type: Set("image/png".into()),
                size_bytes: Set(100),
                caption: Set(None),
                position: Set(position),
                created_at: Set(Utc::now()),
            })
        })
        .collect();
    for chunk in photos.chunks(50) {
        entity::property_photo::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .expect("photos");
    }
}

/// The default limit (1000) admits an ordinary search page: 50 cards with
/// their host, rating, location and photos (2 + 50 × 19 = 952), with its
/// page info and total too (956); twice the cards are refused, with the
/// cost. The documents are the ones docs/API.md shows.
#[tokio::test]
async fn the_default_limit_admits_a_search_page_of_fifty_cards() {
    let app = spawn_app().await;
    fifty_listings_with_five_photos(&app).await;
    let page = format!("{{ properties(first: 50) {{ nodes {{ {CARD} }} }} }}");
    let resp = app.gql(&page, json!({})).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let cards = resp["data"]["properties"]["nodes"]
        .as_array()
        .expect("cards");
    assert_eq!(cards.len(), 50);
    for card in cards {
        assert_eq!(card["photos"].as_array().map(Vec::len), Some(5), "{card}");
        assert!(card["host"]["firstName"].is_string(), "{card}");
        assert!(card["location"]["city"].is_string(), "{card}");
    }
    let with_page_info = format!(
        "{{ properties(first: 50) {{ nodes {{ {CARD} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"
    );
    let resp = app.gql(&with_page_info, json!({})).await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["properties"]["totalCount"], 50);

    let hundred = format!("{{ properties(first: 100) {{ nodes {{ {CARD} }} }} }}");
    let resp = app.gql(&hundred, json!({})).await;
    assert_too_complex(&resp, "cost", 1902, 1000);
    // Written with edges, each card is also its edge, cursor and node.
    let edges = format!("{{ properties(first: 50) {{ edges {{ cursor node {{ {CARD} }} }} }} }}");
    let resp = app.gql(&edges, json!({})).await;
    assert_too_complex(&resp, "cost", 1052, 1000);
}

#[tokio::test]
async fn alias_bombs_and_directive_floods_are_refused_with_their_counts() {
    let app = spawn_app().await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n)
            .map(|i| format!("a{i}: amenities {{ code }}"))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let thirty = app.gql(&aliases(30), json!({})).await;
    assert!(thirty["errors"].is_null(), "{thirty}");
    let bomb = app.gql(&aliases(31), json!({})).await;
    assert_too_complex(&bomb, "fields", 31, 30);
    // Through a fragment used many times: counted per use (11 × 3 + me).
    let spread = format!(
        "{{ me {{ {} }} }} fragment F on User {{ a: id b: id c: id }}",
        "...F ".repeat(11)
    );
    let resp = app.gql(&spread, json!({})).await;
    assert_too_complex(&resp, "fields", 34, 30);

    let flood = format!("{{ me {{ id {} }} }}", "@include(if: true) ".repeat(51));
    let resp = app.gql(&flood, json!({})).await;
    assert_too_complex(&resp, "directives", 51, 50);
    assert_eq!(
        resp["errors"][0]["message"],
        "The operation applies 51 directives; at most 50 are allowed"
    );
}

const DIRECT_CYCLE: &str = "query { me { ...A } } fragment A on User { id ...A }";
const INDIRECT_CYCLE: &str =
    "query { me { ...A } } fragment A on User { id ...B } fragment B on User { id ...A }";

/// A fragment cycle breaks the spec's rule "Fragments must not form
/// cycles": GRAPHQL_VALIDATION_FAILED naming it, a request error.
#[tokio::test]
async fn fragment_cycles_are_validation_errors() {
    let app = spawn_app().await;
    for (query, message) in [
        (DIRECT_CYCLE, "Cannot spread fragment \"A\" within itself."),
        (
            INDIRECT_CYCLE,
            "Cannot spread fragment \"A\" within itself via \"B\".",
        ),
    ] {
        let (status, body) = post_accepting_graphql_json(&app, &json!({ "query": query })).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(
            body["errors"],
            json!([{
                "message": message,
                "locations": if query == DIRECT_CYCLE {
                    json!([{ "line": 1, "column": 47 }])
                } else {
                    json!([{ "line": 1, "column": 47 }, { "line": 1, "column": 78 }])
                },
                "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" },
            }]),
            "{body}"
        );
        assert!(body.get("data").is_none(), "{body}");
        // application/json: the same answer, with 200.
        let legacy = app.gql_response(None, query, json!({})).await;
        assert_eq!(legacy.status(), 200);
        let legacy: Value = legacy.json().await.expect("json");
        assert_eq!(legacy["errors"][0]["message"], message, "{legacy}");
    }
}

/// The WebSocket runs operations through the same checks.
#[tokio::test]
async fn fragment_cycles_are_validation_errors_over_websocket() {
    let app = spawn_app().await;
    let subscription = "subscription { ...S } \
        fragment S on Subscription { notificationReceived { id ...T } } \
        fragment T on Notification { id ...U } fragment U on Notification { ...T }";
    for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
        let mut live = Live::connect(&app, protocol, None).await;
        for (id, document, message) in [
            (
                "1",
                DIRECT_CYCLE,
                "Cannot spread fragment \"A\" within itself.",
            ),
            (
                "2",
                subscription,
                "Cannot spread fragment \"T\" within itself via \"U\".",
            ),
        ] {
            live.subscribe(id, document, json!({})).await;
            let errors = live.refusal(id).await;
            assert_eq!(first_code(&errors), "GRAPHQL_VALIDATION_FAILED", "{errors}");
            assert_eq!(errors[0]["message"], message, "{protocol:?}");
        }
    }
}

#[tokio::test]
async fn exponential_fragments_answer_at_once() {
    let app = spawn_app().await;
    // Each fragment spreads the next twice: 2^40 paths if walked naively.
    let mut bomb = String::from("{ me { ...F0 } }\n");
    for i in 0..40 {
        bomb.push_str(&format!(
            "fragment F{i} on User {{ id ...F{} ...F{} }}\n",
            i + 1,
            i + 1
        ));
    }
    bomb.push_str("fragment F40 on User { id }\n");
    let started = Instant::now();
    let resp = app.gql(&bomb, json!({})).await;
    let took = started.elapsed();
    // Nested 42 deep through its fragments: past the nesting bound.
    assert_too_complex(&resp, "depth", 42, 32);
    assert!(took < Duration::from_secs(2), "answered in {took:?}");

    // Meanwhile the server serves everyone else.
    let ok = app.gql("{ amenities { code } }", json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");
}

/// A megabyte of text holds thousands of fragments, each spreading the
/// next: the checks that walk the document would recurse that deep. The
/// nesting bound stops it first, and the server stays up.
#[tokio::test]
async fn a_chain_of_thousands_of_fragments_is_refused_before_it_is_walked() {
    let app = spawn_app().await;
    let mut chain = String::from("{ me { ...F0 } }\n");
    for i in 0..5_000 {
        chain.push_str(&format!("fragment F{i} on User {{ ...F{} }}\n", i + 1));
    }
    chain.push_str("fragment F5000 on User { id }\n");
    let resp = app.gql(&chain, json!({})).await;
    assert_too_complex(&resp, "depth", 5002, 32);
    assert_eq!(
        resp["errors"][0]["message"],
        "The recursion depth of the query cannot be greater than `32`"
    );
    let ok = app.gql("{ amenities { code } }", json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");
}
