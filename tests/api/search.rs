//! Search: every filter and order on a small fixed dataset, and pagination.
//!
//! Every test starts from the same eleven LISTED listings (plus a DRAFT, an
//! UNLISTED and a deleted one that match almost every filter and must never
//! be found) and compares what `properties` returns with the exact titles
//! expected, in the exact order. Creation order is the order of `listings()`,
//! so NEWEST is that list backwards.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, day, spawn_app};

const ALFAMA: &str = "Alfama attic room";
const BAIXA: &str = "Baixa design loft";
const CASCAIS: &str = "Cascais beach house";
const SINTRA: &str = "Sintra garden cottage";
const PORTO: &str = "Porto riverside flat";
const MADRID: &str = "Madrid hostel bunk";
const MALAGA: &str = "Malaga seaside villa";
const SUVA: &str = "Harbour market room";
const TAVEUNI: &str = "Taveuni dateline cabin";
const VANUA: &str = "Vanua Balavu lagoon hut";
const APIA: &str = "Apia beach fale";

const DRAFT: &str = "Draft beach house";
const UNLISTED: &str = "Unlisted beach house";
const DELETED: &str = "Deleted beach house";

/// Every listed listing, newest first.
const NEWEST: [&str; 11] = [
    APIA, VANUA, TAVEUNI, SUVA, MALAGA, MADRID, PORTO, SINTRA, CASCAIS, BAIXA, ALFAMA,
];

/// Prices: 25, 45, 60, 80, 95.50 (Porto, then Vanua: created later), 120
/// (Baixa, then Sintra), 140, 180, 250.
const PRICE_ASC: [&str; 11] = [
    MADRID, APIA, SUVA, ALFAMA, PORTO, VANUA, BAIXA, SINTRA, TAVEUNI, MALAGA, CASCAIS,
];

const PRICE_DESC: [&str; 11] = [
    CASCAIS, MALAGA, TAVEUNI, SINTRA, BAIXA, VANUA, PORTO, ALFAMA, SUVA, APIA, MADRID,
];

/// Lisbon's centre, where the hidden listings also stand.
const LISBON: (f64, f64) = (38.7223, -9.1393);
/// A point in Fiji just west of the antimeridian.
const FIJI: (f64, f64) = (-17.0, 179.9);

fn point((latitude, longitude): (f64, f64)) -> Value {
    json!({ "latitude": latitude, "longitude": longitude })
}

/// The fixed dataset, in creation order. Distances from LISBON with the
/// server's formula: Baixa 1.38 km, Alfama 1.42, Sintra 22.86, Cascais
/// 24.63, Porto 273.77, Malaga 465.86, Madrid 507.80. From FIJI: Taveuni
/// 18.26, Vanua Balavu 124.93 (across the antimeridian), Suva 200.38, Apia
/// 953.53.
fn listings() -> Vec<Value> {
    vec![
        json!({
            "title": ALFAMA,
            "description": "A cosy room under the roof, with views over the old town.",
            "propertyType": "PRIVATE_ROOM", "city": "Lisbon", "country": "Portugal",
            "latitude": 38.7118, "longitude": -9.13, "pricePerNight": "80.00",
            "maxGuests": 2, "bedrooms": 1, "amenities": ["wifi"], "instantBook": false,
        }),
        json!({
            "title": BAIXA,
            "description": "Designer flat with two bedrooms, close to the river.",
            "propertyType": "ENTIRE_PLACE", "city": "Lisbon", "country": "Portugal",
            "latitude": 38.71, "longitude": -9.137, "pricePerNight": "120.00",
            "maxGuests": 4, "bedrooms": 2, "amenities": ["wifi", "kitchen"], "instantBook": true,
        }),
        json!({
            "title": CASCAIS,
            "description": "Sunny house by the beaches, a short train ride from Lisbon.",
            "propertyType": "ENTIRE_PLACE", "city": "Cascais", "country": "Portugal",
            "latitude": 38.6979, "longitude": -9.4215, "pricePerNight": "250.00",
            "maxGuests": 8, "bedrooms": 4,
            "amenities": ["wifi", "kitchen", "pool", "beachfront"], "instantBook": true,
            "minNights": 2, "maxNights": 14,
        }),
        json!({
            "title": SINTRA,
            "description": "Stone cottage with a garden and mountain views.",
            "propertyType": "ENTIRE_PLACE", "city": "Sintra", "country": "Portugal",
            "latitude": 38.8029, "longitude": -9.3817, "pricePerNight": "120.00",
            "maxGuests": 3, "bedrooms": 1, "amenities": ["kitchen", "free_parking"],
            "instantBook": false, "minNights": 3, "maxNights": 30,
        }),
        json!({
            "title": PORTO,
            "description": "Flat on the river with views of the bridges.",
            "propertyType": "ENTIRE_PLACE", "city": "Porto", "country": "Portugal",
            "latitude": 41.1496, "longitude": -8.611, "pricePerNight": "95.50",
            "maxGuests": 2, "bedrooms": 1, "amenities": ["wifi", "kitchen"], "instantBook": true,
        }),
        json!({
            "title": MADRID,
            "description": "Bunk in a shared dorm near the main square.",
            "propertyType": "SHARED_ROOM", "city": "Madrid", "country": "Spain",
            "latitude": 40.4168, "longitude": -3.7038, "pricePerNight": "25.00",
            "maxGuests": 1, "bedrooms": 0, "amenities": ["wifi"], "instantBook": true,
        }),
        json!({
            "title": MALAGA,
            "description": "Villa on the beach with a private pool.",
            "propertyType": "ENTIRE_PLACE", "city": "Málaga", "country": "Spain",
            "latitude": 36.7213, "longitude": -4.4214, "pricePerNight": "180.00",
            "maxGuests": 6, "bedrooms": 3,
            "amenities": ["wifi", "kitchen", "pool", "beachfront", "hot_tub"],
            "instantBook": false, "minNights": 7, "maxNights": 60,
        }),
        json!({
            "title": SUVA,
            "description": "Simple room above the harbour market.",
            "propertyType": "PRIVATE_ROOM", "city": "Suva", "country": "Fiji",
            "latitude": -18.1416, "longitude": 178.4419, "pricePerNight": "60.00",
            "maxGuests": 2, "bedrooms": 1, "amenities": [], "instantBook": false,
        }),
        json!({
            "title": TAVEUNI,
            "description": "Wooden cabin on the dateline with a hot tub.",
            "propertyType": "ENTIRE_PLACE", "city": "Taveuni", "country": "Fiji",
            "latitude": -16.85, "longitude": 179.97, "pricePerNight": "140.00",
            "maxGuests": 4, "bedrooms": 2, "amenities": ["kitchen", "hot_tub"],
            "instantBook": true,
        }),
        json!({
            "title": VANUA,
            "description": "Thatched hut over a quiet lagoon.",
            "propertyType": "ENTIRE_PLACE", "city": "Vanua Balavu", "country": "Fiji",
            "latitude": -17.23, "longitude": -178.95, "pricePerNight": "95.50",
            "maxGuests": 5, "bedrooms": 2, "amenities": ["beachfront"], "instantBook": false,
        }),
        json!({
            "title": APIA,
            "description": "Open fale right on the beach.",
            "propertyType": "SHARED_ROOM", "city": "Apia", "country": "Samoa",
            "latitude": -13.8333, "longitude": -171.7667, "pricePerNight": "45.00",
            "maxGuests": 3, "bedrooms": 1, "amenities": ["wifi", "beachfront"],
            "instantBook": true,
        }),
    ]
}

