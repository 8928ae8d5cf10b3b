//! Messaging between users over HTTP: starting and continuing
//! conversations, who may read them, unread counts, the lists and their
//! cursors, batching, and the events and notifications a message causes.

use std::time::Duration;

use roost::graphql::ids::NodeType;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Session, TestApp, assert_bad_input, code, count_rows, count_where, spawn_app,
};

const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { \
    id body sentAt readAt sender { id } conversation { id unreadCount participants { id } \
    property { id } lastMessage { id } } } }";

const CONVERSATION: &str = "query($id: ID!) { conversation(id: $id) { id unreadCount updatedAt \
    participants { id } property { id } lastMessage { id body sender { id } } \
    messages(last: 50) { totalCount nodes { id body readAt sender { id } } } } }";

impl TestApp {
    /// Sends `input` as `from`; the whole answer.
    pub async fn send_raw(&self, from: &Session, input: Value) -> Value {
        self.gql_as(Some(&from.access_token), SEND, json!({ "input": input }))
            .await
    }

    /// Sends `body` from `from` to `to`; the message.
    pub async fn message(&self, from: &Session, to: &Session, body: &str) -> Value {
        let resp = self
            .send_raw(from, json!({ "recipientId": to.user_id, "body": body }))
            .await;
        assert!(resp["errors"].is_null(), "{resp}");
        resp["data"]["sendMessage"].clone()
    }

    async fn conversation(&self, viewer: &Session, id: &str) -> Value {
        let resp = self
            .gql_as(
                Some(&viewer.access_token),
                CONVERSATION,
                json!({ "id": id }),
            )
            .await;
        assert!(resp["errors"].is_null(), "{resp}");
        resp["data"]["conversation"].clone()
    }

