//! Multipart requests (RULES §20): the parts come in the spec's order, every
//! part after `map` must be a file it names, at most 4 files counted as
//! they arrive, `operations` and `map` at most 1 MiB each, the whole request
//! at most 41 MiB; each refused while the body is still on its way.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    helpers::{Session, TestApp, code, count_rows, spawn_app},
    photos::{ADD, PNG},
    raw_http,
};

const BOUNDARY: &str = "roost-test-boundary";

/// One part: its name, its file name (files have one), and its bytes.
fn part(name: &str, filename: Option<&str>, bytes: &[u8]) -> Vec<u8> {
    let disposition = match filename {
        Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
        None => format!("form-data; name=\"{name}\""),
    };
    let mut out =
        format!("--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n").into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

fn json_part(name: &str, value: &Value) -> Vec<u8> {
    part(name, None, value.to_string().as_bytes())
}

fn file_part(name: &str, bytes: &[u8]) -> Vec<u8> {
    part(name, Some("photo.png"), bytes)
}

/// The parts, closed by the final boundary.
fn body(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = parts.concat();
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// POSTs a multipart body; the status and the JSON answer.
async fn post(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON answer"))
}

/// A host with a listing to add photos to.
async fn listing(app: &TestApp) -> (Session, String) {
    let host = app.host("hana@example.com").await;
    let property = app.create_property(&host, json!({})).await;
    (host, property)
}

/// `addPropertyPhoto` with its file at `variables.f`.
fn add_photo(property: &str) -> Value {
    json!({ "query": ADD, "variables": { "p": property, "f": null } })
}

#[track_caller]
fn assert_refused(status: u16, resp: &Value, expected_status: u16, message: &str) {
    assert_eq!(status, expected_status, "{resp}");
    assert_eq!(code(resp), "BAD_REQUEST", "{resp}");
    assert!(resp.get("data").is_none(), "{resp}");
    let said = resp["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(said.contains(message), "{said:?} should say {message:?}");
}

#[tokio::test]
async fn thousands_of_parts_are_refused_at_the_first_the_map_does_not_name() {
    let app = spawn_app().await;
    let mut parts = vec![
        json_part("operations", &json!({ "query": "{ __typename }" })),
        json_part("map", &json!({})),
    ];
    parts.extend((0..2000).map(|i| file_part(&format!("p{i}"), b"x")));
    let started = Instant::now();
    let (status, resp) = post(&app, None, body(&parts)).await;
    assert_refused(status, &resp, 400, "The part \"p0\" is not named in `map`");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once"
    );
}

#[tokio::test]
async fn a_part_the_map_does_not_name_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (host, property) = listing(&app).await;
    let t = Some(host.access_token.as_str());
    let named = |extra: Vec<u8>| {
        body(&[
            json_part("operations", &add_photo(&property)),
            json_part("map", &json!({ "0": ["variables.f"] })),
            file_part("0", PNG),
            extra,
        ])
    };
    let (status, resp) = post(&app, t, named(file_part("1", PNG))).await;
    assert_refused(status, &resp, 400, "The part \"1\" is not named in `map`");
    // A second part of a name the map gives is refused too.
    let (status, resp) = post(&app, t, named(file_part("0", PNG))).await;
    assert_refused(status, &resp, 400, "The part \"0\" is not named in `map`");
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);

    // The parts must come in the spec's order.
    let (status, resp) = post(
        &app,
        t,
        body(&[
            json_part("map", &json!({ "0": ["variables.f"] })),
            json_part("operations", &add_photo(&property)),
            file_part("0", PNG),
        ]),
    )
    .await;
    assert_refused(status, &resp, 400, "Expected the part `operations` here");

    // A file the map names must come.
    let (status, resp) = post(
        &app,
        t,
        body(&[
            json_part("operations", &add_photo(&property)),
            json_part("map", &json!({ "0": ["variables.f"] })),
        ]),
    )
    .await;
    assert_refused(status, &resp, 400, "`map` names the file \"0\"");

    // Without the extra part, the photo is added.
    let (status, resp) = post(&app, t, named(Vec::new())).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["addPropertyPhoto"]["position"], 0, "{resp}");
}

#[tokio::test]
async fn a_fifth_file_is_refused() {
    let app = spawn_app().await;
    let (host, property) = listing(&app).await;
    let t = Some(host.access_token.as_str());
    let operations = json!({
        "query": "mutation($p: ID!, $a: Upload!, $b: Upload!, $c: Upload!, $d: Upload!, $e: Upload!) { a: addPropertyPhoto(propertyId: $p, file: $a) { id } b: addPropertyPhoto(propertyId: $p, file: $b) { id } c: addPropertyPhoto(propertyId: $p, file: $c) { id } d: addPropertyPhoto(propertyId: $p, file: $d) { id } e: addPropertyPhoto(propertyId: $p, file: $e) { id } }",
        "variables": { "p": property, "a": null, "b": null, "c": null, "d": null, "e": null },
    });
    let names = ["a", "b", "c", "d", "e"];
    let map: serde_json::Map<String, Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (i.to_string(), json!([format!("variables.{n}")])))
        .collect();
    let mut parts = vec![
        json_part("operations", &operations),
        json_part("map", &Value::Object(map)),
    ];
    parts.extend((0..names.len()).map(|i| file_part(&i.to_string(), PNG)));
    let (status, resp) = post(&app, t, body(&parts)).await;
    assert_refused(
        status,
        &resp,
        400,
        "A request may carry at most 4 files; `map` names 5",
    );
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
}

