//! Payments with the STRIPE provider (RULES.md sections 5, 7 and 8) against
//! the fake Stripe: exactly what Roost asks Stripe for at each step (form
//! fields, idempotency keys, the secret key), retries after Stripe failed,
//! and the signed webhook at `POST /webhooks/stripe`.

use std::{collections::BTreeMap, time::Duration};

use hmac::{Hmac, Mac};
use roost::graphql::ids::{NodeType, decode_as};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::{
    fake_stripe::{self, FakeIntent, FakeStripe, Recorded},
    helpers::{SOON, Session, TestApp, count_rows, spawn_with},
};

const SECRET_KEY: &str = "sk_test_roost_51FakeSecretKey";
const WEBHOOK_SECRET: &str = "whsec_test_roost_signing_secret";

/// Starts Roost with the STRIPE provider pointed at `fake`, and with the
/// webhook signing secret when given.
pub(crate) async fn stripe_app(fake: &FakeStripe, webhook_secret: Option<&str>) -> TestApp {
    let base = fake.url.clone();
    let webhook_secret = webhook_secret.map(str::to_owned);
    spawn_with(move |f| {
        let f = f
            .merge(("payment_provider", "stripe"))
            .merge(("stripe_secret_key", SECRET_KEY))
            .merge(("stripe_api_base", base));
        match webhook_secret {
            Some(secret) => f.merge(("stripe_webhook_secret", secret)),
            None => f,
        }
    })
    .await
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// The row id behind a global id.
fn uuid_of(kind: NodeType, v: &Value) -> Uuid {
    decode_as(kind, &id(v)).unwrap_or_else(|| panic!("not a {} id: {v}", kind.name()))
}

async fn setup(app: &TestApp, overrides: Value) -> (Session, Session, String) {
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, overrides).await;
    (host, guest, property)
}

/// A request as Roost should send it to the fake.
pub(crate) fn sent(path: &str, form: &[(&str, &str)], key: &str) -> Recorded {
    Recorded {
        method: "POST".to_owned(),
        path: path.to_owned(),
        form: form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        idempotency_key: Some(key.to_owned()),
        authorization: Some(format!("Bearer {SECRET_KEY}")),
    }
}

/// The PaymentIntent Roost creates for `payment` of `booking`.
fn create_intent(amount: &str, method: &str, booking: Uuid, payment: Uuid) -> Recorded {
    sent(
        "/v1/payment_intents",
        &[
            ("amount", amount),
            ("currency", "eur"),
            ("payment_method", method),
            ("confirm", "true"),
            ("capture_method", "manual"),
            ("payment_method_types[]", "card"),
            ("metadata[booking_id]", &booking.to_string()),
            ("metadata[payment_id]", &payment.to_string()),
        ],
        &format!("roost-pay-{payment}"),
    )
}

fn metadata(booking: Uuid, payment: Uuid) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("booking_id".to_owned(), booking.to_string()),
        ("payment_id".to_owned(), payment.to_string()),
    ])
}

fn reference(booking: &Value) -> String {
    booking["payment"]["providerReference"]
        .as_str()
        .unwrap_or_else(|| panic!("no provider reference in {booking}"))
        .to_owned()
}

