//! GraphQL over HTTP, as the GraphQL-over-HTTP spec and RULES.md section 1
//! describe it.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, count_rows, property_input, spawn_app, spawn_with};

const GQL_JSON: &str = "application/graphql-response+json";

/// POSTs `body` to `/graphql` accepting `application/graphql-response+json`:
/// the status and the JSON answer.
pub(crate) async fn post_accepting_graphql_json(app: &TestApp, body: &Value) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header(ACCEPT, GQL_JSON)
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Asserts a request error with `status` and code BAD_REQUEST; its message.
async fn refused(resp: reqwest::Response, status: u16) -> String {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(code(&body), "BAD_REQUEST", "{body}");
    body["errors"][0]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

#[tokio::test]
async fn post_json_answers_in_the_accepted_media_type() {
    let app = spawn_app().await;
    for (accept, expected) in [
        (None, "application/json; charset=utf-8"),
        (Some("application/json"), "application/json; charset=utf-8"),
        (Some("*/*"), "application/json; charset=utf-8"),
        (
            Some(GQL_JSON),
            "application/graphql-response+json; charset=utf-8",
        ),
    ] {
        let mut req = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(accept) = accept {
            req = req.header(ACCEPT, accept);
        }
        let resp = req.send().await.expect("sent");
        assert_eq!(resp.status(), 200, "{accept:?}");
        assert_eq!(resp.headers()[CONTENT_TYPE], expected, "{accept:?}");
        assert!(resp.headers().contains_key("x-request-id"));
        assert_eq!(
            resp.json::<Value>().await.expect("json"),
            json!({ "data": { "__typename": "Query" } })
        );
    }
    let refused = app
        .http
        .post(app.url("/graphql"))
        .header(ACCEPT, "text/plain")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 406);
}

/// The statuses of docs/API.md's table of error codes: a request error
/// answers 400 under the GraphQL media type and 200 under
/// `application/json`, without `data`; a field error answers 200 with
/// `data` under either.
#[tokio::test]
async fn request_errors_answer_4xx_only_for_the_graphql_media_type() {
    let app = spawn_app().await;
    let too_costly = "{ properties(first: 100) { nodes { id title description location { city country } host { id firstName lastName } } } }";
    for (query, expected_code, request_error) in [
        ("{ __typename ", "GRAPHQL_PARSE_FAILED", true),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED", true),
        (
            "query A { me { id } } query B { me { id } }",
            "GRAPHQL_VALIDATION_FAILED",
            true,
        ),
        (
            "{ property(id: \"x\") { calendar { date } } }",
            "GRAPHQL_VALIDATION_FAILED",
            true,
        ),
        (too_costly, "QUERY_TOO_COMPLEX", true),
        (
            "{ properties(orderBy: CHEAPEST) { totalCount } }",
            "BAD_USER_INPUT",
            true,
        ),
        (
            "{ properties(filter: { checkIn: \"soon\" }) { totalCount } }",
            "BAD_USER_INPUT",
            true,
        ),
        (
            "{ properties(first: 0) { totalCount } }",
            "BAD_USER_INPUT",
            false,
        ),
        (
            "mutation { deleteProperty(id: \"x\") }",
            "UNAUTHENTICATED",
            false,
        ),
    ] {
        let (status, body) = post_accepting_graphql_json(&app, &json!({ "query": query })).await;
        assert_eq!(status, if request_error { 400 } else { 200 }, "{query}");
        assert_eq!(code(&body), expected_code, "{body}");
        assert_eq!(
            body.get("data").is_none(),
            request_error,
            "data only with a field error: {body}"
        );

        let legacy = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("sent");
        assert_eq!(legacy.status(), 200, "{query}");
        assert_eq!(
            code(&legacy.json::<Value>().await.expect("json")),
            expected_code
        );
    }
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let app = spawn_app().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    for body in [
        "{not json",
        r#"{"query": {"nested": 1}}"#,
        r#"{"query": "{ __typename }", "variables": [1]}"#,
        r#"{"variables": {}}"#,
        "42",
        "[]",
    ] {
        let resp = post(body, "application/json").await.expect("sent");
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(
            code(&resp.json::<Value>().await.expect("json")),
            "BAD_REQUEST",
            "{body}"
        );
    }
    let resp = post(r#"{"query": "{ __typename }"}"#, "text/plain")
        .await
        .expect("sent");
    assert_eq!(resp.status(), 415);
    let resp = post(
        r#"{"query": "{ __typename }"}"#,
        "application/json; charset=latin-1",
    )
    .await
    .expect("sent");
    assert_eq!(resp.status(), 415);
    // Explicit nulls are allowed.
    let resp = post(
        r#"{"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}"#,
        "application/json",
    )
    .await
    .expect("sent");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024);
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }", "variables": { "pad": padding } }))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 413);
    assert_eq!(
        code(&resp.json::<Value>().await.expect("json")),
        "BAD_REQUEST"
    );
}

