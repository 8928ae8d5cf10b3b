//! What resolvers of every domain reach through the GraphQL context: the
//! services, the operation's loaders, and what the selection asks for.
//! Domains use this file; it names no domain's roots (`crate::schema` does).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use sea_orm::DatabaseConnection;

use crate::{
    auth::AuthService,
    bookings::BookingService,
    error::{AppError, GraphqlResult as _},
    messaging::MessagingService,
    notifications::NotificationService,
    payments::PaymentService,
    properties::PropertyService,
    reviews::ReviewService,
    storage::Storage,
};

use domain::users::UserService;

/// The service layer, shared by every resolver through the schema's data.
#[derive(Clone)]
pub struct Services {
    pub users: UserService,
    pub auth: AuthService,
    pub properties: PropertyService,
    pub storage: Storage,
    pub bookings: BookingService,
    pub payments: PaymentService,
    pub notifications: NotificationService,
    pub messaging: MessagingService,
    pub reviews: ReviewService,
}

impl Services {
    /// The same services reading through `db`, a read replica: what
    /// read-only queries run on. Sessions stay on the primary (`auth`), and
    /// Redis, the event bus and the job queue are shared.
    pub fn reading_from(&self, db: DatabaseConnection) -> Self {
        let properties = PropertyService::new(
            db.clone(),
            self.properties.catalogue.clone(),
            self.properties.fees,
            self.properties.points.clone(),
        );
        let bookings = BookingService {
            db: db.clone(),
            properties: properties.clone(),
            ..self.bookings.clone()
        };
        Self {
            users: UserService::new(db.clone()),
            auth: self.auth.clone(),
            storage: self.storage.clone(),
            payments: PaymentService {
                db: db.clone(),
                bookings: bookings.clone(),
                ..self.payments.clone()
            },
            notifications: NotificationService::new(db.clone()),
            messaging: self.messaging.with_db(db.clone(), properties.clone()),
            reviews: ReviewService {
                db,
                ..self.reviews.clone()
            },
            properties,
            bookings,
        }
    }
}

pub trait ServicesExt {
    fn services(&self) -> async_graphql::Result<&Services>;
}

impl ServicesExt for Context<'_> {
    fn services(&self) -> async_graphql::Result<&Services> {
        self.data::<Services>().map_err(|_| {
            crate::error::GraphqlError::extend(&AppError::Internal(anyhow::anyhow!(
                "services missing from the schema data"
            )))
        })
    }
}

/// The operation's loader of `T`.
pub fn loader<'a, T: Send + Sync + 'static>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a DataLoader<OneFlight<T>, HashMapCache>> {
    ctx.data::<DataLoader<OneFlight<T>, HashMapCache>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a loader is missing from the operation")))
        .extend()
}

/// Whether the selection asks for `totalCount` (counting costs a query).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::DbErr;

    use super::*;

    type Rows<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

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
