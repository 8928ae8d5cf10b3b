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
        crate::properties::loaders::install(&mut request.data, &self.db);
        crate::reviews::install(&mut request.data, &self.db);
        next.run(ctx, request).await
    }
}
