//! Serves anonymous query operations from the response cache
//! (`domain::infra::cache`), and moves the cache's versions on after mutations that
//! change public data.
//!
//! Only an anonymous viewer's query is cached: what it can see is what
//! everyone can see, so its answer may be shared, and no token, user id or
//! other private value is ever part of a key. Answers with errors are not
//! kept. An operation that mentions bookings or availability (a calendar,
//! `isAvailable`, a quote, a search with `checkIn`/`checkOut`) depends on
//! the `bookings` version as well as the `catalog` one.

use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::{
    Response, Variables,
    parser::types::{OperationDefinition, OperationType, Selection},
};
use axum::http::HeaderValue;
use bytes::Bytes;

use super::OperationData;
use crate::auth::Credentials;
use domain::infra::cache::{ResponseCache as Store, Scope, Versions};

/// Mutations that change nothing the cache holds: sessions, private lists,
/// bookings (their events move the `bookings` version where they are
/// published), messages and notifications. Every other mutation moves the
/// `catalog` version once it has run. `MUTATIONS` in `name_lists.rs` decides
/// for every mutation of the schema, and its test holds this list to it.
pub(super) const PRIVATE_MUTATIONS: [&str; 15] = [
    // A new account is nobody's listing or review yet.
    "register",
    "login",
    "logout",
    "refreshSession",
    "changePassword",
    "saveProperty",
    "unsaveProperty",
    "createBooking",
    "payBooking",
    "acceptBooking",
    "declineBooking",
    "cancelBooking",
    "markNotificationsRead",
    "sendMessage",
    "markConversationRead",
];

/// Words whose presence makes an operation depend on bookings. A test
/// (`name_lists.rs`) holds every name an anonymous query can reach to a
/// decision: whatever reads bookings must hold one of these words.
pub(super) const BOOKING_WORDS: [&str; 6] = [
    "calendar",
    "isavailable",
    "checkin",
    "checkout",
    "quote",
    "booking",
];

/// The response header that tells whether the cache answered.
pub const CACHE_HEADER: &str = "x-roost-cache";

pub struct ResponseCache {
    pub cache: Option<Store>,
    pub versions: Versions,
}

struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// This process's hits and misses, for the hit ratio.
static COUNTERS: Counters = Counters {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
};

/// What the checks before execution learnt about an operation.
#[derive(Default)]
pub(super) struct Notes {
    operation_name: Option<String>,
    /// Set for a cacheable query: its key's parts.
    lookup: Option<Lookup>,
    /// Set for a mutation that changes public data.
    changes_catalog: bool,
}

impl Notes {
    /// With the operation's name, part of the key.
    pub(super) fn named(self, operation_name: Option<String>) -> Self {
        Self {
            operation_name,
            ..self
        }
    }
}

struct Lookup {
    query: String,
    variables: Vec<u8>,
    scopes: Vec<Scope>,
}

impl ResponseCache {
    fn count(hit: bool) {
        let (counter, label) = if hit {
            (&COUNTERS.hits, "hit")
        } else {
            (&COUNTERS.misses, "miss")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("roost_response_cache_requests_total", "result" => label).increment(1);
        let hits = COUNTERS.hits.load(Ordering::Relaxed) as f64;
        let misses = COUNTERS.misses.load(Ordering::Relaxed) as f64;
        metrics::gauge!("roost_response_cache_hit_ratio").set(hits / (hits + misses));
    }
}

fn mentions_bookings(query: &str, variables: &[u8]) -> bool {
    let query = query.to_ascii_lowercase();
    let variables = String::from_utf8_lossy(variables).to_ascii_lowercase();
    BOOKING_WORDS
        .iter()
        .any(|w| query.contains(w) || variables.contains(w))
}

impl ResponseCache {
    /// Notes, once the document is parsed, whether `operation` (the one the
    /// request runs, if any) is a cacheable query or a mutation of public
    /// data.
    pub(super) fn parsed(
        &self,
        data: OperationData<'_>,
        query: &str,
        variables: &Variables,
        operation: Option<&OperationDefinition>,
    ) -> Notes {
        let mut notes = Notes::default();
        let Some(op) = operation else {
            return notes;
        };
        match op.ty {
            OperationType::Query => {
                let anonymous = matches!(data.get::<Credentials>(), Some(Credentials::Anonymous));
                if self.cache.is_some() && anonymous {
                    let variables = serde_json::to_vec(variables).unwrap_or_default();
                    let mut scopes = vec![Scope::Catalog];
                    if mentions_bookings(query, &variables) {
                        scopes.push(Scope::Bookings);
                    }
                    notes.lookup = Some(Lookup {
                        query: query.to_owned(),
                        variables,
                        scopes,
                    });
                }
            }
            OperationType::Mutation => {
                notes.changes_catalog = op.selection_set.node.items.iter().any(|item| {
                    match &item.node {
                        Selection::Field(f) => {
                            let name = f.node.name.node.as_str();
                            name != "__typename" && !PRIVATE_MUTATIONS.contains(&name)
                        }
                        // Fragments on Mutation: assume the worst.
                        _ => true,
                    }
                });
            }
            OperationType::Subscription => {}
        }
        notes
    }

    /// Answers from the cache, or runs `run` (the operation) and keeps its
    /// answer; after a mutation of public data, moves the catalogue on.
    pub(super) async fn execute(
        &self,
        notes: Notes,
        run: impl Future<Output = Response>,
    ) -> Response {
        let Notes {
            operation_name,
            lookup,
            changes_catalog,
        } = notes;
        if changes_catalog {
            let response = run.await;
            self.versions.bump(Scope::Catalog).await;
            return response;
        }
        let (Some(cache), Some(lookup)) = (&self.cache, lookup) else {
            return run.await;
        };
        // Read before running, so a write during the run leaves what it
        // computes under the old versions, unreachable.
        let Some(versions) = cache.versions().current(&lookup.scopes).await else {
            return run.await;
        };
        let key = cache.key(
            &lookup.query,
            operation_name.as_deref(),
            &lookup.variables,
            &lookup.scopes,
            &versions,
        );
        if let Some(bytes) = cache.get(&key).await
            && let Ok(data) = serde_json::from_slice::<async_graphql::Value>(&bytes)
        {
            Self::count(true);
            let mut response = Response::new(data);
            response
                .http_headers
                .insert(CACHE_HEADER, HeaderValue::from_static("hit"));
            return response;
        }
        Self::count(false);
        let mut response = run.await;
        if response.errors.is_empty()
            && let Ok(bytes) = serde_json::to_vec(&response.data)
        {
            let cache = cache.clone();
            tokio::spawn(async move { cache.put(key, Bytes::from(bytes)).await });
        }
        response
            .http_headers
            .insert(CACHE_HEADER, HeaderValue::from_static("miss"));
        response
    }
}