/// A listing that would match almost any search if search showed it.
fn hidden(title: &str, status: &str) -> Value {
    json!({
        "title": title,
        "description": "Sunny house by the beach in Lisbon, with river views.",
        "propertyType": "ENTIRE_PLACE", "city": "Lisbon", "country": "Portugal",
        "latitude": LISBON.0, "longitude": LISBON.1, "pricePerNight": "120.00",
        "maxGuests": 8, "bedrooms": 4,
        "amenities": ["wifi", "kitchen", "pool", "beachfront", "hot_tub", "free_parking"],
        "instantBook": true, "status": status,
    })
}

const UPDATE_PROPERTY: &str = "mutation($id: ID!, $input: UpdatePropertyInput!) { updateProperty(id: $id, input: $input) { id status } }";

/// A fresh app, its host and the listings created so far.
struct Fixture {
    app: TestApp,
    host: Session,
    /// Listing ids by title, hidden ones included.
    ids: HashMap<String, String>,
}

impl Fixture {
    /// A fresh app with a host and no listings yet.
    async fn empty() -> Self {
        let app = spawn_app().await;
        let host = app.host("host@example.com").await;
        Self {
            app,
            host,
            ids: HashMap::new(),
        }
    }

    /// Creates a listing (`property_input()` with these fields) as the host.
    ///
    /// Search compares listings' public points (RULES.md section 13), each
    /// within 1 km of the home in a direction of its own; these tests are
    /// about the geometry of search, so each listing's public point is put
    /// where its home is, and the distances below hold for both. That
    /// search reads the public point and never the home is `locations.rs`'s.
    async fn add(&mut self, listing: Value) {
        let title = listing["title"].as_str().expect("title").to_owned();
        let id = self.app.create_property(&self.host, listing).await;
        let uuid = roost::graphql::ids::decode_as(roost::graphql::ids::NodeType::Property, &id)
            .expect("a listing id");
        use entity::property::{Column as P, Entity as Properties};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        Properties::update_many()
            .col_expr(P::PublicLatitude, Expr::col(P::Latitude))
            .col_expr(P::PublicLongitude, Expr::col(P::Longitude))
            .filter(P::Id.eq(uuid))
            .exec(&self.app.db)
            .await
            .expect("place the public point");
        self.ids.insert(title, id);
    }
}

async fn fixture() -> Fixture {
    let mut f = Fixture::empty().await;
    for (i, listing) in listings().into_iter().enumerate() {
        f.add(listing).await;
        // The hidden listings are created among the others, so that they
        // would fall inside every ordering if search let them through.
        let extra = match i {
            4 => Some((DRAFT, "DRAFT")),
            7 => Some((UNLISTED, "LISTED")),
            9 => Some((DELETED, "LISTED")),
            _ => None,
        };
        if let Some((title, status)) = extra {
            f.add(hidden(title, status)).await;
        }
    }

    let resp = f
        .as_host(
            UPDATE_PROPERTY,
            json!({ "id": f.id(UNLISTED), "input": { "status": "UNLISTED" } }),
        )
        .await;
    assert_eq!(
        resp["data"]["updateProperty"]["status"], "UNLISTED",
        "{resp}"
    );
    let resp = f
        .as_host(
            "mutation($id: ID!) { deleteProperty(id: $id) }",
            json!({ "id": f.id(DELETED) }),
        )
        .await;
    assert_eq!(resp["data"]["deleteProperty"], true, "{resp}");

    // Baixa is blocked for the nights of days 10 and 11, Porto for day 14.
    f.block(BAIXA, 10, 12).await;
    f.block(PORTO, 14, 15).await;
    f
}

const SEARCH: &str = "query($filter: PropertyFilter, $orderBy: PropertyOrder, $first: Int, $after: String) { \
    properties(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { \
    totalCount edges { cursor node { id title } } nodes { id title } \
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

/// One page of a search, checked for internal consistency.
#[derive(Debug)]
struct Page {
    titles: Vec<String>,
    ids: Vec<String>,
    total: i64,
    has_next: bool,
    has_previous: bool,
    end_cursor: Option<String>,
}

/// Reads a successful search answer, asserting that `nodes` are the edges'
/// nodes and that `startCursor`/`endCursor` are the first/last edge cursors.
#[track_caller]
fn page(resp: &Value) -> Page {
    assert!(resp["errors"].is_null(), "search failed: {resp}");
    let conn = &resp["data"]["properties"];
    let edges = conn["edges"].as_array().expect("edges");
    let edge_nodes: Vec<&Value> = edges.iter().map(|e| &e["node"]).collect();
    let nodes: Vec<&Value> = conn["nodes"].as_array().expect("nodes").iter().collect();
    assert_eq!(nodes, edge_nodes, "nodes equal the edges' nodes: {resp}");
    let cursors: Vec<&str> = edges
        .iter()
        .map(|e| e["cursor"].as_str().expect("every edge has a cursor"))
        .collect();
    let info = &conn["pageInfo"];
    assert_eq!(
        info["startCursor"].as_str(),
        cursors.first().copied(),
        "startCursor is the first edge's cursor: {resp}"
    );
    assert_eq!(
        info["endCursor"].as_str(),
        cursors.last().copied(),
        "endCursor is the last edge's cursor: {resp}"
    );
    Page {
        titles: edge_nodes
            .iter()
            .map(|n| n["title"].as_str().expect("title").to_owned())
            .collect(),
        ids: edge_nodes
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect(),
        total: conn["totalCount"].as_i64().expect("totalCount"),
        has_next: info["hasNextPage"].as_bool().expect("hasNextPage"),
        has_previous: info["hasPreviousPage"].as_bool().expect("hasPreviousPage"),
        end_cursor: info["endCursor"].as_str().map(str::to_owned),
    }
}

