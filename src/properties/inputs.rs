//! GraphQL inputs of the listing mutations and search.

use async_graphql::{Enum, ID, InputObject};
use rust_decimal::Decimal;

use super::types::{CancellationPolicy, ListingStatus, PropertyType};
use crate::graphql::scalars::Date;

#[derive(InputObject, Debug, Clone)]
pub struct CreatePropertyInput {
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    pub price_per_night: Decimal,
    /// ISO 4217; default USD.
    pub currency: Option<String>,
    pub cleaning_fee: Option<Decimal>,
    pub weekly_discount_percent: Option<i32>,
    pub monthly_discount_percent: Option<i32>,
    pub max_guests: i32,
    pub bedrooms: i32,
    pub beds: i32,
    pub bathrooms: f64,
    pub amenities: Option<Vec<String>>,
    pub instant_book: Option<bool>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub min_nights: Option<i32>,
    pub max_nights: Option<i32>,
    /// LISTED (default) or DRAFT.
    pub status: Option<ListingStatus>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct UpdatePropertyInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub property_type: Option<PropertyType>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub price_per_night: Option<Decimal>,
    pub cleaning_fee: Option<Decimal>,
    pub weekly_discount_percent: Option<i32>,
    pub monthly_discount_percent: Option<i32>,
    pub max_guests: Option<i32>,
    pub bedrooms: Option<i32>,
    pub beds: Option<i32>,
    pub bathrooms: Option<f64>,
    /// Replaces the whole set.
    pub amenities: Option<Vec<String>>,
    pub instant_book: Option<bool>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub min_nights: Option<i32>,
    pub max_nights: Option<i32>,
    pub status: Option<ListingStatus>,
}

#[derive(InputObject, Debug, Clone)]
pub struct UpdateCalendarInput {
    pub property_id: ID,
    pub from: Date,
    /// Exclusive.
    pub to: Date,
    /// false blocks the dates, true opens them again; omitted leaves it.
    pub available: Option<bool>,
    /// Nightly price override for these dates; omitted leaves it.
    pub price: Option<Decimal>,
    /// true removes price overrides for these dates.
    pub clear_price: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Copy)]
pub struct GeoPointInput {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(InputObject, Debug, Clone, Copy)]
pub struct GeoBoundsInput {
    pub north: f64,
    pub south: f64,
    pub east: f64,
    pub west: f64,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct PropertyFilter {
    /// Words matched against title, description and city.
    pub text: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub near: Option<GeoPointInput>,
    /// With near; default 25.
    pub radius_km: Option<f64>,
    /// Map viewport.
    pub bounds: Option<GeoBoundsInput>,
    /// checkIn and checkOut come together: only properties free for the whole stay.
    pub check_in: Option<Date>,
    pub check_out: Option<Date>,
    pub guests: Option<i32>,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub property_types: Option<Vec<PropertyType>>,
    /// Amenity codes; a property must have all of them.
    pub amenities: Option<Vec<String>>,
    pub instant_book: Option<bool>,
    pub min_rating: Option<f64>,
    pub min_bedrooms: Option<i32>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum PropertyOrder {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    RatingDesc,
    /// Needs filter.near.
    Distance,
}
