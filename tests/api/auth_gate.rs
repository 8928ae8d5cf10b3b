//! A stale token fails every operation except the ones that carry their own
//! credentials, so a client can always refresh or log out.

use serde_json::json;

use crate::helpers::{AUTH_FIELDS, PASSWORD, code, spawn_with};

#[tokio::test]
async fn an_expired_token_still_lets_the_client_refresh_and_log_out() {
    let app = spawn_with(|f| f.merge(("access_token_ttl", 1))).await;
    let ann = app.register("ann@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let stale = Some(ann.access_token.as_str());

    // Anything that reads the viewer fails, public fields included.
    assert_eq!(
        code(&app.gql_as(stale, "{ __typename }", json!({})).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.gql_as(stale, "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );

    let refresh =
        format!("mutation($t: String!) {{ refreshSession(refreshToken: $t) {{ {AUTH_FIELDS} }} }}");
    let resp = app
        .gql_as(stale, &refresh, json!({ "t": ann.refresh_token }))
        .await;
    let fresh = crate::helpers::session_from(&resp["data"]["refreshSession"], &ann.email)
        .unwrap_or_else(|| panic!("refresh with a stale header: {resp}"));
    let login = app
        .gql_as(
            stale,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": ann.email, "password": PASSWORD } }),
        )
        .await;
    assert!(login["errors"].is_null(), "{login}");
    // Mixing in anything else brings the check back.
    let mixed = app
        .gql_as(
            stale,
            "mutation($t: String!) { logout(refreshToken: $t) becomeHost { id } }",
            json!({ "t": fresh.refresh_token }),
        )
        .await;
    assert_eq!(code(&mixed), "UNAUTHENTICATED");
    let logout = app
        .gql_as(
            stale,
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": fresh.refresh_token }),
        )
        .await;
    assert_eq!(logout["data"]["logout"], true, "{logout}");
}
