//! The attacker's view (RULES.md sections 1, 2, 3 and 9): response headers,
//! runaway requests, injection-looking input in every string filter, and a
//! fuzz test that throws generated operations and variables at the real
//! server. Nothing may answer 5xx or INTERNAL_SERVER_ERROR. (Depth, alias,
//! directive and fragment bombs are in `query_limits`; token tampering in
//! `auth_gate` and `sessions`; rate limits in `rate_limits`.)

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, count_rows, spawn_app, spawn_with};

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let api = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ amenities { code } }" }))
        .send()
        .await
        .expect("answer");
    let h = api.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    // The playground page keeps its scripts, and is still not framable.
    let page = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_stopped_and_changes_nothing() {
    // Expensive password hashing makes a registration outlast the limit.
    let app = spawn_with(|f| {
        f.merge(("argon2_memory_kib", 65536))
            .merge(("argon2_iterations", 24))
            .merge(("request_timeout", "100ms"))
    })
    .await;
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            "variables": { "i": { "email": "slow@example.com", "password": crate::helpers::PASSWORD, "firstName": "S", "lastName": "L" } },
        }))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    // Let the abandoned hash finish: still nothing was written.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(count_rows(&app.db, "users").await, 0);
}

/// Strings an attacker tries in text inputs.
const HOSTILE: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "%",
    "_",
    "%%%___",
    "\\",
    "\\'",
    "\u{0000}",
    "a\u{0000}b",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "../../etc/passwd",
    "SELECT * FROM sessions",
    "Ωmega 🏠 ñ",
    "\u{202e}reversed",
    "       ",
];

#[tokio::test]
async fn injection_looking_strings_in_every_string_filter_are_just_text() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    app.create_property(&host, json!({ "status": "LISTED" }))
        .await;
    let long = "x".repeat(5000);
    let mut values: Vec<&str> = HOSTILE.to_vec();
    values.push(&long);
    for value in values {
        for field in ["text", "city", "country"] {
            let resp = app
                .gql(
                    "query($f: PropertyFilter) { properties(filter: $f) { totalCount nodes { id } } }",
                    json!({ "f": { field: value } }),
                )
                .await;
            if value.contains('\0') {
                crate::helpers::assert_bad_input(&resp, &format!("f.{field}"));
                continue;
            }
            let outcome = match resp["errors"].as_array() {
                None => "ok",
                Some(_) => code(&resp),
            };
            assert!(
                outcome == "ok" || outcome == "BAD_USER_INPUT",
                "{field} = {value:?}: {resp}"
            );
            // Names match whole names; text matches words (an `OR` may
            // well find the one listing), never more than there is.
            let found = resp["data"]["properties"]["totalCount"].as_i64();
            match (outcome, field) {
                // A blank name filters nothing.
                ("ok", "text") => assert!(matches!(found, Some(0 | 1)), "{value:?}: {resp}"),
                ("ok", _) if value.trim().is_empty() => assert_eq!(found, Some(1), "{resp}"),
                ("ok", _) => assert_eq!(found, Some(0), "{field} = {value:?}: {resp}"),
                _ => {}
            }
        }
        let resp = app
            .gql(
                "query($a: [String!]) { properties(filter: { amenities: $a }) { totalCount } }",
                json!({ "a": [value] }),
            )
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "amenity {value:?}: {resp}");
    }
    // And the table they name is still there.
    assert_eq!(count_rows(&app.db, "users").await, 1);
}

/// Operations with holes: `S` a String variable, `I` an Int, `D` an ID.
const TEMPLATES: &[&str] = &[
    "query($S0: String, $I0: Int) { properties(first: $I0, filter: { text: $S0 }) { totalCount nodes { id title } } }",
    "query($S0: String, $S1: String) { properties(filter: { city: $S0, country: $S1 }) { nodes { id } } }",
    "query($I0: Int, $S0: String) { properties(first: $I0, after: $S0) { pageInfo { endCursor } } }",
    "query($D0: ID!) { node(id: $D0) { id } }",
    "query($D0: ID!) { property(id: $D0) { id reviews(first: 3) { nodes { id } } } }",
    "query($D0: ID!) { user(id: $D0) { id firstName email } }",
    "query($D0: ID!) { booking(id: $D0) { id status } }",
    "query($D0: ID!) { conversation(id: $D0) { id } }",
    "query($I0: Int, $S0: String) { notifications(first: $I0, after: $S0) { totalCount unreadCount } }",
    "query($I0: Int, $S0: String) { conversations(first: $I0, after: $S0) { totalCount } }",
    "query($I0: Int, $S0: String) { myBookings(first: $I0, after: $S0) { totalCount } }",
    "mutation($D0: ID!, $S0: String!, $S1: String!, $I0: Int!) { createBooking(input: { propertyId: $D0, checkIn: $S0, checkOut: $S1, guests: $I0 }) { id } }",
    "mutation($D0: ID!, $S0: String!) { sendMessage(input: { recipientId: $D0, body: $S0 }) { id } }",
    "mutation($D0: ID!, $I0: Int!, $S0: String!) { createReview(input: { bookingId: $D0, rating: $I0, comment: $S0 }) { id } }",
    "mutation($S0: String) { updateProfile(input: { firstName: $S0 }) { id } }",
    "mutation($S0: String!, $S1: String!) { login(input: { email: $S0, password: $S1 }) { accessToken } }",
    "mutation($D0: ID!) { markNotificationsRead(ids: [$D0]) }",
    "mutation($D0: ID!, $S0: String) { cancelBooking(input: { bookingId: $D0, reason: $S0 }) { id } }",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(HOSTILE).prop_map(str::to_owned),
        any::<String>(),
        "[a-zA-Z0-9:_=+/-]{0,80}",
        proptest::collection::vec(any::<char>(), 0..300).prop_map(|c| c.into_iter().collect()),
    ]
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        hostile_string().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-5i64..200).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({ "a": 1 })),
    ]
}

