//! `properties(filter, orderBy, first, after)`: search over listed
//! properties, every filter combinable, keyset pagination on (sort key, id).
//!
//! Places are compared by each listing's public point, never its real one
//! (docs/API.md, Listings; `properties::location`), so no sequence of
//! searches finds a home closer than that point. Distances use a flat-earth
//! approximation around the search point (one degree of latitude is 111.195
//! km; longitude is scaled by the cosine of the point's latitude), which
//! needs only arithmetic, so PostgreSQL and SQLite compute exactly the same
//! thing; within 500 km it is off by well under 1%.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable,
    JoinType, QueryFilter, QueryResult, QuerySelect, QueryTrait, RelationTrait, Select, Value,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    inputs::{PropertyFilter, PropertyOrder},
    service::PropertyService,
    types::PropertyType,
    validation::{MAX_PRICE, search_key},
};

use crate::error::{AppError, AppResult};
use domain::{
    infra::db::custom_sql,
    kernel::{
        money::{Currency, MAX_EXPONENT},
        page::{self, Direction, Key, Page, Sort, Window, page_size, stored_instant},
        stay::{StayDates, today},
    },
};

use entity::{
    position::{ByPosition, Columns},
    property::{Column as P, Entity as Properties},
    user::PUBLIC,
};

pub const KM_PER_DEGREE: f64 = 111.195;
pub const DEFAULT_RADIUS_KM: f64 = 25.0;
pub const MAX_RADIUS_KM: f64 = 500.0;
const MAX_TEXT: usize = 200;

/// `properties.price_key`: the nightly price in thousandths of the
/// currency's major unit (12950 USD cents and 129500 are both $129.50; ¥12000
/// is 12000000), a column the database derives from `price_cents` and
/// `currency`. `minPrice`, `maxPrice` and the price orders compare it, so
/// prices compare by their face value in their own currency whatever its
/// places (docs/API.md, Listings: no conversion), with the search indexes'
/// help.
#[derive(Clone, Copy)]
struct PriceKey;

impl sea_orm::sea_query::Iden for PriceKey {
    fn unquoted(&self) -> &str {
        "price_key"
    }
}

/// What the database stores in `price_key` for this row.
fn price_key(row: &entity::property::Model) -> i64 {
    let currency = Currency::of_stored(&row.currency);
    row.price_minor
        .saturating_mul(10_i64.pow(MAX_EXPONENT - currency.exponent()))
}

/// A `minPrice`/`maxPrice` as a price key: 0 to the most a price may be,
/// with no more places than any currency has.
fn price_key_of(amount: Decimal) -> Option<i64> {
    let thousandths = amount.checked_mul(Decimal::from(10_i64.pow(MAX_EXPONENT)))?;
    if !thousandths.fract().is_zero() || thousandths.is_sign_negative() {
        return None;
    }
    let key = i64::try_from(thousandths.trunc()).ok()?;
    (key <= MAX_PRICE * 10_i64.pow(MAX_EXPONENT)).then_some(key)
}

/// A search point and the radius around it, in degrees of latitude.
#[derive(Debug, Clone, Copy)]
struct Near {
    lat: f64,
    lng: f64,
    /// cos(latitude): how much shorter a degree of longitude is here.
    lng_scale: f64,
    radius_deg: f64,
}

/// A validated filter.
#[derive(Debug, Default)]
struct Criteria {
    text: Option<String>,
    city: Option<String>,
    country: Option<String>,
    near: Option<Near>,
    bounds: Option<(f64, f64, f64, f64)>,
    stay: Option<(NaiveDate, NaiveDate)>,
    guests: Option<i32>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    types: Vec<PropertyType>,
    amenities: Vec<String>,
    instant_book: Option<bool>,
    min_rating: Option<f64>,
    min_bedrooms: Option<i32>,
}

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::bad_input(format!("filter.{field}"), message)
}

fn within(field: &str, value: f64, limit: f64) -> AppResult<f64> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(value)
    } else {
        Err(bad(field, format!("must be between -{limit} and {limit}")))
    }
}

