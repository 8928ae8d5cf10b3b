//! Money in every currency (RULES.md sections 6 and 13): amounts are exact
//! in the currency's ISO 4217 minor unit, from the listing's price through
//! the quote, the booking, the payment, the provider's `amount` and the
//! refund: a yen has no cents, a Kuwaiti dinar has three places.

use roost::graphql::ids::{NodeType, decode_as};
use serde_json::{Value, json};

use crate::{
    fake_stripe::{self, FakeStripe},
    helpers::{Session, TestApp, day, spawn_app},
    stripe::{sent, stripe_app},
};

/// A MODERATE instant-book listing in `currency`: `price` a night,
/// `cleaning` once.
async fn listing(
    app: &TestApp,
    host: &Session,
    currency: &str,
    price: &str,
    cleaning: &str,
) -> Value {
    let resp = app
        .create_property_raw(
            host,
            json!({
                "currency": currency,
                "pricePerNight": price,
                "cleaningFee": cleaning,
                "instantBook": true,
                "cancellationPolicy": "MODERATE",
            }),
        )
        .await;
    let created = resp["data"]["createProperty"].clone();
    assert!(created.is_object(), "{resp}");
    created
}

/// One night from two days ahead, paid and confirmed, then cancelled by the
/// guest: half back under MODERATE. The booking after the refund, and the
/// cancellation's answer.
async fn book_pay_cancel(app: &TestApp, guest: &Session, property: &str) -> (Value, Value) {
    let booking = app.confirmed_booking(guest, property, 2, 1).await;
    let id = booking["id"].as_str().expect("id").to_owned();
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "mutation($id: ID!) { cancelBooking(input: { bookingId: $id }) { status refundAmount { amount currency } } }",
            json!({ "id": id }),
        )
        .await;
    let cancelled = resp["data"]["cancelBooking"].clone();
    assert_eq!(cancelled["status"], "CANCELLED", "{resp}");
    let refunded = app
        .wait_for_status(guest, &id, "CANCELLED", "PARTIALLY_REFUNDED")
        .await;
    (refunded, cancelled)
}

/// What each currency's stay costs, line by line, as the API writes it.
struct Expected {
    currency: &'static str,
    price: &'static str,
    cleaning: &'static str,
    service_fee: &'static str,
    total: &'static str,
    refund: &'static str,
    /// Stripe's `amount` for the total and the refund.
    total_minor: &'static str,
    refund_minor: &'static str,
}

/// ¥12,345 + ¥3,000 cleaning = ¥15,345; 14% is ¥2,148.3 → ¥2,148; half of
/// ¥17,493 is ¥8,746.5 → ¥8,747.
const YEN: Expected = Expected {
    currency: "JPY",
    price: "12345",
    cleaning: "3000",
    service_fee: "2148",
    total: "17493",
    refund: "8747",
    total_minor: "17493",
    refund_minor: "8747",
};

/// KWD 12.345 + 1.500 = 13.845; 14% is 1.9383 → 1.938; half of 15.783 is
/// 7.8915 → 7.892.
const DINAR: Expected = Expected {
    currency: "KWD",
    price: "12.345",
    cleaning: "1.500",
    service_fee: "1.938",
    total: "15.783",
    refund: "7.892",
    total_minor: "15783",
    refund_minor: "7892",
};

fn money(amount: &str, currency: &str) -> Value {
    json!({ "amount": amount, "currency": currency })
}