#[tokio::test]
async fn batches_of_up_to_ten_run_each_operation() {
    let app = spawn_app().await;
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({ "query": format!("query Q{i} {{ __typename }}") }))
        .collect();
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let items = body.as_array().expect("an array of responses");
    assert_eq!(items.len(), 10);
    assert!(
        items
            .iter()
            .all(|r| r == &json!({ "data": { "__typename": "Query" } }))
    );

    // One bad operation does not spoil the others.
    let mixed = json!([{ "query": "{ __typename }" }, { "query": "{ nope }" }]);
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&mixed)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(body[0]["data"]["__typename"], "Query");
    assert_eq!(code(&body[1]), "GRAPHQL_VALIDATION_FAILED");

    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&eleven)
        .send()
        .await
        .expect("sent");
    assert!(refused(resp, 400).await.contains("at most 10"));
}

#[tokio::test]
async fn get_runs_queries_and_never_mutations() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query Q($x: ID!) { user(id: $x) { id } }"),
            ("variables", r#"{"x":"nope"}"#),
            ("operationName", "Q"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({ "data": { "user": null } })
    );

    let mutation = "mutation { logout(refreshToken: \"x\") }";
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    assert_eq!(
        code(&resp.json::<Value>().await.expect("json")),
        "BAD_REQUEST"
    );

    // Named among several: the chosen one decides.
    let doc = "query A { __typename } mutation B { logout(refreshToken: \"x\") }";
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", doc), ("operationName", "B")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 405);
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", doc), ("operationName", "A")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);

    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }"), ("variables", "[1]")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn browsers_get_the_playground_wired_for_subscriptions() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = resp.text().await.expect("text");
    assert!(
        html.contains("https://unpkg.com/graphiql@3.8.3/graphiql.min.js"),
        "CDN assets"
    );
    assert!(
        html.contains(r#"integrity="sha384-"#),
        "pinned by integrity"
    );
    assert!(
        html.contains("graphqlWs.createClient"),
        "subscriptions wired"
    );
    assert!(
        html.contains("connectionParams"),
        "credentials sent on connection_init"
    );
}

#[tokio::test]
async fn the_playground_can_load_its_assets_from_a_local_folder() {
    let assets = tempfile::tempdir().expect("tempdir");
    for file in domain::config::PLAYGROUND_FILES {
        std::fs::write(assets.path().join(file), format!("/* {file} */")).expect("write");
    }
    let dir = assets.path().to_string_lossy().to_string();
    let app = spawn_with(|f| f.merge(("playground_assets_dir", dir))).await;
    let html = app
        .http
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains(r#"src="/graphql/assets/graphiql.min.js""#),
        "{html}"
    );
    assert!(!html.contains("unpkg.com"));
    let js = app
        .http
        .get(app.url("/graphql/assets/graphiql.min.js"))
        .send()
        .await
        .expect("sent");
    assert_eq!(js.status(), 200);
    assert_eq!(js.text().await.expect("text"), "/* graphiql.min.js */");
}

#[tokio::test]
async fn playground_and_introspection_can_be_turned_off() {
    let app = spawn_with(|f| {
        f.merge(("playground", false))
            .merge(("introspection", false))
    })
    .await;
    let resp = app
        .http
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 404);
    let resp = app
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(resp["errors"].is_array(), "{resp}");
    assert_eq!(resp["data"], Value::Null, "{resp}");
    // Nor do validation errors suggest field names the schema has.
    let resp = app.gql("{ propertie { id } }", json!({})).await;
    assert_eq!(
        resp["errors"][0]["message"],
        "Unknown field \"propertie\" on type \"Query\"."
    );
}

#[tokio::test]
async fn misspelt_fields_get_suggestions_while_introspection_is_on() {
    let app = spawn_app().await;
    let resp = app.gql("{ propertie { id } }", json!({})).await;
    assert_eq!(
        resp["errors"][0]["message"],
        "Unknown field \"propertie\" on type \"Query\". Did you mean \"properties\", \"property\"?"
    );
}

#[tokio::test]
async fn limits_answer_query_too_complex_before_running() {
    let app = spawn_with(|f| f.merge(("max_query_depth", 2))).await;
    assert!(app.gql("{ me { id } }", json!({})).await["errors"].is_null());
    let deep = "mutation { login(input: { email: \"a@example.com\", password: \"0123456789\" }) { user { id } } }";
    let resp = app.gql(deep, json!({})).await;
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
    assert_eq!(
        resp["errors"][0]["message"],
        "The query is nested 3 levels deep; at most 2 are allowed"
    );
    assert_eq!(
        resp["errors"][0]["extensions"],
        json!({ "code": "QUERY_TOO_COMPLEX", "depth": 3, "limit": 2 })
    );
    assert!(resp.get("data").is_none(), "nothing ran: {resp}");
    // Nothing ran: the login was not attempted, so it counts no failure.
    assert_eq!(count_rows(&app.db, "sessions").await, 0);
}

