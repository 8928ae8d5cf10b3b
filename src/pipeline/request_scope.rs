//! Per-operation state that resolvers share: the viewer's user row, loaded
//! once, and the batching loaders with their caches. Installed on every
//! operation, HTTP or WebSocket.
//!
//! With a read replica it also picks the database an operation reads from:
//! a query goes to the replica unless its viewer wrote within the
//! read-your-writes window; mutations (and the reads inside them) and
//! subscriptions stay on the primary. A mutation's viewer is marked as
//! having written when it starts and again when it ends (the window counts
//! from the end), and so is the user a sign-in returned.

use async_graphql::{Data, Request, Response, parser::types::OperationType};

use sea_orm::DatabaseConnection;

use super::OperationData;
use crate::{
    auth::{Credentials, actor::ViewerCache},
    graphql::replica::{ReadReplica, WroteFor},
};

/// Puts a fresh set of every domain's loaders in an operation's data, for
/// `db`; `keep` caches their results for the operation (not for a
/// subscription's events). The schema's wiring provides it.
pub type InstallLoaders = fn(&mut async_graphql::Data, &DatabaseConnection, bool);

pub struct RequestScope {
    pub db: DatabaseConnection,
    pub replica: Option<ReadReplica>,
    pub loaders: InstallLoaders,
}

/// What a mutation run with a replica leaves to do once it has run: the
/// users whose reads stay on the primary for a while.
#[derive(Default)]
pub(super) struct Notes {
    /// Set for a mutation when there is a replica.
    writers: Option<Writers>,
}

struct Writers {
    viewer: Option<uuid::Uuid>,
    wrote_for: WroteFor,
}

/// The signed-in viewer: in the request's data on HTTP, in the
/// connection's data on a WebSocket.
fn viewer_id(data: OperationData<'_>) -> Option<uuid::Uuid> {
    match data.get::<Credentials>() {
        Some(Credentials::Viewer(viewer)) => Some(viewer.user_id),
        _ => None,
    }
}

impl RequestScope {
    /// Puts the operation's viewer cache and loaders in `request`, on the
    /// database it reads from; `ty` is its type (`None` when it names no
    /// runnable operation: it fails later, on the primary).
    pub(super) async fn prepare(
        &self,
        request: &mut Request,
        session: Option<&Data>,
        ty: Option<OperationType>,
    ) -> Notes {
        request.data.insert(ViewerCache::default());
        let keep = ty != Some(OperationType::Subscription);
        let Some(replica) = &self.replica else {
            (self.loaders)(&mut request.data, &self.db, keep);
            return Notes::default();
        };
        let viewer = viewer_id(OperationData {
            request: &request.data,
            session,
        });
        let on_replica = ty == Some(OperationType::Query)
            && match viewer {
                Some(user_id) => !replica.writers.wrote_recently(user_id).await,
                None => true,
            };
        metrics::counter!("roost_db_route_total", "pool" => if on_replica { "replica" } else { "primary" })
            .increment(1);
        let mut notes = Notes::default();
        if ty == Some(OperationType::Mutation) {
            let wrote_for = WroteFor::default();
            request.data.insert(wrote_for.clone());
            notes.writers = Some(Writers { viewer, wrote_for });
            // Marked before it runs too, for the viewer's queries that run
            // beside it (a batch's operations run concurrently).
            if let Some(user_id) = viewer {
                replica.writers.mark(user_id).await;
            }
        }
        if on_replica {
            request.data.insert(replica.services.clone());
            (self.loaders)(&mut request.data, &replica.db, keep);
        } else {
            (self.loaders)(&mut request.data, &self.db, keep);
        }
        notes
    }

    /// Runs `run`, the operation; then marks a mutation's writers.
    pub(super) async fn execute(
        &self,
        notes: Notes,
        run: impl Future<Output = Response>,
    ) -> Response {
        let response = run.await;
        if let (Some(replica), Some(writers)) = (&self.replica, notes.writers) {
            let mut users = writers.wrote_for.take();
            users.extend(writers.viewer);
            users.sort_unstable();
            users.dedup();
            for user_id in users {
                replica.writers.mark(user_id).await;
            }
        }
        response
    }
}