/// Polls `done` until it holds; panics after [`SOON`].
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + SOON;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {SOON:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn payment_row(app: &TestApp, id: Uuid) -> entity::payment::Model {
    entity::payment::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read the payment")
        .expect("the payment exists")
}

#[tokio::test]
async fn an_instant_booking_is_held_then_captured_at_stripe() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    let booking_id = id(&booking);

    let payment = app.pay(&guest, &booking_id, "pm_card_visa").await;
    assert_eq!(payment["status"], "PROCESSING");
    assert_eq!(payment["provider"], "STRIPE");
    assert_eq!(payment["providerReference"], Value::Null);
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    let pi = reference(&done);
    assert!(pi.starts_with("pi_"), "{pi}");
    assert_eq!(done["payment"]["id"], payment["id"]);
    assert_eq!(done["payment"]["provider"], "STRIPE");
    assert_eq!(
        done["payment"]["amount"],
        json!({ "amount": "256.50", "currency": "EUR" })
    );
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "0.00");
    assert_eq!(done["payment"]["failureReason"], Value::Null);

    let payment_id = uuid_of(NodeType::Payment, &payment);
    let booking_uuid = uuid_of(NodeType::Booking, &booking);
    assert_eq!(
        fake.requests(),
        [
            create_intent("25650", "pm_card_visa", booking_uuid, payment_id),
            sent(
                &format!("/v1/payment_intents/{pi}/capture"),
                &[("amount_to_capture", "25650")],
                &format!("roost-capture-{payment_id}"),
            ),
        ]
    );
    assert_eq!(
        fake.payment_intent(&pi),
        Some(FakeIntent {
            id: pi.clone(),
            status: "succeeded".to_owned(),
            amount: 25_650,
            amount_received: 25_650,
            amount_refunded: 0,
            currency: "eur".to_owned(),
            payment_method: "pm_card_visa".to_owned(),
            metadata: metadata(booking_uuid, payment_id),
        })
    );
}

#[tokio::test]
async fn declined_cards_leave_the_booking_waiting_for_payment() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    let booking_id = id(&booking);
    let booking_uuid = uuid_of(NodeType::Booking, &booking);

    let mut expected = Vec::new();
    for (method, reason) in [
        ("pm_card_chargeDeclined", "card_declined"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
        // Stripe answers 400 resource_missing on param payment_method.
        ("pm_card_bogus", "invalid_payment_method"),
    ] {
        let payment = app.pay(&guest, &booking_id, method).await;
        let failed = app
            .wait_for(&guest, &booking_id, reason, |b| {
                b["payment"]["id"] == payment["id"] && b["payment"]["status"] == "FAILED"
            })
            .await;
        assert_eq!(failed["status"], "PENDING_PAYMENT", "{method}");
        assert_eq!(failed["payment"]["failureReason"], reason, "{method}");
        assert_eq!(failed["payment"]["provider"], "STRIPE");
        assert_eq!(failed["payment"]["providerReference"], Value::Null);
        let payment_id = uuid_of(NodeType::Payment, &payment);
        expected.push(create_intent("25650", method, booking_uuid, payment_id));
        // One attempt each: a decline is an answer, not a failure to retry.
        assert_eq!(fake.requests(), expected, "{method}");
    }

    // The hold is still there: a good card goes through.
    let paid = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(done["payment"]["id"], paid["id"]);
    let pi = reference(&done);
    let payment_id = uuid_of(NodeType::Payment, &paid);
    expected.push(create_intent(
        "25650",
        "pm_card_visa",
        booking_uuid,
        payment_id,
    ));
    expected.push(sent(
        &format!("/v1/payment_intents/{pi}/capture"),
        &[("amount_to_capture", "25650")],
        &format!("roost-capture-{payment_id}"),
    ));
    assert_eq!(fake.requests(), expected);
    assert_eq!(fake.payment_intent(&pi).unwrap().amount_received, 25_650);
    assert_eq!(count_rows(&app.db, "payments").await, 4);
}

