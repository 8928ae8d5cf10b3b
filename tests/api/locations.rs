//! Private homes (RULES.md section 13): the exact address and coordinates
//! for the host, admins and guests with a CONFIRMED or COMPLETED stay; for
//! everyone else "<city>, <country>" and one fixed public point within 1 km,
//! which is also all that search by place compares.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, spawn_app};

const EXACT: (f64, f64) = (38.7223, -9.1393);
const LOCATION: &str = "location { address city country latitude longitude exact }";

async fn location(app: &TestApp, viewer: Option<&Session>, id: &str) -> Value {
    let resp = app
        .gql_as(
            viewer.map(|s| s.access_token.as_str()),
            &format!("query($id: ID!) {{ property(id: $id) {{ {LOCATION} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let location = resp["data"]["property"]["location"].clone();
    assert!(location.is_object(), "{resp}");
    location
}

fn exact() -> Value {
    json!({
        "address": "12 Quay Street",
        "city": "Lisbon",
        "country": "Portugal",
        "latitude": EXACT.0,
        "longitude": EXACT.1,
        "exact": true,
    })
}

/// Great-circle distance in metres.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn point(location: &Value) -> (f64, f64) {
    (
        location["latitude"].as_f64().expect("latitude"),
        location["longitude"].as_f64().expect("longitude"),
    )
}

/// The public location: city-level address, a point within 1 km with at
/// most three decimals, never the home itself.
fn assert_public(location: &Value) -> (f64, f64) {
    assert_eq!(location["address"], "Lisbon, Portugal", "{location}");
    assert_eq!(location["city"], "Lisbon");
    assert_eq!(location["country"], "Portugal");
    assert_eq!(location["exact"], false, "{location}");
    let p = point(location);
    let d = metres(EXACT, p);
    assert!(
        (100.0..=1_000.0).contains(&d),
        "{d} m from the home: {location}"
    );
    // As the JSON writes them: three decimals at most, no binary noise.
    for v in [&location["latitude"], &location["longitude"]] {
        let written = v.to_string();
        assert!(
            written.split('.').nth(1).is_none_or(|d| d.len() <= 3),
            "{written} has more than 3 places"
        );
    }
    p
}

async fn listing(app: &TestApp, host: &Session) -> String {
    app.instant_listing(
        host,
        json!({ "latitude": EXACT.0, "longitude": EXACT.1, "address": "12 Quay Street" }),
    )
    .await
}

#[tokio::test]
async fn the_exact_place_is_for_the_host_admins_and_confirmed_guests_only() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let guest = app.register("guest@example.com").await;
    let stranger = app.register("stranger@example.com").await;
    let admin = app.register("admin@example.com").await;
    app.make_admin("admin@example.com").await;
    let id = listing(&app, &host).await;

    assert_eq!(location(&app, Some(&host), &id).await, exact());
    // The role is read with the viewer's row: the same token now admins.
    assert_eq!(location(&app, Some(&admin), &id).await, exact());

    let public = assert_public(&location(&app, None, &id).await);
    assert_eq!(point(&location(&app, Some(&stranger), &id).await), public);

    // A booking waiting for payment is not enough.
    let booking = app.book(&guest, &id, 10, 2).await;
    assert_eq!(booking["status"], "PENDING_PAYMENT");
    assert_eq!(point(&assert_public_of(&app, &guest, &id).await), public);
    // Confirmed: the guest is told where to go.
    let booking_id = booking["id"].as_str().expect("id").to_owned();
    app.pay(&guest, &booking_id, "pm_card_visa").await;
    app.wait_for_status(&guest, &booking_id, "CONFIRMED", "SUCCEEDED")
        .await;
    assert_eq!(location(&app, Some(&guest), &id).await, exact());
    // Through the booking too, and still not for anyone else.
    let resp = app
        .gql_as(
            Some(&guest.access_token),
            &format!("query($id: ID!) {{ booking(id: $id) {{ property {{ {LOCATION} }} }} }}"),
            json!({ "id": booking_id }),
        )
        .await;
    assert_eq!(
        resp["data"]["booking"]["property"]["location"],
        exact(),
        "{resp}"
    );
    assert_eq!(point(&assert_public_of(&app, &stranger, &id).await), public);
}

async fn assert_public_of(app: &TestApp, viewer: &Session, id: &str) -> Value {
    let location = location(app, Some(viewer), id).await;
    assert_public(&location);
    location
}

