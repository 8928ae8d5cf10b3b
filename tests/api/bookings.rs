//! The booking state machine (RULES.md section 5) over HTTP: every
//! transition, every refusal, the stored quote, and who sees what.

use serde_json::{Value, json};

use crate::helpers::{
    BOOKING_FIELDS, Session, TestApp, assert_bad_input, code, count_rows, count_where, day,
    spawn_app, spawn_with,
};

/// A host, a guest and an instant-book listing (100.00/night, 25.00 cleaning).
async fn setup(app: &TestApp, overrides: Value) -> (Session, Session, String) {
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, overrides).await;
    (host, guest, property)
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

#[tokio::test]
async fn an_instant_booking_is_held_paid_confirmed_and_captured() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(&app, json!({})).await;

    let booking = app.book(&guest, &property, 10, 2).await;
    assert_eq!(booking["status"], "PENDING_PAYMENT");
    assert_eq!(booking["checkIn"], day(10));
    assert_eq!(booking["checkOut"], day(12));
    assert_eq!(booking["nights"], 2);
    assert_eq!(booking["guests"], 1);
    assert_eq!(booking["guest"]["id"], guest.user_id);
    assert_eq!(booking["property"]["id"], property);
    assert_eq!(booking["payment"], Value::Null);
    // 2 × 100.00 + 25.00 cleaning = 225.00; 14% service fee = 31.50.
    let price = &booking["price"];
    assert_eq!(price["nightsTotal"]["amount"], "200.00");
    assert_eq!(price["discount"]["amount"], "0.00");
    assert_eq!(price["cleaningFee"]["amount"], "25.00");
    assert_eq!(price["serviceFee"]["amount"], "31.50");
    assert_eq!(price["taxes"]["amount"], "0.00");
    assert_eq!(
        price["total"],
        json!({ "amount": "256.50", "currency": "EUR" })
    );
    assert_eq!(
        booking["total"],
        json!({ "amount": "256.50", "currency": "EUR" })
    );
    // The hold runs 15 minutes by default.
    let expires: chrono::DateTime<chrono::Utc> = booking["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("a date-time");
    let left = expires - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(15),
        "{left}"
    );

    let payment = app.pay(&guest, &id(&booking), "pm_card_visa").await;
    assert_eq!(payment["status"], "PROCESSING");
    assert_eq!(
        payment["amount"],
        json!({ "amount": "256.50", "currency": "EUR" })
    );
    assert_eq!(payment["provider"], "SIMULATED");
    assert_eq!(payment["booking"]["id"], booking["id"]);

    let done = app
        .wait_for_status(&guest, &id(&booking), "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(done["expiresAt"], Value::Null);
    assert_eq!(done["payment"]["id"], payment["id"]);
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "0.00");
    assert!(
        done["payment"]["providerReference"]
            .as_str()
            .is_some_and(|r| r.starts_with("sim_")),
        "{done}"
    );
    assert_eq!(count_rows(&app.db, "bookings").await, 1);
    assert_eq!(count_rows(&app.db, "payments").await, 1);
}

#[tokio::test]
async fn a_request_waits_for_the_host_who_accepts_it() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let stranger = app.register("stranger@example.com").await;
    let booking = app.book(&guest, &property, 5, 3).await;
    app.pay(&guest, &id(&booking), "pm_card_mastercard").await;
    let waiting = app
        .wait_for_status(&guest, &id(&booking), "AWAITING_HOST", "AUTHORIZED")
        .await;
    // The host answers within 24 hours by default.
    let expires: chrono::DateTime<chrono::Utc> = waiting["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("a date-time");
    let left = expires - chrono::Utc::now();
    assert!(
        left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24),
        "{left}"
    );

    let accept = |who: &Session| {
        let token = who.access_token.clone();
        let booking_id = id(&booking);
        let app = &app;
        async move {
            app.gql_as(
                Some(&token),
                "mutation($id: ID!) { acceptBooking(bookingId: $id) { id status } }",
                json!({ "id": booking_id }),
            )
            .await
        }
    };
    assert_eq!(code(&accept(&guest).await), "FORBIDDEN");
    assert_eq!(code(&accept(&stranger).await), "NOT_FOUND");
    let accepted = accept(&host).await;
    assert_eq!(
        accepted["data"]["acceptBooking"]["status"], "CONFIRMED",
        "{accepted}"
    );
    assert_eq!(code(&accept(&host).await), "CONFLICT");
    app.wait_for_status(&guest, &id(&booking), "CONFIRMED", "SUCCEEDED")
        .await;
}

