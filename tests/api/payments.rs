//! Payments with the SIMULATED provider (RULES.md sections 7 and 8): the
//! test payment methods, idempotency, refunds per policy, and what every
//! change leaves behind: events on the bus, notifications and emails.

use std::time::Duration;

use domain::infra::events::Event;
use serde_json::{Value, json};

use crate::{
    fake_smtp,
    helpers::{Session, TestApp, code, count_rows, count_where, spawn_app, spawn_with},
};

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

async fn setup(app: &TestApp, overrides: Value) -> (Session, Session, String) {
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, overrides).await;
    (host, guest, property)
}

async fn cancel(app: &TestApp, who: &Session, booking_id: &str) -> Value {
    let resp = app
        .gql_as(
            Some(&who.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status refundAmount { amount currency } } }",
            json!({ "id": booking_id }),
        )
        .await;
    let booking = resp["data"]["cancelBooking"].clone();
    assert_eq!(booking["status"], "CANCELLED", "{resp}");
    booking
}

#[tokio::test]
async fn declined_cards_fail_with_their_reason_and_the_guest_pays_again() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    let booking_id = id(&booking);
    for (method, reason) in [
        ("pm_card_chargeDeclined", "card_declined"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
        ("pm_card_bogus", "invalid_payment_method"),
    ] {
        let payment = app.pay(&guest, &booking_id, method).await;
        assert_eq!(payment["status"], "PROCESSING");
        let failed = app
            .wait_for(&guest, &booking_id, reason, |b| {
                b["payment"]["status"] == "FAILED" && b["payment"]["id"] == payment["id"]
            })
            .await;
        assert_eq!(
            failed["status"], "PENDING_PAYMENT",
            "a failed payment leaves the hold"
        );
        assert_eq!(failed["payment"]["failureReason"], reason);
    }
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'PAYMENT_FAILED'").await,
        3
    );
    // The same key again answers the same failed payment; a new key pays.
    let paid = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(
        done["payment"]["id"], paid["id"],
        "the current payment is the one that did not fail"
    );
    assert_eq!(count_rows(&app.db, "payments").await, 4);
    assert_eq!(
        count_where(&app.db, "payments", "status = 'FAILED'").await,
        3
    );
}

#[tokio::test]
async fn one_key_makes_one_payment_however_many_times_it_is_sent() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking_id = id(&app.book(&guest, &property, 5, 2).await);
    let calls = (0..20).map(|_| app.pay_raw(&guest, &booking_id, "pm_card_visa", "order-42"));
    let answers = futures_util::future::join_all(calls).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|r| {
            r["data"]["payBooking"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("payBooking failed: {r}"))
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(count_rows(&app.db, "payments").await, 1);

    let other = app
        .pay_raw(&guest, &booking_id, "pm_card_mastercard", "order-42")
        .await;
    assert_eq!(code(&other), "CONFLICT", "{other}");
    let second = app
        .pay_raw(&guest, &booking_id, "pm_card_visa", "another-key")
        .await;
    assert_eq!(
        code(&second),
        "CONFLICT",
        "one live payment per booking: {second}"
    );
    app.wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    // After it went through, the same key still answers the same payment.
    let again = app
        .pay_raw(&guest, &booking_id, "pm_card_visa", "order-42")
        .await;
    assert_eq!(
        again["data"]["payBooking"]["id"].as_str(),
        ids.first().map(String::as_str)
    );
    assert_eq!(again["data"]["payBooking"]["status"], "SUCCEEDED");
    assert_eq!(count_rows(&app.db, "payments").await, 1);

    for (key, field) in [
        ("", "input.idempotencyKey"),
        (&"k".repeat(256)[..], "input.idempotencyKey"),
    ] {
        let resp = app.pay_raw(&guest, &booking_id, "pm_card_visa", key).await;
        crate::helpers::assert_bad_input(&resp, field);
    }
    let resp = app.pay_raw(&guest, &booking_id, " ", "k").await;
    crate::helpers::assert_bad_input(&resp, "input.paymentMethod");
}

