//! The listing fields of docs/API.md, Limits, parsed once from input. Each
//! error names its field relative to the input (`title`, `pricePerNight`);
//! resolvers prefix the path (`input.title`).

use rust_decimal::Decimal;

use super::{
    catalogue::Catalogue,
    inputs::{CreatePropertyInput, UpdatePropertyInput},
    types::{CancellationPolicy, ListingStatus, PropertyType},
};
use crate::error::{AppError, AppResult};
use domain::kernel::money::Currency;

pub const MAX_PRICE: i64 = 100_000;

fn text(field: &str, raw: &str, min: usize, max: usize) -> AppResult<String> {
    let value = raw.trim();
    let n = value.chars().count();
    if n < min || n > max {
        let rule = if min == 0 {
            format!("must be at most {max} characters long")
        } else {
            format!("must be {min} to {max} characters long")
        };
        return Err(AppError::bad_input(field, rule));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

fn int(field: &str, value: i32, min: i32, max: i32) -> AppResult<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

fn coordinate(field: &str, value: f64, limit: f64) -> AppResult<f64> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be between -{limit} and {limit}"),
        ))
    }
}

/// An amount in the currency's minor units: no more places than the
/// currency has, within the bounds (in major units).
pub fn money(field: &str, value: Decimal, allow_zero: bool, currency: Currency) -> AppResult<i64> {
    let rule = || {
        let low = if allow_zero {
            "0 or more"
        } else {
            "more than 0"
        };
        let places = match currency.exponent() {
            0 => "no decimal places".to_owned(),
            1 => "at most 1 decimal place".to_owned(),
            n => format!("at most {n} decimal places"),
        };
        AppError::bad_input(
            field,
            format!("must be {low} and at most {MAX_PRICE} {currency}, with {places}"),
        )
    };
    let minor = currency.to_minor(value).ok_or_else(rule)?;
    let in_range = if allow_zero { minor >= 0 } else { minor > 0 };
    if in_range && minor <= MAX_PRICE * currency.minor_per_major() {
        Ok(minor)
    } else {
        Err(rule())
    }
}

fn bathrooms(value: f64) -> AppResult<f64> {
    let halves = value * 2.0;
    if value.is_finite() && (0.0..=50.0).contains(&value) && halves.fract() == 0.0 {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            "bathrooms",
            "must be between 0 and 50 in steps of 0.5",
        ))
    }
}

fn currency(raw: &str) -> AppResult<Currency> {
    Currency::parse(raw).ok_or_else(|| {
        AppError::bad_input(
            "currency",
            "must be an active ISO 4217 currency code in upper case, such as USD, EUR or JPY",
        )
    })
}

fn nights(min: i32, max: i32) -> AppResult<(i32, i32)> {
    let min = int("minNights", min, 1, 365)?;
    let max = int("maxNights", max, 1, 365)?;
    if min > max {
        return Err(AppError::bad_input(
            "maxNights",
            format!("must be at least minNights ({min})"),
        ));
    }
    Ok((min, max))
}

/// A listing whose every field is valid.
#[derive(Debug, Clone)]
pub struct NewProperty {
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    pub currency: Currency,
    pub price_minor: i64,
    pub cleaning_fee_minor: i64,
    pub weekly_discount_percent: i32,
    pub monthly_discount_percent: i32,
    pub max_guests: i32,
    pub bedrooms: i32,
    pub beds: i32,
    pub bathrooms: f64,
    pub amenities: Vec<String>,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    pub min_nights: i32,
    pub max_nights: i32,
    pub status: ListingStatus,
}

