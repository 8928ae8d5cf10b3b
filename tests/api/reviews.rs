//! Reviews: who may write them and when, the hosts' responses, the exact
//! rating summaries they keep, their orders and cursors, and the number of
//! statements their lists cost.

use chrono::{Duration, Utc};
use roost::graphql::ids::{NodeType, decode_as};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{
    Session, TestApp, assert_bad_input, code, count_rows, count_where, spawn_app,
};

const REVIEW_FIELDS: &str = "id rating cleanliness accuracy checkIn communication location value \
    comment hostResponse hostRespondedAt createdAt author { id } property { id }";

const CREATE: &str = "mutation($input: CreateReviewInput!) { createReview(input: $input) { \
    id rating cleanliness accuracy checkIn communication location value comment hostResponse \
    hostRespondedAt createdAt author { id } property { id } } }";

const RESPOND: &str = "mutation($input: RespondToReviewInput!) { respondToReview(input: $input) { \
    id hostResponse hostRespondedAt } }";

fn uuid_of(kind: NodeType, id: &str) -> uuid::Uuid {
    decode_as(kind, id).expect("one of our ids")
}

/// Books `property` for `guest` (from `days` ahead, so that stays of one
/// listing never overlap) and turns the booking into a COMPLETED stay that
/// ended `ended_ago` days ago; the booking's id.
async fn stay(app: &TestApp, guest: &Session, property: &str, days: i64, ended_ago: i64) -> String {
    let booking = app.book(guest, property, days, 2).await;
    let id = booking["id"].as_str().expect("id").to_owned();
    let today = Utc::now().date_naive();
    set_stay(
        app,
        &id,
        "COMPLETED",
        today - Duration::days(ended_ago + 2),
        today - Duration::days(ended_ago),
    )
    .await;
    id
}

