//! Batched lookups: whatever a page of listings needs (hosts, amenities,
//! photos, wishlist flags, listing counts) is fetched with one query per
//! kind, however long the page.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::dataloader::Loader;
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::calendar::{Held, held_on};
use crate::graphql::context::cached;

type Rows<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

/// Listings by id (deleted ones are not found).
pub struct PropertyLoader(pub DatabaseConnection);

impl Loader<Uuid> for PropertyLoader {
    type Value = entity::property::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::property::Entity::find()
            .filter(entity::property::Column::Id.is_in(keys.iter().copied()))
            .filter(entity::property::Column::DeletedAt.is_null())
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// The photos of each listing, in order.
pub struct PhotosLoader(pub DatabaseConnection);

impl Loader<Uuid> for PhotosLoader {
    type Value = Vec<entity::property_photo::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::property_photo::Entity::find()
            .filter(entity::property_photo::Column::PropertyId.is_in(keys.iter().copied()))
            .order_by_asc(entity::property_photo::Column::Position)
            .all(&self.0)
            .await?;
        let mut out: HashMap<Uuid, Vec<_>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            out.entry(row.property_id).or_default().push(row);
        }
        Ok(out)
    }
}

/// Whether a user saved a listing: keyed by (user, listing).
pub struct SavedLoader(pub DatabaseConnection);

impl Loader<(Uuid, Uuid)> for SavedLoader {
    type Value = bool;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Rows<(Uuid, Uuid), bool> {
        let users: HashSet<Uuid> = keys.iter().map(|k| k.0).collect();
        let properties: HashSet<Uuid> = keys.iter().map(|k| k.1).collect();
        let rows = entity::saved_property::Entity::find()
            .filter(entity::saved_property::Column::UserId.is_in(users))
            .filter(entity::saved_property::Column::PropertyId.is_in(properties))
            .all(&self.0)
            .await?;
        let saved: HashSet<(Uuid, Uuid)> = rows
            .into_iter()
            .map(|r| (r.user_id, r.property_id))
            .collect();
        Ok(keys.iter().map(|k| (*k, saved.contains(k))).collect())
    }
}

/// What each listing's calendar holds over a range of dates, keyed by
/// (listing, from, to): a page of listings asking for their calendars,
/// availability or quotes costs two statements, however long the page.
pub struct HeldLoader(pub DatabaseConnection);

impl Loader<(Uuid, NaiveDate, NaiveDate)> for HeldLoader {
    type Value = Held;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(Uuid, NaiveDate, NaiveDate)],
    ) -> Rows<(Uuid, NaiveDate, NaiveDate), Held> {
        let (Some(from), Some(to)) = (
            keys.iter().map(|k| k.1).min(),
            keys.iter().map(|k| k.2).max(),
        ) else {
            return Ok(HashMap::new());
        };
        let listings: HashSet<Uuid> = keys.iter().map(|k| k.0).collect();
        // One range over every key's: each key's nights read only their own
        // dates of it.
        let held = held_on(&self.0, listings, from, to).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, held.get(&k.0).cloned().unwrap_or_default()))
            .collect())
    }
}

/// Whether a user has a CONFIRMED or COMPLETED booking of a listing (and so
/// may know where it is): keyed by (user, listing).
pub struct ConfirmedGuestLoader(pub DatabaseConnection);

impl Loader<(Uuid, Uuid)> for ConfirmedGuestLoader {
    type Value = bool;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Rows<(Uuid, Uuid), bool> {
        use entity::booking::{BookingStatus, Column as B, Entity as Bookings};
        let guests: HashSet<Uuid> = keys.iter().map(|k| k.0).collect();
        let listings: HashSet<Uuid> = keys.iter().map(|k| k.1).collect();
        let stays: HashSet<(Uuid, Uuid)> = Bookings::find()
            .select_only()
            .columns([B::GuestId, B::PropertyId])
            .distinct()
            .filter(B::GuestId.is_in(guests))
            .filter(B::PropertyId.is_in(listings))
            .filter(B::Status.is_in([BookingStatus::Confirmed, BookingStatus::Completed]))
            .into_tuple::<(Uuid, Uuid)>()
            .all(&self.0)
            .await?
            .into_iter()
            .collect();
        Ok(keys.iter().map(|k| (*k, stays.contains(k))).collect())
    }
}

/// How many listings each host has in every status but deleted: what the
/// host themself or an admin sees (the public count, of listed ones, is
/// kept on the user row).
pub struct ListingsCountLoader(pub DatabaseConnection);

#[derive(FromQueryResult)]
struct HostCount {
    host_id: Uuid,
    n: i64,
}

impl Loader<Uuid> for ListingsCountLoader {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, i64> {
        let counts: HashMap<Uuid, i64> = entity::property::Entity::find()
            .select_only()
            .column(entity::property::Column::HostId)
            .column_as(Expr::col(entity::property::Column::Id).count(), "n")
            .filter(entity::property::Column::HostId.is_in(keys.iter().copied()))
            .filter(entity::property::Column::DeletedAt.is_null())
            .group_by(entity::property::Column::HostId)
            .into_model::<HostCount>()
            .all(&self.0)
            .await?
            .into_iter()
            .map(|c| (c.host_id, c.n))
            .collect();
        Ok(keys
            .iter()
            .map(|host| (*host, counts.get(host).copied().unwrap_or(0)))
            .collect())
    }
}

/// Puts a fresh set of loaders in an operation's data. Each operation gets
/// its own, so results are cached for the operation (a key asked for twice
/// is fetched once, however the resolvers' timing falls: see `OneFlight`)
/// and never beyond.
pub fn install(data: &mut async_graphql::Data, db: &DatabaseConnection, keep: bool) {
    data.insert(cached(crate::users::UserLoader::new(db.clone()), keep));
    data.insert(cached(PropertyLoader(db.clone()), keep));
    data.insert(cached(PhotosLoader(db.clone()), keep));
    data.insert(cached(SavedLoader(db.clone()), keep));
    data.insert(cached(ConfirmedGuestLoader(db.clone()), keep));
    data.insert(cached(HeldLoader(db.clone()), keep));
    data.insert(cached(ListingsCountLoader(db.clone()), keep));
    data.insert(cached(
        crate::bookings::loaders::ListingOfBookingLoader(db.clone()),
        keep,
    ));
    data.insert(cached(
        crate::bookings::loaders::BookingLoader(db.clone()),
        keep,
    ));
    data.insert(cached(
        crate::bookings::loaders::ListingBookingsLoader(db.clone()),
        keep,
    ));
    data.insert(cached(
        crate::bookings::loaders::CurrentPaymentLoader(db.clone()),
        keep,
    ));
}