#[tokio::test]
async fn arguments_of_the_wrong_type_are_bad_user_input_naming_the_field() {
    let app = spawn_app().await;
    let resp = app
        .gql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": 42, "password": "x" } }),
        )
        .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "input.email",
        "{resp}"
    );
}

/// A value that does not fit a scalar with a format (`Date`, `Decimal`,
/// `ID`; `DateTime` is never an input) is a request error like a built-in
/// type error: 400 under the GraphQL media type, BAD_USER_INPUT, the path
/// in the arguments, and a message saying what is allowed.
#[tokio::test]
async fn values_that_do_not_fit_their_scalars_are_request_errors_naming_the_path() {
    let app = spawn_app().await;
    let search = "query($filter: PropertyFilter) { properties(filter: $filter) { totalCount } }";
    let calendar = "query($id: ID!, $from: Date!, $to: Date!) { property(id: $id) { calendar(from: $from, to: $to) { date } } }";
    let create = "mutation($input: CreatePropertyInput!) { createProperty(input: $input) { id } }";
    let book = "mutation($input: CreateBookingInput!) { createBooking(input: $input) { id } }";
    let read = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }";
    let date = "must be a date written YYYY-MM-DD, such as 2027-03-10";
    let decimal = "must be a decimal number such as \"120.50\"";
    let id = "must be an ID: a string, as the API returned it";
    let cases = [
        // Date, in an input object and at the top of the arguments.
        (
            search,
            json!({ "filter": { "checkIn": "10/03/2027", "checkOut": "2027-03-12" } }),
            "filter.checkIn",
            date,
        ),
        (
            calendar,
            json!({ "id": "x", "from": "2027-03-01", "to": "2027-02-30" }),
            "to",
            date,
        ),
        (
            book,
            json!({ "input": { "propertyId": "x", "checkIn": "2027-03-01", "checkOut": 20270305, "guests": 1 } }),
            "input.checkOut",
            date,
        ),
        // Decimal.
        (
            search,
            json!({ "filter": { "maxPrice": "12O.50" } }),
            "filter.maxPrice",
            decimal,
        ),
        (
            create,
            json!({ "input": property_input(json!({ "pricePerNight": "a hundred" })) }),
            "input.pricePerNight",
            decimal,
        ),
        // ID, at the top, in an input object, and in a list.
        (
            calendar,
            json!({ "id": true, "from": "2027-03-01", "to": "2027-03-05" }),
            "id",
            id,
        ),
        (
            book,
            json!({ "input": { "propertyId": { "id": "x" }, "checkIn": "2027-03-01", "checkOut": "2027-03-05", "guests": 1 } }),
            "input.propertyId",
            id,
        ),
        (read, json!({ "ids": ["a", "b", 2.5] }), "ids.2", id),
    ];
    for (query, variables, field, allowed) in cases {
        let request = json!({ "query": query, "variables": variables.clone() });
        let (status, body) = post_accepting_graphql_json(&app, &request).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"],
            json!({ "code": "BAD_USER_INPUT", "field": field }),
            "{body}"
        );
        assert_eq!(body["errors"][0]["message"], format!("{field} {allowed}"));
        assert!(body.get("data").is_none(), "nothing ran: {body}");
        // application/json: the same error, with 200.
        let legacy = app.gql(query, variables).await;
        assert_eq!(
            legacy["errors"][0]["extensions"]["field"], field,
            "{legacy}"
        );
    }
    assert_eq!(
        count_rows(&app.db, "properties").await,
        0,
        "nothing was created"
    );

    // The path is the argument's, whatever the variable is called, and a
    // value written in the document is checked the same way.
    let renamed = app
        .gql(
            "query($f: PropertyFilter) { properties(filter: $f) { totalCount } }",
            json!({ "f": { "checkIn": "tomorrow" } }),
        )
        .await;
    assert_eq!(
        renamed["errors"][0]["extensions"]["field"],
        "filter.checkIn"
    );
    let literal = app
        .gql(
            r#"{ properties(filter: { minPrice: "cheap" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        literal["errors"][0]["extensions"]["field"],
        "filter.minPrice"
    );
    assert_eq!(
        literal["errors"][0]["locations"],
        json!([{ "line": 1, "column": 14 }])
    );
    // Values that fit run.
    let fits = app
        .gql(
            search,
            json!({ "filter": { "checkIn": "2027-03-10", "checkOut": "2027-03-12", "maxPrice": 120 } }),
        )
        .await;
    assert_eq!(
        fits,
        json!({ "data": { "properties": { "totalCount": 0 } } })
    );
}

