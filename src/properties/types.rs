//! The listing types as clients see them.

use async_graphql::{ComplexObject, Enum, ID, SimpleObject};
use chrono::Utc;
use uuid::Uuid;

use crate::graphql::{
    ids::{self, NodeType},
    money::Money,
};

use domain::kernel::money::Currency;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PropertyType {
    EntirePlace,
    PrivateRoom,
    SharedRoom,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ListingStatus {
    Draft,
    Listed,
    Unlisted,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CancellationPolicy {
    Flexible,
    Moderate,
    Strict,
}

/// Maps between the API's enums and the stored ones, both ways.
macro_rules! same_enum {
    ($api:ident, $row:path, [$($variant:ident),+]) => {
        impl From<$row> for $api {
            fn from(v: $row) -> Self {
                match v { $(<$row>::$variant => Self::$variant),+ }
            }
        }
        impl From<$api> for $row {
            fn from(v: $api) -> Self {
                match v { $($api::$variant => Self::$variant),+ }
            }
        }
    };
}

same_enum!(
    PropertyType,
    entity::property::PropertyType,
    [EntirePlace, PrivateRoom, SharedRoom]
);
same_enum!(
    ListingStatus,
    entity::property::ListingStatus,
    [Draft, Listed, Unlisted]
);
same_enum!(
    CancellationPolicy,
    entity::property::CancellationPolicy,
    [Flexible, Moderate, Strict]
);

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct Location {
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    /// True when address and coordinates are exact; false when they are the
    /// approximate, public ones (RULES 13).
    pub exact: bool,
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Amenity {
    #[graphql(skip)]
    pub id: ID,
    /// Stable machine name, e.g. wifi, kitchen, pool.
    pub code: String,
    pub name: String,
    pub category: String,
}

impl From<entity::amenity::Model> for Amenity {
    fn from(m: entity::amenity::Model) -> Self {
        Self {
            id: ids::encode(NodeType::Amenity, &m.code),
            code: m.code,
            name: m.name,
            category: m.category,
        }
    }
}

/// Averages of a listing's reviews, kept up to date as reviews are written.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct RatingSummary {
    /// Mean overall rating, 1-5; null when there are no reviews.
    pub average: Option<f64>,
    pub count: i32,
    pub cleanliness: Option<f64>,
    pub accuracy: Option<f64>,
    pub check_in: Option<f64>,
    pub communication: Option<f64>,
    pub location: Option<f64>,
    pub value: Option<f64>,
}

/// A mean rounded to two places; none of nothing.
fn mean(sum: i32, count: i32) -> Option<f64> {
    (count > 0).then(|| (f64::from(sum) / f64::from(count) * 100.0).round() / 100.0)
}

impl RatingSummary {
    fn of(p: &entity::property::Model) -> Self {
        Self {
            average: mean(p.rating_sum, p.rating_count),
            count: p.rating_count,
            cleanliness: mean(p.cleanliness_sum, p.cleanliness_count),
            accuracy: mean(p.accuracy_sum, p.accuracy_count),
            check_in: mean(p.check_in_sum, p.check_in_count),
            communication: mean(p.communication_sum, p.communication_count),
            location: mean(p.location_sum, p.location_count),
            value: mean(p.value_sum, p.value_count),
        }
    }
}

/// A listing, as the service layer and the resolvers hold it.
#[derive(Debug, Clone)]
pub struct Property {
    pub id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub status: ListingStatus,
    /// The exact location: only for its host, admins and confirmed guests
    /// (see `properties::location`).
    pub location: Location,
    /// The public point, as stored (none yet on rows loaded by other tools).
    pub public_point: Option<(f64, f64)>,
    pub currency: Currency,
    pub price_minor: i64,
    pub cleaning_fee_minor: i64,
    pub weekly_discount_percent: i32,
    pub monthly_discount_percent: i32,
    pub max_guests: i32,
    pub bedrooms: i32,
    pub beds: i32,
    pub bathrooms: f64,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    pub min_nights: i32,
    pub max_nights: i32,
    pub rating: RatingSummary,
    /// Comma-separated amenity codes, as stored.
    pub amenity_codes: String,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<entity::property::Model> for Property {
    fn from(p: entity::property::Model) -> Self {
        Self {
            rating: RatingSummary::of(&p),
            id: p.id,
            host_id: p.host_id,
            title: p.title,
            description: p.description,
            property_type: p.property_type.into(),
            status: p.status.into(),
            location: Location {
                address: p.address,
                city: p.city,
                country: p.country,
                latitude: p.latitude,
                longitude: p.longitude,
                exact: true,
            },
            public_point: p.public_latitude.zip(p.public_longitude),
            currency: Currency::of_stored(&p.currency),
            price_minor: p.price_minor,
            cleaning_fee_minor: p.cleaning_fee_minor,
            weekly_discount_percent: p.weekly_discount_percent,
            monthly_discount_percent: p.monthly_discount_percent,
            max_guests: p.max_guests,
            bedrooms: p.bedrooms,
            beds: p.beds,
            bathrooms: p.bathrooms,
            instant_book: p.instant_book,
            cancellation_policy: p.cancellation_policy.into(),
            min_nights: p.min_nights,
            max_nights: p.max_nights,
            amenity_codes: p.amenity_codes,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Property {
    /// `minor` units of the listing's currency, for the wire.
    pub fn money(&self, minor: i64) -> Money {
        Money::of(minor, self.currency)
    }

    /// What everyone who may not know the exact place sees.
    pub fn public_location(&self, points: &super::location::PublicPoints) -> Location {
        let (latitude, longitude) = self
            .public_point
            .unwrap_or_else(|| points.of(self.id, self.location.latitude, self.location.longitude));
        Location {
            address: format!("{}, {}", self.location.city, self.location.country),
            city: self.location.city.clone(),
            country: self.location.country.clone(),
            latitude,
            longitude,
            exact: false,
        }
    }

    pub fn is_public(&self) -> bool {
        self.status == ListingStatus::Listed
    }
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Photo {
    #[graphql(skip)]
    pub id: ID,
    pub url: String,
    pub caption: Option<String>,
    pub position: i32,
    #[graphql(skip)]
    pub property_id: Uuid,
}

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: crate::graphql::scalars::Date,
    pub available: bool,
    /// The nightly price for this date (a host's override, or the base price).
    pub price: Money,
}

#[ComplexObject]
impl Amenity {
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}

#[ComplexObject]
impl Photo {
    pub async fn id(&self) -> ID {
        self.id.clone()
    }
}