#[tokio::test]
async fn a_declined_request_releases_the_authorization() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    app.pay(&guest, &id(&booking), "pm_card_visa").await;
    app.wait_for_status(&guest, &id(&booking), "AWAITING_HOST", "AUTHORIZED")
        .await;

    let too_long = "x".repeat(501);
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!, $r: String) { declineBooking(bookingId: $id, reason: $r) { id } }",
            json!({ "id": id(&booking), "r": too_long }),
        )
        .await;
    assert_bad_input(&resp, "reason");
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($id: ID!) { declineBooking(bookingId: $id) { id } }",
            json!({ "id": id(&booking) }),
        )
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!, $r: String) { declineBooking(bookingId: $id, reason: $r) { id status cancellationReason } }",
            json!({ "id": id(&booking), "r": "  We are closed for repairs  " }),
        )
        .await;
    assert_eq!(
        resp["data"]["declineBooking"]["status"], "DECLINED",
        "{resp}"
    );
    assert_eq!(
        resp["data"]["declineBooking"]["cancellationReason"],
        "We are closed for repairs"
    );
    let done = app
        .wait_for_status(&guest, &id(&booking), "DECLINED", "VOIDED")
        .await;
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "0.00");
    // The nights are free again.
    let other = app.register("other@example.com").await;
    app.book(&other, &property, 5, 2).await;
}

#[tokio::test]
async fn an_unanswered_request_expires_and_its_authorization_is_voided() {
    let app = spawn_with(|f| {
        f.merge(("host_answer_window", "1s"))
            .merge(("scheduler_interval", "200ms"))
    })
    .await;
    let (host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    app.pay(&guest, &id(&booking), "pm_card_visa").await;
    app.wait_for(&guest, &id(&booking), "AWAITING_HOST", |b| {
        b["status"] == "AWAITING_HOST"
    })
    .await;
    let done = app
        .wait_for_status(&guest, &id(&booking), "EXPIRED", "VOIDED")
        .await;
    assert_eq!(done["expiresAt"], Value::Null);
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { acceptBooking(bookingId: $id) { id } }",
            json!({ "id": id(&booking) }),
        )
        .await;
    assert_eq!(code(&resp), "CONFLICT");
}