#[tokio::test]
async fn cors_preflights_are_answered_for_allowed_origins() {
    let app = spawn_with(|f| f.merge(("cors_origins", "http://localhost:5173"))).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("http://localhost:5173").await.expect("sent");
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let other = preflight("https://evil.example").await.expect("sent");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

/// GraphiQL, Apollo's tooling and codegen send graphql-js's introspection
/// query, nested deeper than the data limit: it must still be answered.
#[tokio::test]
async fn the_standard_introspection_query_is_answered() {
    let app = spawn_app().await;
    let query = include_str!("fixtures/introspection.graphql");
    let resp = app.gql(query, json!({})).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let types = resp["data"]["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "User"));
    // Deeper than the introspection allowance is refused like deep data.
    let mut deep = String::from("{ __schema { types { fields { type ");
    let levels = roost::pipeline::INTROSPECTION_MAX_DEPTH;
    deep.push_str(&"{ ofType ".repeat(levels));
    deep.push_str("{ name }");
    deep.push_str(&" }".repeat(levels + 3));
    deep.push_str(" }");
    let resp = app.gql(&deep, json!({})).await;
    assert_eq!(
        resp["errors"][0]["extensions"],
        json!({ "code": "QUERY_TOO_COMPLEX", "depth": levels + 5, "limit": levels })
    );
}

/// Fields come back in the order the query asked for them (GraphQL spec,
/// section 7.2.2), which clients that compare raw text rely on.
#[tokio::test]
async fn response_fields_keep_the_query_order() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let text = app
        .gql_response(
            Some(&ann.access_token),
            "{ me { role id lastName email firstName } }",
            json!({}),
        )
        .await
        .text()
        .await
        .expect("text");
    let positions: Vec<usize> = [
        "\"role\"",
        "\"id\"",
        "\"lastName\"",
        "\"email\"",
        "\"firstName\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}")))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[tokio::test]
async fn metrics_labels_take_a_bounded_set_of_values_whatever_is_sent() {
    let app = spawn_app().await;
    // Invented methods (HTTP allows any token, of any length) and paths,
    // each unique, as a client would send to grow the metrics page.
    let marker = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("X{marker}{i}").as_bytes())
            .expect("a method token");
        for path in ["/graphql".to_owned(), format!("/nowhere-{marker}-{i}")] {
            app.http
                .request(method.clone(), app.url(&path))
                .send()
                .await
                .expect("answered");
        }
        app.http
            .get(app.url(&format!("/nowhere-{marker}-{i}")))
            .send()
            .await
            .expect("answered");
    }
    let text = app.metrics_page().await;
    assert!(!text.contains(&marker), "a client's value became a label");
    let lines = |method: &str, route: &str| {
        text.lines()
            .filter(|l| {
                l.starts_with("roost_http_requests_total{")
                    && l.contains(&format!(r#"method="{method}""#))
                    && l.contains(&format!(r#"route="{route}""#))
            })
            .count()
    };
    // Counted all the same, under "other".
    assert!(lines("other", "/graphql") >= 1, "{text}");
    assert!(lines("other", "other") >= 1, "{text}");
    assert!(lines("GET", "other") >= 1, "{text}");
}

#[tokio::test]
async fn a_request_id_a_client_sends_is_kept_only_when_short_and_plain() {
    let app = spawn_app().await;
    let echoed = |id: String| {
        let app = &app;
        async move {
            let resp = app
                .http
                .get(app.url("/health"))
                .header("x-request-id", id)
                .send()
                .await
                .expect("answered");
            resp.headers()["x-request-id"]
                .to_str()
                .expect("ASCII")
                .to_owned()
        }
    };
    assert_eq!(echoed("trace-42".into()).await, "trace-42");
    let longest = "a".repeat(128);
    assert_eq!(echoed(longest.clone()).await, longest);
    for sent in ["a".repeat(129), "two words".into(), "x".repeat(20_000)] {
        let got = echoed(sent.clone()).await;
        assert!(
            uuid::Uuid::parse_str(&got).is_ok(),
            "{sent:.20} became {got}"
        );
    }
}

#[tokio::test]
async fn json_nested_past_128_levels_is_refused_before_anything_runs() {
    let app = spawn_app().await;
    let deep = format!(
        r#"{{"query":"query($v: JSON) {{ __typename }}","variables":{{"v":{}1{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, GQL_JSON)
        .body(deep)
        .send()
        .await
        .expect("sent");
    let message = refused(resp, 400).await;
    assert!(
        message.starts_with("The body is not valid JSON: recursion limit exceeded"),
        "{message}"
    );
}