/// Books a 1-night stay `days` ahead (142.50 EUR: 100.00 + 25.00 cleaning +
/// 17.50 fee), confirms it, cancels it as `who`, and returns the booking
/// once its payment has settled.
async fn cancel_confirmed(
    app: &TestApp,
    guest: &Session,
    who: &Session,
    property: &str,
    days: i64,
    settled: &str,
) -> Value {
    let booking = app.confirmed_booking(guest, property, days, 1).await;
    assert_eq!(booking["total"]["amount"], "142.50");
    cancel(app, who, &id(&booking)).await;
    app.wait_for_status(guest, &id(&booking), "CANCELLED", settled)
        .await
}

#[tokio::test]
async fn guest_cancellations_refund_what_each_policy_gives_back() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    // (policy, check-in in days, refund, payment status afterwards)
    let cases = [
        ("FLEXIBLE", 3, "142.50", "REFUNDED"),
        ("FLEXIBLE", 1, "71.25", "PARTIALLY_REFUNDED"),
        ("FLEXIBLE", 0, "0.00", "SUCCEEDED"),
        ("MODERATE", 6, "142.50", "REFUNDED"),
        ("MODERATE", 3, "71.25", "PARTIALLY_REFUNDED"),
        ("MODERATE", 0, "0.00", "SUCCEEDED"),
        ("STRICT", 20, "142.50", "REFUNDED"),
        ("STRICT", 10, "71.25", "PARTIALLY_REFUNDED"),
        ("STRICT", 3, "0.00", "SUCCEEDED"),
    ];
    let mut listings = std::collections::HashMap::new();
    for (policy, days, refund, status) in cases {
        if !listings.contains_key(policy) {
            let property = app
                .instant_listing(
                    &host,
                    json!({ "cancellationPolicy": policy, "title": format!("{policy} place") }),
                )
                .await;
            listings.insert(policy, property);
        }
        let done = cancel_confirmed(&app, &guest, &guest, &listings[policy], days, status).await;
        assert_eq!(
            done["refundAmount"],
            json!({ "amount": refund, "currency": "EUR" }),
            "{policy} {days}: {done}"
        );
        assert_eq!(
            done["payment"]["refundedAmount"]["amount"], refund,
            "{policy} {days}: {done}"
        );
        assert_eq!(done["payment"]["amount"]["amount"], "142.50");
    }
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'PAYMENT_REFUNDED'").await,
        6
    );
}

#[tokio::test]
async fn hosts_and_admins_cancel_with_a_full_refund() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({ "cancellationPolicy": "STRICT" })).await;
    app.register("admin@example.com").await;
    app.make_admin("admin@example.com").await;
    let admin = crate::helpers::session_from(
        &app.login("admin@example.com", crate::helpers::PASSWORD)
            .await["data"]["login"],
        "admin@example.com",
    )
    .expect("admin login");
    let by_host = cancel_confirmed(&app, &guest, &host, &property, 3, "REFUNDED").await;
    assert_eq!(by_host["refundAmount"]["amount"], "142.50");
    let by_admin = cancel_confirmed(&app, &guest, &admin, &property, 4, "REFUNDED").await;
    assert_eq!(by_admin["payment"]["refundedAmount"]["amount"], "142.50");
}

#[tokio::test]
async fn cancelling_before_capture_voids_the_authorization() {
    let app = spawn_app().await;
    let (_host, guest, property) = setup(
        &app,
        json!({ "instantBook": false, "cancellationPolicy": "STRICT" }),
    )
    .await;
    let booking = app.book(&guest, &property, 2, 2).await;
    app.pay(&guest, &id(&booking), "pm_card_visa").await;
    app.wait_for_status(&guest, &id(&booking), "AWAITING_HOST", "AUTHORIZED")
        .await;
    let cancelled = cancel(&app, &guest, &id(&booking)).await;
    // Nothing was captured, so nothing is refunded: the hold is released.
    assert_eq!(cancelled["refundAmount"]["amount"], "0.00");
    let done = app
        .wait_for_status(&guest, &id(&booking), "CANCELLED", "VOIDED")
        .await;
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "0.00");
}