async fn set_stay(
    app: &TestApp,
    booking: &str,
    status: &str,
    check_in: chrono::NaiveDate,
    check_out: chrono::NaiveDate,
) {
    use entity::booking::{Column as B, Entity as Bookings};
    Bookings::update_many()
        .col_expr(B::Status, Expr::value(status))
        .col_expr(B::CheckIn, Expr::value(check_in))
        .col_expr(B::CheckOut, Expr::value(check_out))
        .col_expr(
            B::ExpiresAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(B::Id.eq(uuid_of(NodeType::Booking, booking)))
        .exec(&app.db)
        .await
        .expect("arrange the stay");
}

async fn review_raw(app: &TestApp, who: &Session, input: Value) -> Value {
    app.gql_as(Some(&who.access_token), CREATE, json!({ "input": input }))
        .await
}

/// Reviews `booking` with `rating` and no categories; the review.
async fn review(app: &TestApp, who: &Session, booking: &str, rating: i64) -> Value {
    let resp = review_raw(
        app,
        who,
        json!({ "bookingId": booking, "rating": rating, "comment": format!("Rated {rating}") }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["createReview"].clone()
}

async fn admin(app: &TestApp, email: &str) -> Session {
    let admin = app.register(email).await;
    app.make_admin(email).await;
    crate::helpers::session_from(
        &app.login(&admin.email, crate::helpers::PASSWORD).await["data"]["login"],
        &admin.email,
    )
    .expect("admin login")
}

#[tokio::test]
async fn a_guest_reviews_a_completed_stay_once_and_the_host_is_told() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let booking = stay(&app, &guest, &property, 10, 3).await;
    let mut events = app.bus.subscribe();

    let resp = review_raw(
        &app,
        &guest,
        json!({
            "bookingId": booking, "rating": 5, "cleanliness": 4, "accuracy": 5, "checkIn": 3,
            "communication": 5, "location": 4, "value": 2, "comment": "  Lovely flat, great view.  ",
        }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let r = &resp["data"]["createReview"];
    assert_eq!(
        (
            &r["rating"],
            &r["cleanliness"],
            &r["accuracy"],
            &r["checkIn"],
            &r["communication"],
            &r["location"],
            &r["value"]
        ),
        (
            &json!(5),
            &json!(4),
            &json!(5),
            &json!(3),
            &json!(5),
            &json!(4),
            &json!(2)
        )
    );
    assert_eq!(r["comment"], "Lovely flat, great view.");
    assert_eq!(r["hostResponse"], Value::Null);
    assert_eq!(r["author"]["id"], guest.user_id.as_str());
    assert_eq!(r["property"]["id"], property.as_str());
    let review_id = r["id"].as_str().expect("id").to_owned();

    // The stay shows it, node(id) finds it, anyone reads it on the listing.
    let seen = app.booking(&guest, &booking).await;
    assert!(seen.is_object());
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            "query($id: ID!) { booking(id: $id) { review { id rating } } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(
        resp["data"]["booking"]["review"]["id"],
        review_id.as_str(),
        "{resp}"
    );
    let resp = app
        .gql(
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ ... on Review {{ {REVIEW_FIELDS} }} }} }}"
            ),
            json!({ "id": review_id }),
        )
        .await;
    assert_eq!(resp["data"]["node"]["rating"], 5, "{resp}");
    let resp = app
        .gql(
            "query($id: ID!) { property(id: $id) { rating { average count cleanliness value } \
             reviews { totalCount nodes { id comment author { firstName } } } } }",
            json!({ "id": property }),
        )
        .await;
    let p = &resp["data"]["property"];
    assert_eq!(
        p["rating"],
        json!({ "average": 5.0, "count": 1, "cleanliness": 4.0, "value": 2.0 }),
        "{resp}"
    );
    assert_eq!(p["reviews"]["totalCount"], 1);
    assert_eq!(p["reviews"]["nodes"][0]["id"], review_id.as_str());
    assert_eq!(p["reviews"]["nodes"][0]["author"]["firstName"], "Test");

    // The host was told, in the review's transaction, and live.
    let host_id = uuid_of(NodeType::User, &host.user_id);
    let told = entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(host_id))
        .filter(entity::notification::Column::Kind.eq("REVIEW_RECEIVED"))
        .all(&app.db)
        .await
        .expect("notifications");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].title, "You have a new review");
    assert!(told[0].body.contains("5 stars"), "{}", told[0].body);
    let announced = tokio::time::timeout(crate::helpers::SOON, async {
        loop {
            match events.recv().await {
                Ok(domain::infra::events::Event::NotificationCreated(n))
                    if n.notification.kind == "REVIEW_RECEIVED" =>
                {
                    break n.notification;
                }
                Ok(_) => {}
                Err(e) => panic!("bus: {e}"),
            }
        }
    })
    .await
    .expect("the notification is announced");
    assert_eq!(announced.user_id, host_id);

    // Once.
    let again = review_raw(
        &app,
        &guest,
        json!({ "bookingId": booking, "rating": 4, "comment": "Again" }),
    )
    .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert_eq!(count_rows(&app.db, "reviews").await, 1);
}

#[tokio::test]
async fn only_the_guest_reviews_and_only_a_completed_stay_within_fourteen_days() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let stranger = app.register("stranger@example.com").await;
    let admin = admin(&app, "admin@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let booking = stay(&app, &guest, &property, 10, 14).await;
    let input = |b: &str| json!({ "bookingId": b, "rating": 4, "comment": "Nice" });

    let resp = app.gql(CREATE, json!({ "input": input(&booking) })).await;
    assert_eq!(code(&resp), "UNAUTHENTICATED", "{resp}");
    // Someone who may not see the stay: NOT_FOUND, whatever the input.
    let resp = review_raw(&app, &stranger, input(&booking)).await;
    assert_eq!(code(&resp), "NOT_FOUND", "{resp}");
    let resp = review_raw(
        &app,
        &stranger,
        json!({ "bookingId": booking, "rating": 9, "comment": "" }),
    )
    .await;
    assert_eq!(code(&resp), "NOT_FOUND", "{resp}");
    let resp = review_raw(&app, &guest, input(&property)).await;
    assert_eq!(code(&resp), "NOT_FOUND", "a listing's id: {resp}");
    let resp = review_raw(&app, &guest, input("garbage")).await;
    assert_eq!(code(&resp), "NOT_FOUND", "{resp}");
    // The host and admins see the stay but may not review it.
    for who in [&host, &admin] {
        let resp = review_raw(&app, who, input(&booking)).await;
        assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
    }
    assert_eq!(count_rows(&app.db, "reviews").await, 0);

    // Not completed: CONFLICT.
    let today = Utc::now().date_naive();
    let pending = app.book(&guest, &property, 20, 2).await;
    let pending = pending["id"].as_str().expect("id").to_owned();
    let resp = review_raw(&app, &guest, input(&pending)).await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    for status in ["CONFIRMED", "CANCELLED"] {
        set_stay(
            &app,
            &pending,
            status,
            today - Duration::days(5),
            today - Duration::days(3),
        )
        .await;
        let resp = review_raw(&app, &guest, input(&pending)).await;
        assert_eq!(code(&resp), "CONFLICT", "{status}: {resp}");
    }
    // Ended 15 days ago: too late.
    let late = stay(&app, &guest, &property, 30, 15).await;
    let resp = review_raw(&app, &guest, input(&late)).await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    assert_eq!(count_rows(&app.db, "reviews").await, 0);

    // Ended 14 days ago: just in time.
    let resp = review_raw(&app, &guest, input(&booking)).await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(count_rows(&app.db, "reviews").await, 1);
}