#[tokio::test]
async fn a_declined_request_cancels_the_authorization_at_stripe() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let (host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let booking = app.book(&guest, &property, 5, 1).await;
    let booking_id = id(&booking);
    let payment = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let waiting = app
        .wait_for_status(&guest, &booking_id, "AWAITING_HOST", "AUTHORIZED")
        .await;
    let pi = reference(&waiting);
    assert_eq!(
        fake.payment_intent(&pi).map(|i| i.status),
        Some("requires_capture".to_owned())
    );

    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { declineBooking(bookingId: $id, reason: \"Not those dates\") { status } }",
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(
        resp["data"]["declineBooking"]["status"], "DECLINED",
        "{resp}"
    );
    let done = app
        .wait_for_status(&guest, &booking_id, "DECLINED", "VOIDED")
        .await;
    assert_eq!(reference(&done), pi);
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "0.00");

    let payment_id = uuid_of(NodeType::Payment, &payment);
    let booking_uuid = uuid_of(NodeType::Booking, &booking);
    assert_eq!(
        fake.requests(),
        [
            create_intent("14250", "pm_card_visa", booking_uuid, payment_id),
            sent(
                &format!("/v1/payment_intents/{pi}/cancel"),
                &[],
                &format!("roost-void-{payment_id}"),
            ),
        ]
    );
    let intent = fake.payment_intent(&pi).unwrap();
    assert_eq!(intent.status, "canceled");
    assert_eq!(intent.amount_received, 0);
}

#[tokio::test]
async fn a_strict_stay_cancelled_ten_days_ahead_is_half_refunded_at_stripe() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let (_host, guest, property) = setup(&app, json!({ "cancellationPolicy": "STRICT" })).await;
    let booking = app.confirmed_booking(&guest, &property, 10, 1).await;
    let booking_id = id(&booking);
    assert_eq!(booking["total"]["amount"], "142.50");
    let pi = reference(&booking);

    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status refundAmount { amount currency } } }",
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(
        resp["data"]["cancelBooking"],
        json!({ "status": "CANCELLED", "refundAmount": { "amount": "71.25", "currency": "EUR" } }),
        "{resp}"
    );
    let done = app
        .wait_for_status(&guest, &booking_id, "CANCELLED", "PARTIALLY_REFUNDED")
        .await;
    assert_eq!(
        done["refundAmount"],
        json!({ "amount": "71.25", "currency": "EUR" })
    );
    assert_eq!(done["payment"]["refundedAmount"]["amount"], "71.25");
    assert_eq!(done["payment"]["amount"]["amount"], "142.50");
    assert_eq!(reference(&done), pi);

    let payment_id = uuid_of(NodeType::Payment, &done["payment"]);
    let booking_uuid = uuid_of(NodeType::Booking, &booking);
    assert_eq!(
        fake.requests(),
        [
            create_intent("14250", "pm_card_visa", booking_uuid, payment_id),
            sent(
                &format!("/v1/payment_intents/{pi}/capture"),
                &[("amount_to_capture", "14250")],
                &format!("roost-capture-{payment_id}"),
            ),
            sent(
                "/v1/refunds",
                &[("payment_intent", &pi), ("amount", "7125")],
                &format!("roost-refund-{payment_id}-7125"),
            ),
        ]
    );
    let intent = fake.payment_intent(&pi).unwrap();
    assert_eq!(intent.status, "succeeded");
    assert_eq!(intent.amount_received, 14_250);
    assert_eq!(intent.amount_refunded, 7_125);
}

#[tokio::test]
async fn failed_requests_are_retried_under_the_same_idempotency_key() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let (_host, guest, property) = setup(&app, json!({})).await;
    let booking = app.book(&guest, &property, 5, 2).await;
    let booking_id = id(&booking);

    fake.fail_next(2);
    let payment = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(done["payment"]["id"], payment["id"]);
    let pi = reference(&done);

    let payment_id = uuid_of(NodeType::Payment, &payment);
    let create = create_intent(
        "25650",
        "pm_card_visa",
        uuid_of(NodeType::Booking, &booking),
        payment_id,
    );
    // Two answered 500, the third went through: the same request each time.
    assert_eq!(
        fake.requests(),
        [
            create.clone(),
            create.clone(),
            create,
            sent(
                &format!("/v1/payment_intents/{pi}/capture"),
                &[("amount_to_capture", "25650")],
                &format!("roost-capture-{payment_id}"),
            ),
        ]
    );
    // One PaymentIntent: the fake numbers them, and made no second one.
    assert_eq!(pi, "pi_fake00000001");
    assert_eq!(fake.payment_intent("pi_fake00000002"), None);
    let intent = fake.payment_intent(&pi).unwrap();
    assert_eq!(intent.status, "succeeded");
    assert_eq!(intent.amount_received, 25_650);
    assert_eq!(count_rows(&app.db, "payments").await, 1);
}