impl Fixture {
    fn id(&self, title: &str) -> &str {
        self.ids.get(title).expect("a listing of the dataset")
    }

    async fn as_host(&self, query: &str, vars: Value) -> Value {
        self.app
            .gql_as(Some(&self.host.access_token), query, vars)
            .await
    }

    /// Blocks the nights of days `from..to` (from today) of a listing.
    async fn block(&self, title: &str, from: i64, to: i64) {
        let resp = self
            .as_host(
                "mutation($input: UpdateCalendarInput!) { updateCalendar(input: $input) { date available } }",
                json!({ "input": {
                    "propertyId": self.id(title), "from": day(from), "to": day(to), "available": false,
                }}),
            )
            .await;
        let days = resp["data"]["updateCalendar"]
            .as_array()
            .unwrap_or_else(|| panic!("updateCalendar failed: {resp}"));
        assert_eq!(days.len(), usize::try_from(to - from).expect("range"));
        assert!(days.iter().all(|d| d["available"] == false), "{resp}");
    }

    /// The raw answer to a search with these arguments.
    async fn search(&self, args: Value) -> Value {
        self.app.gql(SEARCH, args).await
    }

    /// Every title a filter finds, NEWEST first, in one page.
    async fn find(&self, filter: Value) -> Vec<String> {
        self.find_ordered(filter, "NEWEST").await
    }

    /// Every title a filter finds in this order, in one page whose
    /// `totalCount` must be exact.
    async fn find_ordered(&self, filter: Value, order: &str) -> Vec<String> {
        self.find_as(None, filter, order).await
    }

    async fn find_as(&self, token: Option<&str>, filter: Value, order: &str) -> Vec<String> {
        let args = json!({ "filter": filter, "orderBy": order, "first": 50 });
        let resp = self.app.gql_as(token, SEARCH, args.clone()).await;
        assert!(resp["errors"].is_null(), "search {args} failed: {resp}");
        let p = page(&resp);
        assert!(!p.has_next, "one page holds every result: {resp}");
        assert!(
            !p.has_previous,
            "a first page has nothing before it: {resp}"
        );
        assert_eq!(
            p.total,
            i64::try_from(p.titles.len()).expect("count"),
            "totalCount is exact: {resp}"
        );
        p.titles
    }

    /// Walks a search forwards `first` at a time, checking every page, and
    /// asserts the walk gives exactly the single-page result, which must be
    /// `expected`.
    async fn walk(&self, filter: Value, order: &str, first: usize, expected: &[&str]) {
        let all = self.find_ordered(filter.clone(), order).await;
        assert_eq!(all, expected, "{order} over {filter}");
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut args = json!({ "filter": filter, "orderBy": order, "first": first });
            if let Some(cursor) = &after {
                args["after"] = json!(cursor);
            }
            let resp = self.search(args).await;
            let p = page(&resp);
            pages += 1;
            assert_eq!(
                p.total,
                i64::try_from(expected.len()).expect("count"),
                "totalCount is the whole result on every page: {resp}"
            );
            assert_eq!(
                p.has_previous,
                after.is_some(),
                "hasPreviousPage is false on the first page only: {resp}"
            );
            if p.has_next {
                assert_eq!(
                    p.titles.len(),
                    first,
                    "a page before the last is full: {resp}"
                );
            } else {
                assert!(!p.titles.is_empty() || expected.is_empty(), "{resp}");
            }
            for (title, id) in p.titles.iter().zip(&p.ids) {
                assert_eq!(self.id(title), id, "{title} has its own id");
            }
            seen.extend(p.titles);
            // A walk that goes on longer than the result is repeating itself.
            if !p.has_next || pages > expected.len() {
                break;
            }
            after = Some(
                p.end_cursor
                    .expect("a page with a next one has an endCursor"),
            );
        }
        assert_eq!(
            seen, expected,
            "pages of {first} in {order} over {filter} neither skip nor repeat a listing"
        );
        let distinct: HashSet<&String> = seen.iter().collect();
        assert_eq!(distinct.len(), seen.len(), "no duplicates in {order}");
        assert_eq!(
            pages,
            expected.len().div_ceil(first).max(1),
            "pages of {order}"
        );
    }
}

/// Titles in the order given, for comparing with a search result.
fn titles(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| (*t).to_owned()).collect()
}

#[tokio::test]
async fn no_filter_finds_every_listed_property_newest_first() {
    let f = fixture().await;
    assert_eq!(f.find(json!({})).await, NEWEST);
    assert_eq!(f.find_ordered(json!(null), "NEWEST").await, NEWEST);

    // The defaults: NEWEST, and every listing fits in the default page.
    let resp = f.app.gql(SEARCH, json!({})).await;
    let p = page(&resp);
    assert_eq!(p.titles, NEWEST);
    assert_eq!(p.total, 11);
    assert_eq!(p.ids[0], f.id(APIA));
    assert_eq!(p.ids[10], f.id(ALFAMA));

    // first = 100 is the largest page allowed.
    let resp = f
        .app
        .gql(
            "{ properties(first: 100) { totalCount nodes { title } } }",
            json!({}),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["properties"]["totalCount"], 11);
}

#[tokio::test]
async fn draft_unlisted_and_deleted_listings_are_never_found_even_by_their_host() {
    let f = fixture().await;
    let token = Some(f.host.access_token.as_str());
    let hidden_everywhere = [
        json!({}),
        json!({ "city": "Lisbon" }),
        json!({ "text": "beach house" }),
        json!({ "near": point(LISBON), "radiusKm": 1 }),
        json!({ "amenities": ["free_parking", "hot_tub"] }),
        json!({ "minPrice": "120.00", "maxPrice": "120.00" }),
    ];
    let expected: [&[&str]; 6] = [
        &NEWEST,
        &[BAIXA, ALFAMA],
        &[CASCAIS],
        &[],
        &[],
        &[SINTRA, BAIXA],
    ];
    for (filter, expected) in hidden_everywhere.iter().zip(expected) {
        assert_eq!(
            f.find_as(token, filter.clone(), "NEWEST").await,
            expected,
            "as the host: {filter}"
        );
        assert_eq!(
            f.find(filter.clone()).await,
            expected,
            "anonymously: {filter}"
        );
    }
    for (order, expected) in [
        ("PRICE_ASC", PRICE_ASC),
        ("PRICE_DESC", PRICE_DESC),
        ("RATING_DESC", NEWEST),
    ] {
        assert_eq!(
            f.find_as(token, json!({}), order).await,
            expected,
            "as the host: {order}"
        );
    }
    assert_eq!(
        f.find_as(
            token,
            json!({ "near": point(LISBON), "radiusKm": 2 }),
            "DISTANCE"
        )
        .await,
        [BAIXA, ALFAMA]
    );

    // They exist: the host sees the draft and the unlisted one by id; the
    // deleted one is gone for everyone.
    for (title, status) in [(DRAFT, json!("DRAFT")), (UNLISTED, json!("UNLISTED"))] {
        let resp = f
            .as_host(
                "query($id: ID!) { property(id: $id) { title status } }",
                json!({ "id": f.id(title) }),
            )
            .await;
        assert_eq!(resp["data"]["property"]["status"], status, "{resp}");
    }
    let resp = f
        .as_host(
            "query($id: ID!) { property(id: $id) { title } }",
            json!({ "id": f.id(DELETED) }),
        )
        .await;
    assert_eq!(resp["data"]["property"], Value::Null, "{resp}");

    // Listed again, the unlisted one takes its place by creation time.
    let resp = f
        .as_host(
            UPDATE_PROPERTY,
            json!({ "id": f.id(UNLISTED), "input": { "status": "LISTED" } }),
        )
        .await;
    assert_eq!(resp["data"]["updateProperty"]["status"], "LISTED", "{resp}");
    assert_eq!(
        f.find(json!({})).await,
        [
            APIA, VANUA, TAVEUNI, UNLISTED, SUVA, MALAGA, MADRID, PORTO, SINTRA, CASCAIS, BAIXA,
            ALFAMA
        ]
    );
    assert_eq!(
        f.find(json!({ "city": "lisbon" })).await,
        [UNLISTED, BAIXA, ALFAMA]
    );
}