impl Criteria {
    fn parse(f: PropertyFilter, service: &PropertyService) -> AppResult<Self> {
        let text = match f.text.as_deref().map(str::trim) {
            Some(t) if t.chars().count() > MAX_TEXT => {
                return Err(bad(
                    "text",
                    format!("must be at most {MAX_TEXT} characters long"),
                ));
            }
            Some(t) if words(t).next().is_some() => Some(t.to_owned()),
            _ => None,
        };
        let near = match (f.near, f.radius_km) {
            (None, Some(_)) => return Err(bad("radiusKm", "goes with near")),
            (None, None) => None,
            (Some(p), radius) => {
                let radius = radius.unwrap_or(DEFAULT_RADIUS_KM);
                if !(radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_KM) {
                    return Err(bad(
                        "radiusKm",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                let lat = within("near.latitude", p.latitude, 90.0)?;
                Some(Near {
                    lat,
                    lng: within("near.longitude", p.longitude, 180.0)?,
                    lng_scale: lat.to_radians().cos().max(0.01),
                    radius_deg: radius / KM_PER_DEGREE,
                })
            }
        };
        let bounds = match f.bounds {
            None => None,
            Some(b) => {
                let (n, s) = (
                    within("bounds.north", b.north, 90.0)?,
                    within("bounds.south", b.south, 90.0)?,
                );
                if s > n {
                    return Err(bad("bounds.south", "must not be north of bounds.north"));
                }
                Some((
                    n,
                    s,
                    within("bounds.east", b.east, 180.0)?,
                    within("bounds.west", b.west, 180.0)?,
                ))
            }
        };
        let stay = match (f.check_in, f.check_out) {
            (None, None) => None,
            (Some(_), None) => return Err(bad("checkOut", "goes with checkIn")),
            (None, Some(_)) => return Err(bad("checkIn", "goes with checkOut")),
            (Some(i), Some(o)) => {
                let stay = StayDates::new(i.0, o.0, today()).map_err(|e| e.under("filter"))?;
                Some((stay.check_in(), stay.check_out()))
            }
        };
        let price = |field: &str, v: Option<Decimal>| -> AppResult<Option<i64>> {
            v.map(|d| price_key_of(d).ok_or_else(|| {
                bad(
                    field,
                    format!(
                        "must be 0 or more and at most {MAX_PRICE}, with at most {MAX_EXPONENT} decimal places"
                    ),
                )
            }))
            .transpose()
        };
        let (min_price, max_price) = (
            price("minPrice", f.min_price)?,
            price("maxPrice", f.max_price)?,
        );
        if let (Some(lo), Some(hi)) = (min_price, max_price)
            && lo > hi
        {
            return Err(bad("maxPrice", "must not be less than minPrice"));
        }
        if let Some(g) = f.guests
            && !(1..=50).contains(&g)
        {
            return Err(bad("guests", "must be between 1 and 50"));
        }
        if let Some(r) = f.min_rating
            && !(r.is_finite() && (0.0..=5.0).contains(&r))
        {
            return Err(bad("minRating", "must be between 0 and 5"));
        }
        if let Some(b) = f.min_bedrooms
            && !(0..=50).contains(&b)
        {
            return Err(bad("minBedrooms", "must be between 0 and 50"));
        }
        Ok(Self {
            text,
            city: f.city.map(|c| search_key(&c)).filter(|c| !c.is_empty()),
            country: f.country.map(|c| search_key(&c)).filter(|c| !c.is_empty()),
            near,
            bounds,
            stay,
            guests: f.guests,
            min_price,
            max_price,
            types: f.property_types.unwrap_or_default(),
            amenities: service
                .catalogue
                .codes("filter.amenities", &f.amenities.unwrap_or_default())?,
            instant_book: f.instant_book,
            min_rating: f.min_rating,
            min_bedrooms: f.min_bedrooms,
        })
    }
}

/// Words too common to search by: PostgreSQL's english configuration drops
/// them, and SQLite is told to as well, so both backends find the same.
const STOP_WORDS: [&str; 127] = [
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

/// The words of a text search: letters and digits, common words left out,
/// at most 16 of them.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w)))
        .take(16)
}

/// Squared distance from the search point, in degrees of latitude.
fn distance_sq(backend: DbBackend, near: Near) -> SimpleExpr {
    let dlng = "(CASE WHEN ABS(properties.public_longitude - ?) > 180 \
                THEN 360 - ABS(properties.public_longitude - ?) \
                ELSE ABS(properties.public_longitude - ?) END * ?)";
    custom_sql(
        backend,
        &format!(
            "((properties.public_latitude - ?) * (properties.public_latitude - ?) + {dlng} * {dlng})"
        ),
        [
            near.lat,
            near.lat,
            near.lng,
            near.lng,
            near.lng,
            near.lng_scale,
            near.lng,
            near.lng,
            near.lng,
            near.lng_scale,
        ],
    )
}

fn apply(criteria: &Criteria, backend: DbBackend, mut q: Select<Properties>) -> Select<Properties> {
    q = q
        .filter(P::Status.eq(entity::property::ListingStatus::Listed))
        .filter(P::DeletedAt.is_null());
    if let Some(text) = &criteria.text {
        let terms: Vec<&str> = words(text).collect();
        q = q.filter(match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "properties.search_vector @@ plainto_tsquery('english', $1)",
                [terms.join(" ")],
            ),
            _ => Expr::cust_with_values(
                "properties.rowid IN (SELECT rowid FROM properties_fts WHERE properties_fts MATCH ?)",
                [terms.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")],
            ),
        });
    }
    if let Some(city) = &criteria.city {
        q = q.filter(P::SearchCity.eq(city.as_str()));
    }
    if let Some(country) = &criteria.country {
        q = q.filter(P::SearchCountry.eq(country.as_str()));
    }
    if let Some(near) = criteria.near {
        // The bounding box lets the location index do the work; the exact
        // circle is checked on what it finds.
        let lat_span = near.radius_deg;
        let lng_span = near.radius_deg / near.lng_scale;
        q = q.filter(P::PublicLatitude.between(near.lat - lat_span, near.lat + lat_span));
        // Near a pole the circle takes in every longitude.
        if lng_span < 180.0 {
            q = q.filter(longitude_span(near.lng - lng_span, near.lng + lng_span));
        }
        q = q.filter(Expr::expr(distance_sq(backend, near)).lte(near.radius_deg * near.radius_deg));
    }
    if let Some((north, south, east, west)) = criteria.bounds {
        q = q
            .filter(P::PublicLatitude.between(south, north))
            .filter(longitude_span(west, east));
    }
    if let Some((check_in, check_out)) = criteria.stay {
        let nights = i32::try_from((check_out - check_in).num_days()).unwrap_or(i32::MAX);
        q = q
            .filter(P::MinNights.lte(nights))
            .filter(P::MaxNights.gte(nights))
            .filter(custom_sql(
                backend,
                "NOT EXISTS (SELECT 1 FROM calendar_days cd WHERE cd.property_id = properties.id \
                 AND cd.blocked AND cd.day >= ? AND cd.day < ?)",
                [check_in, check_out],
            ))
            .filter(custom_sql(
                backend,
                "NOT EXISTS (SELECT 1 FROM bookings b WHERE b.property_id = properties.id \
                 AND b.status IN ('PENDING_PAYMENT', 'AWAITING_HOST', 'CONFIRMED') \
                 AND b.check_in < ? AND b.check_out > ?)",
                [check_out, check_in],
            ));
    }
    if let Some(guests) = criteria.guests {
        q = q.filter(P::MaxGuests.gte(guests));
    }
    if let Some(min) = criteria.min_price {
        q = q.filter(Expr::col((Properties, PriceKey)).gte(min));
    }
    if let Some(max) = criteria.max_price {
        q = q.filter(Expr::col((Properties, PriceKey)).lte(max));
    }
    if !criteria.types.is_empty() {
        q = q.filter(
            P::PropertyType.is_in(
                criteria
                    .types
                    .iter()
                    .map(|t| entity::property::PropertyType::from(*t)),
            ),
        );
    }
    for code in &criteria.amenities {
        q = q.filter(custom_sql(
            backend,
            "EXISTS (SELECT 1 FROM property_amenities pa WHERE pa.property_id = properties.id \
             AND pa.amenity_code = ?)",
            [code.clone()],
        ));
    }
    if let Some(instant) = criteria.instant_book {
        q = q.filter(P::InstantBook.eq(instant));
    }
    if let Some(rating) = criteria.min_rating {
        q = q
            .filter(P::RatingCount.gt(0))
            .filter(P::RatingAvg.gte(rating));
    }
    if let Some(bedrooms) = criteria.min_bedrooms {
        q = q.filter(P::Bedrooms.gte(bedrooms));
    }
    q
}

/// Longitudes from `west` to `east`, across the antimeridian when west > east.
fn longitude_span(west: f64, east: f64) -> Condition {
    if west < -180.0 || east > 180.0 {
        // A span wider than the wrap: normalise both ends.
        let (w, e) = (wrap(west), wrap(east));
        if w <= e {
            return Condition::all().add(P::PublicLongitude.between(w, e));
        }
        return Condition::any()
            .add(P::PublicLongitude.gte(w))
            .add(P::PublicLongitude.lte(e));
    }
    if west <= east {
        Condition::all().add(P::PublicLongitude.between(west, east))
    } else {
        Condition::any()
            .add(P::PublicLongitude.gte(west))
            .add(P::PublicLongitude.lte(east))
    }
}

fn wrap(lng: f64) -> f64 {
    ((lng + 180.0).rem_euclid(360.0)) - 180.0
}

/// The largest squared distance (`distance_sq`) between two points: half
/// a turn of latitude and of longitude, in degrees.
const MAX_DISTANCE_SQ: f64 = 2.0 * 180.0 * 180.0;

/// What a cursor remembers: the ordering, the sort key and the id.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    o: String,
    k: serde_json::Value,
    id: Uuid,
}

/// The order a cursor names.
fn order_named(name: &str) -> Option<PropertyOrder> {
    [
        PropertyOrder::Newest,
        PropertyOrder::PriceAsc,
        PropertyOrder::PriceDesc,
        PropertyOrder::RatingDesc,
        PropertyOrder::Distance,
    ]
    .into_iter()
    .find(|o| order_name(*o) == name)
}

impl Key for Cursor {
    /// The key of the order the cursor names is one a row holds: an
    /// instant of years 1 to 9999 (NEWEST), a price key of 0 or more, an
    /// average rating of 0 to 5, a squared distance of 0 to
    /// [`MAX_DISTANCE_SQ`]. A cursor of another order is refused as such
    /// by `search`.
    fn is_stored(&self) -> bool {
        let number = self.k.as_f64().filter(|n| n.is_finite());
        match order_named(&self.o) {
            Some(PropertyOrder::Newest) => serde_json::from_value::<DateTime<Utc>>(self.k.clone())
                .is_ok_and(|at| stored_instant(&at)),
            Some(PropertyOrder::PriceAsc | PropertyOrder::PriceDesc) => {
                self.k.as_i64().is_some_and(|k| k >= 0)
            }
            Some(PropertyOrder::RatingDesc) => number.is_some_and(|n| (0.0..=5.0).contains(&n)),
            Some(PropertyOrder::Distance) => {
                number.is_some_and(|n| (0.0..=MAX_DISTANCE_SQ).contains(&n))
            }
            None => true,
        }
    }

