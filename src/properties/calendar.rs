//! Calendars, availability and quotes (RULES.md sections 5 and 6).
//!
//! A night is open unless the host blocked it (or, once bookings exist, an
//! active booking holds it); its price is the host's override for that date,
//! else the base price. Dates are UTC calendar dates.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
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
    auth::actor::Actor,
    db::begin_write,
    error::{AppError, AppResult},
    graphql::{
        ids::{NodeType, decode_as},
        money::{Money, from_cents},
        scalars::Date,
    },
};

/// Longest range a calendar read or write may cover.
pub const MAX_RANGE_DAYS: i64 = 366;
/// How far ahead a stay may start.
pub const BOOKING_WINDOW_DAYS: i64 = 365;

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// One night of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Night {
    pub date: NaiveDate,
    pub price_cents: i64,
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
        let overrides: HashMap<NaiveDate, entity::calendar_day::Model> =
            entity::calendar_day::Entity::find()
                .filter(entity::calendar_day::Column::PropertyId.eq(property.id))
                .filter(entity::calendar_day::Column::Day.gte(from))
                .filter(entity::calendar_day::Column::Day.lt(to))
                .all(conn)
                .await?
                .into_iter()
                .map(|d| (d.day, d))
                .collect();
        let stays = entity::booking::Entity::find()
            .filter(entity::booking::Column::PropertyId.eq(property.id))
            .filter(entity::booking::Column::Status.is_in(entity::booking::BookingStatus::ACTIVE))
            .filter(entity::booking::Column::CheckIn.lt(to))
            .filter(entity::booking::Column::CheckOut.gt(from))
            .all(conn)
            .await?;
        Ok(from
            .iter_days()
            .take_while(|d| *d < to)
            .map(|date| {
                let day = overrides.get(&date);
                Night {
                    date,
                    price_cents: day
                        .and_then(|d| d.price_cents)
                        .unwrap_or(property.price_cents),
                    blocked: day.is_some_and(|d| d.blocked),
                    booked: stays
                        .iter()
                        .any(|b| b.check_in <= date && date < b.check_out),
                }
            })
            .collect())
    }

    pub async fn calendar(
        &self,
        property: &Property,
        from: Date,
        to: Date,
    ) -> AppResult<Vec<CalendarDay>> {
        let (from, to) = range("from", from, "to", to)?;
        Ok(self
            .nights(property, from, to)
            .await?
            .into_iter()
            .map(|n| CalendarDay {
                date: Date(n.date),
                available: n.open() && property.is_public(),
                price: Money::from_cents(n.price_cents, &property.currency),
            })
            .collect())
    }

    /// Whether the stay could be booked now: a listed property, a start
    /// from today up to a year ahead, a length the host accepts, and every
    /// night open.
    pub async fn is_available(
        &self,
        property: &Property,
        check_in: Date,
        check_out: Date,
    ) -> AppResult<bool> {
        let (from, to) = range("checkIn", check_in, "checkOut", check_out)?;
        let nights = nights_between(from, to);
        let fits = property.is_public()
            && from >= today()
            && (from - today()).num_days() <= BOOKING_WINDOW_DAYS
            && nights >= usize::try_from(property.min_nights).unwrap_or(1)
            && nights <= usize::try_from(property.max_nights).unwrap_or(365);
        if !fits {
            return Ok(false);
        }
        Ok(self
            .nights(property, from, to)
            .await?
            .iter()
            .all(Night::open))
    }

    /// The price of a stay, line by line. The stay's length and guest count
    /// must suit the listing; whether the nights are free is `isAvailable`'s
    /// question.
    pub async fn quote(
        &self,
        property: &Property,
        check_in: Date,
        check_out: Date,
        guests: i32,
    ) -> AppResult<PriceQuote> {
        let (from, to) = range("checkIn", check_in, "checkOut", check_out)?;
        check_stay(property, from, to, guests)?;
        let nights = self.nights(property, from, to).await?;
        let breakdown = self.price(property, &nights);
        Ok(PriceQuote::new(
            check_in,
            check_out,
            guests,
            nights.len(),
            breakdown,
            &property.currency,
        ))
    }

    /// The price of these nights at this listing.
    pub fn price(&self, property: &Property, nights: &[Night]) -> Breakdown {
        let nightly: Vec<Decimal> = nights.iter().map(|n| from_cents(n.price_cents)).collect();
        price(
            &nightly,
            from_cents(property.cleaning_fee_cents),
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
        let new_price = input
            .price
            .map(|p| money("input.price", p, false))
            .transpose()?;
        let row = self.editable(actor, id).await?;

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
                let price_cents = if clear {
                    None
                } else {
                    new_price.or_else(|| old.and_then(|d| d.price_cents))
                };
                // A night that is open at the base price needs no row.
                (blocked || price_cents.is_some()).then_some(entity::calendar_day::ActiveModel {
                    property_id: Set(id),
                    day: Set(day),
                    blocked: Set(blocked),
                    price_cents: Set(price_cents),
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