#[tokio::test]
async fn every_status_change_is_published_in_order_and_notifies_both_sides() {
    let app = spawn_app().await;
    let (host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let mut events = app.bus.subscribe();
    let booking = app.book(&guest, &property, 5, 2).await;
    let booking_id = id(&booking);
    app.pay(&guest, &booking_id, "pm_card_visa").await;
    app.wait_for_status(&guest, &booking_id, "AWAITING_HOST", "AUTHORIZED")
        .await;
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { acceptBooking(bookingId: $id) { status } }",
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(
        resp["data"]["acceptBooking"]["status"], "CONFIRMED",
        "{resp}"
    );
    app.wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    cancel(&app, &guest, &booking_id).await;

    // The payment's own moves (captured, refunded) are published too, as
    // events of the status they happened in.
    let mut seen = Vec::new();
    while seen.len() < 6 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .expect("the bus is open");
        let Event::BookingChanged(change) = event else {
            continue;
        };
        seen.push((
            change.previous_status,
            change.status,
            change.version,
            change.payment_changed,
        ));
    }
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        seen,
        [
            (None, "PENDING_PAYMENT".to_owned(), 1, false),
            (s("PENDING_PAYMENT"), "AWAITING_HOST".to_owned(), 2, false),
            (s("AWAITING_HOST"), "CONFIRMED".to_owned(), 3, false),
            (s("CONFIRMED"), "CONFIRMED".to_owned(), 3, true),
            (s("CONFIRMED"), "CANCELLED".to_owned(), 4, false),
            (s("CANCELLED"), "CANCELLED".to_owned(), 4, true),
        ]
    );
    // Two notifications per change, one each for guest and host.
    for kind in [
        "BOOKING_REQUESTED",
        "BOOKING_CONFIRMED",
        "BOOKING_CANCELLED",
    ] {
        let per_kind = if kind == "BOOKING_REQUESTED" { 4 } else { 2 };
        assert_eq!(
            count_where(&app.db, "notifications", &format!("kind = '{kind}'")).await,
            per_kind,
            "{kind}"
        );
    }
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'PAYMENT_SUCCEEDED'").await,
        1
    );
}

#[tokio::test]
async fn notifications_are_emailed_through_smtp() {
    let smtp = fake_smtp::start().await;
    let url = smtp.url();
    let app = spawn_with(move |f| {
        f.merge(("smtp_url", url))
            .merge(("email_from", "Roost <bookings@roost.example>"))
    })
    .await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.confirmed_booking(&guest, &property, 5, 2).await;
    // Created (2), confirmed (2), payment taken (1).
    let deadline = tokio::time::Instant::now() + crate::helpers::SOON;
    while count_where(&app.db, "notifications", "emailed_at IS NULL").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "emails still unsent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 5, "{messages:#?}");
    assert!(messages.iter().all(|m| m.from == "bookings@roost.example"));
    let to_guest: Vec<_> = messages
        .iter()
        .filter(|m| m.to == ["guest@example.com"])
        .collect();
    let to_host: Vec<_> = messages
        .iter()
        .filter(|m| m.to == ["host@example.com"])
        .collect();
    assert_eq!((to_guest.len(), to_host.len()), (3, 2));
    let subjects = |ms: &[&fake_smtp::Received]| -> Vec<String> {
        let mut s: Vec<String> = ms
            .iter()
            .filter_map(|m| {
                m.data
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
            })
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        subjects(&to_guest),
        [
            "Payment received",
            "Your booking is confirmed",
            "Your booking is waiting for payment"
        ]
    );
    assert_eq!(
        subjects(&to_host),
        ["A guest is booking your listing", "Booking confirmed"]
    );
    assert!(
        to_host
            .iter()
            .any(|m| m.data.contains("Sunny loft by the river"))
    );
    assert_eq!(booking["status"], "CONFIRMED");
}

#[tokio::test]
async fn a_refused_email_is_retried_until_it_goes_through() {
    let smtp = fake_smtp::start().await;
    smtp.refuse_next(2);
    let url = smtp.url();
    let app = spawn_with(move |f| f.merge(("smtp_url", url))).await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    app.book(&guest, &property, 5, 2).await;
    let deadline = tokio::time::Instant::now() + crate::helpers::SOON;
    while count_where(&app.db, "notifications", "emailed_at IS NULL").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "emails still unsent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Two refused, then both delivered once.
    let mut to: Vec<String> = smtp.messages().into_iter().flat_map(|m| m.to).collect();
    to.sort();
    assert_eq!(to, ["guest@example.com", "host@example.com"]);
}