/// Books, pays and cancels a stay in `e.currency` and checks every amount on
/// the way; the booking after the refund.
async fn a_stay_in(app: &TestApp, e: &Expected) -> Value {
    let host = app.host(&format!("host-{}@example.com", e.currency)).await;
    let guest = app
        .register(&format!("guest-{}@example.com", e.currency))
        .await;
    let created = listing(app, &host, e.currency, e.price, e.cleaning).await;
    assert_eq!(created["pricePerNight"], money(e.price, e.currency));
    assert_eq!(created["cleaningFee"], money(e.cleaning, e.currency));
    let property = created["id"].as_str().expect("id").to_owned();

    // The quote and the calendar speak the same currency.
    let page = app
        .gql(
            "query($id: ID!, $in: Date!, $out: Date!) { property(id: $id) { \
             quote(checkIn: $in, checkOut: $out, guests: 1) { nightsTotal { amount currency } \
             serviceFee { amount } total { amount currency } } \
             calendar(from: $in, to: $out) { price { amount currency } } } }",
            json!({ "id": property, "in": day(2), "out": day(3) }),
        )
        .await;
    let p = &page["data"]["property"];
    assert_eq!(
        p["quote"]["nightsTotal"],
        money(e.price, e.currency),
        "{page}"
    );
    assert_eq!(p["quote"]["serviceFee"]["amount"], e.service_fee, "{page}");
    assert_eq!(p["quote"]["total"], money(e.total, e.currency), "{page}");
    assert_eq!(p["calendar"][0]["price"], money(e.price, e.currency));

    let (refunded, cancelled) = book_pay_cancel(app, &guest, &property).await;
    assert_eq!(cancelled["refundAmount"], money(e.refund, e.currency));
    assert_eq!(refunded["total"], money(e.total, e.currency));
    assert_eq!(refunded["price"]["serviceFee"]["amount"], e.service_fee);
    assert_eq!(refunded["payment"]["amount"], money(e.total, e.currency));
    assert_eq!(refunded["payment"]["refundedAmount"]["amount"], e.refund);
    assert_eq!(refunded["refundAmount"], money(e.refund, e.currency));
    refunded
}

#[tokio::test]
async fn a_yen_stay_is_quoted_paid_and_refunded_in_whole_yen() {
    let app = spawn_app().await;
    let booking = a_stay_in(&app, &YEN).await;
    // Stored as yen, not as hundredths of a yen.
    let id = decode_as(NodeType::Booking, booking["id"].as_str().expect("id")).expect("a booking");
    let row = <entity::booking::Entity as sea_orm::EntityTrait>::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("the booking");
    assert_eq!((row.total_minor, row.refund_minor), (17_493, Some(8_747)));
}

#[tokio::test]
async fn a_dinar_stay_is_quoted_paid_and_refunded_to_the_fils() {
    let app = spawn_app().await;
    a_stay_in(&app, &DINAR).await;
}

/// The amounts Stripe was asked to hold, capture and refund for the stay
/// `booking`.
fn stripe_amounts(fake: &FakeStripe, currency: &str) -> Vec<(String, String, Option<String>)> {
    fake.requests()
        .into_iter()
        .map(|r| {
            let amount = r
                .form
                .get("amount")
                .or_else(|| r.form.get("amount_to_capture"))
                .cloned()
                .unwrap_or_default();
            let sent_currency = r.form.get("currency").cloned();
            assert!(
                sent_currency.is_none() || sent_currency.as_deref() == Some(currency),
                "{r:?}"
            );
            (
                r.path.rsplit('/').next().unwrap_or_default().to_owned(),
                amount,
                sent_currency,
            )
        })
        .collect()
}

#[tokio::test]
async fn stripe_is_charged_in_the_minor_unit_of_each_currency() {
    for e in [YEN, DINAR] {
        let fake = fake_stripe::start().await;
        let app = stripe_app(&fake, None).await;
        let booking = a_stay_in(&app, &e).await;
        let currency = e.currency.to_lowercase();
        assert_eq!(
            stripe_amounts(&fake, &currency),
            [
                (
                    "payment_intents".to_owned(),
                    e.total_minor.to_owned(),
                    Some(currency.clone())
                ),
                ("capture".to_owned(), e.total_minor.to_owned(), None),
                ("refunds".to_owned(), e.refund_minor.to_owned(), None),
            ],
            "{}",
            e.currency
        );
        let reference = booking["payment"]["providerReference"]
            .as_str()
            .expect("a PaymentIntent")
            .to_owned();
        let intent = fake.payment_intent(&reference).expect("the intent");
        assert_eq!(intent.currency, currency);
        assert_eq!(intent.amount.to_string(), e.total_minor);
        assert_eq!(intent.amount_received.to_string(), e.total_minor);
        assert_eq!(intent.amount_refunded.to_string(), e.refund_minor);
        // The refund request as Stripe saw it, key and all.
        let payment = decode_as(
            NodeType::Payment,
            booking["payment"]["id"].as_str().expect("payment id"),
        )
        .expect("a payment");
        assert!(fake.requests().contains(&sent(
            "/v1/refunds",
            &[("payment_intent", &reference), ("amount", e.refund_minor)],
            &format!("roost-refund-{payment}-{}", e.refund_minor),
        )));
    }
}