// ---------------------------------------------------------------------------
// Webhooks

/// A `Stripe-Signature` header for `payload` signed with `secret` at `t`,
/// computed here independently of Roost's own code.
fn signature(payload: &str, secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{payload}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A Stripe event about `object`, as Stripe posts it.
fn event(id: &str, kind: &str, object: Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now(),
        "livemode": false,
        "type": kind,
        "data": { "object": object },
    })
    .to_string()
}

/// A PaymentIntent as an event carries it.
fn intent_object(
    pi: &str,
    status: &str,
    amount: i64,
    booking: Uuid,
    payment: Uuid,
    last_payment_error: Value,
) -> Value {
    json!({
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": if status == "requires_capture" { amount } else { 0 },
        "amount_received": 0,
        "capture_method": "manual",
        "currency": "eur",
        "last_payment_error": last_payment_error,
        "metadata": { "booking_id": booking.to_string(), "payment_id": payment.to_string() },
        "status": status,
    })
}

/// Posts `payload` to the webhook with `signature` as `Stripe-Signature`;
/// the status and the body.
async fn deliver(app: &TestApp, payload: &str, signature: Option<String>) -> (u16, String) {
    let mut request = app
        .http
        .post(app.url("/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    let response = request.send().await.expect("webhook sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// Delivers `payload` signed as Stripe would; the JSON answer.
async fn deliver_signed(app: &TestApp, payload: &str) -> Value {
    let (status, body) = deliver(
        app,
        payload,
        Some(signature(payload, WEBHOOK_SECRET, now())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

/// Pays with Stripe unreachable (every request answered 500) and waits
/// until Roost has tried at least once: the payment stays PROCESSING.
async fn pay_while_stripe_fails(
    app: &TestApp,
    fake: &FakeStripe,
    guest: &Session,
    booking_id: &str,
    method: &str,
) -> Value {
    let before = fake.requests().len();
    fake.fail_next(1_000_000);
    let payment = app.pay(guest, booking_id, method).await;
    until("Roost to try Stripe", || fake.requests().len() > before).await;
    let booking = app.booking(guest, booking_id).await;
    assert_eq!(booking["payment"]["status"], "PROCESSING", "{booking}");
    payment
}

/// A booking paid with `method` while Stripe fails, as the guest made it.
struct Lost {
    guest: Session,
    booking_id: String,
    payment: Value,
    payment_id: Uuid,
    booking_uuid: Uuid,
}

/// A guest books a listing and pays with `method` while Stripe fails: the
/// payment stays PROCESSING, Stripe's answer lost.
async fn lost_payment(app: &TestApp, fake: &FakeStripe, method: &str) -> Lost {
    let (_host, guest, property) = setup(app, json!({})).await;
    let booking = app.book(&guest, &property, 5, 1).await;
    let booking_id = id(&booking);
    let payment = pay_while_stripe_fails(app, fake, &guest, &booking_id, method).await;
    Lost {
        payment_id: uuid_of(NodeType::Payment, &payment),
        booking_uuid: uuid_of(NodeType::Booking, &booking),
        guest,
        booking_id,
        payment,
    }
}

#[tokio::test]
async fn a_failed_intent_reported_by_webhook_fails_the_payment_once() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, Some(WEBHOOK_SECRET)).await;
    let method = "pm_card_chargeDeclinedInsufficientFunds";
    // Stripe declined the card, but its answer never reached Roost, whose
    // job keeps retrying: the webhook is how Roost learns of it.
    let Lost {
        guest,
        booking_id,
        payment,
        payment_id,
        booking_uuid,
    } = lost_payment(&app, &fake, method).await;

    let payload = event(
        "evt_failed_1",
        "payment_intent.payment_failed",
        intent_object(
            "pi_lostanswer1",
            "requires_payment_method",
            14_250,
            booking_uuid,
            payment_id,
            json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
            }),
        ),
    );
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": true })
    );
    let failed = app.booking(&guest, &booking_id).await;
    assert_eq!(failed["status"], "PENDING_PAYMENT");
    assert_eq!(failed["payment"]["id"], payment["id"]);
    assert_eq!(failed["payment"]["status"], "FAILED");
    assert_eq!(failed["payment"]["failureReason"], "insufficient_funds");
    assert_eq!(failed["payment"]["providerReference"], "pi_lostanswer1");
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);

    // Delivered again: acknowledged, not applied again.
    let row = payment_row(&app, payment_id).await;
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": false })
    );
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);
    assert_eq!(payment_row(&app, payment_id).await, row);

    // Stripe is back; the retried job finds the payment settled, and the
    // guest pays again with another card.
    fake.fail_next(0);
    let again = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(done["payment"]["id"], again["id"]);
    let row = payment_row(&app, payment_id).await;
    assert_eq!(row.status, entity::payment::PaymentStatus::Failed);
    assert_eq!(row.failure_reason.as_deref(), Some("insufficient_funds"));
    // Whatever reached Stripe for the first payment was its one request,
    // under its one key.
    let first = create_intent("14250", method, booking_uuid, payment_id);
    let key = first.idempotency_key.clone();
    let attempts: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.idempotency_key == key)
        .collect();
    assert!(!attempts.is_empty());
    assert!(attempts.iter().all(|r| *r == first), "{attempts:#?}");
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);
}

