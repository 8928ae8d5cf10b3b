//! `roost seed` and `roost serve --demo`.

use std::process::{Command, Stdio};

use roost::seed::{self, SeedOptions};
use sea_orm::{DatabaseConnection, FromQueryResult, Statement};
use serde_json::json;

use crate::helpers::{SOON, TestDatabase, count_rows, spawn_app};

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

async fn seeded(scale: f64, seed_number: u64) -> crate::helpers::TestApp {
    let app = spawn_app().await;
    let passwords = roost::auth::passwords::Passwords::new(256, 1)
        .await
        .expect("passwords");
    let report = seed::seed(
        &app.db,
        &passwords,
        SeedOptions {
            scale,
            seed: seed_number,
        },
    )
    .await
    .expect("seed");
    assert_eq!(report.users, (10_000.0 * scale).round() as usize);
    assert_eq!(report.properties, (5_000.0 * scale).round() as usize);
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
    assert_eq!(count_rows(&a.db, "users").await, 1000);
    // 200 hosts, one admin; every listing is priced 30 to 800.
    assert!(
        rows.iter()
            .all(|r| (3_000..=80_000).contains(&r.price_cents))
    );
    let links = count_rows(&a.db, "property_amenities").await;
    assert!((500 * 5..=500 * 15).contains(&links), "{links}");
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
