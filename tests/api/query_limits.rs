//! Query cost limits (RULES.md section 9): refused with QUERY_TOO_COMPLEX
//! before anything runs, in milliseconds, while the server serves others.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{code, spawn_app};

/// Each listing costs 12: nodes, id, title, pricePerNight and its two
/// fields, host and its two, rating and its two.
const LISTING: &str = "nodes { id title pricePerNight { amount currency } host { id firstName } rating { average count } }";

#[tokio::test]
async fn a_connection_costs_its_page_size_times_its_children() {
    let app = spawn_app().await;
    let page = |first: i64| format!("{{ properties(first: {first}) {{ {LISTING} }} }}");
    // 10 × 12 + 1 fits in 1000; 100 × 12 + 1 does not.
    let ten = app.gql(&page(10), json!({})).await;
    assert!(ten["errors"].is_null(), "{ten}");
    let hundred = app.gql(&page(100), json!({})).await;
    assert_eq!(code(&hundred), "QUERY_TOO_COMPLEX", "{hundred}");
    assert!(hundred.get("data").is_none(), "nothing ran: {hundred}");
    // Nested connections multiply: 30 × (1 + 30 × 2) + 1.
    let nested = app
        .gql(
            "{ properties(first: 30) { nodes { reviews(first: 30) { nodes { comment } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&nested), "QUERY_TOO_COMPLEX", "{nested}");
    // A page size out of range is the argument's error, not a cost.
    let zero = app.gql(&page(0), json!({})).await;
    assert_eq!(code(&zero), "BAD_USER_INPUT", "{zero}");
}

#[tokio::test]
async fn alias_bombs_and_directive_floods_are_refused() {
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
    assert_eq!(code(&bomb), "QUERY_TOO_COMPLEX", "{bomb}");
    // Through a fragment used many times: counted per use.
    let spread = format!(
        "{{ me {{ {} }} }} fragment F on User {{ a: id b: id c: id }}",
        "...F ".repeat(11)
    );
    let resp = app.gql(&spread, json!({})).await;
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");

    let flood = format!("{{ me {{ id {} }} }}", "@include(if: true) ".repeat(51));
    let resp = app.gql(&flood, json!({})).await;
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
}

#[tokio::test]
async fn fragment_cycles_and_exponential_fragments_answer_at_once() {
    let app = spawn_app().await;
    let cycle = app
        .gql(
            "{ me { ...A } } fragment A on User { id ...B } fragment B on User { id ...A }",
            json!({}),
        )
        .await;
    // Caught by the recursion limit before validation even looks.
    assert_eq!(code(&cycle), "QUERY_TOO_COMPLEX", "{cycle}");

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
    assert!(resp["errors"].is_array(), "{resp}");
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
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
    assert_eq!(
        resp["errors"][0]["message"],
        "The recursion depth of the query cannot be greater than `32`"
    );
    assert!(resp.get("data").is_none(), "nothing ran: {resp}");
    let ok = app.gql("{ amenities { code } }", json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");
}