#[tokio::test]
async fn every_read_and_search_gives_one_and_the_same_public_point() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let id = listing(&app, &host).await;
    let first = assert_public(&location(&app, None, &id).await);
    for _ in 0..50 {
        assert_eq!(point(&location(&app, None, &id).await), first);
    }
    let resp = app
        .gql(
            &format!(
                "{{ properties(filter: {{ city: \"Lisbon\" }}) {{ nodes {{ {LOCATION} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let found = &resp["data"]["properties"]["nodes"][0]["location"];
    assert_eq!(point(found), first, "{resp}");
    assert_eq!(found["address"], "Lisbon, Portugal");
    // A restart (the point is kept, and placed the same way if it were not).
    let stored: (Option<f64>, Option<f64>) = {
        use sea_orm::{EntityTrait, QuerySelect};
        entity::property::Entity::find()
            .select_only()
            .columns([
                entity::property::Column::PublicLatitude,
                entity::property::Column::PublicLongitude,
            ])
            .into_tuple()
            .one(&app.db)
            .await
            .expect("read")
            .expect("a row")
    };
    assert_eq!(stored, (Some(first.0), Some(first.1)));
}

/// How many listings a search finds.
async fn found(app: &TestApp, filter: &str) -> i64 {
    let resp = app
        .gql(
            &format!("{{ properties(filter: {filter}) {{ totalCount }} }}"),
            json!({}),
        )
        .await;
    resp["data"]["properties"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{resp}"))
}

/// A box `half` degrees either way of `p`.
fn bounds(p: (f64, f64), half_lat: f64, half_lng: f64) -> String {
    format!(
        "{{ bounds: {{ north: {}, south: {}, east: {}, west: {} }} }}",
        p.0 + half_lat,
        p.0 - half_lat,
        p.1 + half_lng,
        p.1 - half_lng
    )
}

#[tokio::test]
async fn searches_by_place_see_only_the_public_point() {
    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let id = listing(&app, &host).await;
    let public =
        assert_public(&location(&app, Some(&app.register("x@example.com").await), &id).await);

    // 200 m around the home: about 0.0009 degrees of latitude, 0.00115 of
    // longitude at Lisbon.
    let (half_lat, half_lng) = (0.2 / 111.195, 0.2 / (111.195 * EXACT.0.to_radians().cos()));
    let inside = |p: (f64, f64)| {
        (EXACT.0 - half_lat..=EXACT.0 + half_lat).contains(&p.0)
            && (EXACT.1 - half_lng..=EXACT.1 + half_lng).contains(&p.1)
    };
    assert_eq!(
        found(&app, &bounds(EXACT, half_lat, half_lng)).await,
        i64::from(inside(public)),
        "a 200 m box around the home finds it only if the public point is in it"
    );
    // Around the public point it is found, and by a radius around it.
    assert_eq!(found(&app, &bounds(public, 0.0005, 0.0005)).await, 1);
    assert_eq!(
        found(
            &app,
            &format!(
                "{{ near: {{ latitude: {}, longitude: {} }}, radiusKm: 0.05 }}",
                public.0, public.1
            )
        )
        .await,
        1
    );
    // A 50 m radius around the home does not (the point is at least 100 m
    // away).
    assert_eq!(
        found(
            &app,
            &format!(
                "{{ near: {{ latitude: {}, longitude: {} }}, radiusKm: 0.05 }}",
                EXACT.0, EXACT.1
            )
        )
        .await,
        0
    );
    // Distances are measured to the public point.
    let resp = app
        .gql(
            &format!(
                "{{ properties(filter: {{ near: {{ latitude: {}, longitude: {} }}, radiusKm: 5 }}, orderBy: DISTANCE) {{ edges {{ cursor node {{ id }} }} }} }}",
                public.0, public.1
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        resp["data"]["properties"]["edges"][0]["node"]["id"], id,
        "{resp}"
    );

    // Moving the home moves the public point with it, by the same offset.
    let moved = (EXACT.0 + 0.01, EXACT.1);
    let resp = app
        .gql_as(
            Some(&host.access_token),
            "mutation($id: ID!, $lat: Float!) { updateProperty(id: $id, input: { latitude: $lat }) { location { latitude exact } } }",
            json!({ "id": id, "lat": moved.0 }),
        )
        .await;
    assert_eq!(
        resp["data"]["updateProperty"]["location"]["exact"], true,
        "{resp}"
    );
    let after = point(&location(&app, None, &id).await);
    assert!(
        (after.0 - public.0 - 0.01).abs() < 0.0015,
        "{public:?} -> {after:?}"
    );
    assert!(metres(moved, after) <= 1_000.0);
}

/// Rows written by other tools (a bulk load) have no public point: reads
/// place it the same way the server will store it, search by place skips
/// them until then, and the fill every server runs as it starts stores it.
#[tokio::test]
async fn listings_loaded_without_a_public_point_get_the_one_they_showed() {
    use entity::property::{Column as P, Entity as Properties};
    use sea_orm::{EntityTrait, QuerySelect, sea_query::Expr};

    let app = spawn_app().await;
    let host = app.host("host@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(listing(&app, &host).await);
    }
    let placed = assert_public(&location(&app, None, &ids[0]).await);
    Properties::update_many()
        .col_expr(P::PublicLatitude, Expr::value(Option::<f64>::None))
        .col_expr(P::PublicLongitude, Expr::value(Option::<f64>::None))
        .exec(&app.db)
        .await
        .expect("forget the points");

    // Shown all the same, and the same.
    assert_eq!(assert_public(&location(&app, None, &ids[0]).await), placed);
    let near = format!(
        "{{ near: {{ latitude: {}, longitude: {} }}, radiusKm: 5 }}",
        EXACT.0, EXACT.1
    );
    assert_eq!(
        found(&app, &near).await,
        0,
        "not found by place without a point"
    );

    let filled = roost::properties::location::fill_missing(&app.db, &app.points())
        .await
        .expect("fill");
    assert_eq!(filled, 3);
    let stored: Vec<(Option<f64>, Option<f64>)> = Properties::find()
        .select_only()
        .columns([P::PublicLatitude, P::PublicLongitude])
        .into_tuple()
        .all(&app.db)
        .await
        .expect("read");
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|(a, b)| a.is_some() && b.is_some()),
        "{stored:?}"
    );
    assert_eq!(point(&location(&app, None, &ids[0]).await), placed);
    assert_eq!(found(&app, &near).await, 3);
    // Nothing left to do the second time.
    let again = roost::properties::location::fill_missing(&app.db, &app.points())
        .await
        .expect("fill");
    assert_eq!(again, 0);
}
