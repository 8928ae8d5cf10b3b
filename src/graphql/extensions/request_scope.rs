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

use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::{
    Request, Response, extensions::ExtensionContext, parser::types::OperationType,
};

use sea_orm::DatabaseConnection;

use crate::{
    auth::{Credentials, actor::ViewerCache},
    graphql::replica::{ReadReplica, WroteFor},
};

pub struct RequestScope {
    pub db: DatabaseConnection,
    pub replica: Option<ReadReplica>,
}

impl RequestScope {
    /// This part's state for one operation.
    pub(super) fn for_operation(&self) -> RequestScopeExtension {
        RequestScopeExtension {
            db: self.db.clone(),
            replica: self.replica.clone(),
            mutation: AtomicBool::new(false),
        }
    }
}

pub(super) struct RequestScopeExtension {
    db: DatabaseConnection,
    replica: Option<ReadReplica>,
    /// Set when the operation is a mutation and there is a replica: its
    /// writers are marked once it has run.
    mutation: AtomicBool,
}

/// The signed-in viewer's credentials: in the request's data on HTTP, in the
/// connection's data on a WebSocket.
fn viewer_id(ctx: &ExtensionContext<'_>, request: &Request) -> Option<uuid::Uuid> {
    let credentials = request
        .data
        .get(&std::any::TypeId::of::<Credentials>())
        .and_then(|d| d.downcast_ref::<Credentials>())
        .or_else(|| ctx.data_opt::<Credentials>());
    match credentials {
        Some(Credentials::Viewer(viewer)) => Some(viewer.user_id),
        _ => None,
    }
}

impl RequestScopeExtension {
    pub(super) async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
    ) -> Request {
        request.data.insert(ViewerCache::default());
        let ty = operation_type(&mut request);
        let keep = ty != Some(OperationType::Subscription);
        let Some(replica) = &self.replica else {
            install_loaders(&mut request, &self.db, keep);
            return request;
        };
        let viewer = viewer_id(ctx, &request);
        let on_replica = ty == Some(OperationType::Query)
            && match viewer {
                Some(user_id) => !replica.writers.wrote_recently(user_id).await,
                None => true,
            };
        metrics::counter!("roost_db_route_total", "pool" => if on_replica { "replica" } else { "primary" })
            .increment(1);
        if ty == Some(OperationType::Mutation) {
            self.mutation.store(true, Ordering::Relaxed);
            request.data.insert(WroteFor::default());
            // Marked before it runs too, for the viewer's queries that run
            // beside it (a batch's operations run concurrently).
            if let Some(user_id) = viewer {
                replica.writers.mark(user_id).await;
            }
        }
        if on_replica {
            request.data.insert(replica.services.clone());
            install_loaders(&mut request, &replica.db, keep);
        } else {
            install_loaders(&mut request, &self.db, keep);
        }
        request
    }

    /// Runs `run`, the operation; then marks a mutation's writers.
    pub(super) async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        run: impl Future<Output = Response>,
    ) -> Response {
        let response = run.await;
        if let Some(replica) = &self.replica
            && self.mutation.load(Ordering::Relaxed)
        {
            let mut users = ctx
                .data_opt::<WroteFor>()
                .map(WroteFor::take)
                .unwrap_or_default();
            if let Some(Credentials::Viewer(viewer)) = ctx.data_opt::<Credentials>() {
                users.push(viewer.user_id);
            }
            users.sort_unstable();
            users.dedup();
            for user_id in users {
                replica.writers.mark(user_id).await;
            }
        }
        response
    }
}

fn install_loaders(request: &mut Request, db: &DatabaseConnection, keep: bool) {
    crate::properties::loaders::install(&mut request.data, db, keep);
    crate::messaging::install(&mut request.data, db, keep);
    crate::reviews::install(&mut request.data, db, keep);
}

/// The type of the operation `request` runs. A text that names neither a
/// mutation nor a subscription can only hold queries; any other is parsed,
/// and the parse kept on the request so the executor does not repeat it.
/// `None` when it does not parse or names no runnable operation: it fails
/// later, on the primary.
fn operation_type(request: &mut Request) -> Option<OperationType> {
    if !request.query.contains("mutation") && !request.query.contains("subscription") {
        return Some(OperationType::Query);
    }
    let name = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    super::selected_operation(&doc.operations, name.as_deref()).map(|op| op.ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(query: &str, name: Option<&str>) -> Option<OperationType> {
        let mut request = Request::new(query);
        request.operation_name = name.map(str::to_owned);
        operation_type(&mut request)
    }

    #[test]
    fn finds_the_operation_that_runs() {
        assert_eq!(ty("{ me { id } }", None), Some(OperationType::Query));
        assert_eq!(
            ty("query { user(id: \"mutation\") { id } }", None),
            Some(OperationType::Query),
            "a word in a string is not an operation"
        );
        assert_eq!(
            ty("mutation { logout(refreshToken: \"x\") }", None),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            ty("query A { me { id } } mutation B { x }", Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            ty("query A { me { id } } mutation B { x }", Some("A")),
            Some(OperationType::Query)
        );
        assert_eq!(
            ty("query A { me { id } } mutation B { x }", None),
            None,
            "ambiguous: fails later"
        );
        assert_eq!(
            ty("subscription { x }", None),
            Some(OperationType::Subscription)
        );
        assert_eq!(ty("mutation {", None), None, "does not parse");
    }
}
