//! What every operation goes through besides its resolvers, as one
//! async-graphql extension (`Pipeline`), in this order: error codes on
//! everything that comes out; before parsing, NUL characters refused and
//! the operation's name noted; the request scope (viewer cache, loaders,
//! replica routing); after parsing, the response cache's notes, the
//! per-operation rate limits and the document checks (introspection, a
//! rejected token, shape, depth); around execution, metrics and tracing,
//! the response cache, and the replica's read-your-writes marks.
//!
//! One extension rather than one per concern: async-graphql passes every
//! field of every answer through each installed extension (a boxed future
//! per field and extension), so each one costs on every field whether it
//! looks at fields or not. Each concern keeps its own module; this one only
//! calls them in order.

mod auth_gate;
mod depth_limit;
mod document_checks;
mod error_codes;
mod metrics;
mod no_introspection;
mod nul_bytes;
mod operation_limits;
mod rate_limits;
mod request_scope;
mod response_cache;

pub use depth_limit::INTROSPECTION_MAX_DEPTH;
pub use document_checks::DocumentChecks;
pub use error_codes::is_request_error;
pub use metrics::OperationMetrics;
pub use operation_limits::MAX_DIRECTIVES;
pub use rate_limits::{OperationRateLimits, sign_in_attempts};
pub use request_scope::RequestScope;
pub use response_cache::{CACHE_HEADER, ResponseCache};

use std::sync::Arc;

use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextRequest, NextSubscribe, NextValidation,
    },
    futures_util::stream::{BoxStream, StreamExt},
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition},
};

/// The schema's one extension; see the module's documentation.
pub struct Pipeline {
    pub checks: DocumentChecks,
    pub metrics: OperationMetrics,
    pub limits: OperationRateLimits,
    pub cache: ResponseCache,
    pub scope: RequestScope,
}

impl ExtensionFactory for Pipeline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Operation {
            checks: self.checks,
            metrics: self.metrics.clone(),
            limits: self.limits.for_operation(),
            cache: self.cache.for_operation(),
            scope: self.scope.for_operation(),
        })
    }
}

/// The pipeline's state for one operation.
struct Operation {
    checks: DocumentChecks,
    metrics: OperationMetrics,
    limits: rate_limits::OperationRateLimitsExtension,
    cache: response_cache::ResponseCacheExtension,
    scope: request_scope::RequestScopeExtension,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Operation {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        error_codes::classify_all(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(error_codes::classify_all).boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.checks.prepare_request(&request)?;
        self.limits.prepare_request(&request);
        self.cache.prepare_request(&request);
        let request = self.scope.prepare_request(ctx, request).await;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let parsed = async {
            let doc = next.run(ctx, query, variables).await?;
            self.cache.parsed(ctx, query, variables, &doc);
            self.limits.parsed(ctx, &doc).await?;
            self.checks.parsed(ctx, &doc)?;
            Ok(doc)
        };
        parsed.await.map_err(error_codes::classify_parse_error)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            errors.iter_mut().for_each(error_codes::classify);
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let run = self.scope.execute(ctx, next.run(ctx, operation_name));
        let run = self.cache.execute(operation_name, run);
        self.metrics.execute(operation_name, run).await
    }
}

/// The operation a request runs: the only one, or the one it names. `None`
/// when it names none of several (or one that is not there): execution
/// fails on that later, with its own error.
fn selected_operation<'a>(
    operations: &'a DocumentOperations,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}
