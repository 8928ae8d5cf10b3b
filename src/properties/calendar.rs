//! Calendars, availability and quotes (docs/API.md, Bookings; Listings).
//!
//! A night is open unless the host blocked it (or, once bookings exist, an
//! active booking holds it); its price is the host's override for that date,
//! else the base price. Dates are UTC calendar dates.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::{
    inputs::UpdateCalendarInput,
    pricing::{Breakdown, PriceQuote, price},
    service::PropertyService,
    types::{CalendarDay, Property},
    validation::money,
};
use crate::{
    error::{AppError, AppResult},
    graphql::{
        ids::{NodeType, decode_as},
        scalars::Date,
    },
};
use domain::{
    infra::db::begin_write,
    kernel::{
        actor::Actor,
        money::Currency,
        stay::{StayDates, today},
    },
};

/// Longest range a calendar read or write may cover.
pub const MAX_RANGE_DAYS: i64 = 366;
/// One night of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Night {
    pub date: NaiveDate,
    pub price_minor: i64,
    pub blocked: bool,
    /// Held by an active booking.
    pub booked: bool,
}

impl Night {
    pub fn open(&self) -> bool {
        !self.blocked && !self.booked && self.date >= today()
    }
}

/// `[from, to)` checked: `to` after `from`, at most 366 days.
fn range(
    from_field: &str,
    from: Date,
    to_field: &str,
    to: Date,
) -> AppResult<(NaiveDate, NaiveDate)> {
    if to.0 <= from.0 {
        return Err(AppError::bad_input(
            to_field,
            format!("must be after {from_field}"),
        ));
    }
    if (to.0 - from.0).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::bad_input(
            to_field,
            format!("must be at most {MAX_RANGE_DAYS} days after {from_field}"),
        ));
    }
    Ok((from.0, to.0))
}

fn nights_between(from: NaiveDate, to: NaiveDate) -> usize {
    usize::try_from((to - from).num_days()).unwrap_or(0)
}

/// What a listing's calendar holds over a range of dates: the host's
/// overrides and the stays of active bookings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Per date: blocked, and the price override.
    pub overrides: HashMap<NaiveDate, (bool, Option<i64>)>,
    /// [check_in, check_out) of each active booking.
    pub stays: Vec<(NaiveDate, NaiveDate)>,
}

/// What the calendars of `listings` hold in [from, to): two statements,
/// however many listings.
pub async fn held_on(
    conn: &impl ConnectionTrait,
    listings: impl IntoIterator<Item = Uuid> + Clone,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<Uuid, Held>, sea_orm::DbErr> {
    use entity::{booking::Column as B, calendar_day::Column as C};
    let mut held: HashMap<Uuid, Held> = HashMap::new();
    for day in entity::calendar_day::Entity::find()
        .filter(C::PropertyId.is_in(listings.clone()))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(to))
        .all(conn)
        .await?
    {
        held.entry(day.property_id)
            .or_default()
            .overrides
            .insert(day.day, (day.blocked, day.price_minor));
    }
    let stays: Vec<(Uuid, NaiveDate, NaiveDate)> = entity::booking::Entity::find()
        .select_only()
        .columns([B::PropertyId, B::CheckIn, B::CheckOut])
        .filter(B::PropertyId.is_in(listings))
        .filter(B::Status.is_in(entity::booking::BookingStatus::ACTIVE))
        .filter(B::CheckIn.lt(to))
        .filter(B::CheckOut.gt(from))
        .into_tuple()
        .all(conn)
        .await?;
    for (listing, check_in, check_out) in stays {
        held.entry(listing)
            .or_default()
            .stays
            .push((check_in, check_out));
    }
    Ok(held)
}

/// Every night in [from, to) of `property`, with its price and whether it
/// is blocked or booked, from what its calendar holds.
pub fn nights_of(property: &Property, from: NaiveDate, to: NaiveDate, held: &Held) -> Vec<Night> {
    from.iter_days()
        .take_while(|d| *d < to)
        .map(|date| {
            let day = held.overrides.get(&date);
            Night {
                date,
                price_minor: day.and_then(|d| d.1).unwrap_or(property.price_minor),
                blocked: day.is_some_and(|d| d.0),
                booked: held
                    .stays
                    .iter()
                    .any(|(check_in, check_out)| *check_in <= date && date < *check_out),
            }
        })
        .collect()
}

/// The calendar range of a `calendar(from, to)`, checked.
pub fn calendar_range(from: Date, to: Date) -> AppResult<(NaiveDate, NaiveDate)> {
    range("from", from, "to", to)
}

/// The stay of an `isAvailable` or a `quote`, checked.
pub fn stay_range(check_in: Date, check_out: Date) -> AppResult<(NaiveDate, NaiveDate)> {
    range("checkIn", check_in, "checkOut", check_out)
}

/// The calendar of `nights` as clients see it.
pub fn calendar_of(property: &Property, nights: &[Night]) -> Vec<CalendarDay> {
    nights
        .iter()
        .map(|n| CalendarDay {
            date: Date(n.date),
            available: n.open() && property.is_public(),
            price: property.money(n.price_minor),
        })
        .collect()
}

/// Whether the stay [from, to) could be booked now, before looking at its
/// nights: a listed property, a start from today up to a year ahead, a
/// length the host accepts.
pub fn could_book(property: &Property, from: NaiveDate, to: NaiveDate) -> bool {
    let nights = nights_between(from, to);
    property.is_public()
        && StayDates::allowed(from, to, today())
        && nights >= usize::try_from(property.min_nights).unwrap_or(1)
        && nights <= usize::try_from(property.max_nights).unwrap_or(365)
}

