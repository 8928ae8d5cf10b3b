//! Live subscriptions (RULES.md section 11) over both WebSocket protocols:
//! who may subscribe, what arrives and in which order, and the limits that
//! keep slow or dead clients from hurting the server.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{Session, TestApp, code, spawn_app, spawn_with},
    live_client::{Got, Live, Protocol, first_code},
};

const STATUS_EVENT: &str = "previousStatus status occurredAt booking { id status \
    guest { id } property { id title } payment { status } }";

fn booking_sub() -> String {
    format!(
        "subscription($id: ID!) {{ bookingStatusChanged(bookingId: $id) {{ {STATUS_EVENT} }} }}"
    )
}

fn host_sub() -> String {
    format!("subscription {{ hostBookingEvents {{ {STATUS_EVENT} }} }}")
}

const NOTIFICATION_SUB: &str =
    "subscription { notificationReceived { id kind title body readAt booking { id } } }";

/// Waits until `app` serves exactly `n` subscriptions (those of sockets
/// closed before have gone, the new ones are registered).
async fn subscribed(app: &TestApp, n: usize) {
    let deadline = tokio::time::Instant::now() + crate::helpers::SOON;
    while app.hub.subscriptions() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} subscriptions, not {n}",
            app.hub.subscriptions()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A request-to-book listing of a new host, and a guest.
