//! Browsers: CORS preflights as an SPA on another origin sends them (with
//! Apollo Client's and W3C Trace Context's headers), and the playground
//! when its files cannot load, in headless Chromium when it is installed.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::header::ACCEPT;

use crate::helpers::{TestApp, spawn_with};

const SPA: &str = "https://app.example";

/// An OPTIONS preflight for a POST from [`SPA`] sending `headers`.
async fn preflight(app: &TestApp, headers: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", SPA)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .expect("sent")
}

/// The preflight answer's headers, but `date` and the request id (which
/// change), as name-value pairs in order.
fn preflight_headers(resp: &reqwest::Response) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date" && *name != "x-request-id")
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().expect("ascii").to_owned(),
            )
        })
        .collect();
    headers.sort();
    headers
}

fn expected_preflight(allowed: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = [
        ("access-control-allow-headers", allowed),
        ("access-control-allow-methods", "GET,POST,OPTIONS"),
        ("access-control-allow-origin", SPA),
        ("access-control-max-age", "600"),
        ("allow", "GET,HEAD,POST"),
        ("content-length", "0"),
        ("vary", "origin"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    headers.sort();
    headers
}

#[tokio::test]
async fn preflights_allow_what_apollo_client_and_tracing_send() {
    let app = spawn_with(|f| f.merge(("cors_origins", SPA))).await;
    let allowed = "authorization,content-type,accept,x-request-id,apollographql-client-name,\
                   apollographql-client-version,apollo-require-preflight,x-apollo-operation-name,\
                   traceparent,tracestate";
    for header in allowed.split(',') {
        let resp = preflight(&app, &format!("content-type,{header}")).await;
        assert_eq!(resp.status(), 200, "{header}");
        assert_eq!(
            preflight_headers(&resp),
            expected_preflight(allowed),
            "{header}"
        );
    }
    // What Apollo Client then sends is answered for the SPA's origin.
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("Origin", SPA)
        .header("apollographql-client-name", "web")
        .header("apollographql-client-version", "1.0.0")
        .header("apollo-require-preflight", "true")
        .header("x-apollo-operation-name", "Me")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "roost=1")
        .json(&serde_json::json!({ "query": "query Me { me { id } }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], SPA);
    assert_eq!(
        resp.headers()["access-control-expose-headers"],
        "x-request-id"
    );
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body, serde_json::json!({ "data": { "me": null } }));
}

#[tokio::test]
async fn the_allowed_headers_are_configurable() {
    let app = spawn_with(|f| {
        f.merge(("cors_origins", SPA))
            .merge(("cors_headers", " Authorization, content-type ,X-Tenant-Id "))
    })
    .await;
    let allowed = "authorization,content-type,x-tenant-id";
    let resp = preflight(&app, "content-type,x-tenant-id").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(preflight_headers(&resp), expected_preflight(allowed));
    // A default left out of the list is not allowed any more: the browser
    // finds it missing from the answer and does not send the request.
    let resp = preflight(&app, "apollographql-client-name").await;
    assert_eq!(preflight_headers(&resp), expected_preflight(allowed));
}

#[tokio::test]
async fn a_header_name_that_is_not_one_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = domain::config::Config::from_figment(
        crate::helpers::base_figment(dir.path(), "sqlite::memory:")
            .merge(("cors_headers", "content-type,bad header")),
    )
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "ROOST_CORS_HEADERS: \"bad header\" is not a header name"
    );
}

/// The playground page, as a browser asks for it.
async fn playground_html(app: &TestApp) -> String {
    let resp = app
        .http
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("text")
}

#[tokio::test]
async fn the_playground_page_carries_its_offline_message() {
    let app = spawn_with(|f| f).await;
    let html = playground_html(&app).await;
    assert_eq!(
        html.matches(r#"onerror="roostAssetFailed(this)""#).count(),
        5,
        "every file reports a failure: {html}"
    );
    assert!(
        html.contains(r#"<div id="roost-playground-unavailable" hidden>"#),
        "{html}"
    );
    assert!(
        html.contains("<code>scripts/fetch-playground-assets roost-playground</code>"),
        "{html}"
    );
    assert!(
        html.contains("<code>ROOST_PLAYGROUND_ASSETS_DIR=roost-playground</code>"),
        "{html}"
    );
    assert!(
        html.contains("if (!roostPlaygroundMissing()) startPlayground();"),
        "{html}"
    );
}

#[tokio::test]
async fn an_assets_folder_without_the_files_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let assets = tempfile::tempdir().expect("tempdir");
    std::fs::write(assets.path().join("graphiql.min.js"), "/* */").expect("write");
    let path = assets.path().to_string_lossy().to_string();
    let figment = || {
        crate::helpers::base_figment(dir.path(), "sqlite::memory:")
            .merge(("playground_assets_dir", path.clone()))
    };
    let err = domain::config::Config::from_figment(figment()).expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "ROOST_PLAYGROUND_ASSETS_DIR={path} lacks react.production.min.js, \
             react-dom.production.min.js, graphiql.min.css, graphql-ws.min.js; fill it with \
             scripts/fetch-playground-assets {path}"
        )
    );
    // Without the playground the folder is not used, and not checked.
    domain::config::Config::from_figment(figment().merge(("playground", false)))
        .expect("no playground, no check");
}