impl PropertyService {
    /// Every night in [from, to), with its price and whether it is blocked
    /// or booked.
    pub async fn nights(
        &self,
        property: &Property,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<Night>> {
        self.nights_on(&self.db, property, from, to).await
    }

    /// [`Self::nights`] read through `conn` (a transaction's view).
    pub async fn nights_on(
        &self,
        conn: &impl ConnectionTrait,
        property: &Property,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<Night>> {
        let held = held_on(conn, [property.id], from, to)
            .await?
            .remove(&property.id)
            .unwrap_or_default();
        Ok(nights_of(property, from, to, &held))
    }

    pub async fn calendar(
        &self,
        property: &Property,
        from: Date,
        to: Date,
    ) -> AppResult<Vec<CalendarDay>> {
        let (from, to) = calendar_range(from, to)?;
        Ok(calendar_of(
            property,
            &self.nights(property, from, to).await?,
        ))
    }

    /// The price of a stay, line by line, from its nights. The stay's
    /// length and guest count must suit the listing (`check_stay`); whether
    /// the nights are free is `isAvailable`'s question.
    pub fn quote_of(
        &self,
        property: &Property,
        (check_in, check_out): (NaiveDate, NaiveDate),
        guests: i32,
        nights: &[Night],
    ) -> PriceQuote {
        PriceQuote::new(
            Date(check_in),
            Date(check_out),
            guests,
            nights.len(),
            self.price(property, nights),
            property.currency,
        )
    }

    /// The price of these nights at this listing.
    pub fn price(&self, property: &Property, nights: &[Night]) -> Breakdown {
        let nightly: Vec<i64> = nights.iter().map(|n| n.price_minor).collect();
        price(
            &nightly,
            property.cleaning_fee_minor,
            property.weekly_discount_percent,
            property.monthly_discount_percent,
            self.fees,
        )
    }

    /// Blocks, opens or re-prices [from, to) and answers the new calendar.
    pub async fn update_calendar(
        &self,
        actor: Actor,
        input: UpdateCalendarInput,
    ) -> AppResult<(Property, Vec<CalendarDay>)> {
        let id = decode_as(NodeType::Property, &input.property_id)
            .ok_or_else(|| AppError::NotFound(super::service::NOT_FOUND.into()))?;
        let (from, to) = range("input.from", input.from, "input.to", input.to)?;
        if from < today() {
            return Err(AppError::bad_input("input.from", "must not be in the past"));
        }
        let clear = input.clear_price.unwrap_or(false);
        if clear && input.price.is_some() {
            return Err(AppError::bad_input(
                "input.clearPrice",
                "cannot be true when a price is given",
            ));
        }
        if input.available.is_none() && input.price.is_none() && !clear {
            return Err(AppError::bad_input(
                "input",
                "set available, price or clearPrice",
            ));
        }
        let row = self.editable(actor, id).await?;
        let currency = Currency::of_stored(&row.currency);
        let new_price = input
            .price
            .map(|p| money("input.price", p, false, currency))
            .transpose()?;

        let txn = begin_write(&self.db).await?;
        lock_property(&txn, id).await?;
        let existing: HashMap<NaiveDate, entity::calendar_day::Model> =
            entity::calendar_day::Entity::find()
                .filter(entity::calendar_day::Column::PropertyId.eq(id))
                .filter(entity::calendar_day::Column::Day.gte(from))
                .filter(entity::calendar_day::Column::Day.lt(to))
                .all(&txn)
                .await?
                .into_iter()
                .map(|d| (d.day, d))
                .collect();
        entity::calendar_day::Entity::delete_many()
            .filter(entity::calendar_day::Column::PropertyId.eq(id))
            .filter(entity::calendar_day::Column::Day.gte(from))
            .filter(entity::calendar_day::Column::Day.lt(to))
            .exec(&txn)
            .await?;
        let days: Vec<entity::calendar_day::ActiveModel> = from
            .iter_days()
            .take_while(|d| *d < to)
            .filter_map(|day| {
                let old = existing.get(&day);
                let blocked = input
                    .available
                    .map_or_else(|| old.is_some_and(|d| d.blocked), |open| !open);
                let price_minor = if clear {
                    None
                } else {
                    new_price.or_else(|| old.and_then(|d| d.price_minor))
                };
                // A night that is open at the base price needs no row.
                (blocked || price_minor.is_some()).then_some(entity::calendar_day::ActiveModel {
                    property_id: Set(id),
                    day: Set(day),
                    blocked: Set(blocked),
                    price_minor: Set(price_minor),
                })
            })
            .collect();
        for chunk in days.chunks(500) {
            entity::calendar_day::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let property = Property::from(row);
        let calendar = self.calendar(&property, Date(from), Date(to)).await?;
        Ok((property, calendar))
    }
}

/// Guests and length of stay within what the listing takes.
pub fn check_stay(
    property: &Property,
    from: NaiveDate,
    to: NaiveDate,
    guests: i32,
) -> AppResult<()> {
    if guests < 1 || guests > property.max_guests {
        return Err(AppError::bad_input(
            "guests",
            format!(
                "must be between 1 and {} for this listing",
                property.max_guests
            ),
        ));
    }
    let nights = (to - from).num_days();
    if nights < i64::from(property.min_nights) || nights > i64::from(property.max_nights) {
        return Err(AppError::bad_input(
            "checkOut",
            format!(
                "this listing takes stays of {} to {} nights",
                property.min_nights, property.max_nights
            ),
        ));
    }
    Ok(())
}

/// Serializes writers of one listing's dependent rows (calendar, photos):
/// a row lock on PostgreSQL; SQLite's write transaction already is one.
pub async fn lock_property(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    entity::property::Entity::find_by_id(id)
        .select_only()
        .column(entity::property::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    Ok(())
}
