//! `roost seed` and `roost serve --demo`.

use std::{
    collections::HashMap,
    process::{Command, Stdio},
};

use chrono::{Duration, NaiveDate, Utc};
use entity::{
    booking::BookingStatus as B, payment::PaymentStatus as P, property::Model as Listing,
};
use roost::{
    graphql::ids::{NodeType, encode},
    seed::{self, SeedOptions},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Statement,
};
use serde_json::json;

use crate::helpers::{SOON, TestDatabase, count_rows, count_where, spawn_app};

#[derive(FromQueryResult, PartialEq, Debug)]
struct Row {
    id: uuid::Uuid,
    title: String,
    price_cents: i64,
    host_id: uuid::Uuid,
}

async fn listing_rows(db: &DatabaseConnection) -> Vec<Row> {
    Row::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT id, title, price_cents, host_id FROM properties ORDER BY id",
    ))
    .all(db)
    .await
    .expect("rows")
}

#[derive(FromQueryResult, PartialEq, Debug)]
struct StayRow {
    id: uuid::Uuid,
    property_id: uuid::Uuid,
    guest_id: uuid::Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
    guests: i32,
    status: String,
    total_cents: i64,
    refund_cents: Option<i64>,
    payment_id: Option<uuid::Uuid>,
    payment_status: Option<String>,
}

async fn booking_rows(db: &DatabaseConnection) -> Vec<StayRow> {
    StayRow::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT b.id, b.property_id, b.guest_id, b.check_in, b.check_out, b.guests, b.status, \
         b.total_cents, b.refund_cents, p.id AS payment_id, p.status AS payment_status \
         FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id ORDER BY b.id",
    ))
    .all(db)
    .await
    .expect("booking rows")
}

async fn seeded(scale: f64, seed_number: u64) -> crate::helpers::TestApp {
    let app = spawn_app().await;
    let passwords = roost::auth::passwords::Passwords::new(256, 1)
        .await
        .expect("passwords");
    let report = seed::seed(
        &app.db,
        &passwords,
        &app.points(),
        SeedOptions {
            scale,
            seed: seed_number,
        },
    )
    .await
    .expect("seed");
    assert_eq!(report.users, (10_000.0 * scale).round() as usize);
    assert_eq!(report.properties, (5_000.0 * scale).round() as usize);
    assert_eq!(report.bookings, (50_000.0 * scale).round() as usize);
    assert_eq!(
        count_rows(&app.db, "bookings").await,
        i64::try_from(report.bookings).expect("count")
    );
    assert_eq!(
        count_rows(&app.db, "payments").await,
        i64::try_from(report.payments).expect("count")
    );
    app
}

#[tokio::test]
async fn the_same_seed_gives_the_same_rows() {
    let a = seeded(0.1, 7).await;
    let b = seeded(0.1, 7).await;
    let c = seeded(0.1, 8).await;
    let rows = listing_rows(&a.db).await;
    assert_eq!(rows.len(), 500);
    assert_eq!(rows, listing_rows(&b.db).await, "seed 7 twice");
    assert_ne!(rows, listing_rows(&c.db).await, "another seed");
    let stays = booking_rows(&a.db).await;
    assert_eq!(stays.len(), 5000);
    assert_eq!(stays, booking_rows(&b.db).await, "seed 7 twice: bookings");
    assert_ne!(stays, booking_rows(&c.db).await, "another seed: bookings");
    assert_eq!(count_rows(&a.db, "users").await, 1000);
    // 200 hosts, one admin; every listing is priced 30 to 800.
    assert!(
        rows.iter()
            .all(|r| (3_000..=80_000).contains(&r.price_cents))
    );
    let links = count_rows(&a.db, "property_amenities").await;
    assert!((500 * 5..=500 * 15).contains(&links), "{links}");
}

/// `n`% of `total`, rounded half away from zero, in whole cents.
fn percent_of(total: i64, n: i64) -> i64 {
    (total * n + 50).div_euclid(100)
}

const ACTIVE: &str = "('PENDING_PAYMENT', 'AWAITING_HOST', 'CONFIRMED')";

