//! Forged cursors (RULES.md sections 10 and 20): a cursor is base64 JSON,
//! so a client can re-encode one with any value. A value no row holds (the
//! year -5000, a negative price, a rating of 10^300, a key of the wrong
//! kind) is BAD_USER_INPUT on `after` or `before`, on every connection and
//! every order, never a database error (PostgreSQL refused the year -5000
//! with "date/timestamp out of range"; SQLite compared it as text).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, spawn_app};

/// A cursor holding `position`, as the server encodes its own.
fn forge(position: Value) -> String {
    URL_SAFE_NO_PAD.encode(position.to_string())
}

/// Instants no row holds, and values that are no instant.
const INSTANTS: [&str; 4] = [
    "-5000-01-01T00:00:00Z",
    "+20000-01-01T00:00:00Z",
    "0000-12-31T23:59:59Z",
    "NaN",
];

const ID: &str = "0190a3c5-5c2e-7000-8000-000000000001";

/// Asserts that `query`, run by `viewer` with each cursor of `cursors` as
/// `$c`, is refused with BAD_USER_INPUT on `field`.
async fn assert_refused(
    app: &TestApp,
    viewer: Option<&Session>,
    query: &str,
    field: &str,
    cursors: impl IntoIterator<Item = Value>,
) {
    for position in cursors {
        let resp = app
            .gql_as(
                viewer.map(|s| s.access_token.as_str()),
                query,
                json!({ "c": forge(position.clone()) }),
            )
            .await;
        let errors = resp["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{position} in {query}: {resp}");
        assert_eq!(
            errors[0]["extensions"],
            json!({ "code": "BAD_USER_INPUT", "field": field }),
            "{position} in {query}: {resp}"
        );
    }
}

/// `{ <key>: each instant, <id key>: ID }`, with `extra` fields.
fn at_each_instant(key: &str, id: &str, extra: Value) -> Vec<Value> {
    INSTANTS
        .iter()
        .map(|at| {
            let mut position = json!({ key: at, id: ID });
            if let (Value::Object(p), Value::Object(extra)) = (&mut position, &extra) {
                p.extend(extra.clone());
            }
            position
        })
        .collect()
}

#[tokio::test]
async fn forged_cursors_are_bad_input_on_every_connection() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app
        .create_property(&host, json!({ "status": "LISTED" }))
        .await;
    app.book(&guest, &property, 10, 3).await;
    let sent = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) { conversation { id } } }",
            json!({ "i": { "recipientId": host.user_id, "body": "Hello" } }),
        )
        .await;
    let conversation = sent["data"]["sendMessage"]["conversation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_owned();

    // Search, in every order; DISTANCE needs a point.
    let properties = |order: &str| {
        format!(
            "query($c: String) {{ properties(orderBy: {order}, after: $c) {{ nodes {{ id }} }} }}"
        )
    };
    let mut newest = at_each_instant("k", "id", json!({ "o": "NEWEST" }));
    newest.push(json!({ "o": "NEWEST", "k": 1e300, "id": ID }));
    assert_refused(&app, None, &properties("NEWEST"), "after", newest).await;
    for order in ["PRICE_ASC", "PRICE_DESC"] {
        let keys = [json!(-1), json!(1e20), json!("9"), json!(null)];
        let cursors = keys.map(|k| json!({ "o": order, "k": k, "id": ID }));
        assert_refused(&app, None, &properties(order), "after", cursors).await;
    }
    let keys = [json!(1e300), json!(-1.5), json!(5.01), json!("NaN")];
    let cursors = keys.map(|k| json!({ "o": "RATING_DESC", "k": k, "id": ID }));
    assert_refused(&app, None, &properties("RATING_DESC"), "after", cursors).await;
    let near = "query($c: String) { properties(orderBy: DISTANCE, after: $c, \
        filter: { near: { latitude: 38.7, longitude: -9.1 } }) { nodes { id } } }";
    let keys = [json!(1e300), json!(-1), json!(64_800.5), json!("far")];
    let cursors = keys.map(|k| json!({ "o": "DISTANCE", "k": k, "id": ID }));
    assert_refused(&app, None, near, "after", cursors).await;

    // A listing's reviews in each order, and its bookings (its host's).
    for (order, name) in [
        ("NEWEST", "Newest"),
        ("HIGHEST", "Highest"),
        ("LOWEST", "Lowest"),
    ] {
        let query = format!(
            "query($c: String) {{ property(id: \"{property}\") {{ reviews(orderBy: {order}, after: $c) {{ nodes {{ id }} }} }} }}"
        );
        let cursors = at_each_instant("at", "id", json!({ "o": name, "r": 5 }));
        assert_refused(&app, None, &query, "after", cursors).await;
    }
    let dates = ["-5000-01-01", "+20000-01-01", "0000-12-31", "tomorrow"];
    let check_ins = || dates.map(|d| json!({ "check_in": d, "id": ID }));
    let bookings = format!(
        "query($c: String) {{ property(id: \"{property}\") {{ bookings(after: $c) {{ nodes {{ id }} }} }} }}"
    );
    assert_refused(&app, Some(&host), &bookings, "after", check_ins()).await;
    for list in ["myBookings", "hostBookings"] {
        let query = format!("query($c: String) {{ {list}(after: $c) {{ nodes {{ id }} }} }}");
        assert_refused(&app, Some(&host), &query, "after", check_ins()).await;
    }

    // The viewer's lists.
    let viewer_lists = [
        ("savedProperties", "at", "id"),
        ("notifications", "created_at", "id"),
        ("conversations", "u", "i"),
    ];
    for (list, key, id) in viewer_lists {
        let query = format!("query($c: String) {{ {list}(after: $c) {{ nodes {{ id }} }} }}");
        let cursors = at_each_instant(key, id, json!({}));
        assert_refused(&app, Some(&guest), &query, "after", cursors).await;
    }
    // A user's listings and the reviews they wrote.
    for (list, extra) in [
        ("listings", json!({})),
        ("reviewsWritten", json!({ "o": "Newest", "r": 5 })),
    ] {
        let query = format!(
            "query($c: String) {{ user(id: \"{}\") {{ {list}(after: $c) {{ nodes {{ id }} }} }} }}",
            host.user_id
        );
        let cursors = at_each_instant("at", "id", extra);
        assert_refused(&app, None, &query, "after", cursors).await;
    }
    // A conversation's messages, both ways.
    for (field, page) in [("after", "first: 5"), ("before", "last: 5")] {
        let query = format!(
            "query($c: String) {{ conversation(id: \"{conversation}\") {{ messages({page}, {field}: $c) {{ nodes {{ id }} }} }} }}"
        );
        let cursors = at_each_instant("s", "i", json!({}));
        assert_refused(&app, Some(&guest), &query, field, cursors).await;
    }

    // The cursors the server gives still page on.
    let first = app
        .gql_as(
            Some(&guest.access_token),
            &format!(
                "{{ conversation(id: \"{conversation}\") {{ messages(first: 1) {{ pageInfo {{ endCursor }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let cursor = first["data"]["conversation"]["messages"]["pageInfo"]["endCursor"].clone();
    let next = app
        .gql_as(
            Some(&guest.access_token),
            &format!(
                "query($c: String) {{ conversation(id: \"{conversation}\") {{ messages(first: 1, after: $c) {{ nodes {{ id }} }} }} }}"
            ),
            json!({ "c": cursor }),
        )
        .await;
    assert_eq!(
        next["data"]["conversation"]["messages"]["nodes"],
        json!([]),
        "{next}"
    );
}