impl NewProperty {
    pub fn parse(i: CreatePropertyInput, catalogue: &Catalogue) -> AppResult<Self> {
        let (min_nights, max_nights) =
            nights(i.min_nights.unwrap_or(1), i.max_nights.unwrap_or(365))?;
        let status = match i.status.unwrap_or(ListingStatus::Listed) {
            ListingStatus::Unlisted => {
                return Err(AppError::bad_input(
                    "status",
                    "must be LISTED or DRAFT for a new listing",
                ));
            }
            s => s,
        };
        let currency = currency(i.currency.as_deref().unwrap_or("USD"))?;
        Ok(Self {
            title: text("title", &i.title, 3, 120)?,
            description: text("description", &i.description, 0, 5000)?,
            property_type: i.property_type,
            address: text("address", &i.address, 1, 200)?,
            city: text("city", &i.city, 1, 100)?,
            country: text("country", &i.country, 1, 100)?,
            latitude: coordinate("latitude", i.latitude, 90.0)?,
            longitude: coordinate("longitude", i.longitude, 180.0)?,
            currency,
            price_minor: money("pricePerNight", i.price_per_night, false, currency)?,
            cleaning_fee_minor: money(
                "cleaningFee",
                i.cleaning_fee.unwrap_or_default(),
                true,
                currency,
            )?,
            weekly_discount_percent: int(
                "weeklyDiscountPercent",
                i.weekly_discount_percent.unwrap_or(0),
                0,
                90,
            )?,
            monthly_discount_percent: int(
                "monthlyDiscountPercent",
                i.monthly_discount_percent.unwrap_or(0),
                0,
                90,
            )?,
            max_guests: int("maxGuests", i.max_guests, 1, 50)?,
            bedrooms: int("bedrooms", i.bedrooms, 0, 50)?,
            beds: int("beds", i.beds, 1, 100)?,
            bathrooms: bathrooms(i.bathrooms)?,
            amenities: catalogue.codes("amenities", &i.amenities.unwrap_or_default())?,
            instant_book: i.instant_book.unwrap_or(false),
            cancellation_policy: i
                .cancellation_policy
                .unwrap_or(CancellationPolicy::Flexible),
            min_nights,
            max_nights,
            status,
        })
    }
}

/// A valid change to a listing: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PropertyPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub property_type: Option<PropertyType>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub price_minor: Option<i64>,
    pub cleaning_fee_minor: Option<i64>,
    pub weekly_discount_percent: Option<i32>,
    pub monthly_discount_percent: Option<i32>,
    pub max_guests: Option<i32>,
    pub bedrooms: Option<i32>,
    pub beds: Option<i32>,
    pub bathrooms: Option<f64>,
    pub amenities: Option<Vec<String>>,
    pub instant_book: Option<bool>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub min_nights: Option<i32>,
    pub max_nights: Option<i32>,
    pub status: Option<ListingStatus>,
}

impl PropertyPatch {
    /// `current` is the listing's (min, max) nights, so that a change to one
    /// of them is checked against the other; prices are in its `currency`.
    pub fn parse(
        i: UpdatePropertyInput,
        catalogue: &Catalogue,
        current: (i32, i32),
        currency: Currency,
    ) -> AppResult<Self> {
        let nights = match (i.min_nights, i.max_nights) {
            (None, None) => None,
            (min, max) => Some(nights(min.unwrap_or(current.0), max.unwrap_or(current.1))?),
        };
        Ok(Self {
            title: i.title.map(|v| text("title", &v, 3, 120)).transpose()?,
            description: i
                .description
                .map(|v| text("description", &v, 0, 5000))
                .transpose()?,
            property_type: i.property_type,
            address: i.address.map(|v| text("address", &v, 1, 200)).transpose()?,
            city: i.city.map(|v| text("city", &v, 1, 100)).transpose()?,
            country: i.country.map(|v| text("country", &v, 1, 100)).transpose()?,
            latitude: i
                .latitude
                .map(|v| coordinate("latitude", v, 90.0))
                .transpose()?,
            longitude: i
                .longitude
                .map(|v| coordinate("longitude", v, 180.0))
                .transpose()?,
            price_minor: i
                .price_per_night
                .map(|v| money("pricePerNight", v, false, currency))
                .transpose()?,
            cleaning_fee_minor: i
                .cleaning_fee
                .map(|v| money("cleaningFee", v, true, currency))
                .transpose()?,
            weekly_discount_percent: i
                .weekly_discount_percent
                .map(|v| int("weeklyDiscountPercent", v, 0, 90))
                .transpose()?,
            monthly_discount_percent: i
                .monthly_discount_percent
                .map(|v| int("monthlyDiscountPercent", v, 0, 90))
                .transpose()?,
            max_guests: i
                .max_guests
                .map(|v| int("maxGuests", v, 1, 50))
                .transpose()?,
            bedrooms: i.bedrooms.map(|v| int("bedrooms", v, 0, 50)).transpose()?,
            beds: i.beds.map(|v| int("beds", v, 1, 100)).transpose()?,
            bathrooms: i.bathrooms.map(bathrooms).transpose()?,
            amenities: i
                .amenities
                .map(|v| catalogue.codes("amenities", &v))
                .transpose()?,
            instant_book: i.instant_book,
            cancellation_policy: i.cancellation_policy,
            min_nights: nights.map(|n| n.0),
            max_nights: nights.map(|n| n.1),
            status: i.status,
        })
    }
}

