//! Persisted queries: Apollo's automatic persisted queries over GET and
//! POST, single and batched, the `off` and `only` modes, and the store
//! (bounded in process, shared through Redis).

use futures_util::{SinkExt, StreamExt};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::helpers::{SOON, TestApp, base_figment, code, spawn_app, spawn_with};

const ME: &str = "query Me {\n  me {\n    id\n  }\n}";
const TYPENAME: &str = "query Probe {\n  __typename\n}";
/// Not in the `only` tests' manifest.
const VIEWER: &str = "query Viewer {\n  me {\n    email\n  }\n}";

fn sha(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

fn pq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs a body as Apollo Client does; the status and the JSON answer.
async fn post(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    post_accepting(app, body, "*/*").await
}

async fn post_accepting(app: &TestApp, body: &Value, accept: &str) -> (StatusCode, Value) {
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header(header::ACCEPT, accept)
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = resp.status();
    (status, resp.json().await.expect("JSON"))
}

/// The GET Apollo Client's persisted query link sends with
/// `useGETForHashedQueries: true`: operationName, variables and extensions
/// as JSON in the query string, no query text.
async fn get_hashed(
    app: &TestApp,
    name: &str,
    hash: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = app
        .http
        .get(app.url("/graphql"))
        .header(header::ACCEPT, "*/*")
        .header(header::CONTENT_TYPE, "application/json")
        .query(&[
            ("operationName", name),
            ("variables", "{}"),
            ("extensions", &pq(hash).to_string()),
        ])
        .send()
        .await
        .expect("request sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.expect("JSON"))
}

fn message(resp: &Value) -> &str {
    resp["errors"][0]["message"].as_str().unwrap_or("")
}

fn assert_not_found(status: StatusCode, resp: &Value) {
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(code(resp), "PERSISTED_QUERY_NOT_FOUND", "{resp}");
    assert_eq!(message(resp), "PersistedQueryNotFound");
    assert!(resp.get("data").is_none(), "{resp}");
}

/// What Apollo Client sends once a hash was not found: everything again,
/// with the text.
fn with_text(name: &str, text: &str) -> Value {
    json!({ "operationName": name, "variables": {}, "extensions": pq(&sha(text)), "query": text })
}

async fn counter(app: &TestApp, outcome: &str) -> f64 {
    let text = app.metrics_page().await;
    text.lines()
        .find(|l| {
            l.starts_with("roost_persisted_queries_total")
                && l.contains(&format!(r#"outcome="{outcome}""#))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_apollo_flow_over_post() {
    let app = spawn_app().await;
    let hash = sha(ME);
    let hash_only = json!({ "operationName": "Me", "variables": {}, "extensions": pq(&hash) });

    let (status, resp) = post(&app, &hash_only).await;
    assert_not_found(status, &resp);
    // Also with the GraphQL-over-HTTP media type: a retry signal, not a 400.
    let (status, resp) =
        post_accepting(&app, &hash_only, "application/graphql-response+json").await;
    assert_not_found(status, &resp);

    let (status, resp) = post(&app, &with_text("Me", ME)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "me": null } }));

    let (status, resp) = post(&app, &hash_only).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "me": null } }));

    // Upper-case hex names the same query.
    let upper = json!({ "extensions": pq(&hash.to_uppercase()) });
    assert_eq!(
        post(&app, &upper).await.1,
        json!({ "data": { "me": null } })
    );

    for outcome in ["hit", "miss", "registered"] {
        assert!(counter(&app, outcome).await >= 1.0, "{outcome}");
    }
}

#[tokio::test]
async fn the_apollo_flow_over_get() {
    let app = spawn_app().await;
    let hash = sha(TYPENAME);
    let (status, headers, resp) = get_hashed(&app, "Probe", &hash).await;
    assert_not_found(status, &resp);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "{headers:?}"
    );

    // Apollo Client retries a hashed GET as a POST with the text.
    let (status, resp) = post(&app, &with_text("Probe", TYPENAME)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "__typename": "Query" } }));

    let (status, _, resp) = get_hashed(&app, "Probe", &hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "__typename": "Query" } }));

    // A GET carrying both the text and the hash registers it too.
    let other = "query Other { __typename }";
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            ("query", other),
            ("extensions", &pq(&sha(other)).to_string()),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, _, resp) = get_hashed(&app, "Other", &sha(other)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "__typename": "Query" } }));
}

