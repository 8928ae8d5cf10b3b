//! The first hour, as a newcomer has it: the playground's opening document
//! and the README's Quick start, run operation by operation on the demo
//! data, as written, to a CONFIRMED booking with a SUCCEEDED payment.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{SOON, TestApp, day, spawn_app};

/// The demo dataset `serve --demo` seeds.
async fn demo(app: &TestApp) {
    app.seed(0.02, 1).await;
}

/// Runs the operation `name` of `document`.
async fn run(
    app: &TestApp,
    token: Option<&str>,
    document: &str,
    name: &str,
    variables: &Value,
) -> Value {
    let mut req = app.http.post(app.url("/graphql")).json(&json!({
        "query": document, "operationName": name, "variables": variables,
    }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp: Value = req.send().await.expect("sent").json().await.expect("JSON");
    assert!(resp["errors"].is_null(), "{name}: {resp}");
    resp["data"].clone()
}

/// Search, Book, Pay and Booking of `document` with the variables a reader
/// would set; the booking as `Booking` finally shows it.
async fn book_and_pay(app: &TestApp, token: &str, document: &str) -> Value {
    let mut variables = json!({ "checkIn": day(30), "checkOut": day(33) });
    let found = run(app, Some(token), document, "Search", &variables).await;
    let nodes = found["properties"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"));
    assert!(!nodes.is_empty(), "Search found nothing on the demo data");
    assert!(
        nodes.iter().all(|n| n["instantBook"] == true),
        "Search finds only instant-book listings: {found}"
    );
    variables["propertyId"] = nodes[0]["id"].clone();
    let booked = run(app, Some(token), document, "Book", &variables).await;
    assert_eq!(booked["createBooking"]["status"], "PENDING_PAYMENT");
    variables["bookingId"] = booked["createBooking"]["id"].clone();
    let paid = run(app, Some(token), document, "Pay", &variables).await;
    assert_eq!(paid["payBooking"]["status"], "PROCESSING");
    // Pay sent again: the same payment.
    let again = run(app, Some(token), document, "Pay", &variables).await;
    assert_eq!(again["payBooking"]["id"], paid["payBooking"]["id"]);

    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let now = run(app, Some(token), document, "Booking", &variables).await;
        // Confirmed, then captured a moment later.
        if now["booking"]["status"] == "CONFIRMED"
            && now["booking"]["payment"]["status"] == "SUCCEEDED"
        {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the booking never got confirmed: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_playgrounds_opening_document_books_a_stay_as_written() {
    let app = spawn_app().await;
    demo(&app).await;
    let document = roost::http::playground::WELCOME;
    let registered = run(&app, None, document, "Register", &json!({})).await;
    let token = registered["register"]["accessToken"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let me = run(&app, Some(&token), document, "Me", &json!({})).await;
    assert_eq!(me["me"]["email"], "ann@example.com");
    let logged_in = run(&app, None, document, "Login", &json!({})).await;
    assert!(logged_in["login"]["accessToken"].is_string());
    book_and_pay(&app, &token, document).await;
}

/// The first ```graphql block of the README's Quick start.
fn readme_document() -> String {
    let readme = include_str!("../../README.md");
    let start = readme.find("## Quick start").expect("a Quick start");
    let block = &readme[start..];
    let open = block.find("```graphql\n").expect("a graphql block") + "```graphql\n".len();
    let close = block[open..].find("```").expect("its end");
    block[open..open + close].to_owned()
}

#[tokio::test]
async fn the_readmes_quick_start_books_a_stay_as_written() {
    let app = spawn_app().await;
    demo(&app).await;
    let guest = app.register("reader@example.com").await;
    let document = readme_document();
    for name in ["Search", "Book", "Pay", "Booking"] {
        assert!(
            document.contains(&format!(" {name}(")),
            "the README's walkthrough has {name}"
        );
    }
    book_and_pay(&app, &guest.access_token, &document).await;
}