/// A `BAD_USER_INPUT` naming `field`.
fn refused(resp: &Value, field: &str) -> String {
    let error = &resp["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{resp}");
    assert_eq!(error["extensions"]["field"], field, "{resp}");
    assert!(
        resp["data"].is_null()
            || resp["data"]
                .as_object()
                .is_some_and(|d| d.values().all(Value::is_null)),
        "{resp}"
    );
    error["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn amounts_with_more_places_than_the_currency_and_unknown_currencies_are_refused() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    for (currency, price, field) in [
        ("JPY", "12000.5", "input.pricePerNight"),
        ("JPY", "0.1", "input.pricePerNight"),
        ("USD", "129.505", "input.pricePerNight"),
        ("KWD", "12.3456", "input.pricePerNight"),
    ] {
        let resp = app
            .create_property_raw(
                &host,
                json!({ "currency": currency, "pricePerNight": price }),
            )
            .await;
        let message = refused(&resp, field);
        assert!(message.contains(currency), "{currency} {price}: {message}");
    }
    let resp = app
        .create_property_raw(
            &host,
            json!({ "currency": "JPY", "pricePerNight": "12000", "cleaningFee": "10.5" }),
        )
        .await;
    assert!(refused(&resp, "input.cleaningFee").contains("no decimal places"));
    for currency in ["usd", "XYZ", "XAU", "XTS", "EURO", "HRK"] {
        let resp = app
            .create_property_raw(&host, json!({ "currency": currency }))
            .await;
        refused(&resp, "input.currency");
    }
    // Nothing was written.
    assert_eq!(crate::helpers::count_rows(&app.db, "properties").await, 0);

    // A calendar price and an update are held to the listing's currency.
    let yen = listing(&app, &host, "JPY", "12000", "0").await;
    let id = yen["id"].as_str().expect("id");
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($input: UpdateCalendarInput!) { updateCalendar(input: $input) { date } }",
            json!({ "input": { "propertyId": id, "from": day(5), "to": day(6), "price": "9999.99" } }),
        )
        .await;
    refused(&resp, "input.price");
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { pricePerNight: \"13000.50\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    refused(&resp, "input.pricePerNight");
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { pricePerNight: \"13000\" }) { pricePerNight { amount currency } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        resp["data"]["updateProperty"]["pricePerNight"],
        money("13000", "JPY"),
        "{resp}"
    );
}

#[tokio::test]
async fn price_filters_compare_face_values_in_each_listings_currency() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let mut ids = std::collections::HashMap::new();
    for (currency, price) in [
        ("JPY", "150"),
        ("USD", "99.99"),
        ("USD", "150.00"),
        ("KWD", "120.500"),
        ("EUR", "120.51"),
    ] {
        let created = listing(&app, &host, currency, price, "0").await;
        ids.insert(
            created["id"].as_str().expect("id").to_owned(),
            format!("{price} {currency}"),
        );
    }
    let search = |min: &str, max: &str, order: &str| {
        let app = &app;
        let ids = &ids;
        let (min, max, order) = (min.to_owned(), max.to_owned(), order.to_owned());
        async move {
            let resp = app
                .gql(
                    &format!("query($min: Decimal, $max: Decimal) {{ properties(filter: {{ minPrice: $min, maxPrice: $max }}, orderBy: {order}) {{ nodes {{ id }} }} }}"),
                    json!({ "min": min, "max": max }),
                )
                .await;
            resp["data"]["properties"]["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{resp}"))
                .iter()
                .map(|n| ids[n["id"].as_str().expect("id")].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search("100", "150", "PRICE_ASC").await,
        ["120.500 KWD", "120.51 EUR", "150 JPY", "150.00 USD"]
    );
    assert_eq!(search("120.5", "120.5", "PRICE_ASC").await, ["120.500 KWD"]);
    // Equal face values fall back to the id order (the yen listing is older).
    assert_eq!(
        search("0", "100000", "PRICE_DESC").await,
        [
            "150.00 USD",
            "150 JPY",
            "120.51 EUR",
            "120.500 KWD",
            "99.99 USD"
        ]
    );
    let resp = app
        .gql(
            "{ properties(filter: { minPrice: \"1.0001\" }) { totalCount } }",
            json!({}),
        )
        .await;
    refused(&resp, "filter.minPrice");
}