    /// The key as its order's column holds it (a decoded cursor's converts,
    /// [`is_stored`](Self::is_stored) having checked it), then the id.
    fn values(&self) -> Vec<Value> {
        let key = match order_named(&self.o) {
            Some(PropertyOrder::Newest) => {
                Value::from(serde_json::from_value::<DateTime<Utc>>(self.k.clone()).ok())
            }
            Some(PropertyOrder::PriceAsc | PropertyOrder::PriceDesc) => {
                Value::from(self.k.as_i64())
            }
            Some(PropertyOrder::RatingDesc | PropertyOrder::Distance) | None => {
                Value::from(self.k.as_f64())
            }
        };
        vec![key, self.id.into()]
    }
}

/// A listing row, with its squared distance when ordering by distance and
/// its host when asked for.
pub(super) struct Ranked {
    pub row: entity::property::Model,
    distance: Option<f64>,
    pub host: Option<entity::user::Model>,
}

/// How a statement over listings lays out its columns, read by position
/// (a page is many columns): the listing's `columns`, in `Column` order;
/// with `hosts`, the host's public columns (`users` joined); with
/// `distance`, the squared distance (added by the caller, last).
#[derive(Clone, Copy)]
pub(super) struct Layout {
    pub columns: Columns,
    pub hosts: bool,
    pub distance: bool,
}

impl Layout {
    /// `query` (over `properties` alone) selecting this layout's listing
    /// and host columns.
    pub(super) fn select(self, mut query: Select<Properties>) -> Select<Properties> {
        if self.columns != Columns::ALL {
            query = query.select_only();
            for c in P::iter().filter(|c| self.columns.contains(*c as usize)) {
                query = query.column(c);
            }
        }
        if self.hosts {
            query = query.join(JoinType::InnerJoin, entity::property::Relation::Host.def());
            for c in entity::user::Column::iter().filter(|c| PUBLIC.contains(*c as usize)) {
                query = query.column_as(
                    Expr::col((entity::user::Entity, c)),
                    format!("host__{}", c.as_str()),
                );
            }
        }
        query
    }

