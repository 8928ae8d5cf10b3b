//! Batched lookups: whatever a page of listings needs (hosts, amenities,
//! photos, wishlist flags, listing counts) is fetched with one query per
//! kind, however long the page.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::calendar::{Held, held_on};

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

/// A loader whose results are kept for the rest of the operation.
pub type Cached<T> = DataLoader<OneFlight<T>, HashMapCache>;

/// A loader for one operation. A subscription lives for as long as its
/// client stays, so its loaders do not cache (`keep` false): every event
/// reads fresh rows, and memory does not grow with the events served.
pub fn cached<T: Send + Sync + 'static>(loader: T, keep: bool) -> Cached<T> {
    let l = Cached::with_cache(
        OneFlight::new(loader, keep),
        tokio::spawn,
        HashMapCache::default(),
    );
    l.enable_all_cache(keep);
    l
}

type Flight<K, V, E> = Shared<BoxFuture<'static, Result<Arc<HashMap<K, V>>, E>>>;
/// The flights a load waits for, each with the keys it brings.
type Waits<K, V, E> = Vec<(Flight<K, V, E>, Vec<K>)>;

/// A loader that reads each key at most once per operation, even when the
/// resolvers' timing splits its requests over several batches.
///
/// The batching loader in front of it gathers keys for a moment and sends
/// them as one batch; a key asked for after that batch left, and before its
/// answer was cached, goes into the next batch and is read again (a host's
/// listing counts, asked by each of a page's fifty listings at slightly
/// different moments). Here every batch's load is shared by the keys it
/// reads: a later batch waits for the one already reading a key instead of
/// reading it again. With `keep` the loads stay for the operation (the
/// cache in front holds the same values); without it (subscriptions) a key
/// is forgotten once its load is done.
pub struct OneFlight<L> {
    inner: Arc<L>,
    keep: bool,
    /// Per key type, `HashMap<K, Flight<K, ..>>`.
    flights: std::sync::Mutex<HashMap<std::any::TypeId, Box<dyn std::any::Any + Send>>>,
}

impl<L> OneFlight<L> {
    pub fn new(inner: L, keep: bool) -> Self {
        Self {
            inner: Arc::new(inner),
            keep,
            flights: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl<K, L> Loader<K> for OneFlight<L>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
    L::Error: Sync,
{
    type Value = L::Value;
    type Error = L::Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, L::Value>, L::Error> {
        // The flights these keys are on, each once, with its keys.
        let mut waits: Waits<K, L::Value, L::Error> = Vec::new();
        let tracked = {
            let mut tables = self
                .flights
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let table = tables
                .entry(std::any::TypeId::of::<K>())
                .or_insert_with(|| Box::new(HashMap::<K, Flight<K, L::Value, L::Error>>::new()))
                .downcast_mut::<HashMap<K, Flight<K, L::Value, L::Error>>>();
            if let Some(table) = table {
                let fresh: Vec<K> = keys
                    .iter()
                    .filter(|k| !table.contains_key(*k))
                    .cloned()
                    .collect();
                if !fresh.is_empty() {
                    let inner = self.inner.clone();
                    let read = fresh.clone();
                    let flight = async move { inner.load(&read).await.map(Arc::new) }
                        .boxed()
                        .shared();
                    for key in fresh {
                        table.insert(key, flight.clone());
                    }
                }
                for key in keys {
                    if let Some(flight) = table.get(key) {
                        match waits.iter_mut().find(|(f, _)| f.ptr_eq(flight)) {
                            Some((_, ks)) => ks.push(key.clone()),
                            None => waits.push((flight.clone(), vec![key.clone()])),
                        }
                    }
                }
                true
            } else {
                false
            }
        };
        if !tracked {
            // Only ever this type under this TypeId.
            return self.inner.load(keys).await;
        }
        let mut out = HashMap::with_capacity(keys.len());
        let mut failure = None;
        for (flight, ks) in waits {
            match flight.await {
                Ok(found) => {
                    for key in ks {
                        if let Some(value) = found.get(&key) {
                            out.insert(key, value.clone());
                        }
                    }
                }
                Err(e) => failure = Some((e, ks)),
            }
        }
        if failure.is_some() || !self.keep {
            // A failed read is not remembered; without `keep`, nothing is.
            let mut tables = self
                .flights
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(table) = tables
                .get_mut(&std::any::TypeId::of::<K>())
                .and_then(|t| t.downcast_mut::<HashMap<K, Flight<K, L::Value, L::Error>>>())
            {
                match &failure {
                    Some((_, ks)) if self.keep => ks.iter().for_each(|k| {
                        table.remove(k);
                    }),
                    _ => keys.iter().for_each(|k| {
                        table.remove(k);
                    }),
                }
            }
        }
        match failure {
            Some((e, _)) => Err(e),
            None => Ok(out),
        }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts the keys it is asked to read; each read takes a while.
    struct Slow(Arc<AtomicUsize>, bool);

    impl Loader<u32> for Slow {
        type Value = u32;
        type Error = Arc<DbErr>;

        async fn load(&self, keys: &[u32]) -> Rows<u32, u32> {
            self.0.fetch_add(keys.len(), Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            if self.1 {
                return Err(Arc::new(DbErr::Custom("down".into())));
            }
            Ok(keys.iter().map(|k| (*k, k * 10)).collect())
        }
    }

    #[tokio::test]
    async fn a_key_is_read_once_however_its_requests_are_batched() {
        let reads = Arc::new(AtomicUsize::new(0));
        let loader = OneFlight::new(Slow(reads.clone(), false), true);
        // A second batch while the first is still reading: it waits for it
        // and reads only what is new.
        let (a, b) = tokio::join!(loader.load(&[1, 2]), async {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            loader.load(&[2, 3]).await
        });
        assert_eq!(a.expect("a"), HashMap::from([(1, 10), (2, 20)]));
        assert_eq!(b.expect("b"), HashMap::from([(2, 20), (3, 30)]));
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // After it, still not read again.
        assert_eq!(loader.load(&[1, 3]).await.expect("c").len(), 2);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn failures_and_loads_without_keep_are_not_remembered() {
        let reads = Arc::new(AtomicUsize::new(0));
        let failing = OneFlight::new(Slow(reads.clone(), true), true);
        assert!(failing.load(&[1]).await.is_err());
        assert!(failing.load(&[1]).await.is_err());
        assert_eq!(reads.load(Ordering::SeqCst), 2, "a failure is read again");

        let reads = Arc::new(AtomicUsize::new(0));
        let fresh = OneFlight::new(Slow(reads.clone(), false), false);
        fresh.load(&[1]).await.expect("first");
        fresh.load(&[1]).await.expect("second");
        assert_eq!(
            reads.load(Ordering::SeqCst),
            2,
            "without keep, every load reads"
        );
    }
}