#[tokio::test]
async fn one_file_may_go_to_each_operation_of_a_batch() {
    let app = spawn_app().await;
    let (host, property) = listing(&app).await;
    let t = Some(host.access_token.as_str());
    let parts = [
        json_part(
            "operations",
            &json!([{ "query": "{ __typename }" }, add_photo(&property), add_photo(&property)]),
        ),
        json_part("map", &json!({ "0": ["1.variables.f", "2.variables.f"] })),
        file_part("0", PNG),
    ];
    let (status, resp) = post(&app, t, body(&parts)).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp[0], json!({ "data": { "__typename": "Query" } }));
    // The operations of a batch run side by side: each got the whole file.
    let mut positions: Vec<i64> = [&resp[1], &resp[2]]
        .iter()
        .filter_map(|r| r["data"]["addPropertyPhoto"]["position"].as_i64())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, [0, 1], "{resp}");
    assert_eq!(count_rows(&app.db, "property_photos").await, 2);
}

#[tokio::test]
async fn operations_or_map_over_one_mebibyte_answer_413() {
    let app = spawn_app().await;
    let (host, property) = listing(&app).await;
    let t = Some(host.access_token.as_str());
    // 3 MiB of operations that would otherwise run.
    let mut operations = add_photo(&property);
    operations["variables"]["c"] = json!("x".repeat(3 * 1024 * 1024));
    let (status, resp) = post(
        &app,
        t,
        body(&[
            json_part("operations", &operations),
            json_part("map", &json!({ "0": ["variables.f"] })),
            file_part("0", PNG),
        ]),
    )
    .await;
    assert_refused(status, &resp, 413, "`operations` may be at most 1 MiB");

    let places: Vec<String> = (0..100_000).map(|i| format!("variables.f{i:07}")).collect();
    let (status, resp) = post(
        &app,
        t,
        body(&[
            json_part("operations", &add_photo(&property)),
            json_part("map", &json!({ "0": places })),
            file_part("0", PNG),
        ]),
    )
    .await;
    assert_refused(status, &resp, 413, "`map` may be at most 1 MiB");
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
}

#[tokio::test]
async fn a_request_over_41_mebibytes_is_refused() {
    let app = spawn_app().await;
    let (host, property) = listing(&app).await;
    // Refused from its declared length, before any of the body is sent.
    let mut stream = raw_http::connect(&app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: roost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {}\r\n\r\n",
        host.access_token,
        50 * 1024 * 1024
    );
    assert!(raw_http::send(&mut stream, head.as_bytes()).await);
    assert_eq!(
        raw_http::status_within(&mut stream, Duration::from_secs(5)).await,
        Some(413)
    );

    // Without a declared length, refused when the 41st MiB arrives: four
    // files of 10 MiB each are within their own bound, but not with 1 MiB
    // of operations beside them.
    let mut operations = add_photo(&property);
    operations["variables"]["c"] = json!("");
    let base = operations.to_string().len();
    operations["variables"]["c"] = json!("x".repeat(1024 * 1024 - 16 - base));
    let mut file = PNG.to_vec();
    file.resize(10 * 1024 * 1024, 0);
    let mut parts = vec![
        json_part("operations", &operations),
        json_part(
            "map",
            &json!({ "0": ["variables.f"], "1": ["variables.f"], "2": ["variables.f"], "3": ["variables.f"] }),
        ),
    ];
    parts.extend((0..4).map(|i| file_part(&i.to_string(), &file)));
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body(&parts)
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let resp = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&host.access_token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let resp: Value = resp.json().await.expect("JSON answer");
    assert_refused(
        status,
        &resp,
        413,
        "A multipart request may be at most 41 MiB",
    );
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
}

#[tokio::test]
async fn a_part_the_map_does_not_name_is_refused_while_the_body_is_still_arriving() {
    let app = spawn_app().await;
    let mut stream = raw_http::connect(&app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: roost\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: 10000000\r\n\r\n"
    );
    let start = [
        json_part("operations", &json!({ "query": "{ __typename }" })),
        json_part("map", &json!({})),
        file_part("stray", b"the first bytes of a file that never ends"),
    ]
    .concat();
    assert!(raw_http::send(&mut stream, head.as_bytes()).await);
    assert!(raw_http::send(&mut stream, &start).await);
    // The rest of the 10 MB never comes; the answer does.
    assert_eq!(
        raw_http::status_within(&mut stream, Duration::from_secs(5)).await,
        Some(400)
    );
}

#[tokio::test]
async fn a_part_whose_headers_never_end_is_refused_at_one_mebibyte() {
    let app = spawn_app().await;
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"operations\"\r\nX-Pad: ")
            .into_bytes();
    body.resize(body.len() + 3 * 1024 * 1024, b'a');
    let (status, resp) = post(&app, None, body).await;
    assert_refused(status, &resp, 413, "A part's headers may be at most 1 MiB");
}