#[tokio::test]
async fn text_matches_every_word_in_title_description_or_city_with_stemming() {
    let f = fixture().await;
    let cases: [(&str, &[&str]); 12] = [
        // "beaches" and "beach" share a stem.
        ("beaches", &[APIA, MALAGA, CASCAIS]),
        ("beach", &[APIA, MALAGA, CASCAIS]),
        // A city matches through the city field (Alfama, Baixa) or the
        // description (Cascais).
        ("lisbon", &[CASCAIS, BAIXA, ALFAMA]),
        // Suva appears only in the city field.
        ("Suva", &[SUVA]),
        ("  VIEWS ", &[PORTO, SINTRA, ALFAMA]),
        ("view", &[PORTO, SINTRA, ALFAMA]),
        // Every word must match.
        ("river views", &[PORTO]),
        ("river", &[PORTO, BAIXA]),
        ("sunny house", &[CASCAIS]),
        ("room", &[SUVA, ALFAMA]),
        ("lagoon cabin", &[]),
        ("castle", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(f.find(json!({ "text": text })).await, expected, "{text:?}");
    }
}

#[tokio::test]
async fn city_and_country_match_whole_names_ignoring_case_and_spaces() {
    let f = fixture().await;
    let cases: [(Value, &[&str]); 9] = [
        (json!({ "city": "Lisbon" }), &[BAIXA, ALFAMA]),
        (json!({ "city": "  LISBON " }), &[BAIXA, ALFAMA]),
        (json!({ "city": "MÁLAGA" }), &[MALAGA]),
        (json!({ "city": "vanua balavu" }), &[VANUA]),
        (json!({ "city": "Vanua" }), &[]),
        (
            json!({ "country": "portugal" }),
            &[PORTO, SINTRA, CASCAIS, BAIXA, ALFAMA],
        ),
        (json!({ "country": " SPAIN" }), &[MALAGA, MADRID]),
        (json!({ "country": "Fiji " }), &[VANUA, TAVEUNI, SUVA]),
        (json!({ "city": "Lisbon", "country": "Spain" }), &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.find(filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn near_finds_listings_within_the_radius_default_25_km() {
    let f = fixture().await;
    let cases: [(Value, &[&str]); 10] = [
        // Cascais is 24.63 km away: inside the default 25 km.
        (
            json!({ "near": point(LISBON) }),
            &[SINTRA, CASCAIS, BAIXA, ALFAMA],
        ),
        (
            json!({ "near": point(LISBON), "radiusKm": 24 }),
            &[SINTRA, BAIXA, ALFAMA],
        ),
        (
            json!({ "near": point(LISBON), "radiusKm": 5 }),
            &[BAIXA, ALFAMA],
        ),
        (json!({ "near": point(LISBON), "radiusKm": 1 }), &[]),
        // 500 km is the largest radius: Malaga (466 km) in, Madrid (508) out.
        (
            json!({ "near": point(LISBON), "radiusKm": 500 }),
            &[MALAGA, PORTO, SINTRA, CASCAIS, BAIXA, ALFAMA],
        ),
        // Across the antimeridian, from either side of it.
        (
            json!({ "near": point(FIJI), "radiusKm": 150 }),
            &[VANUA, TAVEUNI],
        ),
        (
            json!({ "near": point(FIJI), "radiusKm": 250 }),
            &[VANUA, TAVEUNI, SUVA],
        ),
        (
            json!({ "near": point((-17.0, -179.5)), "radiusKm": 150 }),
            &[VANUA, TAVEUNI],
        ),
        // On the antimeridian itself, written either way.
        (
            json!({ "near": point((-17.0, 180.0)), "radiusKm": 150 }),
            &[VANUA, TAVEUNI],
        ),
        (
            json!({ "near": point((-17.0, -180.0)), "radiusKm": 150 }),
            &[VANUA, TAVEUNI],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.find(filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn distance_order_puts_the_nearest_first() {
    let f = fixture().await;
    assert_eq!(
        f.find_ordered(
            json!({ "near": point(LISBON), "radiusKm": 500 }),
            "DISTANCE"
        )
        .await,
        [BAIXA, ALFAMA, SINTRA, CASCAIS, PORTO, MALAGA]
    );
    assert_eq!(
        f.find_ordered(json!({ "near": point(FIJI), "radiusKm": 250 }), "DISTANCE")
            .await,
        [TAVEUNI, VANUA, SUVA]
    );
    // Taveuni is 58.8 km from this point, Vanua Balavu 63.8 km.
    assert_eq!(
        f.find_ordered(
            json!({ "near": point((-17.0, -179.5)), "radiusKm": 150 }),
            "DISTANCE"
        )
        .await,
        [TAVEUNI, VANUA]
    );
    // From Vanua Balavu itself: itself, then Taveuni, then Suva.
    assert_eq!(
        f.find_ordered(
            json!({ "near": point((-17.23, -178.95)), "radiusKm": 500 }),
            "DISTANCE"
        )
        .await,
        [VANUA, TAVEUNI, SUVA]
    );
}

#[tokio::test]
async fn bounds_select_a_map_viewport_even_across_the_antimeridian() {
    let f = fixture().await;
    let bounds = |north: f64, south: f64, east: f64, west: f64| json!({ "bounds": { "north": north, "south": south, "east": east, "west": west } });
    let cases: [(Value, &[&str]); 7] = [
        (
            bounds(42.0, 38.0, -8.0, -10.0),
            &[PORTO, SINTRA, CASCAIS, BAIXA, ALFAMA],
        ),
        (
            bounds(44.0, 36.0, 0.0, -10.0),
            &[MALAGA, MADRID, PORTO, SINTRA, CASCAIS, BAIXA, ALFAMA],
        ),
        (bounds(38.72, 38.70, -9.13, -9.14), &[BAIXA, ALFAMA]),
        // West > east: the viewport crosses the antimeridian.
        (
            bounds(-10.0, -20.0, -170.0, 175.0),
            &[APIA, VANUA, TAVEUNI, SUVA],
        ),
        (bounds(-15.0, -19.0, -175.0, 178.0), &[VANUA, TAVEUNI, SUVA]),
        // Each side of it on its own.
        (bounds(-15.0, -19.0, 180.0, 179.0), &[TAVEUNI]),
        (bounds(-15.0, -19.0, -178.0, -180.0), &[VANUA]),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.find(filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn check_in_and_check_out_find_listings_free_for_a_stay_of_an_accepted_length() {
    let f = fixture().await;
    let stay = |from: i64, to: i64| json!({ "checkIn": day(from), "checkOut": day(to) });
    let cases: [(Value, &[&str]); 6] = [
        // One night: Baixa is blocked; Cascais (2+), Sintra (3+) and Malaga
        // (7+) take no one-night stays.
        (
            stay(10, 11),
            &[APIA, VANUA, TAVEUNI, SUVA, MADRID, PORTO, ALFAMA],
        ),
        // From today.
        (
            stay(0, 1),
            &[APIA, VANUA, TAVEUNI, SUVA, MADRID, PORTO, BAIXA, ALFAMA],
        ),
        // The night before Baixa's block: checking out on a blocked day is
        // fine.
        (
            stay(9, 10),
            &[APIA, VANUA, TAVEUNI, SUVA, MADRID, PORTO, BAIXA, ALFAMA],
        ),
        // Four nights up to Porto's blocked night 14, which is not part of it.
        (
            stay(10, 14),
            &[
                APIA, VANUA, TAVEUNI, SUVA, MADRID, PORTO, SINTRA, CASCAIS, ALFAMA,
            ],
        ),
        // Three nights taking in Porto's blocked night; Baixa is free again.
        (
            stay(12, 15),
            &[
                APIA, VANUA, TAVEUNI, SUVA, MADRID, SINTRA, CASCAIS, BAIXA, ALFAMA,
            ],
        ),
        // Twenty nights: longer than Cascais takes (14).
        (
            stay(20, 40),
            &[
                APIA, VANUA, TAVEUNI, SUVA, MALAGA, MADRID, PORTO, SINTRA, BAIXA, ALFAMA,
            ],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.find(filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn guests_price_type_amenity_instant_book_and_bedroom_filters_each_narrow_the_result() {
    let f = fixture().await;
    let cases: [(Value, &[&str]); 22] = [
        (json!({ "guests": 5 }), &[VANUA, MALAGA, CASCAIS]),
        (json!({ "guests": 1 }), &NEWEST),
        (json!({ "guests": 9 }), &[]),
        // Prices are inclusive at both ends.
        (
            json!({ "minPrice": "95.50", "maxPrice": "120" }),
            &[VANUA, PORTO, SINTRA, BAIXA],
        ),
        (json!({ "minPrice": "95.51", "maxPrice": "119.99" }), &[]),
        (json!({ "minPrice": "180.00" }), &[MALAGA, CASCAIS]),
        (json!({ "maxPrice": "45" }), &[APIA, MADRID]),
        (json!({ "minPrice": "0" }), &NEWEST),
        (
            json!({ "propertyTypes": ["SHARED_ROOM", "PRIVATE_ROOM"] }),
            &[APIA, SUVA, MADRID, ALFAMA],
        ),
        (json!({ "propertyTypes": ["SHARED_ROOM"] }), &[APIA, MADRID]),
        (
            json!({ "propertyTypes": ["ENTIRE_PLACE"] }),
            &[VANUA, TAVEUNI, MALAGA, PORTO, SINTRA, CASCAIS, BAIXA],
        ),
        // Amenities: all of them.
        (
            json!({ "amenities": ["wifi", "kitchen"] }),
            &[MALAGA, PORTO, CASCAIS, BAIXA],
        ),
        (
            json!({ "amenities": ["beachfront"] }),
            &[APIA, VANUA, MALAGA, CASCAIS],
        ),
        (
            json!({ "amenities": ["hot_tub", "pool", "beachfront"] }),
            &[MALAGA],
        ),
        (json!({ "amenities": ["free_parking"] }), &[SINTRA]),
        (
            json!({ "amenities": ["wifi", "wifi"] }),
            &[APIA, MALAGA, MADRID, PORTO, CASCAIS, BAIXA, ALFAMA],
        ),
        (
            json!({ "instantBook": true }),
            &[APIA, TAVEUNI, MADRID, PORTO, CASCAIS, BAIXA],
        ),
        (
            json!({ "instantBook": false }),
            &[VANUA, SUVA, MALAGA, SINTRA, ALFAMA],
        ),
        (
            json!({ "minBedrooms": 2 }),
            &[VANUA, TAVEUNI, MALAGA, CASCAIS, BAIXA],
        ),
        (json!({ "minBedrooms": 3 }), &[MALAGA, CASCAIS]),
        (json!({ "minBedrooms": 0 }), &NEWEST),
        (json!({ "minBedrooms": 5 }), &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.find(filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn min_rating_finds_nothing_while_no_listing_has_reviews() {
    let f = fixture().await;
    for rating in [1.0, 3.5, 5.0] {
        assert_eq!(
            f.find(json!({ "minRating": rating })).await,
            Vec::<String>::new(),
            "{rating}"
        );
    }
    // The empty page is still a well-formed connection.
    let resp = f.search(json!({ "filter": { "minRating": 1 } })).await;
    let p = page(&resp);
    assert_eq!((p.total, p.has_next, p.has_previous), (0, false, false));
    assert_eq!(p.end_cursor, None);
}

#[tokio::test]
async fn several_filters_combine() {
    let f = fixture().await;
    assert_eq!(
        f.find(json!({ "city": "Lisbon", "maxPrice": "100" })).await,
        [ALFAMA]
    );
    let portugal_wifi = json!({
        "country": "Portugal", "amenities": ["wifi"], "instantBook": true, "guests": 2,
    });
    assert_eq!(f.find(portugal_wifi.clone()).await, [PORTO, CASCAIS, BAIXA]);
    assert_eq!(
        f.find_ordered(portugal_wifi, "PRICE_ASC").await,
        [PORTO, BAIXA, CASCAIS]
    );
    assert_eq!(
        f.find_ordered(
            json!({
                "near": point(LISBON), "checkIn": day(12), "checkOut": day(15),
                "propertyTypes": ["ENTIRE_PLACE"],
            }),
            "DISTANCE"
        )
        .await,
        [BAIXA, SINTRA, CASCAIS]
    );
    assert_eq!(
        f.find(json!({
            "text": "beach",
            "bounds": { "north": -10.0, "south": -20.0, "east": -170.0, "west": 175.0 },
        }))
        .await,
        [APIA]
    );
    let roomy_kitchens = json!({ "minBedrooms": 2, "amenities": ["kitchen"], "maxPrice": "200" });
    assert_eq!(
        f.find(roomy_kitchens.clone()).await,
        [TAVEUNI, MALAGA, BAIXA]
    );
    assert_eq!(
        f.find_ordered(roomy_kitchens, "PRICE_DESC").await,
        [MALAGA, TAVEUNI, BAIXA]
    );

    // Every filter at once.
    let mut everything = json!({
        "text": "views", "country": "portugal", "near": point(LISBON), "radiusKm": 30,
        "bounds": { "north": 42.0, "south": 38.0, "east": -8.0, "west": -10.0 },
        "checkIn": day(20), "checkOut": day(40), "guests": 2,
        "minPrice": "50", "maxPrice": "150", "propertyTypes": ["ENTIRE_PLACE", "PRIVATE_ROOM"],
        "amenities": ["kitchen"], "instantBook": false, "minBedrooms": 1,
    });
    assert_eq!(f.find(everything.clone()).await, [SINTRA]);
    assert_eq!(
        f.find_ordered(everything.clone(), "DISTANCE").await,
        [SINTRA]
    );
    everything["instantBook"] = json!(true);
    assert_eq!(f.find(everything.clone()).await, Vec::<String>::new());
    everything["instantBook"] = json!(false);
    everything["minRating"] = json!(1);
    assert_eq!(f.find(everything).await, Vec::<String>::new());
}

#[tokio::test]
async fn every_order_sorts_the_whole_result_with_id_tie_breaks() {
    let f = fixture().await;
    assert_eq!(f.find_ordered(json!({}), "NEWEST").await, NEWEST);
    assert_eq!(f.find_ordered(json!({}), "PRICE_ASC").await, PRICE_ASC);
    assert_eq!(f.find_ordered(json!({}), "PRICE_DESC").await, PRICE_DESC);
    let mut reversed = titles(&PRICE_ASC);
    reversed.reverse();
    assert_eq!(reversed, PRICE_DESC, "PRICE_DESC is PRICE_ASC backwards");
    // No reviews yet: every rating is equal and the id decides, newest first.
    assert_eq!(f.find_ordered(json!({}), "RATING_DESC").await, NEWEST);
    // Asking twice gives the same order.
    for order in ["NEWEST", "PRICE_ASC", "PRICE_DESC", "RATING_DESC"] {
        assert_eq!(
            f.find_ordered(json!({}), order).await,
            f.find_ordered(json!({}), order).await,
            "{order}"
        );
    }
}

#[tokio::test]
async fn every_order_pages_forwards_without_gaps_or_duplicates() {
    let f = fixture().await;
    f.walk(json!({}), "NEWEST", 2, &NEWEST).await;
    f.walk(json!({}), "PRICE_ASC", 2, &PRICE_ASC).await;
    f.walk(json!({}), "PRICE_DESC", 2, &PRICE_DESC).await;
    f.walk(json!({}), "RATING_DESC", 2, &NEWEST).await;
    f.walk(
        json!({ "near": point(LISBON), "radiusKm": 500 }),
        "DISTANCE",
        2,
        &[BAIXA, ALFAMA, SINTRA, CASCAIS, PORTO, MALAGA],
    )
    .await;
}

#[tokio::test]
async fn filtered_searches_page_across_ties_one_and_three_at_a_time() {
    let f = fixture().await;
    let mid_price = json!({ "minPrice": "90", "maxPrice": "150" });
    f.walk(
        mid_price.clone(),
        "PRICE_ASC",
        1,
        &[PORTO, VANUA, BAIXA, SINTRA, TAVEUNI],
    )
    .await;
    f.walk(
        mid_price.clone(),
        "PRICE_DESC",
        1,
        &[TAVEUNI, SINTRA, BAIXA, VANUA, PORTO],
    )
    .await;
    f.walk(
        mid_price,
        "NEWEST",
        3,
        &[VANUA, TAVEUNI, PORTO, SINTRA, BAIXA],
    )
    .await;
    f.walk(
        json!({ "near": point(FIJI), "radiusKm": 250 }),
        "DISTANCE",
        1,
        &[TAVEUNI, VANUA, SUVA],
    )
    .await;
    f.walk(json!({ "minRating": 1 }), "RATING_DESC", 2, &[])
        .await;
    // A page as large as the result: one page, no next.
    f.walk(json!({}), "PRICE_ASC", 11, &PRICE_ASC).await;
}

#[tokio::test]
async fn bad_arguments_are_bad_user_input_naming_the_field() {
    let f = fixture().await;
    let first_page = |order: &str| json!({ "orderBy": order, "first": 2 });
    let resp = f.search(first_page("PRICE_ASC")).await;
    let price_cursor = page(&resp).end_cursor.expect("a cursor");

    let cases: Vec<(Value, &str)> = vec![
        (json!({ "first": 0 }), "first"),
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "orderBy": "DISTANCE" }), "orderBy"),
        (
            json!({ "orderBy": "DISTANCE", "filter": { "city": "Lisbon" } }),
            "orderBy",
        ),
        (json!({ "filter": { "radiusKm": 10 } }), "filter.radiusKm"),
        (
            json!({ "filter": { "near": point(LISBON), "radiusKm": 0 } }),
            "filter.radiusKm",
        ),
        (
            json!({ "filter": { "near": point(LISBON), "radiusKm": 500.5 } }),
            "filter.radiusKm",
        ),
        (
            json!({ "filter": { "near": point(LISBON), "radiusKm": -5 } }),
            "filter.radiusKm",
        ),
        (
            json!({ "filter": { "checkIn": day(10) } }),
            "filter.checkOut",
        ),
        (
            json!({ "filter": { "checkOut": day(10) } }),
            "filter.checkIn",
        ),
        (
            json!({ "filter": { "checkIn": day(10), "checkOut": day(9) } }),
            "filter.checkOut",
        ),
        (
            json!({ "filter": { "checkIn": day(10), "checkOut": day(10) } }),
            "filter.checkOut",
        ),
        (
            json!({ "filter": { "checkIn": day(-1), "checkOut": day(2) } }),
            "filter.checkIn",
        ),
        (
            json!({ "filter": { "amenities": ["wifi", "moat"] } }),
            "filter.amenities",
        ),
        (
            json!({ "filter": { "minPrice": "100.01", "maxPrice": "100" } }),
            "filter.maxPrice",
        ),
        (json!({ "filter": { "minPrice": "-1" } }), "filter.minPrice"),
        (
            json!({ "filter": { "bounds": { "north": 10.0, "south": 20.0, "east": 5.0, "west": 0.0 } } }),
            "filter.bounds.south",
        ),
        (
            json!({ "filter": { "near": point((91.0, 0.0)) } }),
            "filter.near.latitude",
        ),
        (
            json!({ "filter": { "near": point((0.0, 180.5)) } }),
            "filter.near.longitude",
        ),
        (
            json!({ "filter": { "checkIn": day(366), "checkOut": day(367) } }),
            "filter.checkIn",
        ),
        (
            json!({ "filter": { "checkIn": day(1), "checkOut": day(367) } }),
            "filter.checkOut",
        ),
        (
            json!({ "filter": { "minPrice": "10.0001" } }),
            "filter.minPrice",
        ),
        (
            json!({ "filter": { "maxPrice": "100000.01" } }),
            "filter.maxPrice",
        ),
        (
            json!({ "filter": { "bounds": { "north": 91.0, "south": 20.0, "east": 5.0, "west": 0.0 } } }),
            "filter.bounds.north",
        ),
        (
            json!({ "filter": { "bounds": { "north": 30.0, "south": 20.0, "east": 181.0, "west": 0.0 } } }),
            "filter.bounds.east",
        ),
        (json!({ "filter": { "guests": 0 } }), "filter.guests"),
        (
            json!({ "filter": { "minRating": 5.5 } }),
            "filter.minRating",
        ),
        (
            json!({ "filter": { "minBedrooms": -1 } }),
            "filter.minBedrooms",
        ),
        (
            json!({ "filter": { "text": "a".repeat(201) } }),
            "filter.text",
        ),
        (json!({ "after": "not a cursor" }), "after"),
        (json!({ "after": "" }), "after"),
        // A cursor of another ordering.
        (
            json!({ "orderBy": "NEWEST", "after": price_cursor }),
            "after",
        ),
        (
            json!({ "orderBy": "PRICE_DESC", "after": price_cursor }),
            "after",
        ),
    ];
    for (args, field) in cases {
        let resp = f.search(args.clone()).await;
        assert_eq!(
            resp["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{args}: {resp}"
        );
        assert_eq!(
            resp["errors"][0]["extensions"]["field"], field,
            "{args}: {resp}"
        );
        assert_eq!(resp["data"], Value::Null, "{args}: {resp}");
    }

    // The same cursor goes on with the ordering it came from.
    let resp = f
        .search(json!({ "orderBy": "PRICE_ASC", "first": 2, "after": price_cursor }))
        .await;
    assert_eq!(page(&resp).titles, [SUVA, ALFAMA]);
}

#[tokio::test]
async fn injection_looking_text_is_only_words() {
    let f = fixture().await;
    let cases: [(&str, &[&str]); 8] = [
        ("'; DROP TABLE properties; --", &[]),
        ("\" OR 1=1", &[]),
        // No words but a common one, or none at all: no text filter.
        ("\" OR \"\"=\"", &NEWEST),
        ("*", &NEWEST),
        ("NEAR(a b)", &[]),
        // FTS syntax is taken as plain words.
        ("NEAR(dorm square)", &[MADRID]),
        ("beach* villa", &[MALAGA]),
        ("villa -beach", &[MALAGA]),
    ];
    for (text, expected) in cases {
        let resp = f
            .search(json!({ "filter": { "text": text }, "first": 50 }))
            .await;
        assert!(resp["errors"].is_null(), "{text:?}: {resp}");
        assert_eq!(page(&resp).titles, expected, "{text:?}");
    }
    // Nothing was dropped.
    assert_eq!(f.find(json!({})).await, NEWEST);
}

#[tokio::test]
async fn search_follows_changes_to_a_listing() {
    let f = fixture().await;
    let resp = f
        .as_host(
            UPDATE_PROPERTY,
            json!({ "id": f.id(ALFAMA), "input": {
                "title": "Alfama rooftop studio", "city": "Porto", "pricePerNight": "300.00",
                "amenities": ["pool"],
            }}),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let studio = "Alfama rooftop studio";
    assert_eq!(f.find(json!({ "text": "rooftop" })).await, [studio]);
    assert_eq!(
        f.find(json!({ "text": "attic" })).await,
        Vec::<String>::new()
    );
    assert_eq!(f.find(json!({ "text": "lisbon" })).await, [CASCAIS, BAIXA]);
    assert_eq!(f.find(json!({ "text": "porto" })).await, [PORTO, studio]);
    assert_eq!(f.find(json!({ "city": "porto" })).await, [PORTO, studio]);
    assert_eq!(f.find(json!({ "city": "lisbon" })).await, [BAIXA]);
    assert_eq!(
        f.find(json!({ "amenities": ["pool"] })).await,
        [MALAGA, CASCAIS, studio]
    );
    assert_eq!(
        f.find(json!({ "amenities": ["wifi"] })).await,
        [APIA, MALAGA, MADRID, PORTO, CASCAIS, BAIXA]
    );
    // Creation time, not the change, places it among the newest.
    assert_eq!(
        f.find_ordered(json!({}), "NEWEST")
            .await
            .last()
            .map(String::as_str),
        Some(studio)
    );
    assert_eq!(
        f.find_ordered(json!({}), "PRICE_DESC")
            .await
            .first()
            .map(String::as_str),
        Some(studio)
    );
}

#[tokio::test]
async fn common_english_words_are_left_out_of_a_text_search() {
    // PostgreSQL's english configuration drops words such as "by", "on"
    // and "the"; SQLite is made to drop the same ones, so both backends
    // answer alike: these searches are searches for "beach".
    let f = fixture().await;
    let beach = f.find(json!({ "text": "beach" })).await;
    assert_eq!(beach, [APIA, MALAGA, CASCAIS]);
    assert_eq!(f.find(json!({ "text": "beach by" })).await, beach);
    assert_eq!(f.find(json!({ "text": "on the beach" })).await, beach);
    // Only common words: no text filter at all.
    assert_eq!(
        f.find(json!({ "text": "the" })).await,
        f.find(json!({})).await
    );
}

#[tokio::test]
async fn distance_pages_neither_skip_nor_repeat_listings_at_any_distance() {
    // Squared distances from LISBON that take all 17 significant digits to
    // write down: the twins' (equal) one and the lone one's. A page must
    // resume exactly after its last listing whatever the distance, and
    // equal distances are broken by id.
    let mut f = Fixture::empty().await;
    let places = [
        ("Centre flat", LISBON),
        ("Twin flat one", (38.6, -9.2745)),
        ("Twin flat two", (38.6, -9.2745)),
        ("Lone flat", (38.6, -9.2898)),
        ("Far flat", (38.8029, -9.3817)),
    ];
    for (title, (latitude, longitude)) in places {
        f.add(json!({ "title": title, "latitude": latitude, "longitude": longitude }))
            .await;
    }
    let nearest_first = places.map(|(title, _)| title);
    let near = json!({ "near": point(LISBON) });
    f.walk(near.clone(), "DISTANCE", 1, &nearest_first).await;
    f.walk(near, "DISTANCE", 2, &nearest_first).await;
}

#[tokio::test]
async fn near_a_pole_the_radius_reaches_across_every_longitude() {
    // At 89.5° north a degree of longitude is under 1 km: the camp, 170
    // degrees of longitude away from the hut, is about 165 km from it (111
    // km along the great circle); the cabin, 4.5 degrees of latitude south,
    // is 500.4 km away.
    let mut f = Fixture::empty().await;
    for (title, (latitude, longitude)) in [
        ("Polar hut", (89.5, -80.0)),
        ("Polar camp", (89.5, 90.0)),
        ("Far north cabin", (85.0, -80.0)),
    ] {
        f.add(json!({ "title": title, "latitude": latitude, "longitude": longitude }))
            .await;
    }
    let near_hut = json!({ "near": point((89.5, -80.0)), "radiusKm": 500 });
    assert_eq!(
        f.find_ordered(near_hut.clone(), "DISTANCE").await,
        ["Polar hut", "Polar camp"]
    );
    assert_eq!(f.find(near_hut).await, ["Polar camp", "Polar hut"]);
}

/// The search and the property page read their rows by column position,
/// each value's PostgreSQL type checked by its OID: a column of another
/// type is an error, never a misread value.
#[tokio::test]
async fn values_read_by_position_check_their_postgres_type() {
    use entity::{position::ByPosition, property::ListingStatus};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let app = spawn_app().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped: needs TEST_DATABASE_URL (reads PostgreSQL's own types)");
        return;
    }
    let sql = "SELECT 7::int4, 7::int8, 'x'::text, NULL::text, 2.5::float4, 'LISTED'::varchar";
    let row = app
        .db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query")
        .expect("a row");
    assert_eq!(i32::read(&row, 0).ok(), Some(7));
    assert!(i64::read(&row, 0).is_err(), "int4 is not read as i64");
    assert_eq!(i64::read(&row, 1).ok(), Some(7));
    assert!(i32::read(&row, 1).is_err(), "int8 is not read as i32");
    assert_eq!(String::read(&row, 2).ok().as_deref(), Some("x"));
    assert_eq!(Option::<String>::read(&row, 3).ok(), Some(None));
    assert!(String::read(&row, 3).is_err(), "NULL is no String");
    assert!(f64::read(&row, 4).is_err(), "float4 is not read as f64");
    assert_eq!(
        ListingStatus::read(&row, 5).ok(),
        Some(ListingStatus::Listed)
    );
    assert!(ListingStatus::read(&row, 2).is_err(), "x is no status");
    assert!(String::read(&row, 6).is_err(), "past the last column");
}

/// A search page reads only the columns its selection needs
/// (`properties::columns`). Each field, asked for alone, answers on every
/// listing what the property page (which reads whole rows) answers; the
/// stored rating aggregates and fees get distinct values first, so reading
/// one column for another would show.
#[tokio::test]
async fn each_field_of_a_search_page_answers_what_the_property_page_does() {
    use sea_orm::ConnectionTrait;

    let f = fixture().await;
    f.app
        .db
        .execute_unprepared(
            "UPDATE properties SET rating_count = 4, rating_sum = 13 + bedrooms, \
             cleanliness_sum = 9, cleanliness_count = 2, accuracy_sum = 10, accuracy_count = 3, \
             check_in_sum = 5, check_in_count = 1, communication_sum = 14, communication_count = 4, \
             location_sum = 7, location_count = 2, value_sum = 11, value_count = 3, \
             weekly_discount_percent = 5, monthly_discount_percent = 12, \
             cleaning_fee_cents = 2500 + max_guests",
        )
        .await
        .expect("ratings");
    let fields = [
        "__typename",
        "host { id firstName }",
        "title",
        "description",
        "propertyType",
        "status",
        "location { address }",
        "location { city }",
        "location { country }",
        "location { latitude longitude }",
        "pricePerNight { amount currency }",
        "cleaningFee { amount currency }",
        "weeklyDiscountPercent",
        "monthlyDiscountPercent",
        "maxGuests",
        "bedrooms",
        "beds",
        "bathrooms",
        "amenities { code }",
        "photos { url }",
        "instantBook",
        "cancellationPolicy",
        "minNights",
        "maxNights",
        "rating { average }",
        "rating { count }",
        "rating { cleanliness }",
        "rating { accuracy }",
        "rating { checkIn }",
        "rating { communication }",
        "rating { location }",
        "rating { value }",
        "savedByMe",
        "createdAt",
        "updatedAt",
        "... on Property { title maxNights }",
    ];
    for field in fields {
        for shape in ["nodes { id FIELD }", "edges { node { id FIELD } }"] {
            let selection = shape.replace("FIELD", field);
            let query =
                format!("{{ properties(first: 20, orderBy: PRICE_ASC) {{ {selection} }} }}");
            let resp = f.app.gql(&query, json!({})).await;
            assert!(resp["errors"].is_null(), "{field}: {resp}");
            let list = &resp["data"]["properties"];
            let nodes: Vec<&Value> = match list["nodes"].as_array() {
                Some(nodes) => nodes.iter().collect(),
                None => list["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| &e["node"])
                    .collect(),
            };
            assert_eq!(nodes.len(), 11, "{field}: {resp}");
            for node in nodes {
                let one = f
                    .app
                    .gql(
                        &format!("query($id: ID!) {{ property(id: $id) {{ id {field} }} }}"),
                        json!({ "id": node["id"] }),
                    )
                    .await;
                assert_eq!(*node, one["data"]["property"], "{field}");
            }
        }
    }
}