#[tokio::test]
async fn ratings_and_comments_are_checked_and_nothing_is_half_written() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let booking = stay(&app, &guest, &property, 10, 2).await;
    let with = |extra: Value| {
        let mut input = json!({ "bookingId": booking, "rating": 4, "comment": "Nice" });
        if let (Value::Object(a), Value::Object(b)) = (&mut input, extra) {
            a.extend(b);
        }
        input
    };
    for (extra, field) in [
        (json!({ "rating": 0 }), "input.rating"),
        (json!({ "rating": 6 }), "input.rating"),
        (json!({ "cleanliness": 6 }), "input.cleanliness"),
        (json!({ "accuracy": 0 }), "input.accuracy"),
        (json!({ "checkIn": -1 }), "input.checkIn"),
        (json!({ "communication": 7 }), "input.communication"),
        (json!({ "location": 0 }), "input.location"),
        (json!({ "value": 10 }), "input.value"),
        (json!({ "comment": "" }), "input.comment"),
        (json!({ "comment": "   \n " }), "input.comment"),
        (json!({ "comment": "x".repeat(2001) }), "input.comment"),
        (json!({ "comment": "a\u{0}b" }), "input.comment"),
    ] {
        let resp = review_raw(&app, &guest, with(extra.clone())).await;
        assert_bad_input(&resp, field);
        let message = resp["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("1 to 5")
                || message.contains("2000")
                || message.contains("control")
                || message.contains("NUL"),
            "{extra}: {message}"
        );
    }
    assert_eq!(count_rows(&app.db, "reviews").await, 0);
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'REVIEW_RECEIVED'").await,
        0
    );
    assert_eq!(
        count_where(
            &app.db,
            "properties",
            "rating_count <> 0 OR rating_sum <> 0"
        )
        .await,
        0
    );

    // 2,000 characters (not bytes) after trimming is fine.
    let resp = review_raw(
        &app,
        &guest,
        with(json!({ "comment": format!("  {}  ", "é".repeat(2000)) })),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(
        resp["data"]["createReview"]["comment"]
            .as_str()
            .map(|c| c.chars().count()),
        Some(2000)
    );
}

