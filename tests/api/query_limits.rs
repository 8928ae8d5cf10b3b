//! Query cost limits (RULES.md sections 9 and 19): refused with
//! QUERY_TOO_COMPLEX before anything runs, in milliseconds, while the
//! server serves others, saying what was measured and the limit; and
//! fragment cycles, which are invalid documents, not costly ones.

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, code, count_rows, day, spawn_app, spawn_with},
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

/// Meanwhile the server serves everyone else.
async fn assert_serves_others(app: &TestApp) {
    let ok = app.gql("{ amenities { code } }", json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");
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

    assert_serves_others(&app).await;
}

/// A megabyte of text holds thousands of fragments, each spreading the
/// next: the checks that walk the document would recurse that deep. The
/// bound on tokens refuses 5,000 of them before the text is parsed; past
/// it (a larger setting), the nesting bound stops them before any walk,
/// and the server stays up.
#[tokio::test]
async fn a_chain_of_thousands_of_fragments_is_refused_before_it_is_walked() {
    let app = spawn_app().await;
    let chain_of = |n: usize| {
        let mut chain = String::from("{ me { ...F0 } }\n");
        for i in 0..n {
            chain.push_str(&format!("fragment F{i} on User {{ ...F{} }}\n", i + 1));
        }
        chain.push_str(&format!("fragment F{n} on User {{ id }}\n"));
        chain
    };
    // 8 tokens a fragment, and 14 more.
    let resp = app.gql(&chain_of(5_000), json!({})).await;
    assert_too_complex(&resp, "tokens", 40_014, 15_000);

    let app = spawn_with(|f| f.merge(("max_query_tokens", 1_000_000))).await;
    let resp = app.gql(&chain_of(5_000), json!({})).await;
    assert_too_complex(&resp, "depth", 5002, 32);
    assert_eq!(
        resp["errors"][0]["message"],
        "The recursion depth of the query cannot be greater than `32`"
    );
    assert_serves_others(&app).await;
}

/// `query($v0:X $v1:X …){__typename}`: `n` variables of a type that does
/// not exist, each a validation error twice over (unknown, unused).
fn variable_flood(n: usize) -> String {
    let definitions: String = (0..n).map(|i| format!("$v{i}:X ")).collect();
    format!("query({definitions}){{__typename}}")
}

/// The answer to `query` (status, the JSON, its size in bytes).
async fn answer(app: &TestApp, query: &str, variables: Value) -> (u16, Value, usize) {
    let resp = app.gql_response(None, query, variables).await;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("a body");
    let json = serde_json::from_slice(&bytes).expect("JSON");
    (status, json, bytes.len())
}

/// 100,000 variable definitions fit in 900 KB of JSON. They were validated
/// one by one (300,000 errors, a 38 MB answer, seconds and hundreds of MB);
/// the document's tokens are now counted before it is parsed, and it is
/// refused with one error.
#[tokio::test]
async fn a_flood_of_variable_definitions_is_refused_before_it_is_validated() {
    let app = spawn_app().await;
    let flood = variable_flood(100_000);
    assert!(flood.len() < 1 << 20, "within the JSON body limit");
    let started = Instant::now();
    let (status, resp, size) = answer(&app, &flood, json!({})).await;
    assert_eq!(status, 200);
    assert_too_complex(&resp, "tokens", 4 * 100_000 + 6, 15_000);
    assert_eq!(
        resp["errors"][0]["message"],
        "The document has 400006 tokens; at most 15000 are allowed"
    );
    assert_eq!(resp["errors"].as_array().map(Vec::len), Some(1));
    assert!(size < 1_000, "{size} bytes");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Under the token bound, 3,000 definitions: refused on their number,
    // before validation, with one error.
    let (_, resp, _) = answer(&app, &variable_flood(3_000), json!({})).await;
    assert_eq!(
        resp["errors"],
        json!([{
            "message": "The operation defines 3000 variables; at most 100 are allowed",
            "locations": [{ "line": 1, "column": 1 }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED", "variables": 3000, "limit": 100 },
        }]),
        "{resp}"
    );
    assert!(resp.get("data").is_none(), "{resp}");
    assert_serves_others(&app).await;
}

/// 100 variables of an operation are served; the 101st is refused,
/// whatever the values, and over graphql-response+json it is a 400.
#[tokio::test]
async fn an_operation_defines_at_most_a_hundred_variables() {
    let app = spawn_app().await;
    let operation = |n: usize| {
        let definitions: String = (0..n).map(|i| format!("$a{i}: String! ")).collect();
        let uses: Vec<String> = (0..n).map(|i| format!("$a{i}")).collect();
        format!(
            "query({definitions}) {{ properties(filter: {{ amenities: [{}] }}) {{ totalCount }} }}",
            uses.join(", ")
        )
    };
    let values = |n: usize| {
        let map: serde_json::Map<String, Value> =
            (0..n).map(|i| (format!("a{i}"), json!("wifi"))).collect();
        Value::Object(map)
    };
    let resp = app.gql(&operation(100), values(100)).await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["properties"]["totalCount"], 0);

    let (status, body) = post_accepting_graphql_json(
        &app,
        &json!({ "query": operation(101), "variables": values(101) }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({ "code": "GRAPHQL_VALIDATION_FAILED", "variables": 101, "limit": 100 })
    );
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    // The bound is a setting.
    let app = spawn_with(|f| f.merge(("max_query_variables", 101))).await;
    let resp = app.gql(&operation(101), values(101)).await;
    assert_eq!(
        code(&resp),
        "BAD_USER_INPUT",
        "past the variables, the list of 101 amenities: {resp}"
    );
}

/// The error that ends a capped answer.
#[track_caller]
fn assert_left_out(errors: &Value, kept: usize, left_out: u64, code: &str) {
    let errors = errors.as_array().expect("errors");
    assert_eq!(errors.len(), kept + 1, "{errors:?}");
    assert_eq!(
        errors[kept],
        json!({
            "message": format!("{left_out} more errors were left out"),
            "extensions": { "code": code, "leftOut": left_out },
        })
    );
}

/// A document of 1,000 unknown arguments (3,000 tokens) is 1,000
/// validation errors: the answer carries 100 and says 900 were left out,
/// over HTTP and over WebSocket.
#[tokio::test]
async fn an_answer_carries_at_most_a_hundred_errors_and_says_how_many_were_left_out() {
    let app = spawn_app().await;
    let arguments: Vec<String> = (0..1_000).map(|i| format!("a{i}: 1")).collect();
    let document = format!("{{ me({}) {{ id }} }}", arguments.join(", "));
    let (status, resp, size) = answer(&app, &document, json!({})).await;
    assert_eq!(status, 200);
    assert!(resp.get("data").is_none(), "a request error: {resp}");
    assert_left_out(&resp["errors"], 100, 900, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        resp["errors"][99]["message"],
        "Unknown argument \"a99\" on field \"me\" of type \"Query\"."
    );
    assert!(size < 20_000, "{size} bytes");
    let (status, body) = post_accepting_graphql_json(&app, &json!({ "query": document })).await;
    assert_eq!(status, 400);
    assert_left_out(&body["errors"], 100, 900, "GRAPHQL_VALIDATION_FAILED");

    let mut live = Live::connect(&app, Protocol::TransportWs, None).await;
    live.subscribe("1", &document, json!({})).await;
    let errors = live.refusal("1").await;
    assert_left_out(&errors, 100, 900, "GRAPHQL_VALIDATION_FAILED");

    // The bound is a setting.
    let app = spawn_with(|f| f.merge(("max_response_errors", 10))).await;
    let resp = app.gql(&document, json!({})).await;
    assert_left_out(&resp["errors"], 10, 990, "GRAPHQL_VALIDATION_FAILED");
}

/// Errors raised while the operation runs are capped alike: three pages
/// of 50 listings whose bookings an anonymous viewer may not read are 150
/// FORBIDDEN; the answer carries 100 and the data.
#[tokio::test]
async fn field_errors_are_capped_at_a_hundred_too() {
    let app = spawn_app().await;
    assert_eq!(app.seed(0.01, 1).await.properties, 50);
    let page = "properties(first: 50) { nodes { id bookings(first: 1) { totalCount } } }";
    let resp = app
        .gql(&format!("{{ a: {page} b: {page} c: {page} }}"), json!({}))
        .await;
    assert_left_out(&resp["errors"], 100, 50, "FORBIDDEN");
    assert!(
        resp["errors"][0]["path"].is_array(),
        "a field error: {resp}"
    );
    assert!(resp.get("data").is_some(), "{resp}");
}

/// A list in an argument holds at most 100 items: 65,000 property types
/// in a variable (a megabyte of JSON) were a statement with 65,000
/// parameters, which the database refused (INTERNAL_SERVER_ERROR).
#[tokio::test]
async fn a_list_argument_holds_at_most_a_hundred_items() {
    let app = spawn_app().await;
    let query =
        "query($t: [PropertyType!]) { properties(filter: { propertyTypes: $t }) { totalCount } }";
    let resp = app
        .gql(query, json!({ "t": vec!["SHARED_ROOM"; 65_000] }))
        .await;
    assert_eq!(
        resp["errors"],
        json!([{
            "message": "filter.propertyTypes holds 65000 items; at most 100 are allowed",
            "locations": [{ "line": 1, "column": 41 }],
            "extensions": { "code": "BAD_USER_INPUT", "field": "filter.propertyTypes" },
        }]),
        "{resp}"
    );
    assert!(resp.get("data").is_none(), "{resp}");
    let resp = app
        .gql(query, json!({ "t": vec!["SHARED_ROOM"; 100] }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["properties"]["totalCount"], 0);
    // In an input object, in a mutation: alike, and nothing is written.
    let host = app.host("host@example.com").await;
    let resp = app
        .create_property_raw(&host, json!({ "amenities": vec!["wifi"; 101] }))
        .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "input.amenities");
    assert_eq!(count_rows(&app.db, "properties").await, 0);
}

/// `calendar` costs its days, `quote` and `isAvailable` their nights, and
/// `updateCalendar` the days it writes; in a page, for each listing. A
/// year's calendar of 100 listings (about 200 statements and 3 MB before)
/// is refused with its cost.
#[tokio::test]
async fn calendars_and_stays_cost_their_days_and_nights() {
    let app = spawn_with(|f| f.merge(("max_query_complexity", 161))).await;
    let host = app.host("host@example.com").await;
    let property = app
        .create_property(&host, json!({ "status": "LISTED" }))
        .await;
    // The listing, 30 days, and each day's date and availability: 33.
    let month = format!(
        "{{ property(id: \"{property}\") {{ calendar(from: \"{}\", to: \"{}\") {{ date available }} }} }}",
        day(10),
        day(40)
    );
    let resp = app.gql(&month, json!({})).await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(
        resp["data"]["property"]["calendar"]
            .as_array()
            .map(Vec::len),
        Some(30)
    );
    // A week's availability and quote for each listing of a page:
    // 2 + 10 × (7 + 7 + total and its amount) = 162.
    let stays = |first: usize| {
        format!(
            "{{ properties(first: {first}) {{ nodes {{ isAvailable(checkIn: \"{0}\", checkOut: \"{1}\") \
             quote(checkIn: \"{0}\", checkOut: \"{1}\", guests: 2) {{ total {{ amount }} }} }} }} }}",
            day(10),
            day(17)
        )
    };
    let resp = app.gql(&stays(9), json!({})).await;
    assert!(resp["errors"].is_null(), "2 + 9 × 16 = 146: {resp}");
    assert_too_complex(&app.gql(&stays(10), json!({})).await, "cost", 162, 161);
    // Dates the field refuses cost 1: it says more than a cost would.
    let backwards = format!(
        "{{ property(id: \"{property}\") {{ calendar(from: \"{}\", to: \"{}\") {{ date }} }} }}",
        day(400),
        day(10)
    );
    let resp = app.gql(&backwards, json!({})).await;
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "to");

    let app = spawn_app().await;
    let year = format!(
        "{{ properties(first: 100) {{ nodes {{ calendar(from: \"{}\", to: \"{}\") {{ date }} }} }} }}",
        day(1),
        day(367)
    );
    assert_too_complex(
        &app.gql(&year, json!({})).await,
        "cost",
        2 + 100 * (366 + 1),
        1000,
    );
    // A host blocks a whole year at once (366 days and each date: 367);
    // three years in one operation are refused before anything is written.
    let host = app.host("host@example.com").await;
    let property = app
        .create_property(&host, json!({ "status": "LISTED" }))
        .await;
    let block = |alias: &str, from: i64| {
        format!(
            "{alias}: updateCalendar(input: {{ propertyId: \"{property}\", from: \"{}\", to: \"{}\", available: false }}) {{ date }}",
            day(from),
            day(from + 366)
        )
    };
    let resp = app
        .gql_as(
            Some(&host.access_token),
            &format!("mutation {{ {} }}", block("a", 1)),
            json!({}),
        )
        .await;
    assert_eq!(
        resp["data"]["a"].as_array().map(Vec::len),
        Some(366),
        "{resp}"
    );
    let three = format!(
        "mutation {{ {} {} {} }}",
        block("a", 400),
        block("b", 800),
        block("c", 1200)
    );
    let resp = app
        .gql_as(Some(&host.access_token), &three, json!({}))
        .await;
    assert_too_complex(&resp, "cost", 3 * 367, 1000);
}