#[tokio::test]
async fn an_unpaid_hold_expires_and_frees_its_nights() {
    let app = spawn_with(|f| {
        f.merge(("hold_window", "1s"))
            .merge(("scheduler_interval", "200ms"))
    })
    .await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let other = app.register("other@example.com").await;
    let booking = app.book(&guest, &property, 3, 2).await;
    let resp = app.book_raw(&other, &property, &day(4), &day(6), 1).await;
    assert_eq!(code(&resp), "CONFLICT", "held nights are taken");

    app.wait_for(&guest, &id(&booking), "EXPIRED", |b| {
        b["status"] == "EXPIRED"
    })
    .await;
    let resp = app
        .pay_raw(&guest, &id(&booking), "pm_card_visa", "late")
        .await;
    assert_eq!(code(&resp), "CONFLICT");
    assert_eq!(count_rows(&app.db, "payments").await, 0);
    let again = app.book(&other, &property, 4, 2).await;
    assert_eq!(again["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn a_cancelled_booking_frees_its_nights() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let other = app.register("other@example.com").await;
    let booking = app.book(&guest, &property, 3, 2).await;
    let resp = app.book_raw(&other, &property, &day(3), &day(5), 1).await;
    assert_eq!(code(&resp), "CONFLICT");
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($input: CancelBookingInput!) { cancelBooking(input: $input) { status cancelledAt refundAmount { amount } } }",
            json!({ "input": { "bookingId": id(&booking) } }),
        )
        .await;
    assert_eq!(
        resp["data"]["cancelBooking"]["status"], "CANCELLED",
        "{resp}"
    );
    assert!(resp["data"]["cancelBooking"]["cancelledAt"].is_string());
    assert_eq!(
        resp["data"]["cancelBooking"]["refundAmount"]["amount"],
        "0.00"
    );
    let again = app.book(&other, &property, 3, 2).await;
    assert_eq!(again["status"], "PENDING_PAYMENT");
    // The calendar shows the nights as taken again, for the new booking.
    let resp = app
        .gql(
            "query($id: ID!, $from: Date!, $to: Date!) { property(id: $id) { \
             isAvailable(checkIn: $from, checkOut: $to) } }",
            json!({ "id": property, "from": day(3), "to": day(5) }),
        )
        .await;
    assert_eq!(resp["data"]["property"]["isAvailable"], false, "{resp}");
}

#[tokio::test]
async fn create_booking_refuses_what_rules_forbid_and_writes_nothing() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(
        &app,
        json!({ "minNights": 2, "maxNights": 10, "maxGuests": 4 }),
    )
    .await;
    let draft = app
        .create_property(
            &host,
            json!({ "status": "DRAFT", "title": "Not yet listed" }),
        )
        .await;
    let taken = app.book(&guest, &property, 20, 3).await;
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($input: UpdateCalendarInput!) { updateCalendar(input: $input) { date } }",
            json!({ "input": { "propertyId": property, "from": day(30), "to": day(31), "available": false } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");

    let resp = app
        .gql(
            "mutation($input: CreateBookingInput!) { createBooking(input: $input) { id } }",
            json!({ "input": { "propertyId": property, "checkIn": day(5), "checkOut": day(7), "guests": 1 } }),
        )
        .await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");

    let refused = |prop: &str, from: i64, to: i64, guests: i64| {
        let prop = prop.to_owned();
        let app = &app;
        let guest = guest.clone();
        async move {
            app.book_raw(&guest, &prop, &day(from), &day(to), guests)
                .await
        }
    };
    assert_bad_input(&refused(&property, 5, 7, 0).await, "input.guests");
    assert_bad_input(&refused(&property, 5, 7, 5).await, "input.guests");
    assert_bad_input(&refused(&property, 7, 7, 1).await, "input.checkOut");
    assert_bad_input(&refused(&property, 7, 5, 1).await, "input.checkOut");
    assert_bad_input(&refused(&property, -1, 2, 1).await, "input.checkIn");
    assert_bad_input(&refused(&property, 366, 368, 1).await, "input.checkIn");
    assert_bad_input(&refused(&property, 5, 6, 1).await, "input.checkOut"); // 1 < minNights
    assert_bad_input(&refused(&property, 5, 16, 1).await, "input.checkOut"); // 11 > maxNights
    assert_eq!(code(&refused(&property, 29, 31, 1).await), "CONFLICT"); // blocked night
    assert_eq!(code(&refused(&property, 21, 24, 1).await), "CONFLICT"); // overlaps the booking
    assert_eq!(code(&refused(&property, 18, 21, 1).await), "CONFLICT");
    assert_eq!(code(&refused(&draft, 5, 7, 1).await), "NOT_FOUND");
    let unknown = app
        .book_raw(
            &guest,
            "UHJvcGVydHk6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw",
            &day(5),
            &day(7),
            1,
        )
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let own = app.book_raw(&host, &property, &day(5), &day(7), 1).await;
    assert_eq!(code(&own), "FORBIDDEN");

    // The stay touching the taken one on either side is fine.
    app.book(&guest, &property, 23, 2).await;
    app.book(&guest, &property, 18, 2).await;
    assert_eq!(count_rows(&app.db, "bookings").await, 3);
    assert_eq!(taken["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn the_booking_keeps_the_quote_it_was_made_with() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({ "weeklyDiscountPercent": 10 })).await;
    // 7 nights: 700.00 − 10% = 630.00 + 25.00 = 655.00; fee 91.70; 746.70.
    let booking = app.book(&guest, &property, 40, 7).await;
    assert_eq!(booking["price"]["discount"]["amount"], "70.00");
    assert_eq!(booking["total"]["amount"], "746.70");
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { pricePerNight: \"300.00\", cleaningFee: \"0\" }) { id } }",
            json!({ "id": property }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let again = app.booking(&guest, &id(&booking)).await;
    assert_eq!(again["price"], booking["price"]);
    assert_eq!(again["total"]["amount"], "746.70");
}

#[tokio::test]
async fn guest_host_and_admins_see_a_booking_and_nobody_else_does() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({})).await;
    let stranger = app.register("stranger@example.com").await;
    let admin = app.register("admin@example.com").await;
    app.make_admin("admin@example.com").await;
    let admin = crate::helpers::session_from(
        &app.login(&admin.email, crate::helpers::PASSWORD).await["data"]["login"],
        &admin.email,
    )
    .expect("admin login");
    let booking = app.book(&guest, &property, 8, 2).await;
    let booking_id = id(&booking);

    for who in [&guest, &host, &admin] {
        assert_eq!(app.booking(who, &booking_id).await["id"], booking_id);
    }
    assert_eq!(app.booking(&stranger, &booking_id).await, Value::Null);
    let anonymous = app
        .gql(
            "query($id: ID!) { booking(id: $id) { id } }",
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(anonymous["data"]["booking"], Value::Null, "{anonymous}");
    // node(id) follows the same rule.
    let node = |who: &Session| {
        let token = who.access_token.clone();
        let booking_id = booking_id.clone();
        let app = &app;
        async move {
            app.gql_as(
                Some(&token),
                "query($id: ID!) { node(id: $id) { __typename id ... on Booking { status } } }",
                json!({ "id": booking_id }),
            )
            .await
        }
    };
    assert_eq!(node(&host).await["data"]["node"]["__typename"], "Booking");
    assert_eq!(node(&stranger).await["data"]["node"], Value::Null);
    // A stranger's change is NOT_FOUND; the wrong kind of id too.
    let resp = app
        .gql_as(
            Some(&stranger.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { id } }",
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(code(&resp), "NOT_FOUND");
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { id } }",
            json!({ "id": property }),
        )
        .await;
    assert_eq!(code(&resp), "NOT_FOUND");
    // The host pays nothing: paying is the guest's.
    let resp = app.pay_raw(&host, &booking_id, "pm_card_visa", "k1").await;
    assert_eq!(code(&resp), "FORBIDDEN");
    let resp = app
        .pay_raw(&stranger, &booking_id, "pm_card_visa", "k1")
        .await;
    assert_eq!(code(&resp), "NOT_FOUND");
}

#[tokio::test]
async fn lists_show_the_viewers_bookings_newest_check_in_first() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({})).await;
    let second = app
        .instant_listing(&host, json!({ "title": "Second place" }))
        .await;
    let other_host = app.host("other-host@example.com").await;
    let elsewhere = app
        .instant_listing(&other_host, json!({ "title": "Elsewhere" }))
        .await;
    let a = app.book(&guest, &property, 10, 2).await;
    let b = app.book(&guest, &second, 30, 2).await;
    let c = app.book(&guest, &elsewhere, 20, 2).await;
    let cancel = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status } }",
            json!({ "id": id(&a) }),
        )
        .await;
    assert_eq!(cancel["data"]["cancelBooking"]["status"], "CANCELLED");

    let list = |token: &str, field: &str, args: &str| {
        let q = format!(
            "{{ {field}{args} {{ totalCount nodes {{ id status }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let token = token.to_owned();
        let app = &app;
        async move { app.gql_as(Some(&token), &q, json!({})).await }
    };
    let mine = list(&guest.access_token, "myBookings", "").await;
    let ids: Vec<&str> = mine["data"]["myBookings"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, [id(&b), id(&c), id(&a)], "{mine}");
    assert_eq!(mine["data"]["myBookings"]["totalCount"], 3);

    let active = list(&guest.access_token, "myBookings", "(status: CANCELLED)").await;
    assert_eq!(active["data"]["myBookings"]["totalCount"], 1);
    assert_eq!(active["data"]["myBookings"]["nodes"][0]["id"], id(&a));

    let paged = list(&guest.access_token, "myBookings", "(first: 2)").await;
    assert_eq!(paged["data"]["myBookings"]["pageInfo"]["hasNextPage"], true);
    let cursor = paged["data"]["myBookings"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let rest = list(
        &guest.access_token,
        "myBookings",
        &format!("(first: 2, after: \"{cursor}\")"),
    )
    .await;
    assert_eq!(
        rest["data"]["myBookings"]["nodes"][0]["id"],
        id(&a),
        "{rest}"
    );
    assert_eq!(rest["data"]["myBookings"]["pageInfo"]["hasNextPage"], false);

    let hosted = list(&host.access_token, "hostBookings", "").await;
    assert_eq!(hosted["data"]["hostBookings"]["totalCount"], 2, "{hosted}");
    assert_eq!(hosted["data"]["hostBookings"]["nodes"][0]["id"], id(&b));
    assert_eq!(
        list(&host.access_token, "myBookings", "").await["data"]["myBookings"]["totalCount"],
        0
    );
    let bad = list(&guest.access_token, "myBookings", "(first: 101)").await;
    assert_bad_input(&bad, "first");
    let anonymous = app.gql("{ myBookings { totalCount } }", json!({})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    // Property.bookings: the host and admins only.
    let q = "query($id: ID!) { property(id: $id) { bookings { totalCount nodes { id guest { id } } } } }";
    let resp = app
        .gql_as(Some(&host.access_token), q, json!({ "id": second }))
        .await;
    assert_eq!(
        resp["data"]["property"]["bookings"]["totalCount"], 1,
        "{resp}"
    );
    assert_eq!(
        resp["data"]["property"]["bookings"]["nodes"][0]["guest"]["id"],
        guest.user_id
    );
    let resp = app
        .gql_as(Some(&guest.access_token), q, json!({ "id": second }))
        .await;
    assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
}

#[tokio::test]
async fn booking_lists_send_as_many_statements_for_twenty_as_for_five() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    for i in 0..20 {
        let property = app
            .instant_listing(&host, json!({ "title": format!("Place number {i}") }))
            .await;
        let booking = app.book(&guest, &property, 10, 2).await;
        if i % 2 == 0 {
            app.pay(&guest, &id(&booking), "pm_card_visa").await;
        }
    }
    // Let the payments settle so nothing else runs while counting.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let fields = "totalCount nodes { id status total { amount } guest { id firstName } \
        property { id title host { id } photos { url } } payment { id status } }";
    let mut counts = Vec::new();
    for first in [5, 20] {
        for (field, token) in [
            ("myBookings", &guest.access_token),
            ("hostBookings", &host.access_token),
        ] {
            let before = app.statements.get();
            let resp = app
                .gql_as(
                    Some(token),
                    &format!("{{ {field}(first: {first}) {{ {fields} }} }}"),
                    json!({}),
                )
                .await;
            let sent = app.statements.get() - before;
            assert!(resp["errors"].is_null(), "{resp}");
            assert_eq!(
                resp["data"][field]["nodes"].as_array().map(Vec::len),
                Some(first)
            );
            counts.push(sent);
        }
    }
    assert_eq!(counts[0], counts[2], "myBookings: {counts:?}");
    assert_eq!(counts[1], counts[3], "hostBookings: {counts:?}");
    assert!(counts.iter().all(|c| *c <= 12), "{counts:?}");
}