#[tokio::test]
async fn concurrent_reviews_of_one_stay_make_exactly_one() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let booking = stay(&app, &guest, &property, 10, 1).await;
    let attempts = (0..10).map(|i| {
        review_raw(
            &app,
            &guest,
            json!({ "bookingId": booking, "rating": 1 + i % 5, "cleanliness": 3, "comment": format!("Try {i}") }),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let ok = answers.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = answers
        .iter()
        .filter(|r| !r["errors"].is_null() && code(r) == "CONFLICT")
        .count();
    assert_eq!((ok, conflicts), (1, 9), "{answers:?}");
    let winner = answers
        .iter()
        .find(|r| r["errors"].is_null())
        .map(|r| {
            r["data"]["createReview"]["rating"]
                .as_i64()
                .expect("rating")
        })
        .expect("a winner");
    assert_eq!(count_rows(&app.db, "reviews").await, 1);
    let listing = entity::property::Entity::find_by_id(uuid_of(NodeType::Property, &property))
        .one(&app.db)
        .await
        .expect("listing")
        .expect("a listing");
    assert_eq!(
        (
            listing.rating_count,
            i64::from(listing.rating_sum),
            listing.cleanliness_count
        ),
        (1, winner, 1)
    );
    let host_row = entity::user::Entity::find_by_id(uuid_of(NodeType::User, &host.user_id))
        .one(&app.db)
        .await
        .expect("host")
        .expect("a host");
    assert_eq!(
        (host_row.host_rating_count, host_row.host_rating_sum),
        (1, winner)
    );
    assert_eq!(
        count_where(&app.db, "notifications", "kind = 'REVIEW_RECEIVED'").await,
        1
    );
}

#[tokio::test]
async fn the_host_responds_once() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let other_host = app.host("other@example.com").await;
    let guest = app.register("guest@example.com").await;
    let admin = admin(&app, "admin@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let booking = stay(&app, &guest, &property, 10, 2).await;
    let review_id = review(&app, &guest, &booking, 3).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let respond = |who: &Session, id: &str, text: &str| {
        let token = who.access_token.clone();
        let input = json!({ "reviewId": id, "response": text });
        let app = &app;
        async move {
            app.gql_as(Some(&token), RESPOND, json!({ "input": input }))
                .await
        }
    };

    let resp = app
        .gql(
            RESPOND,
            json!({ "input": { "reviewId": review_id, "response": "Hi" } }),
        )
        .await;
    assert_eq!(code(&resp), "UNAUTHENTICATED", "{resp}");
    for who in [&guest, &other_host, &admin] {
        let resp = respond(who, &review_id, "Thanks!").await;
        assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
    }
    let resp = respond(&host, &booking, "Thanks!").await;
    assert_eq!(code(&resp), "NOT_FOUND", "a booking's id: {resp}");
    for bad in ["", "    ", &"r".repeat(2001)] {
        let resp = respond(&host, &review_id, bad).await;
        assert_bad_input(&resp, "input.response");
    }
    assert_eq!(
        count_where(&app.db, "reviews", "host_response IS NOT NULL").await,
        0
    );

    let resp = respond(&host, &review_id, "  Thank you for staying!  ").await;
    assert!(resp["errors"].is_null(), "{resp}");
    let r = &resp["data"]["respondToReview"];
    assert_eq!(r["hostResponse"], "Thank you for staying!");
    assert!(r["hostRespondedAt"].is_string(), "{resp}");
    let resp = respond(&host, &review_id, "Changed my mind").await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");

    // Anyone reads the response; the author was told.
    let resp = app
        .gql(
            "query($id: ID!) { property(id: $id) { reviews { nodes { hostResponse } } } }",
            json!({ "id": property }),
        )
        .await;
    assert_eq!(
        resp["data"]["property"]["reviews"]["nodes"][0]["hostResponse"],
        "Thank you for staying!"
    );
    let author = uuid_of(NodeType::User, &guest.user_id);
    let told = entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(author))
        .filter(entity::notification::Column::Kind.eq("REVIEW_RECEIVED"))
        .all(&app.db)
        .await
        .expect("notifications");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].title, "The host responded to your review");
}

/// (overall, [cleanliness, accuracy, checkIn, communication, location, value]).
type Ratings = (i64, [Option<i64>; 6]);