prop_compose! {
    fn operation()(
        template in proptest::sample::select(TEMPLATES),
        values in proptest::collection::vec(hostile_value(), 6),
        garbage in proptest::option::weighted(0.1, hostile_string()),
    ) -> (String, Value) {
        let names = ["S0", "S1", "I0", "D0"];
        let mut vars = serde_json::Map::new();
        for (name, value) in names.iter().zip(values) {
            vars.insert((*name).to_owned(), value);
        }
        match garbage {
            Some(text) => (text, Value::Object(vars)),
            None => (template.to_owned(), Value::Object(vars)),
        }
    }
}

async fn send(app: &TestApp, token: &str, query: &str, variables: &Value) -> (u16, String) {
    let resp = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("an answer");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[test]
fn generated_operations_never_break_the_server() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (app, token) = rt.block_on(async {
        let app = spawn_app().await;
        let host = app.host("host@example.com").await;
        app.create_property(&host, json!({ "status": "LISTED" }))
            .await;
        (app, host.access_token)
    });
    let config = ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((query, variables) in operation())| {
        let (status, body) = rt.block_on(send(&app, &token, &query, &variables));
        prop_assert!(status < 500, "{status} for {query} {variables}: {body}");
        prop_assert!(
            !body.contains("INTERNAL_SERVER_ERROR"),
            "{query} {variables}: {body}"
        );
    });
    // The server still answers normally afterwards.
    let (status, body) = rt.block_on(send(&app, &token, "{ me { id } }", &json!({})));
    assert_eq!(status, 200, "{body}");
    drop(app);
}

/// The size of what a client sends in variables has a bound at its cause,
/// each answered with its own code, never 5xx: a list of 80,000 items
/// (past the body's megabyte), of 60,000 (within it), input nested 10,000
/// deep, a megabyte of search text, a document of one long line that does
/// not parse.
#[tokio::test]
async fn sizes_a_client_controls_are_refused_at_their_bound() {
    let app = spawn_app().await;
    let post = |body: String| {
        app.http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let types =
        "query($t: [PropertyType!]) { properties(filter: { propertyTypes: $t }) { totalCount } }";
    let too_long = json!({ "query": types, "variables": { "t": vec!["SHARED_ROOM"; 80_000] } });
    let resp = post(too_long.to_string()).await.expect("answer");
    assert_eq!(resp.status(), 413, "over the body limit");
    let many = json!({ "query": types, "variables": { "t": vec!["SHARED_ROOM"; 60_000] } });
    let resp: Value = post(many.to_string())
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(
        resp["errors"][0]["extensions"]["field"],
        "filter.propertyTypes"
    );

    let deep = format!(
        r#"{{"query": "query($t: [PropertyType!]) {{ properties(filter: {{ propertyTypes: $t }}) {{ totalCount }} }}", "variables": {{"t": {}1{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let resp = post(deep).await.expect("answer");
    assert_eq!(resp.status(), 400);
    let resp: Value = resp.json().await.expect("json");
    assert_eq!(code(&resp), "BAD_REQUEST", "{resp}");

    let resp = app
        .gql(
            "query($t: String) { properties(filter: { text: $t }) { totalCount } }",
            json!({ "t": "word ".repeat(200_000) }),
        )
        .await;
    crate::helpers::assert_bad_input(&resp, "filter.text");

    // One line of a megabyte that does not parse: the answer says where,
    // and does not quote it back.
    let line = format!(
        "{{ properties(filter: {{ text: \"{}\" }}) }} }}",
        "x".repeat(1_000_000)
    );
    let resp = app.gql_response(None, &line, json!({})).await;
    let body = resp.bytes().await.expect("body");
    assert!(body.len() < 1_000, "{} bytes", body.len());
    let resp: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        resp["errors"],
        json!([{
            "message": "Syntax error at line 1, column 1000038: expected EOI or executable_definition",
            "locations": [{ "line": 1, "column": 1000038 }],
            "extensions": { "code": "GRAPHQL_PARSE_FAILED" },
        }])
    );
}