#[tokio::test]
async fn delete_property_waits_until_no_upcoming_booking_holds_it() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({})).await;
    let booking = app.confirmed_booking(&guest, &property, 6, 2).await;
    let delete = || {
        let token = host.access_token.clone();
        let property = property.clone();
        let app = &app;
        async move {
            app.gql_as(
                Some(&token),
                "mutation($id: ID!) { deleteProperty(id: $id) }",
                json!({ "id": property }),
            )
            .await
        }
    };
    let resp = delete().await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    assert_eq!(
        count_where(&app.db, "properties", "deleted_at IS NULL").await,
        1
    );
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status refundAmount { amount } } }",
            json!({ "id": id(&booking) }),
        )
        .await;
    assert_eq!(
        resp["data"]["cancelBooking"]["status"], "CANCELLED",
        "{resp}"
    );
    let resp = delete().await;
    assert_eq!(resp["data"]["deleteProperty"], true, "{resp}");
    // The booking keeps its listing, deleted or not.
    let kept = app.booking(&guest, &id(&booking)).await;
    assert_eq!(kept["property"]["id"], property);
    assert_eq!(kept["status"], "CANCELLED");
}

#[tokio::test]
async fn fifty_simultaneous_requests_for_the_same_nights_make_one_booking() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let mut guests = Vec::new();
    for i in 0..10 {
        guests.push(app.register(&format!("guest{i}@example.com")).await);
    }
    let calls = (0..50).map(|i| {
        let guest = guests[i % guests.len()].clone();
        let app = &app;
        let property = property.clone();
        // Different but overlapping ranges as well as identical ones.
        let from = 10 + (i as i64 % 3);
        async move {
            app.book_raw(&guest, &property, &day(from), &day(from + 3), 1)
                .await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let ok = answers
        .iter()
        .filter(|r| r["data"]["createBooking"].is_object())
        .count();
    let conflicts = answers
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((ok, conflicts), (1, 49), "{answers:?}");
    assert_eq!(count_rows(&app.db, "bookings").await, 1);
    // Only the winner's creation was notified (guest and host).
    assert_eq!(count_rows(&app.db, "notifications").await, 2);
}

#[tokio::test]
async fn cancelling_twice_or_after_the_stay_is_a_conflict() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.book(&guest, &property, 4, 2).await;
    let cancel = || {
        let token = guest.access_token.clone();
        let booking_id = id(&booking);
        let app = &app;
        async move {
            app.gql_as(
                Some(&token),
                "mutation($id: ID!) { cancelBooking(input: { bookingId: $id, reason: \"Plans changed\" }) { status cancellationReason } }",
                json!({ "id": booking_id }),
            )
            .await
        }
    };
    let first = cancel().await;
    assert_eq!(
        first["data"]["cancelBooking"]["cancellationReason"],
        "Plans changed"
    );
    let second = cancel().await;
    assert_eq!(code(&second), "CONFLICT");
    let resp = app
        .pay_raw(&guest, &id(&booking), "pm_card_visa", "after-cancel")
        .await;
    assert_eq!(code(&resp), "CONFLICT");
    assert_eq!(count_rows(&app.db, "payments").await, 0);
    let full = app
        .gql_as(
            Some(&guest.access_token),
            &format!("query($id: ID!) {{ booking(id: $id) {{ {BOOKING_FIELDS} }} }}"),
            json!({ "id": id(&booking) }),
        )
        .await;
    assert_eq!(full["data"]["booking"]["status"], "CANCELLED");
}

#[tokio::test]
async fn nights_of_a_lapsed_hold_are_free_before_the_worker_sweeps() {
    // The scheduler would not sweep for an hour: the booking itself frees them.
    let app = spawn_with(|f| {
        f.merge(("hold_window", "1s"))
            .merge(("scheduler_interval", "1h"))
    })
    .await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let other = app.register("other@example.com").await;
    let lapsed = app.book(&guest, &property, 3, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = app.book(&other, &property, 3, 2).await;
    assert_eq!(again["status"], "PENDING_PAYMENT");
    assert_eq!(app.booking(&guest, &id(&lapsed)).await["status"], "EXPIRED");
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'BOOKING_EXPIRED'").await,
        2
    );
}