/// Lower-cased and trimmed: what city and country searches compare.
pub fn search_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn field(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn money_takes_the_currencys_places_within_bounds() {
        let d = |s| Decimal::from_str(s).expect("decimal");
        let c = |code| Currency::parse(code).expect("currency");
        let usd = c("USD");
        assert_eq!(money("p", d("129.5"), false, usd).expect("ok"), 12950);
        assert_eq!(money("p", d("100000"), false, usd).expect("ok"), 10_000_000);
        for bad in ["0", "-1", "100000.01", "10.001"] {
            assert_eq!(field(money("p", d(bad), false, usd).expect_err(bad)), "p");
        }
        assert_eq!(money("c", d("0"), true, usd).expect("ok"), 0);

        let jpy = c("JPY");
        assert_eq!(money("p", d("12000"), false, jpy).expect("ok"), 12000);
        assert_eq!(money("p", d("100000"), false, jpy).expect("ok"), 100_000);
        let AppError::BadUserInput { message, .. } =
            money("p", d("12000.5"), false, jpy).expect_err("a fraction of a yen")
        else {
            panic!("not bad input")
        };
        assert!(message.contains("no decimal places"), "{message}");

        let kwd = c("KWD");
        assert_eq!(money("p", d("12.345"), false, kwd).expect("ok"), 12345);
        assert_eq!(
            money("p", d("100000"), false, kwd).expect("ok"),
            100_000_000
        );
        assert!(money("p", d("12.3456"), false, kwd).is_err());
    }

    #[test]
    fn bathrooms_come_in_halves() {
        assert!(bathrooms(1.5).is_ok());
        assert!(bathrooms(0.0).is_ok());
        assert!(bathrooms(1.25).is_err());
        assert!(bathrooms(50.5).is_err());
    }

    #[test]
    fn nights_are_ordered() {
        assert_eq!(nights(2, 30).expect("ok"), (2, 30));
        assert_eq!(field(nights(0, 30).expect_err("min")), "minNights");
        assert_eq!(field(nights(5, 4).expect_err("order")), "maxNights");
        assert_eq!(field(nights(5, 366).expect_err("max")), "maxNights");
    }

    #[test]
    fn currencies_and_texts() {
        assert!(currency("EUR").is_ok());
        assert!(currency("JPY").is_ok());
        for bad in ["eur", "EURO", "XYZ", "XAU", "XTS"] {
            assert_eq!(field(currency(bad).expect_err(bad)), "currency");
        }
        assert_eq!(text("title", "  Loft  ", 3, 120).expect("ok"), "Loft");
        assert!(text("title", "ab", 3, 120).is_err());
        assert!(text("description", "two\nlines", 0, 5000).is_ok());
        assert!(text("city", "bad\u{7}", 1, 100).is_err());
    }
}
