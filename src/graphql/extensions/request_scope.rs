//! Per-operation state that resolvers share: the viewer's user row, loaded
//! once, and the batching loaders with their caches. Installed on every
//! operation, HTTP or WebSocket.

use std::sync::Arc;

use async_graphql::{
    Request, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};

use sea_orm::DatabaseConnection;

use crate::auth::actor::ViewerCache;

pub struct RequestScope {
    pub db: DatabaseConnection,
}

impl ExtensionFactory for RequestScope {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestScopeExtension {
            db: self.db.clone(),
        })
    }
}

struct RequestScopeExtension {
    db: DatabaseConnection,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestScopeExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        request.data.insert(ViewerCache::default());
        let keep = !is_subscription(&request);
        crate::properties::loaders::install(&mut request.data, &self.db, keep);
        crate::messaging::install(&mut request.data, &self.db, keep);
        crate::reviews::install(&mut request.data, &self.db, keep);
        next.run(ctx, request).await
    }
}

/// Whether the operation `request` runs is a subscription. Parsed here
/// (again) only when the text mentions one; a text that does not parse is
/// answered with its error later anyway.
fn is_subscription(request: &Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    if !request.query.contains("subscription") {
        return false;
    }
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Subscription,
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| op.node.ty == OperationType::Subscription),
            None => false,
        },
    }
}