#[tokio::test]
async fn an_authorization_reported_by_webhook_is_captured_by_settlement() {
    let fake = fake_stripe::start().await;
    // The intent Stripe holds for the payment, whose answer Roost lost
    // (made here directly: the fake cannot lose an answer).
    let created = fake_stripe_post(
        &fake,
        "/v1/payment_intents",
        &[
            ("amount", "14250"),
            ("currency", "eur"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
            ("capture_method", "manual"),
        ],
        "created-by-stripe",
    )
    .await;
    let pi = id(&created);
    assert_eq!(created["status"], "requires_capture");

    let app = stripe_app(&fake, Some(WEBHOOK_SECRET)).await;
    let Lost {
        guest,
        booking_id,
        payment_id,
        booking_uuid,
        ..
    } = lost_payment(&app, &fake, "pm_card_visa").await;

    let payload = event(
        "evt_capturable_1",
        "payment_intent.amount_capturable_updated",
        intent_object(
            &pi,
            "requires_capture",
            14_250,
            booking_uuid,
            payment_id,
            Value::Null,
        ),
    );
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": true })
    );
    // Stripe still fails, so capture cannot have happened yet.
    let row = payment_row(&app, payment_id).await;
    assert_eq!(row.status, entity::payment::PaymentStatus::Authorized);
    assert_eq!(row.provider_reference.as_deref(), Some(pi.as_str()));
    app.wait_for_status(&guest, &booking_id, "CONFIRMED", "AUTHORIZED")
        .await;

    fake.fail_next(0);
    let done = app
        .wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(reference(&done), pi);
    let intent = fake.payment_intent(&pi).unwrap();
    assert_eq!(intent.status, "succeeded");
    assert_eq!(intent.amount_received, 14_250);
    // Roost never made an intent of its own: its attempts all failed, and
    // after the webhook it only captured.
    assert_eq!(fake.payment_intent("pi_fake00000002"), None);
    let create = create_intent("14250", "pm_card_visa", booking_uuid, payment_id);
    let capture = sent(
        &format!("/v1/payment_intents/{pi}/capture"),
        &[("amount_to_capture", "14250")],
        &format!("roost-capture-{payment_id}"),
    );
    let requests = fake.requests();
    assert!(
        requests[1..].iter().all(|r| *r == create || *r == capture),
        "{requests:#?}"
    );
    assert_eq!(requests.last(), Some(&capture));
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);
}

