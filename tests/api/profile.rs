//! Profiles, roles, and who sees what of a user (RULES.md sections 2 and 4).

use serde_json::{Value, json};

use crate::helpers::{assert_bad_input, code, spawn_app};

const UPDATE: &str = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { firstName lastName phoneNumber bio avatarUrl } }";

#[tokio::test]
async fn update_profile_changes_only_what_is_given() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let t = Some(ann.access_token.as_str());
    let resp = app
        .gql_as(t, UPDATE, json!({ "input": { "firstName": " Annie ", "bio": "Hosts in Lisbon.", "phoneNumber": "+351 21 000 0000", "avatarUrl": "https://cdn.example.com/ann.png" } }))
        .await;
    assert_eq!(
        resp["data"]["updateProfile"],
        json!({ "firstName": "Annie", "lastName": "User", "phoneNumber": "+351 21 000 0000", "bio": "Hosts in Lisbon.", "avatarUrl": "https://cdn.example.com/ann.png" }),
        "{resp}"
    );
    // Null clears an optional field; leaving a field out keeps it.
    let resp = app
        .gql_as(
            t,
            UPDATE,
            json!({ "input": { "phoneNumber": null, "bio": "" } }),
        )
        .await;
    assert_eq!(
        resp["data"]["updateProfile"],
        json!({ "firstName": "Annie", "lastName": "User", "phoneNumber": null, "bio": null, "avatarUrl": "https://cdn.example.com/ann.png" })
    );
}

#[tokio::test]
async fn update_profile_names_each_bad_field_and_writes_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let t = Some(ann.access_token.as_str());
    for (input, field) in [
        (json!({ "firstName": "" }), "input.firstName"),
        (json!({ "firstName": null }), "input.firstName"),
        (json!({ "lastName": "x".repeat(101) }), "input.lastName"),
        (json!({ "phoneNumber": "12" }), "input.phoneNumber"),
        (json!({ "bio": "b".repeat(2001) }), "input.bio"),
        (
            json!({ "avatarUrl": "javascript:alert(1)" }),
            "input.avatarUrl",
        ),
        (
            json!({ "firstName": "Valid", "avatarUrl": "ftp://x" }),
            "input.avatarUrl",
        ),
    ] {
        assert_bad_input(
            &app.gql_as(t, UPDATE, json!({ "input": input })).await,
            field,
        );
    }
    let me = app
        .gql_as(t, "{ me { firstName avatarUrl } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "firstName": "Test", "avatarUrl": null })
    );
    assert_eq!(
        code(&app.gql(UPDATE, json!({ "input": {} })).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn become_host_turns_a_guest_into_a_host_once() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let t = Some(ann.access_token.as_str());
    let become_host = "mutation { becomeHost { id role } }";
    let resp = app.gql_as(t, become_host, json!({})).await;
    assert_eq!(
        resp["data"]["becomeHost"],
        json!({ "id": ann.user_id, "role": "HOST" })
    );
    let again = app.gql_as(t, become_host, json!({})).await;
    assert_eq!(again["data"]["becomeHost"]["role"], "HOST");
    assert_eq!(
        code(&app.gql(become_host, json!({})).await),
        "UNAUTHENTICATED"
    );
    app.make_admin("ann@example.com").await;
    let admin = app.gql_as(t, become_host, json!({})).await;
    assert_eq!(
        admin["data"]["becomeHost"]["role"], "ADMIN",
        "an admin stays an admin"
    );
}

const USER: &str =
    "query($id: ID!) { user(id: $id) { id firstName email phoneNumber role createdAt } }";

#[tokio::test]
async fn contact_details_are_for_the_user_and_admins_only() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let admin = app.register("root@example.com").await;
    app.make_admin("root@example.com").await;
    app.gql_as(
        Some(&ann.access_token),
        UPDATE,
        json!({ "input": { "phoneNumber": "+1 555 0100" } }),
    )
    .await;
    let vars = json!({ "id": ann.user_id });

    let anonymous = app.gql(USER, vars.clone()).await;
    assert_eq!(anonymous["data"]["user"]["firstName"], "Test");
    assert_eq!(anonymous["data"]["user"]["email"], Value::Null);
    assert_eq!(anonymous["data"]["user"]["phoneNumber"], Value::Null);
    let other = app
        .gql_as(Some(&bob.access_token), USER, vars.clone())
        .await;
    assert_eq!(other["data"]["user"]["email"], Value::Null);
    let own = app
        .gql_as(Some(&ann.access_token), USER, vars.clone())
        .await;
    assert_eq!(own["data"]["user"]["email"], "ann@example.com");
    assert_eq!(own["data"]["user"]["phoneNumber"], "+1 555 0100");
    let by_admin = app.gql_as(Some(&admin.access_token), USER, vars).await;
    assert_eq!(by_admin["data"]["user"]["email"], "ann@example.com");
    assert_eq!(by_admin["data"]["user"]["phoneNumber"], "+1 555 0100");
    assert!(
        by_admin["data"]["user"]["createdAt"]
            .as_str()
            .expect("createdAt")
            .ends_with('Z')
    );
}

#[tokio::test]
async fn node_finds_users_and_unknown_ids_are_null() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let node = "query($id: ID!) { node(id: $id) { __typename id ... on User { firstName } } }";
    let resp = app.gql(node, json!({ "id": ann.user_id })).await;
    assert_eq!(
        resp["data"]["node"],
        json!({ "__typename": "User", "id": ann.user_id, "firstName": "Test" })
    );
    for id in ["garbage", "", "VXNlcjpub3QtYS11dWlk"] {
        assert_eq!(
            app.gql(node, json!({ "id": id })).await,
            json!({ "data": { "node": null } }),
            "{id}"
        );
        assert_eq!(
            app.gql(USER, json!({ "id": id })).await,
            json!({ "data": { "user": null } }),
            "{id}"
        );
    }
    // A well-formed id of a user that does not exist.
    let missing = base64_id("User:0190e6a0-0000-7000-8000-000000000000");
    assert_eq!(
        app.gql(USER, json!({ "id": missing })).await,
        json!({ "data": { "user": null } })
    );
    assert_eq!(
        app.gql("{ me { id } }", json!({})).await,
        json!({ "data": { "me": null } })
    );
}

fn base64_id(raw: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(raw)
}