    async fn name(&self, email: &str, first_name: &str) {
        self.db
            .execute_unprepared(&format!(
                "UPDATE users SET first_name = '{first_name}' WHERE email = '{email}'"
            ))
            .await
            .expect("rename");
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn bodies(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {connection}"))
        .iter()
        .map(|n| s(&n["body"]))
        .collect()
}

#[tokio::test]
async fn a_first_message_starts_a_conversation_that_later_ones_continue() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let host = app.host("host@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;

    let first = app.message(&ana, &host, "  Hello there!  ").await;
    assert_eq!(first["body"], "Hello there!");
    assert_eq!(first["sender"]["id"], ana.user_id);
    assert_eq!(first["readAt"], Value::Null);
    let conversation = &first["conversation"];
    let conversation_id = s(&conversation["id"]);
    assert_eq!(conversation["unreadCount"], 0, "nothing to Ana yet");
    assert_eq!(conversation["property"], Value::Null);
    assert_eq!(conversation["lastMessage"]["id"], first["id"]);
    let mut participants: Vec<String> = conversation["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| s(&p["id"]))
        .collect();
    participants.sort();
    let mut expected = vec![ana.user_id.clone(), host.user_id.clone()];
    expected.sort();
    assert_eq!(participants, expected);

    // The host answers in the conversation; Ana writes again by recipient.
    let reply = app
        .send_raw(
            &host,
            json!({ "conversationId": conversation_id, "body": "Welcome!" }),
        )
        .await;
    assert!(reply["errors"].is_null(), "{reply}");
    assert_eq!(
        reply["data"]["sendMessage"]["conversation"]["id"],
        conversation_id
    );
    let again = app.message(&ana, &host, "Is parking included?").await;
    assert_eq!(again["conversation"]["id"], conversation_id);
    let by_host = app.message(&host, &ana, "It is.").await;
    assert_eq!(by_host["conversation"]["id"], conversation_id);
    assert_eq!(count_rows(&app.db, "conversations").await, 1);

    // About a listing: a conversation of its own, then continued.
    let about = app
        .send_raw(
            &ana,
            json!({ "recipientId": host.user_id, "propertyId": property, "body": "About the loft" }),
        )
        .await;
    assert!(about["errors"].is_null(), "{about}");
    let about = &about["data"]["sendMessage"]["conversation"];
    assert_ne!(about["id"], conversation_id);
    assert_eq!(about["property"]["id"], property);
    let more = app
        .send_raw(
            &ana,
            json!({ "recipientId": host.user_id, "propertyId": property, "body": "And the view?" }),
        )
        .await;
    assert_eq!(
        more["data"]["sendMessage"]["conversation"]["id"], about["id"],
        "{more}"
    );
    assert_eq!(count_rows(&app.db, "conversations").await, 2);
    assert_eq!(count_rows(&app.db, "messages").await, 6);

    let seen = app.conversation(&host, &conversation_id).await;
    assert_eq!(
        seen["unreadCount"], 2,
        "Hello there! and Is parking included?"
    );
    assert_eq!(seen["lastMessage"]["body"], "It is.");
    assert_eq!(seen["lastMessage"]["sender"]["id"], host.user_id);
    assert_eq!(
        bodies(&seen["messages"]),
        ["Hello there!", "Welcome!", "Is parking included?", "It is."]
    );
    assert_eq!(seen["messages"]["totalCount"], 4);
}

#[tokio::test]
async fn send_message_refuses_bad_input_and_writes_nothing() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let host = app.host("host@example.com").await;
    let first = app.message(&ana, &bob, "hi").await;
    let conversation = s(&first["conversation"]["id"]);
    let draft = app
        .create_property(
            &host,
            json!({ "title": "Not listed yet", "status": "DRAFT" }),
        )
        .await;

    let cases = [
        (
            json!({ "recipientId": bob.user_id, "conversationId": conversation, "body": "x" }),
            "input.conversationId",
        ),
        (json!({ "body": "x" }), "input.recipientId"),
        (
            json!({ "conversationId": conversation, "propertyId": draft, "body": "x" }),
            "input.propertyId",
        ),
        (
            json!({ "recipientId": ana.user_id, "body": "talking to myself" }),
            "input.recipientId",
        ),
        (
            json!({ "recipientId": bob.user_id, "body": "" }),
            "input.body",
        ),
        (
            json!({ "recipientId": bob.user_id, "body": " \n\t " }),
            "input.body",
        ),
        (
            json!({ "recipientId": bob.user_id, "body": "é".repeat(5_001) }),
            "input.body",
        ),
    ];
    for (input, field) in cases {
        let resp = app.send_raw(&ana, input.clone()).await;
        assert_bad_input(&resp, field);
        assert!(
            resp["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{resp}"
        );
    }
    let nobody = roost::graphql::ids::encode(NodeType::User, uuid::Uuid::now_v7()).to_string();
    for input in [
        json!({ "recipientId": nobody, "body": "x" }),
        json!({ "recipientId": "garbage", "body": "x" }),
        // A draft listing of someone else is not visible to Ana.
        json!({ "recipientId": host.user_id, "propertyId": draft, "body": "x" }),
        json!({ "recipientId": host.user_id, "propertyId": "garbage", "body": "x" }),
        json!({ "conversationId": "garbage", "body": "x" }),
    ] {
        let resp = app.send_raw(&ana, input.clone()).await;
        assert_eq!(code(&resp), "NOT_FOUND", "{input}: {resp}");
    }
    let anonymous = app
        .gql(
            SEND,
            json!({ "input": { "recipientId": bob.user_id, "body": "x" } }),
        )
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    assert_eq!(count_rows(&app.db, "messages").await, 1);
    assert_eq!(count_rows(&app.db, "conversations").await, 1);
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'MESSAGE_RECEIVED'").await,
        1
    );

    // The longest body goes through, and the host may message about their draft.
    let longest = app
        .send_raw(
            &ana,
            json!({ "recipientId": bob.user_id, "body": "é".repeat(5_000) }),
        )
        .await;
    assert!(longest["errors"].is_null(), "{longest}");
    let own_draft = app
        .send_raw(
            &host,
            json!({ "recipientId": ana.user_id, "propertyId": draft, "body": "Coming soon" }),
        )
        .await;
    assert!(own_draft["errors"].is_null(), "{own_draft}");
}

#[tokio::test]
async fn ten_simultaneous_first_messages_make_one_conversation() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let sends = (0..10).map(|i| {
        let (app, ana, bob) = (&app, &ana, &bob);
        async move {
            app.send_raw(
                ana,
                json!({ "recipientId": bob.user_id, "body": format!("message {i}") }),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut conversations: Vec<String> = answers
        .iter()
        .map(|a| {
            assert!(a["errors"].is_null(), "{a}");
            s(&a["data"]["sendMessage"]["conversation"]["id"])
        })
        .collect();
    conversations.dedup();
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert_eq!(count_rows(&app.db, "conversations").await, 1);
    assert_eq!(count_rows(&app.db, "conversation_participants").await, 2);
    assert_eq!(count_rows(&app.db, "messages").await, 10);
    let seen = app.conversation(&bob, &conversations[0]).await;
    assert_eq!(seen["unreadCount"], 10);
    assert_eq!(seen["messages"]["totalCount"], 10);
}

#[tokio::test]
async fn only_participants_read_or_write_a_conversation() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let message = app.message(&ana, &bob, "just between us").await;
    let conversation = s(&message["conversation"]["id"]);
    let message_id = s(&message["id"]);

    let node = "query($id: ID!) { node(id: $id) { id ... on Conversation { unreadCount } ... on Message { body } } }";
    for (token, visible) in [
        (Some(&ana.access_token), true),
        (Some(&bob.access_token), true),
        (Some(&eve.access_token), false),
        (None, false),
    ] {
        let token = token.map(String::as_str);
        let resp = app
            .gql_as(
                token,
                "query($id: ID!) { conversation(id: $id) { id } }",
                json!({ "id": conversation }),
            )
            .await;
        assert!(resp["errors"].is_null(), "{resp}");
        assert_eq!(resp["data"]["conversation"].is_null(), !visible, "{resp}");
        for id in [&conversation, &message_id] {
            let resp = app.gql_as(token, node, json!({ "id": id })).await;
            assert!(resp["errors"].is_null(), "{resp}");
            assert_eq!(resp["data"]["node"].is_null(), !visible, "{resp}");
        }
    }
    let resp = app
        .gql_as(Some(&bob.access_token), node, json!({ "id": message_id }))
        .await;
    assert_eq!(resp["data"]["node"]["body"], "just between us");
    let resp = app
        .gql_as(Some(&bob.access_token), node, json!({ "id": conversation }))
        .await;
    assert_eq!(resp["data"]["node"]["unreadCount"], 1);

    let write = app
        .send_raw(
            &eve,
            json!({ "conversationId": conversation, "body": "let me in" }),
        )
        .await;
    assert_eq!(code(&write), "NOT_FOUND", "{write}");
    let read = app
        .gql_as(
            Some(&eve.access_token),
            "mutation($id: ID!) { markConversationRead(conversationId: $id) { id } }",
            json!({ "id": conversation }),
        )
        .await;
    assert_eq!(code(&read), "NOT_FOUND", "{read}");
    let anonymous = app
        .gql(
            "mutation($id: ID!) { markConversationRead(conversationId: $id) { id } }",
            json!({ "id": conversation }),
        )
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let list = app
        .gql_as(
            Some(&eve.access_token),
            "{ conversations { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["data"]["conversations"]["totalCount"], 0, "{list}");
    assert_eq!(count_rows(&app.db, "messages").await, 1);
}

#[tokio::test]
async fn marking_a_conversation_read_clears_the_viewers_unread_messages_only() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    for body in ["one", "two", "three"] {
        app.message(&ana, &bob, body).await;
    }
    let answer = app.message(&bob, &ana, "four").await;
    let conversation = s(&answer["conversation"]["id"]);
    assert_eq!(
        app.conversation(&bob, &conversation).await["unreadCount"],
        3
    );
    assert_eq!(
        app.conversation(&ana, &conversation).await["unreadCount"],
        1
    );

    let read = app
        .gql_as(
            Some(&bob.access_token),
            "mutation($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount \
             messages(first: 10) { nodes { body readAt } } } }",
            json!({ "id": conversation }),
        )
        .await;
    assert!(read["errors"].is_null(), "{read}");
    let read = &read["data"]["markConversationRead"];
    assert_eq!(read["id"], conversation);
    assert_eq!(read["unreadCount"], 0);
    let nodes = read["messages"]["nodes"].as_array().expect("nodes");
    for n in &nodes[..3] {
        assert!(n["readAt"].is_string(), "{n}");
    }
    assert_eq!(nodes[3]["body"], "four");
    assert_eq!(
        nodes[3]["readAt"],
        Value::Null,
        "Bob's own message stays unread by Ana"
    );
    assert_eq!(
        app.conversation(&ana, &conversation).await["unreadCount"],
        1
    );
    assert_eq!(
        app.conversation(&bob, &conversation).await["unreadCount"],
        0
    );

    // A new message counts again; marking twice is harmless.
    app.message(&ana, &bob, "five").await;
    assert_eq!(
        app.conversation(&bob, &conversation).await["unreadCount"],
        1
    );
    for _ in 0..2 {
        let again = app
            .gql_as(
                Some(&bob.access_token),
                "mutation($id: ID!) { markConversationRead(conversationId: $id) { unreadCount } }",
                json!({ "id": conversation }),
            )
            .await;
        assert_eq!(
            again["data"]["markConversationRead"]["unreadCount"], 0,
            "{again}"
        );
    }
    assert_eq!(
        count_where(&app.db, "messages", "read_at IS NULL").await,
        1,
        "only Bob's four"
    );
}

#[tokio::test]
async fn conversations_are_listed_most_recently_updated_first() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let mut others = Vec::new();
    for name in ["bob", "cy", "dee"] {
        let other = app.register(&format!("{name}@example.com")).await;
        let m = app.message(&ana, &other, &format!("hi {name}")).await;
        others.push((other, s(&m["conversation"]["id"])));
    }
    let list = |first: i64, after: Option<String>| {
        let app = &app;
        let token = ana.access_token.clone();
        async move {
            let resp = app
                .gql_as(
                    Some(&token),
                    "query($first: Int, $after: String) { conversations(first: $first, after: $after) { \
                     totalCount edges { cursor node { id } } nodes { id lastMessage { body } } \
                     pageInfo { hasNextPage hasPreviousPage endCursor } } }",
                    json!({ "first": first, "after": after }),
                )
                .await;
            assert!(resp["errors"].is_null(), "{resp}");
            resp["data"]["conversations"].clone()
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| s(&n["id"]))
            .collect()
    };
    let page = list(2, None).await;
    assert_eq!(page["totalCount"], 3);
    assert_eq!(ids(&page), [others[2].1.clone(), others[1].1.clone()]);
    assert_eq!(page["edges"][0]["node"]["id"], page["nodes"][0]["id"]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], false);
    let rest = list(2, page["pageInfo"]["endCursor"].as_str().map(str::to_owned)).await;
    assert_eq!(ids(&rest), [others[0].1.clone()]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(rest["totalCount"], 3);

    // Bob answers: his conversation comes first.
    app.message(&others[0].0, &ana, "hello Ana").await;
    let page = list(3, None).await;
    assert_eq!(
        ids(&page),
        [
            others[0].1.clone(),
            others[2].1.clone(),
            others[1].1.clone()
        ]
    );
    assert_eq!(page["nodes"][0]["lastMessage"]["body"], "hello Ana");

    for bad in [0, 101] {
        let resp = app
            .gql_as(
                Some(&ana.access_token),
                "query($first: Int) { conversations(first: $first) { totalCount } }",
                json!({ "first": bad }),
            )
            .await;
        assert_bad_input(&resp, "first");
    }
    let resp = app
        .gql_as(
            Some(&ana.access_token),
            "{ conversations(after: \"nope\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_bad_input(&resp, "after");
    let anonymous = app.gql("{ conversations { totalCount } }", json!({})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

#[tokio::test]
async fn messages_page_backwards_from_the_newest_and_forwards_from_the_oldest() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut conversation = String::new();
    for i in 1..=25 {
        let (from, to) = if i % 2 == 0 {
            (&bob, &ana)
        } else {
            (&ana, &bob)
        };
        let m = app.message(from, to, &format!("m{i}")).await;
        conversation = s(&m["conversation"]["id"]);
    }
    let names = |range: std::ops::RangeInclusive<i32>| -> Vec<String> {
        range.map(|i| format!("m{i}")).collect()
    };
    let page = |args: &str| {
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({args})")
        };
        let query = format!(
            "query($id: ID!) {{ conversation(id: $id) {{ messages{args} {{ totalCount \
             edges {{ cursor node {{ body }} }} nodes {{ body }} \
             pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }} }}"
        );
        let app = &app;
        let token = ana.access_token.clone();
        let conversation = conversation.clone();
        async move {
            app.gql_as(Some(&token), &query, json!({ "id": conversation }))
                .await
        }
    };
    let messages = |resp: &Value| -> Value {
        assert!(resp["errors"].is_null(), "{resp}");
        resp["data"]["conversation"]["messages"].clone()
    };

    let newest = messages(&page("last: 10").await);
    assert_eq!(bodies(&newest), names(16..=25));
    assert_eq!(newest["totalCount"], 25);
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(newest["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        newest["pageInfo"]["startCursor"],
        newest["edges"][0]["cursor"]
    );
    let older = messages(
        &page(&format!(
            "last: 10, before: \"{}\"",
            s(&newest["pageInfo"]["startCursor"])
        ))
        .await,
    );
    assert_eq!(bodies(&older), names(6..=15));
    assert_eq!(older["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(older["pageInfo"]["hasNextPage"], true);
    let oldest = messages(
        &page(&format!(
            "last: 10, before: \"{}\"",
            s(&older["pageInfo"]["startCursor"])
        ))
        .await,
    );
    assert_eq!(bodies(&oldest), names(1..=5));
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], false);

    let start = messages(&page("first: 10").await);
    assert_eq!(bodies(&start), names(1..=10));
    assert_eq!(start["pageInfo"]["hasNextPage"], true);
    assert_eq!(start["pageInfo"]["hasPreviousPage"], false);
    let next = messages(
        &page(&format!(
            "first: 10, after: \"{}\"",
            s(&start["pageInfo"]["endCursor"])
        ))
        .await,
    );
    assert_eq!(bodies(&next), names(11..=20));
    let end = messages(
        &page(&format!(
            "first: 10, after: \"{}\"",
            s(&next["pageInfo"]["endCursor"])
        ))
        .await,
    );
    assert_eq!(bodies(&end), names(21..=25));
    assert_eq!(end["pageInfo"]["hasNextPage"], false);
    // Without arguments: the newest 20, oldest first.
    assert_eq!(bodies(&messages(&page("").await)), names(6..=25));

    for (args, field) in [
        ("first: 5, last: 5", "last"),
        ("last: 0", "last"),
        ("last: 101", "last"),
        ("first: 0", "first"),
        ("first: 101", "first"),
        ("first: 5, before: \"x\"", "before"),
        ("last: 5, before: \"garbage\"", "before"),
        ("first: 5, after: \"garbage\"", "after"),
    ] {
        let resp = page(args).await;
        assert_bad_input(&resp, field);
    }
}

#[tokio::test]
async fn conversation_lists_send_as_many_statements_for_twenty_as_for_five() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let host = app.host("host@example.com").await;
    let listings = [
        app.instant_listing(&host, json!({})).await,
        app.instant_listing(&host, json!({ "title": "Another place" }))
            .await,
    ];
    for i in 0..20 {
        let other = app.register(&format!("user{i}@example.com")).await;
        // The oldest and the newest conversations are about listings (so
        // that both pages hold one); the others are not.
        let input = if i == 0 || i == 19 {
            let property = &listings[usize::from(i == 19)];
            json!({ "recipientId": host.user_id, "propertyId": property, "body": format!("about it {i}") })
        } else {
            json!({ "recipientId": other.user_id, "body": format!("hello {i}") })
        };
        let resp = app.send_raw(&ana, input).await;
        assert!(resp["errors"].is_null(), "{resp}");
        let conversation = s(&resp["data"]["sendMessage"]["conversation"]["id"]);
        for j in 0..3 {
            let resp = app
                .send_raw(
                    &ana,
                    json!({ "conversationId": conversation, "body": format!("more {j}") }),
                )
                .await;
            assert!(resp["errors"].is_null(), "{resp}");
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fields = "totalCount nodes { id updatedAt unreadCount property { id title } \
        participants { id firstName } lastMessage { body sender { firstName } } \
        messages(last: 3) { totalCount nodes { body sentAt sender { id } } } }";
    let mut counts = Vec::new();
    for first in [5, 20] {
        let before = app.statements.get();
        let resp = app
            .gql_as(
                Some(&ana.access_token),
                &format!("{{ conversations(first: {first}) {{ {fields} }} }}"),
                json!({}),
            )
            .await;
        let sent = app.statements.get() - before;
        assert!(resp["errors"].is_null(), "{resp}");
        let nodes = resp["data"]["conversations"]["nodes"]
            .as_array()
            .expect("nodes");
        assert_eq!(nodes.len(), first);
        assert!(
            nodes.iter().all(|n| bodies(&n["messages"]).len() == 3),
            "{resp}"
        );
        counts.push(sent);
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[0] <= 14, "{counts:?}");
}

#[tokio::test]
async fn a_message_publishes_its_event_and_notifies_the_recipient() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    app.name("ana@example.com", "Ana").await;
    let mut events = app.bus.subscribe();
    let long = format!(
        "Hello Bob! {}",
        "We will arrive late in the evening. ".repeat(10)
    );
    let message = app.message(&ana, &bob, &long).await;

    let event = tokio::time::timeout(crate::helpers::SOON, async {
        loop {
            match events.recv().await {
                Ok(domain::infra::events::Event::MessageSent(e)) => break e,
                Ok(_) => continue,
                Err(e) => panic!("event bus: {e}"),
            }
        }
    })
    .await
    .expect("a MessageSent event");
    let decode = |id: &str| {
        [NodeType::User, NodeType::Message, NodeType::Conversation]
            .into_iter()
            .find_map(|kind| roost::graphql::ids::decode_as(kind, id))
    };
    let uuid = |global: &Value| decode(&s(global)).expect("a global id");
    assert_eq!(event.message_id, uuid(&message["id"]));
    assert_eq!(event.conversation_id, uuid(&message["conversation"]["id"]));
    assert_eq!(event.sender_id, uuid(&json!(ana.user_id)));
    assert_eq!(event.recipient_ids, vec![uuid(&json!(bob.user_id))]);
    assert_eq!(event.body, long.trim());
    // The API shows milliseconds.
    assert_eq!(
        event.sent_at.timestamp_millis(),
        s(&message["sentAt"])
            .parse::<chrono::DateTime<chrono::Utc>>()
            .expect("a date-time")
            .timestamp_millis()
    );

    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'MESSAGE_RECEIVED'").await,
        1
    );
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let notes = entity::notification::Entity::find()
        .filter(entity::notification::Column::Kind.eq("MESSAGE_RECEIVED"))
        .all(&app.db)
        .await
        .expect("notifications");
    assert_eq!(notes[0].user_id, event.recipient_ids[0]);
    assert_eq!(notes[0].title, "New message from Ana");
    assert!(
        notes[0].body.starts_with("Hello Bob! We will arrive late"),
        "{}",
        notes[0].body
    );
    assert!(notes[0].body.chars().count() <= 140, "{}", notes[0].body);
    assert!(notes[0].body.ends_with('…'));

    // Bob's answer notifies Ana, not Bob.
    app.message(&bob, &ana, "See you then").await;
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'MESSAGE_RECEIVED'").await,
        2
    );
    assert_eq!(
        count_where(
            &app.db,
            "notifications",
            "kind = 'MESSAGE_RECEIVED' AND body = 'See you then'"
        )
        .await,
        1
    );
}