/// Posts to the fake as a client of Stripe would; the JSON answer.
async fn fake_stripe_post(
    fake: &FakeStripe,
    path: &str,
    form: &[(&str, &str)],
    key: &str,
) -> Value {
    let response = crate::helpers::client()
        .post(format!("{}{path}", fake.url))
        .header("Authorization", format!("Bearer {SECRET_KEY}"))
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("a form"))
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn webhooks_are_refused_unless_signed_recently_with_the_secret() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, Some(WEBHOOK_SECRET)).await;
    let (_host, guest, property) = setup(&app, json!({ "instantBook": false })).await;
    let booking = app.book(&guest, &property, 5, 1).await;
    let booking_id = id(&booking);
    let payment = app.pay(&guest, &booking_id, "pm_card_visa").await;
    let held = app
        .wait_for_status(&guest, &booking_id, "AWAITING_HOST", "AUTHORIZED")
        .await;
    let pi = reference(&held);
    let payment_id = uuid_of(NodeType::Payment, &payment);
    let booking_uuid = uuid_of(NodeType::Booking, &booking);

    // Stripe cancelled the hold (as it does with uncaptured ones after 7 days).
    let payload = event(
        "evt_canceled_1",
        "payment_intent.canceled",
        intent_object(
            &pi,
            "canceled",
            14_250,
            booking_uuid,
            payment_id,
            Value::Null,
        ),
    );
    let refusals = [
        (
            "wrong secret",
            Some(signature(&payload, "whsec_test_someone_else", now())),
        ),
        (
            "ten minutes old",
            Some(signature(&payload, WEBHOOK_SECRET, now() - 600)),
        ),
        (
            "ten minutes ahead",
            Some(signature(&payload, WEBHOOK_SECRET, now() + 600)),
        ),
        (
            "another payload",
            Some(signature(
                &payload.replace("evt_canceled_1", "evt_canceled_2"),
                WEBHOOK_SECRET,
                now(),
            )),
        ),
        ("malformed", Some("v1=deadbeef".to_owned())),
        ("missing", None),
    ];
    for (what, signature) in refusals {
        let (status, body) = deliver(&app, &payload, signature).await;
        assert_eq!(status, 400, "{what}: {body}");
    }
    assert_eq!(count_rows(&app.db, "provider_events").await, 0);
    assert_eq!(
        payment_row(&app, payment_id).await.status,
        entity::payment::PaymentStatus::Authorized
    );

    // An intent Roost does not know: recorded, nothing moved.
    let unknown = event(
        "evt_unknown_1",
        "payment_intent.canceled",
        intent_object(
            "pi_notours",
            "canceled",
            500,
            Uuid::nil(),
            Uuid::nil(),
            Value::Null,
        ),
    );
    assert_eq!(
        deliver_signed(&app, &unknown).await,
        json!({ "received": true, "applied": true })
    );
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);
    assert_eq!(
        payment_row(&app, payment_id).await.status,
        entity::payment::PaymentStatus::Authorized
    );

    // Signed four minutes ago: within the tolerance, applied.
    let (status, body) = deliver(
        &app,
        &payload,
        Some(signature(&payload, WEBHOOK_SECRET, now() - 240)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "received": true, "applied": true })
    );
    let row = payment_row(&app, payment_id).await;
    assert_eq!(row.status, entity::payment::PaymentStatus::Voided);
    assert_eq!(row.provider_reference.as_deref(), Some(pi.as_str()));
    assert_eq!(count_rows(&app.db, "provider_events").await, 2);
    // Again: acknowledged, not applied.
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": false })
    );
    assert_eq!(count_rows(&app.db, "provider_events").await, 2);
    assert_eq!(payment_row(&app, payment_id).await, row);
    // Roost itself asked Stripe for nothing but the authorization.
    assert_eq!(
        fake.requests(),
        [create_intent(
            "14250",
            "pm_card_visa",
            booking_uuid,
            payment_id
        )]
    );
}

