//! A read replica for read-only operations (`DATABASE_READ_URL`).
//!
//! `pipeline::RequestScope` sends a query (not a mutation, not a
//! subscription) to the replica by putting [`ReadReplica::services`] in the
//! operation's data, where resolvers find it before the schema's own
//! services, and by building the loaders on the replica's pool. A viewer who
//! wrote within the read-your-writes window stays on the primary.

use std::sync::{Arc, Mutex};

use async_graphql::Context;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Services;
use domain::infra::db::RecentWriters;

/// The replica's pool, the services that read through it, and who wrote a
/// moment ago.
#[derive(Clone)]
pub struct ReadReplica {
    pub db: DatabaseConnection,
    pub services: Services,
    pub writers: RecentWriters,
}

/// Users a mutation acted for besides its viewer (the user `register` or
/// `login` returns), put in a mutation's data when there is a replica.
#[derive(Default, Clone)]
pub struct WroteFor(Arc<Mutex<Vec<Uuid>>>);

impl WroteFor {
    pub fn take(&self) -> Vec<Uuid> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Notes that this mutation wrote for `user_id`, so that their next reads
/// go to the primary. Does nothing without a replica.
pub fn wrote_for(ctx: &Context<'_>, user_id: Uuid) {
    if let Some(wrote) = ctx.data_opt::<WroteFor>() {
        wrote
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(user_id);
    }
}