/// The installed Chromium, if any.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// The page's DOM once headless Chromium has loaded it, with unpkg.com
/// unreachable whatever this machine's network; `None` without Chromium.
async fn rendered(url: String) -> Option<String> {
    let Some(browser) = chromium() else {
        eprintln!("skipped: needs Chromium (apt-get install chromium)");
        return None;
    };
    let profile = tempfile::tempdir().expect("tempdir");
    let profile_arg = format!("--user-data-dir={}", profile.path().display());
    let dom = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--host-resolver-rules=MAP unpkg.com ~NOTFOUND",
                &profile_arg,
                "--dump-dom",
                &url,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromium");
        let started = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("chromium did not finish in 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("chromium's output");
        String::from_utf8(out.stdout).expect("utf-8 DOM")
    })
    .await
    .expect("chromium task");
    Some(dom)
}

/// The entries of the page's list of files that did not load, sorted.
fn failed_assets(dom: &str) -> Vec<String> {
    let start = dom
        .find(r#"<ul id="roost-failed-assets">"#)
        .unwrap_or_else(|| panic!("no list of failed files: {dom}"));
    let list = &dom[start..];
    let list = &list[..list.find("</ul>").expect("the list ends")];
    let mut items: Vec<String> = list
        .split("<li>")
        .skip(1)
        .map(|item| item.trim_end_matches("</li>").to_owned())
        .collect();
    items.sort();
    items
}

/// The playground page in headless Chromium, which must show the message
/// instead of a blank playground: its DOM and the files it lists as missing.
async fn rendered_fallback(app: &TestApp) -> Option<(String, Vec<String>)> {
    let dom = rendered(app.url("/graphql")).await?;
    assert!(
        dom.contains(r#"<div id="roost-playground-unavailable">"#),
        "the message is shown: {dom}"
    );
    assert!(
        !dom.contains(r#"id="graphiql""#),
        "no blank playground: {dom}"
    );
    let failed = failed_assets(&dom);
    Some((dom, failed))
}

#[tokio::test]
async fn a_browser_without_the_cdn_is_told_how_to_serve_the_files_locally() {
    let app = spawn_with(|f| f).await;
    let Some((dom, failed)) = rendered_fallback(&app).await else {
        return;
    };
    assert_eq!(
        failed,
        [
            "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
            "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
            "https://unpkg.com/graphql-ws@5.16.2/umd/graphql-ws.min.js",
            "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
            "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
        ]
    );
    assert!(dom.contains("<code>scripts/fetch-playground-assets roost-playground</code>"));
    assert!(dom.contains("<code>ROOST_PLAYGROUND_ASSETS_DIR=roost-playground</code>"));
}

#[tokio::test]
async fn a_browser_given_broken_local_files_is_told_to_fetch_them_again() {
    let assets = tempfile::tempdir().expect("tempdir");
    for file in domain::config::PLAYGROUND_FILES {
        std::fs::write(assets.path().join(file), "/* not the real file */").expect("write");
    }
    let path = assets.path().to_string_lossy().to_string();
    let app = spawn_with(|f| f.merge(("playground_assets_dir", path))).await;
    let Some((dom, failed)) = rendered_fallback(&app).await else {
        return;
    };
    // They loaded, but defined nothing: each missing script is named.
    assert_eq!(failed, ["graphiql", "graphql-ws", "react", "react-dom"]);
    assert!(
        dom.contains(
            "Fill that folder again with <code>scripts/fetch-playground-assets DIR</code>"
        ),
        "{dom}"
    );
}