#[tokio::test]
async fn without_a_webhook_secret_the_endpoint_is_not_found() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, None).await;
    let payload = event(
        "evt_1",
        "payment_intent.canceled",
        intent_object(
            "pi_1",
            "canceled",
            500,
            Uuid::nil(),
            Uuid::nil(),
            Value::Null,
        ),
    );
    for signature in [Some(signature(&payload, WEBHOOK_SECRET, now())), None] {
        let (status, _) = deliver(&app, &payload, signature).await;
        assert_eq!(status, 404);
    }
    assert_eq!(count_rows(&app.db, "provider_events").await, 0);
}

/// A validly signed event whose id could not be Stripe's (longer than the
/// 255 characters it is recorded in, or holding a NUL, a space, nothing)
/// answered 500, which asks Stripe to deliver it again and again: it is
/// refused with 400 and records nothing. Inside an event, an intent id or a
/// decline code that could not be Stripe's is neither looked up nor
/// stored.
#[tokio::test]
async fn a_signed_event_whose_ids_could_not_be_stripes_is_refused_or_ignored() {
    let fake = fake_stripe::start().await;
    let app = stripe_app(&fake, Some(WEBHOOK_SECRET)).await;
    let Lost {
        payment_id,
        booking_uuid,
        ..
    } = lost_payment(&app, &fake, "pm_card_visa").await;
    let failed = |event_id: &str, kind: &str, intent: &str, decline_code: &str| {
        event(
            event_id,
            kind,
            intent_object(
                intent,
                "requires_payment_method",
                14_250,
                booking_uuid,
                payment_id,
                json!({ "type": "card_error", "code": "card_declined", "decline_code": decline_code }),
            ),
        )
    };
    let long = format!("evt_{}", "x".repeat(252));
    for (event_id, kind) in [
        (long.as_str(), "payment_intent.payment_failed"),
        ("evt_nul\u{0}", "payment_intent.payment_failed"),
        ("evt 1", "payment_intent.payment_failed"),
        ("", "payment_intent.payment_failed"),
        ("evt_longtype", &"payment_intent.".repeat(7)),
    ] {
        let payload = failed(event_id, kind, "pi_lost1", "insufficient_funds");
        let (status, body) = deliver(
            &app,
            &payload,
            Some(signature(&payload, WEBHOOK_SECRET, now())),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (400, "not a Stripe event"),
            "{event_id:?} {kind:?}"
        );
    }
    assert_eq!(count_rows(&app.db, "provider_events").await, 0);
    // 255 characters is an id.
    let longest = format!("evt_{}", "x".repeat(251));
    let payload = failed(&longest, "payment_intent.created", "pi_lost1", "x");
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": true })
    );
    assert_eq!(count_rows(&app.db, "provider_events").await, 1);

    // An intent id no intent has: recorded, nothing moved.
    let payload = failed(
        "evt_longintent",
        "payment_intent.payment_failed",
        &format!("pi_{}", "y".repeat(300)),
        "insufficient_funds",
    );
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": true })
    );
    let row = payment_row(&app, payment_id).await;
    assert_eq!(row.status, entity::payment::PaymentStatus::Processing);
    assert_eq!(row.provider_reference, None);
    // A decline code no code is: the payment fails as declined.
    let payload = failed(
        "evt_longcode",
        "payment_intent.payment_failed",
        "pi_lost1",
        &"z".repeat(300),
    );
    assert_eq!(
        deliver_signed(&app, &payload).await,
        json!({ "received": true, "applied": true })
    );
    let row = payment_row(&app, payment_id).await;
    assert_eq!(row.status, entity::payment::PaymentStatus::Failed);
    assert_eq!(row.provider_reference.as_deref(), Some("pi_lost1"));
    assert_eq!(row.failure_reason.as_deref(), Some("card_declined"));
    assert_eq!(count_rows(&app.db, "provider_events").await, 3);
}