async fn review_with(app: &TestApp, guest: &Session, booking: &str, (rating, c): Ratings) {
    let resp = review_raw(
        app,
        guest,
        json!({
            "bookingId": booking, "rating": rating, "cleanliness": c[0], "accuracy": c[1],
            "checkIn": c[2], "communication": c[3], "location": c[4], "value": c[5],
            "comment": "Stayed here",
        }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
}

#[tokio::test]
async fn rating_summaries_and_host_ratings_stay_exact() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let unrated = app.host("unrated@example.com").await;
    let guests = [
        app.register("g1@example.com").await,
        app.register("g2@example.com").await,
        app.register("g3@example.com").await,
    ];
    let a = app
        .instant_listing(&host, json!({ "title": "Place A" }))
        .await;
    let b = app
        .instant_listing(&host, json!({ "title": "Place B" }))
        .await;
    app.instant_listing(&unrated, json!({ "title": "Place C" }))
        .await;

    let on_a: [Ratings; 3] = [
        (5, [Some(5), Some(4), Some(3), Some(5), Some(4), Some(5)]),
        (4, [None; 6]),
        (2, [Some(1), None, None, None, None, None]),
    ];
    for (i, ratings) in on_a.into_iter().enumerate() {
        let booking = stay(&app, &guests[i], &a, 10 + 5 * i as i64, 2).await;
        review_with(&app, &guests[i], &booking, ratings).await;
    }
    let booking = stay(&app, &guests[0], &b, 10, 5).await;
    review_with(
        &app,
        &guests[0],
        &booking,
        (3, [None, Some(2), None, None, None, Some(4)]),
    )
    .await;

    let summary =
        "rating { average count cleanliness accuracy checkIn communication location value }";
    let resp = app
        .gql(
            &format!(
                "query($a: ID!, $b: ID!) {{ a: property(id: $a) {{ {summary} host {{ hostRating }} }} \
                 b: property(id: $b) {{ {summary} }} }}"
            ),
            json!({ "a": a, "b": b }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(
        resp["data"]["a"]["rating"],
        json!({
            "average": 3.67, "count": 3, "cleanliness": 3.0, "accuracy": 4.0, "checkIn": 3.0,
            "communication": 5.0, "location": 4.0, "value": 5.0,
        })
    );
    assert_eq!(
        resp["data"]["b"]["rating"],
        json!({
            "average": 3.0, "count": 1, "cleanliness": null, "accuracy": 2.0, "checkIn": null,
            "communication": null, "location": null, "value": 4.0,
        })
    );
    // (5 + 4 + 2 + 3) / 4 over both listings.
    assert_eq!(resp["data"]["a"]["host"]["hostRating"], 3.5);
    let resp = app
        .gql(
            "query($id: ID!) { user(id: $id) { hostRating } }",
            json!({ "id": unrated.user_id }),
        )
        .await;
    assert_eq!(resp["data"]["user"]["hostRating"], Value::Null, "{resp}");

    // The columns agree with a recomputation over the reviews.
    let disagree = "properties p WHERE p.rating_count <> (SELECT COUNT(*) FROM reviews r WHERE r.property_id = p.id) \
        OR p.rating_sum <> (SELECT COALESCE(SUM(r.rating), 0) FROM reviews r WHERE r.property_id = p.id) \
        OR p.cleanliness_count <> (SELECT COUNT(r.cleanliness) FROM reviews r WHERE r.property_id = p.id) \
        OR p.value_sum <> (SELECT COALESCE(SUM(r.value), 0) FROM reviews r WHERE r.property_id = p.id)";
    assert_eq!(count_rows(&app.db, disagree).await, 0);
    let listing = entity::property::Entity::find_by_id(uuid_of(NodeType::Property, &a))
        .one(&app.db)
        .await
        .expect("listing")
        .expect("a listing");
    assert!(
        (listing.rating_avg - 11.0 / 3.0).abs() < 1e-9,
        "{}",
        listing.rating_avg
    );
    // Search by rating sees them.
    let resp = app
        .gql(
            "{ properties(filter: { minRating: 3.5 }) { totalCount nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(resp["data"]["properties"]["totalCount"], 1, "{resp}");
    assert_eq!(resp["data"]["properties"]["nodes"][0]["title"], "Place A");
}

async fn titles(app: &TestApp, query: &str, vars: Value, path: &[&str]) -> (Vec<i64>, Value) {
    let resp = app.gql(query, vars).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let mut conn = &resp["data"];
    for p in path {
        conn = &conn[*p];
    }
    let ratings = conn["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["rating"].as_i64().expect("rating"))
        .collect();
    (ratings, conn.clone())
}

#[tokio::test]
async fn reviews_come_in_each_order_with_cursors_that_page_through_them() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let property = app.instant_listing(&host, json!({})).await;
    let ratings = [3, 5, 1, 5, 4];
    let mut ids = Vec::new();
    for (i, rating) in ratings.iter().enumerate() {
        let booking = stay(&app, &guest, &property, 10 + 5 * i as i64, 2).await;
        ids.push(review(&app, &guest, &booking, *rating).await["id"].clone());
    }
    let page = "query($id: ID!, $order: ReviewOrder, $first: Int, $after: String) { property(id: $id) { \
        reviews(orderBy: $order, first: $first, after: $after) { totalCount \
        edges { cursor node { id rating } } nodes { id rating } \
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
    for (order, expected, expected_ids) in [
        ("NEWEST", vec![4, 5, 1, 5, 3], vec![4, 3, 2, 1, 0]),
        ("HIGHEST", vec![5, 5, 4, 3, 1], vec![3, 1, 4, 0, 2]),
        ("LOWEST", vec![1, 3, 4, 5, 5], vec![2, 0, 4, 3, 1]),
    ] {
        let (all, conn) = titles(
            &app,
            page,
            json!({ "id": property, "order": order }),
            &["property", "reviews"],
        )
        .await;
        assert_eq!(all, expected, "{order}");
        let got: Vec<&Value> = conn["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| &n["id"])
            .collect();
        let want: Vec<&Value> = expected_ids.iter().map(|i| &ids[*i]).collect();
        assert_eq!(got, want, "{order}");
        assert_eq!(conn["totalCount"], 5);
        assert_eq!(conn["pageInfo"]["hasNextPage"], false);
        let edges: Vec<&Value> = conn["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| &e["node"])
            .collect();
        assert_eq!(
            edges,
            conn["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .collect::<Vec<_>>()
        );

        // Two at a time, through to the end.
        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let (part, conn) = titles(
                &app,
                page,
                json!({ "id": property, "order": order, "first": 2, "after": after }),
                &["property", "reviews"],
            )
            .await;
            pages += 1;
            assert!(pages <= 3, "{order}: {conn}");
            assert_eq!(conn["totalCount"], 5);
            assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 1);
            seen.extend(part);
            if conn["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        assert_eq!((seen, pages), (expected, 3), "{order}");
    }

    // A cursor of one order is no cursor of another; limits on first.
    let (_, newest) = titles(
        &app,
        page,
        json!({ "id": property, "first": 1 }),
        &["property", "reviews"],
    )
    .await;
    let resp = app
        .gql(
            page,
            json!({ "id": property, "order": "HIGHEST", "after": newest["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_bad_input(&resp, "after");
    let resp = app
        .gql(page, json!({ "id": property, "after": "not-a-cursor" }))
        .await;
    assert_bad_input(&resp, "after");
    for first in [0, 101] {
        let resp = app
            .gql(page, json!({ "id": property, "first": first }))
            .await;
        assert_bad_input(&resp, "first");
    }

    // The author's reviews, newest first.
    let written = "query($id: ID!, $after: String) { user(id: $id) { reviewsWritten(first: 3, after: $after) { \
        totalCount nodes { rating property { id } } pageInfo { hasNextPage endCursor } } } }";
    let (first, conn) = titles(
        &app,
        written,
        json!({ "id": guest.user_id }),
        &["user", "reviewsWritten"],
    )
    .await;
    assert_eq!(first, vec![4, 5, 1]);
    assert_eq!(conn["totalCount"], 5);
    assert_eq!(conn["nodes"][0]["property"]["id"], property.as_str());
    let (rest, conn) = titles(
        &app,
        written,
        json!({ "id": guest.user_id, "after": conn["pageInfo"]["endCursor"] }),
        &["user", "reviewsWritten"],
    )
    .await;
    assert_eq!(rest, vec![5, 3]);
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    // Reviews of a listing that is not public any more are not shown.
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { status: UNLISTED }) { status } }",
            json!({ "id": property }),
        )
        .await;
    assert_eq!(
        resp["data"]["updateProperty"]["status"], "UNLISTED",
        "{resp}"
    );
    let (hidden, conn) = titles(
        &app,
        written,
        json!({ "id": guest.user_id }),
        &["user", "reviewsWritten"],
    )
    .await;
    assert!(hidden.is_empty());
    assert_eq!(conn["totalCount"], 0);
    let (none, conn) = titles(
        &app,
        written,
        json!({ "id": host.user_id }),
        &["user", "reviewsWritten"],
    )
    .await;
    assert!(none.is_empty());
    assert_eq!(conn["totalCount"], 0);
}

/// Statements `query` sends as `token` (anonymous when none), asserting it
/// succeeds.
async fn statements(app: &TestApp, token: Option<&str>, query: &str) -> (u64, Value) {
    let before = app.statements.get();
    let resp = app.gql_as(token, query, json!({})).await;
    let sent = app.statements.get() - before;
    assert!(resp["errors"].is_null(), "{resp}");
    (sent, resp)
}

#[tokio::test]
async fn review_lists_send_as_many_statements_for_twenty_as_for_five() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let mut guests = Vec::new();
    for i in 0..20 {
        guests.push(app.register(&format!("guest{i}@example.com")).await);
    }
    let mut listings = Vec::new();
    for i in 0..20 {
        listings.push(
            app.instant_listing(&host, json!({ "title": format!("Place number {i}") }))
                .await,
        );
    }
    // Twenty reviews of the first listing, by twenty guests; and two of
    // every other listing.
    for (i, guest) in guests.iter().enumerate() {
        let booking = stay(&app, guest, &listings[0], 10 + 5 * i as i64, 2).await;
        review(&app, guest, &booking, 1 + (i as i64) % 5).await;
    }
    for (i, listing) in listings.iter().enumerate().skip(1) {
        for (j, guest) in guests.iter().skip(i % 5).take(2).enumerate() {
            let booking = stay(&app, guest, listing, 10 + 5 * j as i64, 3).await;
            review(&app, guest, &booking, 2 + (j as i64)).await;
        }
    }
    let first_listing = &listings[0];
    // Let the emails about the reviews go out so nothing else runs while
    // counting.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut counts = Vec::new();
    for first in [5, 20] {
        let one = format!(
            "{{ property(id: \"{first_listing}\") {{ title reviews(first: {first}) {{ totalCount \
             pageInfo {{ hasNextPage }} nodes {{ rating comment author {{ firstName \
             reviewsWritten(first: 2) {{ totalCount nodes {{ rating property {{ title }} }} }} }} }} }} }} }}"
        );
        let (sent, resp) = statements(&app, None, &one).await;
        assert_eq!(
            resp["data"]["property"]["reviews"]["nodes"]
                .as_array()
                .map(Vec::len),
            Some(first)
        );
        let search = format!(
            "{{ properties(first: {first}) {{ nodes {{ title rating {{ average count }} host {{ hostRating }} \
             reviews(first: 3) {{ totalCount nodes {{ rating author {{ firstName }} }} }} }} }} }}"
        );
        let (sent_search, resp) = statements(&app, None, &search).await;
        let nodes = resp["data"]["properties"]["nodes"]
            .as_array()
            .expect("nodes");
        assert_eq!(nodes.len(), first);
        assert!(nodes.iter().all(|n| {
            !n["reviews"]["nodes"]
                .as_array()
                .expect("reviews")
                .is_empty()
        }));
        let mine = format!(
            "{{ myBookings(first: {first}) {{ nodes {{ id review {{ rating author {{ firstName }} property {{ title }} }} }} }} }}"
        );
        // guest0 has one stay per listing it reviewed; fewer than 20: use
        // the host's bookings instead, all of which are reviewed.
        let host_bookings = mine.replace("myBookings", "hostBookings");
        let (sent_bookings, resp) =
            statements(&app, Some(&host.access_token), &host_bookings).await;
        let nodes = resp["data"]["hostBookings"]["nodes"]
            .as_array()
            .expect("nodes");
        assert_eq!(nodes.len(), first);
        assert!(
            nodes.iter().all(|n| n["review"]["rating"].is_i64()),
            "{resp}"
        );
        counts.push((sent, sent_search, sent_bookings));
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    let (one, search, bookings) = counts[1];
    assert!(one <= 6 && search <= 8 && bookings <= 8, "{counts:?}");
}

/// The reference workload's read pages (WORKLOAD.md) in the statements they
/// send, with exact answers: the property page (amenities, the host and
/// their public listing count, the ten newest reviews with their authors)
/// two, the search page and the availability search (with hosts) one each.
#[tokio::test]
async fn the_workload_pages_send_two_statements_and_one() {
    // No worker in the process: the statements counted are the requests'.
    // A page of 100 costs more than the default complexity (as in the
    // benchmark, which raises it too).
    let app = crate::helpers::spawn_with(|f| {
        f.merge(("serve_runs_worker", false))
            .merge(("max_query_complexity", 100_000))
    })
    .await;
    let host = app.host("host@example.com").await;
    let page = app
        .instant_listing(
            &host,
            json!({ "title": "Reviewed place", "amenities": ["pool", "wifi", "kitchen"] }),
        )
        .await;
    app.instant_listing(
        &host,
        json!({ "title": "Second place", "pricePerNight": "90.00" }),
    )
    .await;
    app.create_property(&host, json!({ "status": "DRAFT", "title": "Draft place" }))
        .await;
    // Twelve reviews, by guests with their own first names; the ten newest
    // are shown, newest first.
    for i in 0..12 {
        let email = format!("guest{i}@example.com");
        let resp = app
            .gql(
                &format!(
                    "mutation($input: RegisterInput!) {{ register(input: $input) {{ {} }} }}",
                    crate::helpers::AUTH_FIELDS
                ),
                json!({ "input": { "email": email, "password": crate::helpers::PASSWORD,
                                   "firstName": format!("Guest{i}"), "lastName": "User" } }),
            )
            .await;
        let guest = crate::helpers::session_from(&resp["data"]["register"], &email)
            .unwrap_or_else(|| panic!("{resp}"));
        let booking = stay(&app, &guest, &page, 10 + 5 * i, 2).await;
        review(&app, &guest, &booking, 1 + i % 5).await;
    }

    let property_page = "query Q2($id: ID!) { property(id: $id) { id amenities { name } \
        host { firstName listings { totalCount } } reviews(first: 10) { nodes { rating comment author { firstName } } } } }";
    let before = app.statements.get();
    let resp = app.gql(property_page, json!({ "id": page })).await;
    let sent = app.statements.get() - before;
    let p = &resp["data"]["property"];
    assert_eq!(
        p["amenities"],
        json!([{ "name": "Wifi" }, { "name": "Kitchen" }, { "name": "Pool" }]),
        "{resp}"
    );
    assert_eq!(
        p["host"],
        json!({ "firstName": "Test", "listings": { "totalCount": 2 } })
    );
    let reviews: Vec<(i64, String)> = p["reviews"]["nodes"]
        .as_array()
        .expect("reviews")
        .iter()
        .map(|r| {
            (
                r["rating"].as_i64().expect("rating"),
                r["author"]["firstName"]
                    .as_str()
                    .expect("author")
                    .to_owned(),
            )
        })
        .collect();
    let newest: Vec<(i64, String)> = (2..12)
        .rev()
        .map(|i| (1 + i % 5, format!("Guest{i}")))
        .collect();
    assert_eq!(reviews, newest);
    assert_eq!(
        sent, 2,
        "the property page: the listing with its host, the reviews with their authors"
    );

    let search = "query Q1($first: Int!) { properties(filter: { city: \"Lisbon\" }, orderBy: PRICE_ASC, first: $first) { \
        nodes { id title pricePerNight { amount } location { city } host { id firstName } rating { average count } } } }";
    let available = format!(
        "{{ properties(filter: {{ city: \"Lisbon\", guests: 2, checkIn: \"{}\", checkOut: \"{}\" }}, orderBy: PRICE_ASC, first: 20) {{ \
         nodes {{ id title host {{ id firstName }} }} }} }}",
        crate::helpers::day(30),
        crate::helpers::day(35)
    );
    for (query, vars) in [
        (search, json!({ "first": 20 })),
        (search, json!({ "first": 100 })),
        (available.as_str(), json!({})),
    ] {
        let before = app.statements.get();
        let resp = app.gql(query, vars).await;
        let sent = app.statements.get() - before;
        let nodes = resp["data"]["properties"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{resp}"));
        let titles: Vec<&str> = nodes
            .iter()
            .map(|n| n["title"].as_str().expect("title"))
            .collect();
        assert_eq!(titles, ["Second place", "Reviewed place"], "{resp}");
        assert!(
            nodes
                .iter()
                .all(|n| n["host"]["id"] == host.user_id.as_str()
                    && n["host"]["firstName"] == "Test")
        );
        assert_eq!(sent, 1, "a search page with hosts: {query}");
    }
}