    pub(super) fn read(self, res: &QueryResult) -> Result<Ranked, sea_orm::DbErr> {
        let row = entity::property::Model::some_at(res, 0, self.columns)?;
        let mut next = self.columns.count(entity::property::FIELDS.len());
        let host = if self.hosts {
            let host = entity::user::Model::some_at(res, next, PUBLIC)?;
            next += PUBLIC.count(entity::user::FIELDS.len());
            Some(host)
        } else {
            None
        };
        let distance = if self.distance {
            Some(f64::read(res, next)?)
        } else {
            None
        };
        Ok(Ranked {
            row,
            distance,
            host,
        })
    }
}

fn order_name(order: PropertyOrder) -> &'static str {
    match order {
        PropertyOrder::Newest => "NEWEST",
        PropertyOrder::PriceAsc => "PRICE_ASC",
        PropertyOrder::PriceDesc => "PRICE_DESC",
        PropertyOrder::RatingDesc => "RATING_DESC",
        PropertyOrder::Distance => "DISTANCE",
    }
}

fn key_of(order: PropertyOrder, r: &Ranked) -> serde_json::Value {
    match order {
        PropertyOrder::Newest => serde_json::json!(r.row.created_at),
        PropertyOrder::PriceAsc | PropertyOrder::PriceDesc => serde_json::json!(price_key(&r.row)),
        PropertyOrder::RatingDesc => serde_json::json!(r.row.rating_avg),
        PropertyOrder::Distance => serde_json::json!(r.distance.unwrap_or_default()),
    }
}