#[tokio::test]
async fn a_wrong_hash_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let wrong = sha("query Something { __typename }");
    let body = json!({ "query": ME, "extensions": pq(&wrong) });
    let (status, resp) = post(&app, &body).await;
    assert_eq!(status, StatusCode::OK, "application/json answers 200");
    assert_eq!(code(&resp), "BAD_REQUEST");
    assert_eq!(message(&resp), "provided sha does not match query");
    assert!(resp.get("data").is_none(), "{resp}");
    let (status, resp) = post_accepting(&app, &body, "application/graphql-response+json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&resp), "BAD_REQUEST");

    for hash in [wrong, sha(ME)] {
        let (status, resp) = post(&app, &json!({ "extensions": pq(&hash) })).await;
        assert_not_found(status, &resp);
    }
}

#[tokio::test]
async fn other_versions_and_malformed_hashes_are_refused() {
    let app = spawn_app().await;
    let hash = sha(ME);
    for (extensions, expected) in [
        (
            json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
            "Unsupported persisted query version",
        ),
        (
            json!({ "persistedQuery": { "sha256Hash": hash } }),
            "Unsupported persisted query version",
        ),
        (
            json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
            "`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal digits",
        ),
        (
            json!({ "persistedQuery": { "version": 1 } }),
            "`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal digits",
        ),
    ] {
        for body in [
            json!({ "extensions": extensions }),
            json!({ "query": ME, "extensions": extensions }),
        ] {
            let (status, resp) = post(&app, &body).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(code(&resp), "BAD_REQUEST", "{body}: {resp}");
            assert_eq!(message(&resp), expected, "{body}");
        }
    }
    // Nothing was registered by the version 2 request with a text.
    let (status, resp) = post(&app, &json!({ "extensions": pq(&hash) })).await;
    assert_not_found(status, &resp);
}

