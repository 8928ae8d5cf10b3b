//! Batched lookups for bookings and payments.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::lists::{ListingPageKey, listing_pages};
use domain::kernel::page::Page;

type Rows<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

/// Listings by id, deleted ones included: a booking keeps its listing.
pub struct ListingOfBookingLoader(pub DatabaseConnection);

impl Loader<Uuid> for ListingOfBookingLoader {
    type Value = entity::property::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::property::Entity::find()
            .filter(entity::property::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Pages of listings' bookings (`Property.bookings`): the pages of a whole
/// list of listings in one statement.
pub struct ListingBookingsLoader(pub DatabaseConnection);

impl Loader<ListingPageKey> for ListingBookingsLoader {
    type Value = Page<entity::booking::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ListingPageKey]) -> Rows<ListingPageKey, Self::Value> {
        let mut groups: HashMap<_, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.status, key.window, key.total))
                .or_default()
                .push(key.listing);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((status, window, total), listings) in groups {
            for (listing, page) in listing_pages(&self.0, &listings, status, window, total).await? {
                out.insert(
                    ListingPageKey {
                        listing,
                        status,
                        window,
                        total,
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

/// Bookings by id.
pub struct BookingLoader(pub DatabaseConnection);

impl Loader<Uuid> for BookingLoader {
    type Value = entity::booking::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::booking::Entity::find()
            .filter(entity::booking::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// A booking's current payment: the one that is not FAILED if there is
/// one, else the latest attempt (docs/API.md, Bookings). Keyed by booking.
pub struct CurrentPaymentLoader(pub DatabaseConnection);

impl Loader<Uuid> for CurrentPaymentLoader {
    type Value = Option<entity::payment::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::payment::Entity::find()
            .filter(entity::payment::Column::BookingId.is_in(keys.iter().copied()))
            .order_by_asc(entity::payment::Column::CreatedAt)
            .order_by_asc(entity::payment::Column::Id)
            .all(&self.0)
            .await?;
        let mut out: HashMap<Uuid, Option<entity::payment::Model>> =
            keys.iter().map(|k| (*k, None)).collect();
        for row in rows {
            let slot = out.entry(row.booking_id).or_default();
            let keeps_live = slot
                .as_ref()
                .is_some_and(|p| p.status != entity::payment::PaymentStatus::Failed);
            if !keeps_live {
                *slot = Some(row);
            }
        }
        Ok(out)
    }
}
