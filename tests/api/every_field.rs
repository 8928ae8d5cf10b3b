//! No field of a listing costs statements per listing: a page that selects
//! every field of `Property` (found by introspection, so a field added
//! later is covered without touching this test) sends as many statements
//! for 50 listings as for 5.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{day, spawn_with};

/// Objects nested deeper than this are left out (only their leaves at
/// this depth).
const MAX_DEPTH: usize = 2;

const INTROSPECTION: &str = "{ __schema { types { name kind fields { name \
    args { name type { kind name ofType { kind name ofType { kind name } } } } \
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// The fields of a type as introspection describes them.
struct Type {
    fields: Vec<Value>,
}

/// The named type under NON_NULL and LIST wrappers.
fn named(mut ty: &Value) -> (&str, &str) {
    while ty["name"].is_null() {
        ty = &ty["ofType"];
    }
    (
        ty["name"].as_str().unwrap_or_default(),
        ty["kind"].as_str().unwrap_or_default(),
    )
}

/// A value for a required argument, by its name.
fn argument(name: &str) -> Option<String> {
    Some(match name {
        "from" | "checkIn" => format!("\"{}\"", day(30)),
        "to" | "checkOut" => format!("\"{}\"", day(33)),
        "guests" => "1".to_owned(),
        _ => return None,
    })
}

/// Every field of `type_name` with its subselection, objects to
/// `MAX_DEPTH`.
fn selection(types: &HashMap<String, Type>, type_name: &str, depth: usize) -> String {
    fields(types, type_name, depth).join(" ")
}

/// [`selection`], a field at a time.
fn fields(types: &HashMap<String, Type>, type_name: &str, depth: usize) -> Vec<String> {
    let Some(ty) = types.get(type_name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in &ty.fields {
        let name = field["name"].as_str().unwrap_or_default();
        let mut args = Vec::new();
        for arg in field["args"].as_array().into_iter().flatten() {
            let arg_name = arg["name"].as_str().unwrap_or_default();
            if arg["type"]["kind"] == "NON_NULL" {
                let value = argument(arg_name).unwrap_or_else(|| {
                    panic!("no value for the required {type_name}.{name}({arg_name})")
                });
                args.push(format!("{arg_name}: {value}"));
            }
        }
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        let (child, kind) = named(&field["type"]);
        match kind {
            "SCALAR" | "ENUM" => out.push(format!("{name}{args}")),
            "OBJECT" | "INTERFACE" if depth < MAX_DEPTH => {
                let inner = selection(types, child, depth + 1);
                if !inner.is_empty() {
                    out.push(format!("{name}{args} {{ {inner} }}"));
                }
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn a_page_selecting_every_field_of_a_listing_costs_the_same_for_5_and_50() {
    // Every field of 50 listings is far over the default cost; no worker in
    // the process, so that only the page's statements are counted.
    let app = spawn_with(|f| {
        f.merge(("max_query_complexity", 10_000_000))
            .merge(("max_query_depth", 20))
            .merge(("serve_runs_worker", false))
    })
    .await;
    let host = app.host("host@example.com").await;
    let mut listings = Vec::new();
    for i in 0..55 {
        listings.push(
            app.create_property(&host, json!({ "title": format!("Place {i}") }))
                .await,
        );
    }
    // Every listing with a stay, so that any page of them asks the same of
    // its bookings (their guests, payments...).
    let guest = app.register("guest@example.com").await;
    for listing in &listings {
        app.book(&guest, listing, 40, 2).await;
    }

    let schema = app.gql(INTROSPECTION, json!({})).await;
    let types: HashMap<String, Type> = schema["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("{schema}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                Type {
                    fields: t["fields"].as_array().cloned().unwrap_or_default(),
                },
            )
        })
        .collect();
    let every = fields(&types, "Property", 0);
    let listing = every.join(" ");
    // The fields the issue named are in it.
    for field in [
        "quote(",
        "isAvailable(",
        "calendar(",
        "location {",
        "bookings {",
        "reviews {",
    ] {
        assert!(listing.contains(field), "{field} missing from {listing}");
    }
    // Two lists of listings: the host's own and a search (each its own
    // request, so that what the two have in common is not shared).
    let pages = |listing: &str| {
        [
            format!(
                "query($first: Int!) {{ list: properties(first: $first) {{ nodes {{ {listing} }} }} }}"
            ),
            format!(
                "query($first: Int!) {{ me {{ list: listings(first: $first) {{ edges {{ node {{ {listing} }} }} }} }} }}"
            ),
        ]
    };

    let run = |query: String, first: i64| {
        let app = &app;
        let token = host.access_token.clone();
        async move {
            let before = app.statements.get();
            let resp = app
                .gql_as(Some(&token), &query, json!({ "first": first }))
                .await;
            let sent = app.statements.get() - before;
            assert!(resp["errors"].is_null(), "{resp}");
            let list = if resp["data"]["list"].is_null() {
                &resp["data"]["me"]["list"]["edges"]
            } else {
                &resp["data"]["list"]["nodes"]
            };
            assert_eq!(
                list.as_array().map(Vec::len),
                Some(usize::try_from(first).unwrap_or_default()),
                "{resp}"
            );
            sent
        }
    };
    for (n, query) in pages(&listing).into_iter().enumerate() {
        run(query.clone(), 5).await; // the session's first read
        let five = run(query.clone(), 5).await;
        let fifty = run(query, 50).await;
        if five != fifty {
            // Name the fields whose cost grows with the page.
            let mut growing = Vec::new();
            for field in &every {
                let query = pages(field)[n].clone();
                let (a, b) = (run(query.clone(), 5).await, run(query, 50).await);
                if a != b {
                    growing.push(format!("{field}: {a} -> {b}"));
                }
            }
            panic!(
                "list {n}: {five} statements for 5 listings, {fifty} for 50; per field: {growing:#?}"
            );
        }
    }
}