async fn host_and_guest(app: &TestApp) -> (Session, Session, String) {
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let listing = app
        .create_property(
            &host,
            json!({ "status": "LISTED", "instantBook": false, "title": "Loft by the canal" }),
        )
        .await;
    (host, guest, listing)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn accept(app: &TestApp, host: &Session, booking: &str) {
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { acceptBooking(bookingId: $id) { status } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(
        resp["data"]["acceptBooking"]["status"], "CONFIRMED",
        "{resp}"
    );
}

async fn cancel(app: &TestApp, who: &Session, booking: &str) {
    let resp = app
        .gql_as(
            Some(&who.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(
        resp["data"]["cancelBooking"]["status"], "CANCELLED",
        "{resp}"
    );
}

fn transition(event: &Value, field: &str) -> (Value, Value) {
    let e = &event[field];
    assert_eq!(
        e["booking"]["status"], e["status"],
        "the booking as the change left it"
    );
    (e["previousStatus"].clone(), e["status"].clone())
}

/// Events of `id` until one leaves the booking `status` with a payment in
/// one of the `payments` statuses: the status changes on the way, in order
/// (events of a payment's own moves, whose status is unchanged, left out),
/// and that last event.
async fn until(
    live: &mut Live,
    id: &str,
    field: &str,
    status: &str,
    payments: &[&str],
) -> (Vec<(Value, Value)>, Value) {
    let mut changes = Vec::new();
    loop {
        let event = live.event(id).await;
        let (from, to) = transition(&event, field);
        if from != to {
            changes.push((from, to));
        }
        let booking = &event[field]["booking"];
        if booking["status"] == status
            && payments.contains(&booking["payment"]["status"].as_str().unwrap_or_default())
        {
            return (changes, event);
        }
    }
}

/// Whatever else comes (a payment's own event, when the change before it was
/// delivered with the payment already moved) shows the booking as it now
/// stays: `status`, with a payment in one of the `payments` statuses.
async fn settled(live: &mut Live, field: &str, status: &str, payments: &[&str]) {
    while let Some(got) = live.next_within(Duration::from_millis(300)).await {
        let Got::Message(m) = got else {
            panic!("{got:?}")
        };
        let booking = &m["payload"]["data"][field]["booking"];
        assert_eq!(booking["status"], status, "{m}");
        assert!(
            payments.contains(&booking["payment"]["status"].as_str().unwrap_or_default()),
            "{m}"
        );
    }
}

fn step(from: Option<&str>, to: &str) -> (Value, Value) {
    (from.map_or(Value::Null, |s| json!(s)), json!(to))
}

#[tokio::test]
async fn a_bookings_changes_arrive_in_order_on_both_protocols() {
    let app = spawn_app().await;
    let (host, guest, listing) = host_and_guest(&app).await;
    for (n, protocol) in [Protocol::TransportWs, Protocol::LegacyWs]
        .into_iter()
        .enumerate()
    {
        let booking = id_of(&app.book(&guest, &listing, 10 + 10 * n as i64, 2).await);
        let mut guest_live = Live::connect(&app, protocol, Some(&guest.access_token)).await;
        let mut host_live = Live::connect(&app, protocol, Some(&host.access_token)).await;
        guest_live
            .subscribe("g", &booking_sub(), json!({ "id": booking }))
            .await;
        host_live
            .subscribe("h", &booking_sub(), json!({ "id": booking }))
            .await;
        // Give the subscriptions a moment to be registered.
        subscribed(&app, 2).await;

        app.pay(&guest, &booking, "pm_card_visa").await;
        app.wait_for(&guest, &booking, "AWAITING_HOST", |b| {
            b["status"] == "AWAITING_HOST"
        })
        .await;
        accept(&app, &host, &booking).await;
        cancel(&app, &guest, &booking).await;

        let expected = [
            step(Some("PENDING_PAYMENT"), "AWAITING_HOST"),
            step(Some("AWAITING_HOST"), "CONFIRMED"),
            step(Some("CONFIRMED"), "CANCELLED"),
        ];
        for (live, id) in [(&mut guest_live, "g"), (&mut host_live, "h")] {
            // The last event shows what the cancellation did to the payment:
            // refunded if it was captured first, else released.
            let (seen, last) = until(
                live,
                id,
                "bookingStatusChanged",
                "CANCELLED",
                &["REFUNDED", "VOIDED"],
            )
            .await;
            assert_eq!(seen, expected, "{protocol:?}");
            assert_eq!(
                last["bookingStatusChanged"]["booking"]["id"],
                booking.as_str()
            );
            assert_eq!(
                last["bookingStatusChanged"]["booking"]["property"]["title"],
                "Loft by the canal"
            );
            let payment = last["bookingStatusChanged"]["booking"]["payment"]["status"].clone();
            let payment = payment.as_str().unwrap_or_default();
            settled(live, "bookingStatusChanged", "CANCELLED", &[payment]).await;
        }
    }
}

/// An instant booking is confirmed by the payment's authorization and then
/// captured: whichever comes first, the last event its subscribers get shows
/// it CONFIRMED and paid (SUCCEEDED), never the authorization left behind.
/// The same for a card that is declined: the booking stays PENDING_PAYMENT
/// and an event says the payment FAILED.
#[tokio::test]
async fn subscribers_end_with_the_payment_as_it_is() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let listing = app.instant_listing(&host, json!({})).await;
    for (n, protocol) in [Protocol::TransportWs, Protocol::LegacyWs]
        .into_iter()
        .enumerate()
    {
        let booking = id_of(&app.book(&guest, &listing, 20 + 10 * n as i64, 2).await);
        let mut guest_live = Live::connect(&app, protocol, Some(&guest.access_token)).await;
        let mut host_live = Live::connect(&app, protocol, Some(&host.access_token)).await;
        guest_live
            .subscribe("g", &booking_sub(), json!({ "id": booking }))
            .await;
        host_live.subscribe("h", &host_sub(), json!({})).await;
        subscribed(&app, 2).await;

        app.pay(&guest, &booking, "pm_card_chargeDeclined").await;
        for (live, id, field) in [
            (&mut guest_live, "g", "bookingStatusChanged"),
            (&mut host_live, "h", "hostBookingEvents"),
        ] {
            let (changes, last) = until(live, id, field, "PENDING_PAYMENT", &["FAILED"]).await;
            assert_eq!(changes, Vec::<(Value, Value)>::new(), "{protocol:?}");
            assert_eq!(
                transition(&last, field),
                step(Some("PENDING_PAYMENT"), "PENDING_PAYMENT")
            );
        }

        app.pay(&guest, &booking, "pm_card_visa").await;
        for (live, id, field) in [
            (&mut guest_live, "g", "bookingStatusChanged"),
            (&mut host_live, "h", "hostBookingEvents"),
        ] {
            let (changes, _) = until(live, id, field, "CONFIRMED", &["SUCCEEDED"]).await;
            assert_eq!(
                changes,
                [step(Some("PENDING_PAYMENT"), "CONFIRMED")],
                "{protocol:?}"
            );
            settled(live, field, "CONFIRMED", &["SUCCEEDED"]).await;
        }
        let now = app.booking(&guest, &booking).await;
        assert_eq!(
            (&now["status"], &now["payment"]["status"]),
            (&json!("CONFIRMED"), &json!("SUCCEEDED"))
        );
        drop(guest_live);
        drop(host_live);
        subscribed(&app, 0).await;
    }
}

#[tokio::test]
async fn hosts_see_new_requests_and_every_change_of_their_listings() {
    let app = spawn_app().await;
    let (host, guest, listing) = host_and_guest(&app).await;
    let other_host = app.host("other@example.com").await;
    let mut live = Live::connect(&app, Protocol::LegacyWs, Some(&host.access_token)).await;
    let mut other =
        Live::connect(&app, Protocol::TransportWs, Some(&other_host.access_token)).await;
    live.subscribe("1", &host_sub(), json!({})).await;
    other.subscribe("1", &host_sub(), json!({})).await;
    subscribed(&app, 2).await;

    let booking = id_of(&app.book(&guest, &listing, 5, 3).await);
    let event = live.event("1").await;
    assert_eq!(
        transition(&event, "hostBookingEvents"),
        step(None, "PENDING_PAYMENT")
    );
    assert_eq!(
        event["hostBookingEvents"]["booking"]["id"],
        booking.as_str()
    );
    assert_eq!(
        event["hostBookingEvents"]["booking"]["guest"]["id"],
        guest.user_id.as_str()
    );

    app.pay(&guest, &booking, "pm_card_visa").await;
    let event = live.event("1").await;
    assert_eq!(
        transition(&event, "hostBookingEvents"),
        step(Some("PENDING_PAYMENT"), "AWAITING_HOST")
    );
    // Another host hears nothing of it.
    other.quiet_for(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn only_the_guest_the_host_and_admins_may_follow_a_booking() {
    let app = spawn_app().await;
    let (_host, guest, listing) = host_and_guest(&app).await;
    let booking = id_of(&app.book(&guest, &listing, 5, 3).await);
    let stranger = app.register("stranger@example.com").await;
    app.register("admin@example.com").await;
    app.make_admin("admin@example.com").await;
    let admin = crate::helpers::session_from(
        &app.login("admin@example.com", crate::helpers::PASSWORD)
            .await["data"]["login"],
        "admin@example.com",
    )
    .expect("admin session");

    for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
        let mut live = Live::connect(&app, protocol, Some(&stranger.access_token)).await;
        live.subscribe("1", &booking_sub(), json!({ "id": booking }))
            .await;
        assert_eq!(first_code(&live.refusal("1").await), "FORBIDDEN");
        // An id that is no booking at all is refused the same way.
        live.subscribe("2", &booking_sub(), json!({ "id": "Qm9va2luZzpub3BlIQ" }))
            .await;
        assert_eq!(first_code(&live.refusal("2").await), "FORBIDDEN");

        let mut anonymous = Live::connect(&app, protocol, None).await;
        anonymous
            .subscribe("1", &booking_sub(), json!({ "id": booking }))
            .await;
        assert_eq!(first_code(&anonymous.refusal("1").await), "UNAUTHENTICATED");
        anonymous.subscribe("2", NOTIFICATION_SUB, json!({})).await;
        assert_eq!(first_code(&anonymous.refusal("2").await), "UNAUTHENTICATED");
    }

    let mut live = Live::connect(&app, Protocol::TransportWs, Some(&admin.access_token)).await;
    live.subscribe("1", &booking_sub(), json!({ "id": booking }))
        .await;
    subscribed(&app, 1).await;
    app.pay(&guest, &booking, "pm_card_visa").await;
    let event = live.event("1").await;
    assert_eq!(
        transition(&event, "bookingStatusChanged"),
        step(Some("PENDING_PAYMENT"), "AWAITING_HOST")
    );
}

/// The viewer's notifications, newest first, as the query lists them.
async fn notification_ids(app: &TestApp, who: &Session) -> Vec<String> {
    let resp = app
        .gql_as(
            Some(&who.access_token),
            "{ notifications(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    resp["data"]["notifications"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn every_notification_is_delivered_live_to_its_user_only() {
    let app = spawn_app().await;
    let (host, guest, listing) = host_and_guest(&app).await;
    let mut guest_live =
        Live::connect(&app, Protocol::TransportWs, Some(&guest.access_token)).await;
    let mut host_live = Live::connect(&app, Protocol::LegacyWs, Some(&host.access_token)).await;
    guest_live.subscribe("n", NOTIFICATION_SUB, json!({})).await;
    host_live.subscribe("n", NOTIFICATION_SUB, json!({})).await;
    subscribed(&app, 2).await;

    let booking = id_of(&app.book(&guest, &listing, 5, 3).await);
    app.pay(&guest, &booking, "pm_card_visa").await;
    app.wait_for(&guest, &booking, "AWAITING_HOST", |b| {
        b["status"] == "AWAITING_HOST"
    })
    .await;
    accept(&app, &host, &booking).await;
    app.wait_for_status(&guest, &booking, "CONFIRMED", "SUCCEEDED")
        .await;

    for (live, who) in [(&mut guest_live, &guest), (&mut host_live, &host)] {
        let mut stored = notification_ids(&app, who).await;
        assert!(stored.len() >= 3, "{stored:?}");
        let mut delivered = Vec::new();
        for _ in 0..stored.len() {
            let event = live.event("n").await;
            let n = &event["notificationReceived"];
            assert_eq!(n["readAt"], Value::Null);
            assert_eq!(n["booking"]["id"], booking.as_str());
            assert!(!n["title"].as_str().unwrap_or("").is_empty());
            delivered.push(id_of(n));
        }
        // Each once. Not necessarily oldest first: notifications written by
        // concurrent transactions (the host's accept, the payment's capture
        // job) are each published after their own commit, so either may
        // arrive first; clients order them by `createdAt`. (Events of one
        // booking are ordered by its version: `bookingStatusChanged`.)
        delivered.sort();
        stored.sort();
        assert_eq!(delivered, stored, "each of the user's notifications, once");
        live.quiet_for(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn notifications_are_listed_counted_and_marked_read() {
    let app = spawn_app().await;
    let (host, guest, listing) = host_and_guest(&app).await;
    // Three bookings: three BOOKING_REQUESTED notifications for each side.
    for days in [5, 15, 25] {
        app.book(&guest, &listing, days, 2).await;
    }
    let list = |unread_only: bool, first: i64, after: Value| {
        let app = &app;
        let guest = &guest;
        async move {
            app.gql_as(
                Some(&guest.access_token),
                "query($u: Boolean, $f: Int, $a: String) { notifications(unreadOnly: $u, first: $f, after: $a) { \
                 totalCount unreadCount pageInfo { hasNextPage endCursor } nodes { id kind title readAt booking { id } } } }",
                json!({ "u": unread_only, "f": first, "a": after }),
            )
            .await
        }
    };
    let page = list(false, 2, Value::Null).await;
    let n = &page["data"]["notifications"];
    assert_eq!(n["totalCount"], 3, "{page}");
    assert_eq!(n["unreadCount"], 3);
    assert_eq!(n["pageInfo"]["hasNextPage"], true);
    assert_eq!(n["nodes"][0]["kind"], "BOOKING_REQUESTED");
    assert_eq!(
        n["nodes"][0]["title"],
        "Your booking is waiting for payment"
    );
    let first_two: Vec<String> = n["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(id_of)
        .collect();
    let rest = list(false, 2, n["pageInfo"]["endCursor"].clone()).await;
    let rest = &rest["data"]["notifications"];
    assert_eq!(rest["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert!(!first_two.contains(&id_of(&rest["nodes"][0])));

    let mark = |ids: Value| {
        let app = &app;
        let guest = &guest;
        async move {
            app.gql_as(
                Some(&guest.access_token),
                "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
                json!({ "ids": ids }),
            )
            .await
        }
    };
    // The host's notification is not the guest's to mark.
    let host_ids = notification_ids(&app, &host).await;
    assert_eq!(
        mark(json!([host_ids[0]])).await["data"]["markNotificationsRead"],
        0
    );
    assert_eq!(
        mark(json!([first_two[0], first_two[0]])).await["data"]["markNotificationsRead"],
        1
    );
    assert_eq!(
        mark(json!([first_two[0]])).await["data"]["markNotificationsRead"],
        0
    );
    let unread = list(true, 10, Value::Null).await;
    let unread = &unread["data"]["notifications"];
    assert_eq!(unread["totalCount"], 2);
    assert_eq!(unread["unreadCount"], 2);
    assert!(
        unread["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["readAt"].is_null())
    );
    // Omitted ids: all of the viewer's.
    assert_eq!(mark(Value::Null).await["data"]["markNotificationsRead"], 2);
    let after = list(false, 10, Value::Null).await;
    assert_eq!(after["data"]["notifications"]["unreadCount"], 0);
    assert!(
        after["data"]["notifications"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["readAt"].is_string())
    );
    // The host's are untouched.
    let host_unread = app
        .gql_as(
            Some(&host.access_token),
            "{ notifications { unreadCount } }",
            json!({}),
        )
        .await;
    assert_eq!(host_unread["data"]["notifications"]["unreadCount"], 3);

    // Bad input names the element.
    let resp = mark(json!([first_two[1], "nope"])).await;
    crate::helpers::assert_bad_input(&resp, "ids.1");
    let resp = list(false, 101, Value::Null).await;
    crate::helpers::assert_bad_input(&resp, "first");
    // Signed-in only.
    let resp = app.gql("{ notifications { totalCount } }", json!({})).await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");
    let resp = app
        .gql("mutation { markNotificationsRead }", json!({}))
        .await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");

    // node(id): the user's own only.
    let query = "query($id: ID!) { node(id: $id) { id ... on Notification { kind } } }";
    let own = app
        .gql_as(
            Some(&guest.access_token),
            query,
            json!({ "id": first_two[1] }),
        )
        .await;
    assert_eq!(own["data"]["node"]["kind"], "BOOKING_REQUESTED");
    let foreign = app
        .gql_as(
            Some(&host.access_token),
            query,
            json!({ "id": first_two[1] }),
        )
        .await;
    assert_eq!(foreign["data"]["node"], Value::Null);
}

#[tokio::test]
async fn a_socket_closes_when_its_session_ends() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
        let session = crate::helpers::session_from(
            &app.login("ann@example.com", crate::helpers::PASSWORD).await["data"]["login"],
            "ann@example.com",
        )
        .expect("session");
        let mut live = Live::connect(&app, protocol, Some(&session.access_token)).await;
        live.subscribe("n", NOTIFICATION_SUB, json!({})).await;
        // Another session of the same user stays open.
        let mut other = Live::connect(&app, protocol, Some(&ann.access_token)).await;
        subscribed(&app, 1).await;
        let resp = app
            .gql(
                "mutation($t: String!) { logout(refreshToken: $t) }",
                json!({ "t": session.refresh_token }),
            )
            .await;
        assert_eq!(resp["data"]["logout"], true);
        assert_eq!(live.next().await, Got::Closed(Some(4401)));
        other.quiet_for(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_client_that_falls_behind_is_told_and_dropped() {
    // The in-process bus, even when the suite runs on Redis: it hands the
    // whole burst to the router at once, so the queue of 1 overflows every
    // time. Through Redis the events reach the router one by one, between
    // which the subscription may drain its queue, so whether it overflows
    // depends on timing (seen: no event dropped); delivery across
    // instances is `events_caused_on_one_instance_reach_subscribers_on_another`.
    let app = spawn_with(|f| f.merge(("subscription_buffer", 1)).merge(("redis_url", ""))).await;
    let ann = app.register("ann@example.com").await;
    let user_id = roost::graphql::ids::decode_as(roost::graphql::ids::NodeType::User, &ann.user_id)
        .expect("a user id");
    let mut live = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    live.subscribe("n", NOTIFICATION_SUB, json!({})).await;
    subscribed(&app, 1).await;
    // A burst far faster than any client reads.
    const BURST: usize = 2000;
    for _ in 0..BURST {
        app.bus
            .publish(domain::infra::events::Event::NotificationCreated(
                domain::infra::events::NotificationCreated {
                    notification: entity::notification::Model {
                        id: uuid::Uuid::now_v7(),
                        user_id,
                        kind: "MESSAGE_RECEIVED".into(),
                        title: "Ping".into(),
                        body: "Ping".into(),
                        booking_id: None,
                        read_at: None,
                        emailed_at: None,
                        created_at: chrono::Utc::now(),
                    },
                },
            ))
            .await;
    }
    let mut delivered = 0;
    let close = loop {
        match live.next().await {
            Got::Message(m) if m["type"] == "next" => delivered += 1,
            // The dropped subscription ends, then the socket closes.
            Got::Message(m) if m["type"] == "complete" && m["id"] == "n" => {}
            Got::Message(m) => panic!("unexpected {m}"),
            Got::Closed(code) => break code,
        }
    };
    assert_eq!(close, Some(1013), "told why: too slow");
    assert!(
        delivered < BURST,
        "dropped, not buffered: {delivered} delivered"
    );
    let metrics = app.metrics_page().await;
    assert!(
        metrics.contains("roost_subscriptions_dropped_total{reason=\"slow\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn idle_sockets_are_pinged_and_closed() {
    let app = spawn_with(|f| {
        f.merge(("ws_ping_interval", "100ms"))
            .merge(("ws_idle_timeout", "400ms"))
    })
    .await;
    let ann = app.register("ann@example.com").await;
    // A client that answers pings (tungstenite does, as it reads) stays.
    let mut awake = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    while tokio::time::Instant::now() < until {
        use futures_util::StreamExt;
        match tokio::time::timeout_at(until, awake.ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    assert!(pings >= 5, "pinged every 100 ms: {pings}");
    // It is still open after three idle timeouts; now it leaves.
    awake.ws.close(None).await.expect("close");
    drop(awake);
    // A client that reads nothing sends no pongs, and is closed.
    let mut asleep = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Its pongs, queued as it reads at last, may meet a closed socket
    // before the close frame is read: the server's count says why it closed.
    if let Got::Message(m) = asleep.next().await {
        panic!("unexpected {m}");
    }
    let metrics = app.metrics_page().await;
    assert!(
        metrics.contains("roost_websocket_closed_total{reason=\"idle\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_socket_holds_a_bounded_number_of_subscriptions() {
    let app = spawn_with(|f| f.merge(("ws_max_subscriptions", 2))).await;
    let ann = app.register("ann@example.com").await;
    let mut live = Live::connect(&app, Protocol::TransportWs, Some(&ann.access_token)).await;
    live.subscribe("1", NOTIFICATION_SUB, json!({})).await;
    live.subscribe("2", &host_sub(), json!({})).await;
    // (Operations start concurrently: let these two be counted first.)
    subscribed(&app, 2).await;
    live.subscribe("3", NOTIFICATION_SUB, json!({})).await;
    assert_eq!(first_code(&live.refusal("3").await), "RATE_LIMITED");
    // Completing one frees its place.
    live.send(json!({ "id": "1", "type": "complete" })).await;
    // (async-graphql acknowledges a client's complete with its own.)
    match live.next_within(Duration::from_millis(300)).await {
        None => {}
        Some(Got::Message(m)) if m["type"] == "complete" && m["id"] == "1" => {}
        Some(other) => panic!("unexpected {other:?}"),
    }
    subscribed(&app, 1).await;
    live.subscribe("4", NOTIFICATION_SUB, json!({})).await;
    subscribed(&app, 2).await;
    live.quiet_for(Duration::from_millis(300)).await;
    let metrics = app.metrics_page().await;
    // (The recorder is shared by every test of this process: at least ours.)
    for name in ["notificationReceived", "hostBookingEvents"] {
        let series = format!("roost_subscriptions_active{{subscription=\"{name}\"}}");
        assert!(metric(&metrics, &series) >= 1.0, "{series}: {metrics}");
    }
}

/// The value of one series in a Prometheus text page; 0 when absent.
fn metric(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

const MESSAGE_SUB: &str = "subscription($c: ID) { messageReceived(conversationId: $c) { id body readAt sender { id } conversation { id } } }";

#[tokio::test]
async fn messages_reach_their_recipient_live_and_nobody_else() {
    let app = spawn_app().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let first = app.message(&ann, &bob, "Hello Bob").await;
    let conversation = first["conversation"]["id"].as_str().expect("id").to_owned();
    let other = app.message(&cat, &bob, "Hi from Cat").await;
    let other_conversation = other["conversation"]["id"].as_str().expect("id").to_owned();

    for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
        let mut bob_all = Live::connect(&app, protocol, Some(&bob.access_token)).await;
        bob_all
            .subscribe("all", MESSAGE_SUB, json!({ "c": null }))
            .await;
        let mut bob_one = Live::connect(&app, protocol, Some(&bob.access_token)).await;
        bob_one
            .subscribe("one", MESSAGE_SUB, json!({ "c": conversation }))
            .await;
        let mut ann_live = Live::connect(&app, protocol, Some(&ann.access_token)).await;
        ann_live
            .subscribe("ann", MESSAGE_SUB, json!({ "c": null }))
            .await;
        // Cat is no participant of Ann and Bob's conversation.
        let mut cat_live = Live::connect(&app, protocol, Some(&cat.access_token)).await;
        cat_live
            .subscribe("x", MESSAGE_SUB, json!({ "c": conversation }))
            .await;
        assert_eq!(first_code(&cat_live.refusal("x").await), "FORBIDDEN");
        subscribed(&app, 3).await;

        let sent = app.message(&ann, &bob, "Are you there?").await;
        let from_cat = app.message(&cat, &bob, "Me again").await;
        for (live, id) in [(&mut bob_all, "all"), (&mut bob_one, "one")] {
            let m = &live.event(id).await["messageReceived"];
            assert_eq!(m["id"], sent["id"]);
            assert_eq!(m["body"], "Are you there?");
            assert_eq!(m["readAt"], Value::Null);
            assert_eq!(m["sender"]["id"], ann.user_id.as_str());
            assert_eq!(m["conversation"]["id"], conversation.as_str());
        }
        let m = &bob_all.event("all").await["messageReceived"];
        assert_eq!(m["id"], from_cat["id"]);
        assert_eq!(m["conversation"]["id"], other_conversation.as_str());
        // Only the chosen conversation; and never one's own messages.
        bob_one.quiet_for(Duration::from_millis(300)).await;
        ann_live.quiet_for(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn events_caused_on_one_instance_reach_subscribers_on_another() {
    const SECRET: &str = "shared-secret-shared-secret-shared-2";
    let a = spawn_with(|f| f.merge(("jwt_secret", SECRET))).await;
    let Some((b, _dir)) =
        crate::helpers::second_instance(&a, |f| f.merge(("jwt_secret", SECRET))).await
    else {
        return;
    };
    let (host, guest, listing) = host_and_guest(&a).await;
    // Subscribed on B ...
    let mut host_live = Live::connect(&b, Protocol::TransportWs, Some(&host.access_token)).await;
    host_live.subscribe("h", &host_sub(), json!({})).await;
    let mut guest_notes = Live::connect(&b, Protocol::LegacyWs, Some(&guest.access_token)).await;
    guest_notes
        .subscribe("n", NOTIFICATION_SUB, json!({}))
        .await;
    subscribed(&b, 2).await;

    // ... while everything happens through A.
    let booking = id_of(&a.book(&guest, &listing, 5, 3).await);
    let event = host_live.event("h").await;
    assert_eq!(
        transition(&event, "hostBookingEvents"),
        step(None, "PENDING_PAYMENT")
    );
    assert_eq!(
        event["hostBookingEvents"]["booking"]["id"],
        booking.as_str()
    );
    let note = guest_notes.event("n").await;
    assert_eq!(note["notificationReceived"]["kind"], "BOOKING_REQUESTED");
    assert_eq!(
        note["notificationReceived"]["booking"]["id"],
        booking.as_str()
    );

    let mut guest_live = Live::connect(&b, Protocol::TransportWs, Some(&guest.access_token)).await;
    guest_live
        .subscribe("g", &booking_sub(), json!({ "id": booking }))
        .await;
    subscribed(&b, 3).await;
    a.pay(&guest, &booking, "pm_card_visa").await;
    let event = guest_live.event("g").await;
    assert_eq!(
        transition(&event, "bookingStatusChanged"),
        step(Some("PENDING_PAYMENT"), "AWAITING_HOST")
    );
    accept(&a, &host, &booking).await;
    let event = guest_live.event("g").await;
    assert_eq!(
        transition(&event, "bookingStatusChanged"),
        step(Some("AWAITING_HOST"), "CONFIRMED")
    );

    // Messages: sent through A, received on B.
    let mut host_messages = Live::connect(&b, Protocol::LegacyWs, Some(&host.access_token)).await;
    host_messages
        .subscribe("m", MESSAGE_SUB, json!({ "c": null }))
        .await;
    subscribed(&b, 4).await;
    let sent = a.message(&guest, &host, "What time is check-in?").await;
    let m = &host_messages.event("m").await["messageReceived"];
    assert_eq!(m["id"], sent["id"]);
    assert_eq!(m["body"], "What time is check-in?");

    // A session ended through A closes its socket on B.
    let resp = a
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": host.refresh_token }),
        )
        .await;
    assert_eq!(resp["data"]["logout"], true);
    loop {
        match host_live.next().await {
            // Events of the booking still on their way.
            Got::Message(m) if m["id"] == "h" && m["type"] == "next" => {}
            Got::Closed(code) => {
                assert_eq!(code, Some(4401));
                break;
            }
            Got::Message(m) => panic!("unexpected {m}"),
        }
    }
}