/// The bookings and payments of the workload: as many as the scale says,
/// priced as the app prices, never overlapping, each paid one with its one
/// payment in the status its booking implies, and stays that ended lately
/// waiting for a review.
#[tokio::test]
async fn seeded_bookings_have_the_workload_shape() {
    let app = seeded(0.02, 3).await;
    let db = &app.db;
    let today = Utc::now().date_naive();
    let now = Utc::now();
    let bookings = entity::booking::Entity::find()
        .all(db)
        .await
        .expect("bookings");
    assert_eq!(bookings.len(), 1000);
    let listings: HashMap<uuid::Uuid, Listing> = entity::property::Entity::find()
        .all(db)
        .await
        .expect("listings")
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let payments: HashMap<uuid::Uuid, entity::payment::Model> = entity::payment::Entity::find()
        .all(db)
        .await
        .expect("payments")
        .into_iter()
        .map(|p| (p.booking_id, p))
        .collect();

    // Every paid booking has exactly one payment; unpaid ones have none.
    assert_eq!(
        count_where(
            db,
            "bookings b",
            "(SELECT COUNT(*) FROM payments p WHERE p.booking_id = b.id) <> \
             CASE WHEN b.status IN ('CONFIRMED', 'COMPLETED', 'AWAITING_HOST', 'CANCELLED', 'DECLINED') THEN 1 \
             WHEN b.status = 'EXPIRED' THEN (SELECT COUNT(*) FROM payments p WHERE p.booking_id = b.id) ELSE 0 END"
        )
        .await,
        0
    );
    assert!(
        count_where(
            db,
            "bookings b",
            "(SELECT COUNT(*) FROM payments p WHERE p.booking_id = b.id) > 1"
        )
        .await
            == 0
    );
    assert_eq!(
        count_rows(db, "payments").await,
        i64::try_from(payments.len()).expect("count"),
        "one payment a booking"
    );
    // No two active stays of a listing overlap (no two stays at all, in fact),
    // and none holds a night its host blocked.
    let overlapping = "bookings a JOIN bookings b ON a.property_id = b.property_id AND a.id < b.id \
                       AND a.check_in < b.check_out AND b.check_in < a.check_out";
    assert_eq!(
        count_where(
            db,
            overlapping,
            &format!("a.status IN {ACTIVE} AND b.status IN {ACTIVE}")
        )
        .await,
        0
    );
    assert_eq!(count_rows(db, overlapping).await, 0);
    assert_eq!(
        count_where(
            db,
            "bookings b JOIN calendar_days c ON c.property_id = b.property_id \
             AND c.day >= b.check_in AND c.day < b.check_out",
            &format!("c.blocked AND b.status IN {ACTIVE}")
        )
        .await,
        0
    );
    // Completed stays that ended in the last two weeks: reviewable.
    let reviewable = count_where(
        db,
        "bookings",
        &format!(
            "status = 'COMPLETED' AND check_out >= '{}' AND check_out < '{today}'",
            today - Duration::days(14)
        ),
    )
    .await;
    assert!(reviewable >= 10, "{reviewable} reviewable stays");

    let mut statuses: HashMap<B, usize> = HashMap::new();
    for b in &bookings {
        *statuses.entry(b.status).or_default() += 1;
        let listing = &listings[&b.property_id];
        assert_eq!(b.host_id, listing.host_id);
        assert_ne!(b.guest_id, b.host_id);
        assert_eq!(b.currency, listing.currency);
        let nights = (b.check_out - b.check_in).num_days();
        assert_eq!(i64::from(b.nights), nights);
        assert!(
            (listing.min_nights..=listing.max_nights).contains(&b.nights),
            "{b:?}"
        );
        assert!((1..=listing.max_guests).contains(&b.guests), "{b:?}");
        assert!(b.check_in >= today - Duration::days(550), "{b:?}");
        assert!(b.check_out <= today + Duration::days(180), "{b:?}");
        assert!(b.version >= 1);
        assert!(b.created_at < b.check_in.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
        assert!(b.created_at <= b.updated_at && b.updated_at <= now, "{b:?}");

        // The quote, line by line (RULES.md section 6, no overrides, the
        // default 14% service fee and no taxes).
        let nights_total = nights * listing.price_minor;
        let discount_percent = if nights >= 28 {
            listing.monthly_discount_percent
        } else if nights >= 7 {
            listing.weekly_discount_percent
        } else {
            0
        };
        let discount = percent_of(nights_total, i64::from(discount_percent));
        let base = nights_total - discount + listing.cleaning_fee_minor;
        let fee = percent_of(base, 14);
        assert_eq!(
            (
                b.nights_total_minor,
                b.discount_minor,
                b.cleaning_fee_minor,
                b.service_fee_minor,
                b.taxes_minor,
                b.total_minor
            ),
            (
                nights_total,
                discount,
                listing.cleaning_fee_minor,
                fee,
                0,
                base + fee
            ),
            "{b:?}"
        );

        // The status follows the dates.
        let allowed: &[B] = if b.check_out < today {
            &[B::Completed, B::Cancelled, B::Expired, B::Declined]
        } else if b.check_in <= today {
            &[B::Confirmed, B::Cancelled]
        } else {
            &[
                B::Confirmed,
                B::AwaitingHost,
                B::PendingPayment,
                B::Cancelled,
            ]
        };
        assert!(allowed.contains(&b.status), "{b:?}");
        if matches!(b.status, B::PendingPayment | B::AwaitingHost) {
            assert!(b.expires_at.is_some_and(|at| at > now), "{b:?}");
        } else {
            assert_eq!(b.expires_at, None, "{b:?}");
        }
        if b.status == B::AwaitingHost {
            assert!(!listing.instant_book, "{b:?}");
        }
        if b.status == B::Cancelled {
            let percent = b.refund_percent.expect("refund percent");
            assert!([50, 100].contains(&percent), "{b:?}");
            assert_eq!(
                b.refund_minor,
                Some(percent_of(b.total_minor, i64::from(percent)))
            );
            assert!(b.cancelled_at.is_some_and(|at| at >= b.created_at));
            assert!(matches!(b.cancelled_by.as_deref(), Some("guest" | "host")));
        } else {
            assert_eq!(
                (b.cancelled_at, b.refund_percent, b.refund_minor),
                (None, None, None)
            );
        }

        // The payment follows the booking.
        let payment = payments.get(&b.id);
        let expected: &[P] = match b.status {
            B::Confirmed | B::Completed => &[P::Succeeded],
            B::AwaitingHost => &[P::Authorized],
            B::Cancelled => &[P::Refunded, P::PartiallyRefunded],
            B::Declined => &[P::Voided],
            B::Expired => &[P::Voided],
            B::PendingPayment => &[],
        };
        match payment {
            None => assert!(
                expected.is_empty() || b.status == B::Expired,
                "{b:?} has no payment"
            ),
            Some(p) => {
                assert!(expected.contains(&p.status), "{b:?}: {p:?}");
                assert_eq!((p.amount_minor, &p.currency), (b.total_minor, &b.currency));
                assert_eq!(
                    p.refunded_minor,
                    if b.status == B::Cancelled {
                        b.refund_minor.unwrap_or(-1)
                    } else {
                        0
                    }
                );
                assert_eq!(
                    p.status == P::Refunded,
                    p.refunded_minor == p.amount_minor && b.status == B::Cancelled
                );
                assert_eq!(p.provider, entity::payment::PaymentProvider::Simulated);
                assert_eq!(
                    p.provider_reference,
                    Some(format!("sim_pi_{}", p.id.simple()))
                );
                assert_eq!(p.idempotency_key, format!("seed-{}", b.id));
                assert!(
                    p.created_at >= b.created_at
                        && p.updated_at >= p.created_at
                        && p.updated_at <= now
                );
            }
        }
    }
    // The mix: mostly stays that happened (three quarters of the window is
    // past), then stays to come.
    for (status, least) in [
        (B::Completed, 500),
        (B::Confirmed, 150),
        (B::Cancelled, 30),
        (B::AwaitingHost, 5),
    ] {
        let n = statuses.get(&status).copied().unwrap_or(0);
        assert!(n >= least, "{n} {status:?} bookings: {statuses:?}");
    }
    assert!(
        statuses.get(&B::PendingPayment).copied().unwrap_or(0) <= 20,
        "{statuses:?}"
    );

    // The app reads them: a guest sees a cancelled stay with its refund, and
    // a confirmed stay to come takes its listing's nights.
    let cancelled = bookings
        .iter()
        .find(|b| b.status == B::Cancelled)
        .expect("a cancelled booking");
    let guest = entity::user::Entity::find_by_id(cancelled.guest_id)
        .one(db)
        .await
        .expect("guest")
        .expect("a guest");
    let login = app.login(&guest.email, seed::PASSWORD).await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token");
    let seen = app
        .gql_as(
            Some(token),
            "query($id: ID!) { booking(id: $id) { status refundAmount { amount } payment { status refundedAmount { amount } } } }",
            json!({ "id": encode(NodeType::Booking, cancelled.id).0 }),
        )
        .await;
    assert_eq!(seen["data"]["booking"]["status"], "CANCELLED", "{seen}");
    assert_eq!(
        seen["data"]["booking"]["refundAmount"]["amount"],
        seen["data"]["booking"]["payment"]["refundedAmount"]["amount"],
        "{seen}"
    );
    let coming = bookings
        .iter()
        .find(|b| b.status == B::Confirmed && b.check_in > today)
        .expect("a confirmed stay to come");
    let free = app
        .gql(
            "query($id: ID!, $in: Date!, $out: Date!) { property(id: $id) { isAvailable(checkIn: $in, checkOut: $out) } }",
            json!({
                "id": encode(NodeType::Property, coming.property_id).0,
                "in": coming.check_in.to_string(),
                "out": coming.check_out.to_string(),
            }),
        )
        .await;
    assert_eq!(free["data"]["property"]["isAvailable"], false, "{free}");
}

#[tokio::test]
async fn seeded_users_sign_in_and_find_listings_in_every_city() {
    let app = seeded(0.1, 1).await;
    for email in ["host1@example.com", "guest1@example.com", seed::ADMIN_EMAIL] {
        let resp = app.login(email, seed::PASSWORD).await;
        assert!(resp["errors"].is_null(), "{email}: {resp}");
    }
    let admin = app.login(seed::ADMIN_EMAIL, seed::PASSWORD).await;
    assert_eq!(admin["data"]["login"]["user"]["role"], "ADMIN");
    let resp = app
        .gql("{ properties(filter: { city: \"Lisbon\" }, orderBy: PRICE_ASC, first: 5) { totalCount nodes { location { city } amenities { code } } } }", json!({}))
        .await;
    // 500 listings round-robin over 50 cities.
    assert_eq!(resp["data"]["properties"]["totalCount"], 10, "{resp}");
    let nodes = resp["data"]["properties"]["nodes"]
        .as_array()
        .expect("nodes");
    assert!(nodes.iter().all(|n| n["location"]["city"] == "Lisbon"));
    assert!(
        nodes
            .iter()
            .all(|n| (5..=15).contains(&n["amenities"].as_array().expect("amenities").len()))
    );
    // Seeding twice is refused.
    let passwords = roost::auth::passwords::Passwords::new(256, 1)
        .await
        .expect("passwords");
    let again = seed::seed(
        &app.db,
        &passwords,
        &app.points(),
        SeedOptions {
            scale: 0.1,
            seed: 1,
        },
    )
    .await;
    assert!(
        again
            .expect_err("seeded already")
            .to_string()
            .contains("already seeded")
    );
}

#[tokio::test]
async fn serve_demo_seeds_an_empty_database_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::fresh(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_roost"))
            .args(["serve", "--demo"])
            .env("ROOST_BIND", format!("127.0.0.1:{port}"))
            .env("ROOST_DATA_DIR", dir.path())
            .env("DATABASE_URL", &db.url)
            .env_remove("REDIS_URL")
            .env("ROOST_ARGON2_MEMORY_KIB", "256")
            .env("ROOST_ARGON2_ITERATIONS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn roost")
    };
    let client = crate::helpers::client();
    let query =
        json!({ "query": "{ properties(first: 1) { totalCount nodes { photos { url } } } }" });
    for _ in 0..2 {
        let mut child = start();
        let started = std::time::Instant::now();
        let total = loop {
            if let Ok(resp) = client
                .post(format!("http://127.0.0.1:{port}/graphql"))
                .json(&query)
                .send()
                .await
            {
                let body: serde_json::Value = resp.json().await.expect("json");
                let photo = body["data"]["properties"]["nodes"][0]["photos"][0]["url"]
                    .as_str()
                    .map(str::to_owned);
                break (body["data"]["properties"]["totalCount"].clone(), photo);
            }
            assert!(started.elapsed() < SOON * 3, "server did not start");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let (total, photo) = total;
        assert_eq!(
            total, 100,
            "the demo has 100 listings, and a second start adds none"
        );
        let photo = photo.expect("demo listings have photos");
        let image = client.get(&photo).send().await.expect("photo");
        assert_eq!(image.headers()["content-type"], "image/png");
        assert!(image.bytes().await.expect("bytes").starts_with(b"\x89PNG"));
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
}

/// A new user's first visit to the demo: search a city for free dates within
/// a map viewport and with amenities, open a listing with its photos,
/// calendar and a quote, then, as its host, change the price and see the
/// quote follow.
#[tokio::test]
async fn a_first_visit_to_the_demo() {
    let app = seeded(0.2, 1).await;
    let storage = roost::storage::Storage::new(&app.config.storage, &app.url("")).expect("storage");
    assert_eq!(
        seed::photos::add(&app.db, &storage).await.expect("photos"),
        2500
    );

    let (check_in, check_out) = (crate::helpers::day(40), crate::helpers::day(43));
    let search = app
        .gql(
            "query($in: Date!, $out: Date!) { properties(filter: { city: \"Paris\", checkIn: $in, checkOut: $out, \
             bounds: { north: 49.0, south: 48.7, east: 2.6, west: 2.1 }, amenities: [\"wifi\"] }, orderBy: PRICE_ASC) { \
             totalCount nodes { id title pricePerNight { amount } host { id } } } }",
            json!({ "in": check_in, "out": check_out }),
        )
        .await;
    let found = search["data"]["properties"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(!found.is_empty(), "{search}");
    let listing = &found[0];
    let id = listing["id"].as_str().expect("id");

    let page = "query($id: ID!, $in: Date!, $out: Date!) { property(id: $id) { title photos { url caption position } \
                calendar(from: $in, to: $out) { date available price { amount } } isAvailable(checkIn: $in, checkOut: $out) \
                quote(checkIn: $in, checkOut: $out, guests: 1) { nights nightsTotal { amount } total { amount } } } }";
    let vars = json!({ "id": id, "in": check_in, "out": check_out });
    let before = app.gql(page, vars.clone()).await;
    let p = &before["data"]["property"];
    assert!(
        p["photos"].as_array().expect("photos").len() >= 2,
        "{before}"
    );
    assert_eq!(p["photos"][0]["position"], 0);
    let photo = app
        .http
        .get(p["photos"][0]["url"].as_str().expect("url"))
        .send()
        .await
        .expect("photo");
    assert_eq!(photo.status(), 200);
    assert_eq!(p["isAvailable"], true);
    assert_eq!(p["calendar"].as_array().expect("calendar").len(), 3);
    assert_eq!(p["quote"]["nights"], 3);

    // The host signs in and raises the price; the quote follows.
    // An admin looks up the host's email, which only admins may see.
    let admin = app.login(seed::ADMIN_EMAIL, seed::PASSWORD).await;
    let admin_token = admin["data"]["login"]["accessToken"]
        .as_str()
        .expect("token");
    let host = app
        .gql_as(
            Some(admin_token),
            "query($id: ID!) { user(id: $id) { email } }",
            json!({ "id": listing["host"]["id"] }),
        )
        .await;
    let host_email = host["data"]["user"]["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let login = app.login(&host_email, seed::PASSWORD).await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let update = app
        .gql_as(
            Some(&token),
            "mutation($id: ID!) { updateProperty(id: $id, input: { pricePerNight: \"999.00\" }) { pricePerNight { amount } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        update["data"]["updateProperty"]["pricePerNight"]["amount"], "999.00",
        "{update}"
    );
    let after = app.gql(page, vars).await;
    assert_eq!(
        after["data"]["property"]["quote"]["nightsTotal"]["amount"],
        "2997.00"
    );
    assert_ne!(
        after["data"]["property"]["quote"]["total"],
        p["quote"]["total"]
    );
}

#[derive(FromQueryResult, PartialEq, Debug)]
struct MessageRow {
    id: uuid::Uuid,
    conversation_id: uuid::Uuid,
    sender_id: uuid::Uuid,
    body: String,
}

async fn message_rows(db: &DatabaseConnection) -> Vec<MessageRow> {
    MessageRow::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT id, conversation_id, sender_id, body FROM messages ORDER BY id",
    ))
    .all(db)
    .await
    .expect("message rows")
}

/// The messages of the workload: as many as the scale says, in
/// conversations of two, with the denormalized fields agreeing with a
/// recomputation from the messages; the same seed gives the same ones.
#[tokio::test]
async fn seeded_messages_have_the_workload_shape() {
    let a = seeded(0.05, 11).await;
    let db = &a.db;
    assert_eq!(count_rows(db, "messages").await, 1_000);
    let conversations = count_rows(db, "conversations").await;
    assert!(
        (1_000 / 9..=1_000 / 3).contains(&conversations),
        "{conversations}"
    );
    assert_eq!(
        count_rows(db, "conversation_participants").await,
        2 * conversations
    );
    // 1 to 9 messages each; most about a booked listing.
    assert_eq!(
        count_where(
            db,
            "conversations c",
            "(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) NOT BETWEEN 1 AND 9"
        )
        .await,
        0
    );
    let about = count_where(
        db,
        "conversations c",
        "EXISTS (SELECT 1 FROM bookings b WHERE b.property_id = c.property_id)",
    )
    .await;
    assert!(
        about * 10 >= conversations * 5,
        "{about} of {conversations}"
    );
    // Every sender takes part; nobody talks to themself.
    assert_eq!(
        count_where(
            db,
            "messages m",
            "NOT EXISTS (SELECT 1 FROM conversation_participants p \
             WHERE p.conversation_id = m.conversation_id AND p.user_id = m.sender_id)"
        )
        .await,
        0
    );
    assert_eq!(
        count_where(
            db,
            "conversations c",
            "(SELECT COUNT(DISTINCT p.user_id) FROM conversation_participants p WHERE p.conversation_id = c.id) <> 2"
        )
        .await,
        0
    );
    // The denormalized fields, recomputed.
    for (table, wrong) in [
        (
            "conversations c",
            "c.updated_at <> (SELECT MAX(m.sent_at) FROM messages m WHERE m.conversation_id = c.id)",
        ),
        (
            "conversations c",
            "c.last_message_id IS NULL OR c.last_message_id <> (SELECT m.id FROM messages m \
             WHERE m.conversation_id = c.id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1)",
        ),
        (
            "conversations c",
            "c.created_at <> (SELECT MIN(m.sent_at) FROM messages m WHERE m.conversation_id = c.id)",
        ),
        (
            "conversation_participants p",
            "p.updated_at <> (SELECT c.updated_at FROM conversations c WHERE c.id = p.conversation_id)",
        ),
        (
            "conversation_participants p",
            "p.unread_count <> (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = p.conversation_id \
             AND m.sender_id <> p.user_id AND m.read_at IS NULL)",
        ),
        (
            "messages m",
            "m.read_at IS NOT NULL AND m.read_at < m.sent_at",
        ),
    ] {
        assert_eq!(
            count_where(db, table, wrong).await,
            0,
            "{table} where {wrong}"
        );
    }
    // Mostly read; some of the newest still unread.
    let unread = count_where(db, "messages", "read_at IS NULL").await;
    assert!((1..=200).contains(&unread), "{unread}");
    // Within the two years before today, in order.
    let rows = entity::message::Entity::find()
        .all(db)
        .await
        .expect("messages");
    let now = Utc::now();
    assert!(
        rows.iter()
            .all(|m| m.sent_at < now && m.sent_at > now - Duration::days(2 * 365 + 1)),
        "times"
    );

    let b = seeded(0.05, 11).await;
    let c = seeded(0.05, 12).await;
    let messages = message_rows(db).await;
    assert_eq!(
        messages,
        message_rows(&b.db).await,
        "seed 11 twice: messages"
    );
    assert_ne!(
        messages,
        message_rows(&c.db).await,
        "another seed: messages"
    );
}

#[derive(FromQueryResult, PartialEq, Debug)]
struct ReviewRow {
    id: uuid::Uuid,
    booking_id: uuid::Uuid,
    rating: i32,
    cleanliness: Option<i32>,
    value: Option<i32>,
    comment: String,
    host_response: Option<String>,
}

async fn review_rows(db: &DatabaseConnection) -> Vec<ReviewRow> {
    ReviewRow::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT id, booking_id, rating, cleanliness, value, comment, host_response FROM reviews ORDER BY id",
    ))
    .all(db)
    .await
    .expect("review rows")
}

