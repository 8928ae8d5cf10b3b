//! Per-operation state that resolvers share: the viewer's user row, loaded
//! once. Installed on every request, HTTP or WebSocket.

use std::sync::Arc;

use async_graphql::{
    Request, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};

use crate::auth::actor::ViewerCache;

pub struct RequestScope;

impl ExtensionFactory for RequestScope {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestScope)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestScope {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        request.data.insert(ViewerCache::default());
        next.run(ctx, request).await
    }
}