#[tokio::test]
async fn batches_mix_hashed_and_plain_operations() {
    let app = spawn_app().await;
    post(&app, &with_text("Me", ME)).await;
    let unknown = sha("query Unknown { __typename }");
    let (status, resp) = post(
        &app,
        &json!([
            { "extensions": pq(&sha(ME)) },
            { "extensions": pq(&unknown) },
            { "query": "{ __typename }" },
            with_text("Probe", TYPENAME),
            { "query": ME, "extensions": pq(&unknown) },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = resp.as_array().expect("an array");
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], json!({ "data": { "me": null } }));
    assert_eq!(code(&items[1]), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(items[2], json!({ "data": { "__typename": "Query" } }));
    assert_eq!(items[3], json!({ "data": { "__typename": "Query" } }));
    assert_eq!(code(&items[4]), "BAD_REQUEST");
    assert_eq!(message(&items[4]), "provided sha does not match query");

    let (_, _, resp) = get_hashed(&app, "Probe", &sha(TYPENAME)).await;
    assert_eq!(resp, json!({ "data": { "__typename": "Query" } }));
}

#[tokio::test]
async fn a_mutation_sent_by_hash_over_get_is_refused() {
    let app = spawn_app().await;
    let logout = "mutation Out($t: String!) { logout(refreshToken: $t) }";
    let (status, _) = post(
        &app,
        &json!({ "query": logout, "variables": { "t": "nothing" }, "extensions": pq(&sha(logout)) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, resp) = get_hashed(&app, "Out", &sha(logout)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{resp}");
    assert_eq!(headers[header::ALLOW], "POST");
    assert_eq!(code(&resp), "BAD_REQUEST");
    // By POST it runs.
    let (status, resp) = post(
        &app,
        &json!({ "variables": { "t": "nothing" }, "extensions": pq(&sha(logout)) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "logout": false } }));
}

#[tokio::test]
async fn off_mode_answers_that_hashes_are_not_supported() {
    let app = spawn_with(|f| f.merge(("persisted_queries", "off"))).await;
    for body in [json!({ "extensions": pq(&sha(ME)) }), with_text("Me", ME)] {
        let (status, resp) = post_accepting(&app, &body, "application/graphql-response+json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code(&resp), "PERSISTED_QUERY_NOT_SUPPORTED", "{resp}");
        assert_eq!(message(&resp), "PersistedQueryNotSupported");
    }
    let (_, _, resp) = get_hashed(&app, "Me", &sha(ME)).await;
    assert_eq!(code(&resp), "PERSISTED_QUERY_NOT_SUPPORTED");
    // Texts run as always.
    assert_eq!(
        post(&app, &json!({ "query": ME })).await.1,
        json!({ "data": { "me": null } })
    );
}

fn write_manifest(dir: &std::path::Path, bodies: &[&str]) -> String {
    let operations: Vec<Value> = bodies
        .iter()
        .map(|b| json!({ "id": sha(b), "name": "Op", "type": "query", "body": b }))
        .collect();
    let path = dir.join("persisted-query-manifest.json");
    std::fs::write(
        &path,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations })
            .to_string(),
    )
    .expect("write manifest");
    path.to_string_lossy().into_owned()
}

async fn only_app(dir: &std::path::Path, introspection: bool) -> TestApp {
    let manifest = write_manifest(dir, &[ME]);
    spawn_with(|f| {
        f.merge(("persisted_queries", "only"))
            .merge(("persisted_queries_file", manifest))
            .merge(("introspection", introspection))
    })
    .await
}

#[tokio::test]
async fn only_mode_runs_the_manifest_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = only_app(dir.path(), true).await;
    let me = json!({ "data": { "me": null } });

    // Known hashes run, by POST and by GET, and so does their exact text.
    assert_eq!(
        post(&app, &json!({ "extensions": pq(&sha(ME)) })).await.1,
        me
    );
    let (status, _, resp) = get_hashed(&app, "Me", &sha(ME)).await;
    assert_eq!((status, resp), (StatusCode::OK, me.clone()));
    assert_eq!(post(&app, &with_text("Me", ME)).await.1, me);
    assert_eq!(post(&app, &json!({ "query": ME })).await.1, me);

    // An unknown hash is not found, and its text does not register it.
    let (status, resp) = post(&app, &json!({ "extensions": pq(&sha(VIEWER)) })).await;
    assert_not_found(status, &resp);
    for body in [with_text("Viewer", VIEWER), json!({ "query": VIEWER })] {
        let (status, resp) = post(&app, &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code(&resp), "PERSISTED_QUERY_NOT_IN_LIST", "{body}: {resp}");
        assert!(resp.get("data").is_none());
        let (status, _) = post_accepting(&app, &body, "application/graphql-response+json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", VIEWER)])
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(code(&resp), "PERSISTED_QUERY_NOT_IN_LIST");
    let (status, resp) = post(&app, &json!({ "extensions": pq(&sha(VIEWER)) })).await;
    assert_not_found(status, &resp);

    // In a batch, entry by entry.
    let (_, resp) = post(
        &app,
        &json!([{ "extensions": pq(&sha(ME)) }, { "query": VIEWER }]),
    )
    .await;
    assert_eq!(resp[0], me);
    assert_eq!(code(&resp[1]), "PERSISTED_QUERY_NOT_IN_LIST");

    // Introspection, for the playground, while ROOST_INTROSPECTION is on.
    let introspection = "query IntrospectionQuery { __schema { queryType { name } } }";
    assert_eq!(
        post(&app, &json!({ "query": introspection })).await.1,
        json!({ "data": { "__schema": { "queryType": { "name": "Query" } } } })
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let closed = only_app(dir.path(), false).await;
    assert_eq!(
        code(&post(&closed, &json!({ "query": introspection })).await.1),
        "PERSISTED_QUERY_NOT_IN_LIST"
    );
    assert_eq!(
        post(&closed, &json!({ "extensions": pq(&sha(ME)) }))
            .await
            .1,
        me
    );
}

/// The next JSON text message of a socket.
async fn next_text<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(SOON, ws.next())
            .await
            .expect("a message in time");
        match msg {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
            Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn only_mode_applies_to_websocket_operations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = only_app(dir.path(), true).await;
    let mut req = format!("ws://{}/graphql", app.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = connect_async(req).await.expect("connect");
    let send = |m: Value| Message::text(m.to_string());
    ws.send(send(json!({ "type": "connection_init" })))
        .await
        .expect("send");
    assert_eq!(next_text(&mut ws).await["type"], "connection_ack");

    ws.send(send(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": VIEWER } }),
    ))
    .await
    .expect("send");
    let msg = next_text(&mut ws).await;
    assert_eq!(msg["id"], "1");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(
        code(&msg["payload"]),
        "PERSISTED_QUERY_NOT_IN_LIST",
        "{msg}"
    );
    assert_eq!(next_text(&mut ws).await["type"], "complete");

    ws.send(send(
        json!({ "id": "2", "type": "subscribe", "payload": { "extensions": pq(&sha(ME)) } }),
    ))
    .await
    .expect("send");
    let msg = next_text(&mut ws).await;
    assert_eq!(msg["id"], "2");
    assert_eq!(msg["payload"], json!({ "data": { "me": null } }), "{msg}");
    assert_eq!(next_text(&mut ws).await["type"], "complete");

    ws.send(send(
        json!({ "id": "3", "type": "subscribe", "payload": { "extensions": pq(&sha(VIEWER)) } }),
    ))
    .await
    .expect("send");
    let msg = next_text(&mut ws).await;
    assert_eq!(code(&msg["payload"]), "PERSISTED_QUERY_NOT_FOUND", "{msg}");
}

#[tokio::test]
async fn only_mode_needs_a_valid_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let err = domain::config::Config::from_figment(
        base_figment(dir.path(), &db_url).merge(("persisted_queries", "only")),
    )
    .expect_err("must refuse");
    assert!(
        err.to_string().contains("ROOST_PERSISTED_QUERIES_FILE"),
        "{err}"
    );
    let err = domain::config::Config::from_figment(
        base_figment(dir.path(), &db_url).merge(("persisted_queries", "sometimes")),
    )
    .expect_err("must refuse");
    assert!(err.to_string().contains("persisted_queries"), "{err}");

    let bad = dir.path().join("bad.json");
    let mismatched = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": sha("{ a }"), "name": "A", "type": "query", "body": "{ b }" }] });
    for (text, expected) in [
        ("{not json".to_owned(), "is not valid JSON"),
        (mismatched.to_string(), "is not the sha256 of its body"),
        (
            "[]".to_owned(),
            "must be an Apollo persisted query manifest",
        ),
    ] {
        std::fs::write(&bad, text).expect("write");
        let config = domain::config::Config::from_figment(
            base_figment(dir.path(), &db_url)
                .merge(("persisted_queries", "only"))
                .merge(("persisted_queries_file", bad.to_string_lossy().to_string())),
        )
        .expect("the setting itself is valid");
        match roost::startup::Application::build(config).await {
            Ok(_) => panic!("started with a bad manifest"),
            Err(e) => {
                let e = format!("{e:#}");
                assert!(e.contains("ROOST_PERSISTED_QUERIES_FILE"), "{e}");
                assert!(e.contains(expected), "{e}");
            }
        }
    }
    let missing = dir.path().join("missing.json");
    let config = domain::config::Config::from_figment(
        base_figment(dir.path(), &db_url)
            .merge(("persisted_queries", "only"))
            .merge((
                "persisted_queries_file",
                missing.to_string_lossy().to_string(),
            )),
    )
    .expect("config");
    let Err(e) = roost::startup::Application::build(config).await else {
        panic!("started without a manifest");
    };
    assert!(
        format!("{e:#}").contains("ROOST_PERSISTED_QUERIES_FILE: cannot read"),
        "{e:#}"
    );
}

#[tokio::test]
async fn the_in_process_store_is_bounded() {
    // Without Redis, whatever the test environment offers.
    let app = spawn_with(|f| {
        f.merge(("persisted_queries_max_entries", 2))
            .merge(("redis_url", ""))
    })
    .await;
    assert!(app.config.redis.is_none());
    let texts = [
        "query A { __typename }",
        "query B { __typename }",
        "query C { __typename }",
    ];
    for text in &texts[..2] {
        post(
            &app,
            &json!({ "query": text, "extensions": pq(&sha(text)) }),
        )
        .await;
    }
    // A was used last, so B is the one to go.
    let typename = json!({ "data": { "__typename": "Query" } });
    assert_eq!(
        post(&app, &json!({ "extensions": pq(&sha(texts[0])) }))
            .await
            .1,
        typename
    );
    post(
        &app,
        &json!({ "query": texts[2], "extensions": pq(&sha(texts[2])) }),
    )
    .await;
    let (status, resp) = post(&app, &json!({ "extensions": pq(&sha(texts[1])) })).await;
    assert_not_found(status, &resp);
    for text in [texts[0], texts[2]] {
        assert_eq!(
            post(&app, &json!({ "extensions": pq(&sha(text)) })).await.1,
            typename
        );
    }
}

#[tokio::test]
async fn registered_queries_are_shared_across_instances() {
    let a = spawn_app().await;
    let Some((b, _dir)) = crate::helpers::second_instance(&a, |f| f).await else {
        return;
    };
    let redis = a
        .config
        .redis
        .as_ref()
        .expect("a second instance means Redis");
    let hash = sha(ME);
    let (status, resp) = post(&b, &json!({ "extensions": pq(&hash) })).await;
    assert_not_found(status, &resp);
    post(&a, &with_text("Me", ME)).await;
    let (status, _, resp) = get_hashed(&b, "Me", &hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({ "data": { "me": null } }));

    // Kept under the prefix, with the time of its last use.
    let url = crate::helpers::redis_url().expect("TEST_REDIS_URL");
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let stored: Option<String> = redis::cmd("HGET")
        .arg(format!("{}apq:texts", redis.prefix))
        .arg(&hash)
        .query_async(&mut conn)
        .await
        .expect("HGET");
    assert_eq!(stored.as_deref(), Some(ME));
    let used: f64 = redis::cmd("ZSCORE")
        .arg(format!("{}apq:used", redis.prefix))
        .arg(&hash)
        .query_async(&mut conn)
        .await
        .expect("ZSCORE");
    let now = chrono::Utc::now().timestamp_millis() as f64;
    assert!((now - used).abs() < 60_000.0, "{used} vs {now}");
}

/// A text with its hash, and nothing else.
fn registering(text: &str) -> Value {
    json!({ "query": text, "extensions": pq(&sha(text)) })
}

/// A query that parses and validates, `bytes` long (padded with a comment).
fn padded(name: &str, bytes: usize) -> String {
    let text = format!("query {name} {{ __typename }}\n#");
    let pad = bytes.saturating_sub(text.len());
    format!("{text}{}", "x".repeat(pad))
}

#[tokio::test]
async fn texts_that_do_not_parse_or_validate_are_not_registered() {
    let app = spawn_app().await;
    for text in [
        "query Broken {",
        "query Unknown { nope }",
        "query Wrong($a: Int) { __typename }",
    ] {
        let (status, resp) = post(&app, &with_text("Broken", text)).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert!(resp.get("data").is_none(), "{text}: {resp}");
        // Not kept: the hash alone is still unknown.
        let (status, resp) = post(&app, &json!({ "extensions": pq(&sha(text)) })).await;
        assert_not_found(status, &resp);
    }
    assert!(counter(&app, "refused").await >= 3.0);
}

#[tokio::test]
async fn a_text_over_32_kib_is_refused_and_not_registered() {
    let app = spawn_app().await;
    let long = padded("Long", 33 * 1024);
    let (status, resp) = post_accepting(
        &app,
        &with_text("Long", &long),
        "application/graphql-response+json",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    assert_eq!(code(&resp), "BAD_REQUEST");
    assert_eq!(
        message(&resp),
        "A persisted query may be at most 32768 bytes long; this one is 33792: \
         send it without `persistedQuery`"
    );
    let (status, resp) = post(&app, &json!({ "extensions": pq(&sha(&long)) })).await;
    assert_not_found(status, &resp);
    // 32 KiB exactly is registered.
    let longest = padded("Longest", 32 * 1024);
    let typename = json!({ "data": { "__typename": "Query" } });
    assert_eq!(
        post(&app, &with_text("Longest", &longest)).await.1,
        typename
    );
    assert_eq!(
        post(&app, &json!({ "extensions": pq(&sha(&longest)) }))
            .await
            .1,
        typename
    );
}

#[tokio::test]
async fn the_store_forgets_the_least_recently_used_first() {
    // In process, or in Redis on the PostgreSQL + Redis pass.
    let app = spawn_with(|f| f.merge(("persisted_queries_max_entries", 3))).await;
    let texts: Vec<String> = ["A", "B", "C", "D"]
        .iter()
        .map(|n| format!("query {n} {{ __typename }}"))
        .collect();
    let typename = json!({ "data": { "__typename": "Query" } });
    let by_hash = |text: &str| json!({ "extensions": pq(&sha(text)) });
    for text in &texts[..3] {
        assert_eq!(post(&app, &registering(text)).await.1, typename);
    }
    // A is used again, so B is now the least recently used.
    assert_eq!(post(&app, &by_hash(&texts[0])).await.1, typename);
    assert_eq!(post(&app, &registering(&texts[3])).await.1, typename);
    let (status, resp) = post(&app, &by_hash(&texts[1])).await;
    assert_not_found(status, &resp);
    for text in [&texts[0], &texts[2], &texts[3]] {
        assert_eq!(post(&app, &by_hash(text)).await.1, typename, "{text}");
    }
}

#[tokio::test]
async fn many_big_texts_keep_redis_within_the_bound() {
    let app = spawn_with(|f| f.merge(("persisted_queries_max_bytes", 256 * 1024))).await;
    let Some(redis) = app.config.redis.clone() else {
        eprintln!("skipped: needs TEST_REDIS_URL (the bound in process is tested above)");
        return;
    };
    let typename = json!({ "data": { "__typename": "Query" } });
    for i in 0..40 {
        let text = padded(&format!("Big{i}"), 30 * 1024);
        assert_eq!(post(&app, &registering(&text)).await.1, typename);
    }
    let client = redis::Client::open(crate::helpers::redis_url().expect("TEST_REDIS_URL"))
        .expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}apq:*", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 3, "{keys:?}");
    let texts = format!("{}apq:texts", redis.prefix);
    let lengths: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(&texts)
        .query_async(&mut conn)
        .await
        .expect("HGETALL");
    let stored: usize = lengths.iter().map(|(_, text)| text.len()).sum();
    assert_eq!(lengths.len(), 8, "eight texts of 30 KiB fit in 256 KiB");
    assert!(stored <= 256 * 1024, "{stored}");
    let counted: usize = redis::cmd("GET")
        .arg(format!("{}apq:bytes", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(counted, stored);
    let memory: usize = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&texts)
        .query_async(&mut conn)
        .await
        .expect("MEMORY USAGE");
    assert!(memory < 400 * 1024, "{memory} bytes for {stored} of text");
    // The newest are the ones kept.
    let newest = padded("Big39", 30 * 1024);
    assert_eq!(
        post(&app, &json!({ "extensions": pq(&sha(&newest)) }))
            .await
            .1,
        typename
    );
}

#[tokio::test]
async fn registering_counts_toward_the_rate_limit() {
    let app = spawn_with(|f| {
        f.merge(("rate_limit_ip_per_second", 1))
            .merge(("rate_limit_ip_burst", 2))
    })
    .await;
    for i in 0..2 {
        let text = format!("query R{i} {{ __typename }}");
        let (status, _) = post(&app, &registering(&text)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let text = "query R2 { __typename }";
    let (status, resp) = post(&app, &registering(text)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{resp}");
    assert_eq!(code(&resp), "RATE_LIMITED");
}