/// One page of results.
pub struct SearchPage {
    pub page: Page<entity::property::Model>,
    /// The listings' hosts, when asked for.
    pub hosts: Vec<entity::user::Model>,
}

impl PropertyService {
    /// One page; its listings have the `columns` (plus the order's key),
    /// placeholders in the rest (see `properties::columns`).
    #[allow(clippy::too_many_arguments)]
    pub async fn search(
        &self,
        filter: PropertyFilter,
        order: PropertyOrder,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
        with_hosts: bool,
        columns: Columns,
    ) -> AppResult<SearchPage> {
        let limit = page_size("first", first, 20)?;
        let criteria = Criteria::parse(filter, self)?;
        let near = match (order, criteria.near) {
            (PropertyOrder::Distance, None) => {
                return Err(AppError::bad_input("orderBy", "DISTANCE needs filter.near"));
            }
            (PropertyOrder::Distance, Some(near)) => Some(near),
            _ => None,
        };
        let cursor = after
            .as_deref()
            .map(|c| page::decode::<Cursor>("after", c))
            .transpose()?
            .filter(|c| c.o == order_name(order));
        if after.is_some() && cursor.is_none() {
            return Err(AppError::bad_input(
                "after",
                "is a cursor of another ordering; start again without `after`",
            ));
        }
        let window = Window::after(limit, cursor);
        let backend = self.db.get_database_backend();
        let mut query = apply(&criteria, backend, Properties::find());
        // Qualified: with hosts, `users` is in the statement too.
        let (key, direction): (SimpleExpr, Direction) = match order {
            PropertyOrder::Newest => (Expr::col((Properties, P::CreatedAt)), Direction::Desc),
            PropertyOrder::PriceAsc => (Expr::col((Properties, PriceKey)), Direction::Asc),
            PropertyOrder::PriceDesc => (Expr::col((Properties, PriceKey)), Direction::Desc),
            PropertyOrder::RatingDesc => (Expr::col((Properties, P::RatingAvg)), Direction::Desc),
            PropertyOrder::Distance => match near {
                Some(near) => (distance_sq(backend, near), Direction::Asc),
                None => return Err(AppError::bad_input("orderBy", "DISTANCE needs filter.near")),
            },
        };
        let sort = Sort::new([(key, direction)], P::Id);
        // Whatever the order, what its key is made of is read back for the
        // cursors.
        let key_columns: &[P] = match order {
            PropertyOrder::Newest => &[P::CreatedAt],
            PropertyOrder::PriceAsc | PropertyOrder::PriceDesc => &[P::PriceMinor, P::Currency],
            PropertyOrder::RatingDesc => &[P::RatingAvg],
            PropertyOrder::Distance => &[],
        };
        let layout = Layout {
            columns: key_columns
                .iter()
                .fold(columns, |columns, c| columns.with(*c as usize)),
            // The host card of every result in the same statement.
            hosts: with_hosts,
            distance: near.is_some(),
        };
        query = layout.select(query);
        if let Some(near) = near {
            query = query.column_as(distance_sq(backend, near), "distance_sq");
        }
        // Only ids: the count can be read from an index alone.
        let count_query = apply(&criteria, backend, Properties::find())
            .select_only()
            .column(P::Id);
        let total = page::total(count_query, &self.db, want_total).await?;
        let statement = window.select(query, &sort).build(backend);
        let found = self
            .db
            .query_all_raw(statement)
            .await?
            .iter()
            .map(|r| layout.read(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut page = window.page(found, |r| Cursor {
            o: order_name(order).to_owned(),
            k: key_of(order, r),
            id: r.row.id,
        });
        let hosts = page
            .items
            .iter_mut()
            .filter_map(|i| i.node.host.take())
            .collect();
        Ok(SearchPage {
            page: page.map(|r| r.row).with_total(total),
            hosts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Layout` reads listings and hosts by position.
    #[test]
    fn models_read_by_position_list_their_fields_in_column_order() {
        let users: Vec<&str> = entity::user::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(users, entity::user::FIELDS);
        // Money columns keep their old names (`price_cents`); their fields
        // say what they hold (`price_minor`).
        let listings: Vec<String> = P::iter()
            .map(|c| c.as_str().replace("_cents", "_minor"))
            .collect();
        assert_eq!(listings, entity::property::FIELDS);
    }

    #[test]
    fn words_are_letters_and_digits() {
        assert_eq!(
            words("sea-view, 2 beds!").collect::<Vec<_>>(),
            ["sea", "view", "2", "beds"]
        );
        assert_eq!(words("\" OR 1=1 --").collect::<Vec<_>>(), ["1", "1"]);
        assert_eq!(
            words("a loft by THE beach").collect::<Vec<_>>(),
            ["loft", "beach"]
        );
        assert_eq!(words("***").count(), 0);
    }

    #[test]
    fn longitudes_wrap() {
        assert_eq!(wrap(190.0), -170.0);
        assert_eq!(wrap(-190.0), 170.0);
        assert_eq!(wrap(10.0), 10.0);
    }
}