/// Reviews of the workload: on completed stays that ended more than 14 days
/// ago (those of the last 14 days are left to review), mostly good, and the
/// listings' and hosts' aggregates exactly what the reviews give.
#[tokio::test]
async fn seeded_reviews_have_the_workload_shape_and_exact_aggregates() {
    let app = seeded(0.05, 3).await;
    let db = &app.db;
    let today = Utc::now().date_naive();
    let cutoff = today - Duration::days(14);
    let older = count_where(
        db,
        "bookings",
        &format!("status = 'COMPLETED' AND check_out < '{cutoff}'"),
    )
    .await;
    let reviews = count_rows(db, "reviews").await;
    // 30,000 at scale 1: 1,500 at this scale, of more stays than that.
    assert_eq!(reviews, 1500, "{older} older completed stays");
    assert!(older > 1500, "{older}");
    // Only completed stays, older than 14 days, of their own guest and host.
    assert_eq!(
        count_where(
            db,
            "reviews r JOIN bookings b ON b.id = r.booking_id",
            &format!(
                "b.status <> 'COMPLETED' OR b.check_out >= '{cutoff}' OR r.author_id <> b.guest_id \
                 OR r.host_id <> b.host_id OR r.property_id <> b.property_id"
            ),
        )
        .await,
        0
    );
    let reviewable = count_where(
        db,
        "bookings",
        &format!("status = 'COMPLETED' AND check_out >= '{cutoff}' AND check_out < '{today}'"),
    )
    .await;
    assert!(reviewable >= 10, "{reviewable} reviewable stays");
    // Ratings lean to 4 and 5; most rate the categories; some answered.
    let good = count_where(db, "reviews", "rating >= 4").await;
    assert!(good * 100 >= reviews * 75, "{good} of {reviews}");
    let bad = count_where(db, "reviews", "rating <= 2").await;
    assert!(bad > 0 && bad * 100 <= reviews * 10, "{bad} of {reviews}");
    let rated = count_where(db, "reviews", "cleanliness IS NOT NULL").await;
    assert!(rated * 100 >= reviews * 70 && rated < reviews, "{rated}");
    let answered = count_where(db, "reviews", "host_response IS NOT NULL").await;
    assert!(
        answered * 100 >= reviews * 20 && answered * 100 <= reviews * 40,
        "{answered}"
    );
    assert_eq!(
        count_where(
            db,
            "reviews",
            "(host_response IS NULL) <> (host_responded_at IS NULL) OR host_responded_at < created_at"
        )
        .await,
        0
    );

    // Every listing's summary, and every host's rating, is a recomputation
    // over the reviews.
    let mut disagree = vec![
        "p.rating_count <> (SELECT COUNT(*) FROM reviews r WHERE r.property_id = p.id)".to_owned(),
        "p.rating_sum <> (SELECT COALESCE(SUM(r.rating), 0) FROM reviews r WHERE r.property_id = p.id)"
            .to_owned(),
    ];
    for c in [
        "cleanliness",
        "accuracy",
        "check_in",
        "communication",
        "location",
        "value",
    ] {
        disagree.push(format!(
            "p.{c}_count <> (SELECT COUNT(r.{c}) FROM reviews r WHERE r.property_id = p.id) \
             OR p.{c}_sum <> (SELECT COALESCE(SUM(r.{c}), 0) FROM reviews r WHERE r.property_id = p.id)"
        ));
    }
    assert_eq!(
        count_where(db, "properties p", &disagree.join(" OR ")).await,
        0
    );
    assert!(count_where(db, "properties", "rating_count > 0").await > 100);
    for p in entity::property::Entity::find()
        .all(db)
        .await
        .expect("listings")
    {
        let expected = if p.rating_count > 0 {
            f64::from(p.rating_sum) / f64::from(p.rating_count)
        } else {
            0.0
        };
        assert!((p.rating_avg - expected).abs() < 1e-9, "{p:?}");
    }
    assert_eq!(
        count_where(
            db,
            "users u",
            "u.host_rating_count <> (SELECT COUNT(*) FROM reviews r WHERE r.host_id = u.id) \
             OR u.host_rating_sum <> (SELECT COALESCE(SUM(r.rating), 0) FROM reviews r WHERE r.host_id = u.id)"
        )
        .await,
        0
    );
    // Each host's public listing count and each listing's amenity codes
    // are kept on their rows.
    assert_eq!(
        count_where(
            db,
            "users u",
            "u.listings_count <> (SELECT COUNT(*) FROM properties p WHERE p.host_id = u.id \
             AND p.status = 'LISTED' AND p.deleted_at IS NULL)"
        )
        .await,
        0
    );
    assert!(count_where(db, "users", "listings_count > 0").await > 0);
    for p in entity::property::Entity::find()
        .all(db)
        .await
        .expect("listings")
    {
        let mut stored: Vec<&str> = p.amenity_codes.split(',').collect();
        stored.sort_unstable();
        let mut linked: Vec<String> = entity::property_amenity::Entity::find()
            .filter(entity::property_amenity::Column::PropertyId.eq(p.id))
            .all(db)
            .await
            .expect("links")
            .into_iter()
            .map(|l| l.amenity_code)
            .collect();
        linked.sort_unstable();
        assert_eq!(stored, linked, "{}", p.id);
        assert!((5..=15).contains(&linked.len()));
    }

    // The app reads them: the newest review of a reviewed listing, and its
    // host's rating.
    let listing = entity::property::Entity::find()
        .all(db)
        .await
        .expect("listings")
        .into_iter()
        .max_by_key(|p| (p.rating_count, p.id))
        .expect("a reviewed listing");
    let resp = app
        .gql(
            "query($id: ID!) { property(id: $id) { rating { count } reviews(first: 3) { totalCount nodes { rating author { firstName } } } host { hostRating } } }",
            json!({ "id": encode(NodeType::Property, listing.id).0 }),
        )
        .await;
    let p = &resp["data"]["property"];
    assert_eq!(p["rating"]["count"], listing.rating_count, "{resp}");
    assert_eq!(p["reviews"]["totalCount"], listing.rating_count);
    assert_eq!(p["reviews"]["nodes"].as_array().map(Vec::len), Some(3));
    assert!(p["host"]["hostRating"].is_f64(), "{resp}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_reviews() {
    let a = seeded(0.02, 5).await;
    let b = seeded(0.02, 5).await;
    let c = seeded(0.02, 6).await;
    let rows = review_rows(&a.db).await;
    assert!(rows.len() >= 300, "{}", rows.len());
    assert_eq!(rows, review_rows(&b.db).await, "seed 5 twice");
    assert_ne!(rows, review_rows(&c.db).await, "another seed");
}
