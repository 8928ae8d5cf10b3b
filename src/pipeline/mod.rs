//! What every operation goes through besides its resolvers, in this order:
//! NUL characters refused and the document's tokens counted; the document
//! parsed (or taken from the parsed-document cache), its fragment cycles
//! refused, its nesting and its variable definitions bounded; the response
//! cache's notes; the per-operation rate limits; the
//! document checks (introspection, a rejected token, shape, depth, cost,
//! argument values); the request scope
//! (viewer cache, loaders, replica routing); then, around async-graphql's
//! validation and execution, the response cache and the replica's
//! read-your-writes marks; metrics and tracing around all of it, and error
//! codes on everything that comes out, at most so many errors an answer.
//!
//! An [`Executor`] around the schema rather than async-graphql extensions:
//! once a schema has any extension, async-graphql passes every field of
//! every answer through the extension chain (a registry lookup and boxed
//! futures per field), whether the extension looks at fields or not. That
//! was a sixth of a search page's instructions. The schema has none;
//! HTTP, batches and WebSockets all go through [`Pipeline`], and each
//! concern keeps its own module, called here in order.

mod argument_values;
mod auth_gate;
mod depth_limit;
mod document_bounds;
mod document_checks;
mod documents;
mod error_codes;
mod metrics;
#[cfg(test)]
mod name_lists;
mod nesting;
mod no_introspection;
mod nul_bytes;
mod operation_limits;
mod query_cost;
mod rate_limits;
mod request_scope;
mod response_cache;
mod schema_types;

pub use depth_limit::INTROSPECTION_MAX_DEPTH;
pub use document_checks::DocumentChecks;
pub use documents::ParsedDocuments;
pub use error_codes::is_request_error;
pub use metrics::OperationMetrics;
pub use operation_limits::MAX_DIRECTIVES;
pub use rate_limits::{OperationRateLimits, sign_in_attempts};
pub use request_scope::RequestScope;
pub use response_cache::{CACHE_HEADER, ResponseCache};

use std::{
    any::{Any, TypeId},
    sync::Arc,
};

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    futures_util::{
        future,
        stream::{self, BoxStream, StreamExt},
    },
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
};

use crate::schema::RoostSchema;
use schema_types::SchemaTypes;

/// The schema behind every check of the module's documentation.
#[derive(Clone)]
pub struct Pipeline(Arc<Parts>, Arc<SchemaTypes>);

/// What a [`Pipeline`] is made of.
pub struct Parts {
    pub schema: RoostSchema,
    pub checks: DocumentChecks,
    pub documents: ParsedDocuments,
    pub metrics: OperationMetrics,
    pub limits: OperationRateLimits,
    pub cache: ResponseCache,
    pub scope: RequestScope,
    /// Errors one answer carries (then one more saying how many were left
    /// out).
    pub max_errors: usize,
}

/// The data an operation's checks read: the request's own (credentials and
/// client on HTTP) and its connection's (on a WebSocket).
#[derive(Clone, Copy)]
pub(crate) struct OperationData<'a> {
    request: &'a Data,
    session: Option<&'a Data>,
}

impl<'a> OperationData<'a> {
    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<&'a T> {
        let id = TypeId::of::<T>();
        self.request
            .get(&id)
            .or_else(|| self.session?.get(&id))
            .and_then(|d| d.downcast_ref::<T>())
    }
}

/// A request whose document parsed.
struct Parsed {
    request: Request,
    doc: Arc<ExecutableDocument>,
    /// The operation's name: the one the request gives, or the name of the
    /// document's only operation.
    name: Option<String>,
    /// `None` when the request names no runnable operation: async-graphql
    /// refuses it with its own error.
    ty: Option<OperationType>,
}

/// A request refused on its text (a NUL, a parse error, too deep), with
/// the name it gives.
type Refused = Box<(Option<String>, ServerError)>;

/// A request that passed every check before execution.
struct Prepared {
    request: Request,
    cache: response_cache::Notes,
    scope: request_scope::Notes,
}

impl Pipeline {
    pub fn new(parts: Parts) -> Self {
        let types = SchemaTypes::from_sdl(&parts.schema.sdl()).unwrap_or_else(|e| {
            // The schema prints its own SDL: a test keeps it readable.
            tracing::error!(
                error = %e,
                "the schema's SDL does not parse: costs ignore page sizes, and scalar arguments are left to their resolvers"
            );
            SchemaTypes::default()
        });
        Self(Arc::new(parts), Arc::new(types))
    }

    /// The NUL check, the parse, fragment cycles and the nesting bound.
    fn parse(&self, request: Request) -> Result<Parsed, Refused> {
        let refused = |request: Request, e| Box::new((request.operation_name, e));
        if let Err(e) = self.0.checks.prepare_request(&request) {
            return Err(refused(request, e));
        }
        let doc = match self.0.documents.parse(&request.query) {
            Ok(doc) => doc,
            Err(e) => return Err(refused(request, error_codes::parse_error(e))),
        };
        if let Err(e) = nesting::check(&doc).and_then(|()| self.0.checks.parsed_document(&doc)) {
            return Err(refused(request, e));
        }
        let operation = selected_operation(&doc.operations, request.operation_name.as_deref());
        let ty = operation.map(|op| op.ty);
        let name = request
            .operation_name
            .clone()
            .or_else(|| match &doc.operations {
                DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                    ops.keys().next().map(|n| n.to_string())
                }
                _ => None,
            });
        Ok(Parsed {
            request,
            doc,
            name,
            ty,
        })
    }

    /// The checks on the parsed document, then the request scope.
    async fn prepare(
        &self,
        parsed: Parsed,
        session: Option<&Data>,
    ) -> Result<Prepared, ServerError> {
        let Parsed {
            mut request,
            doc,
            name,
            ty,
        } = parsed;
        let parts = &*self.0;
        let cache = {
            let data = OperationData {
                request: &request.data,
                session,
            };
            let operation = selected_operation(&doc.operations, request.operation_name.as_deref());
            let cache = parts
                .cache
                .parsed(data, &request.query, &request.variables, operation);
            parts
                .limits
                .parsed(data, request.operation_name.as_deref(), &doc)
                .await?;
            parts.checks.parsed(document_checks::Checked {
                data,
                doc: &doc,
                operation,
                variables: &request.variables,
                types: &self.1,
            })?;
            cache.named(name)
        };
        request.set_parsed_query(ExecutableDocument::clone(&doc));
        let scope = parts.scope.prepare(&mut request, session, ty).await;
        Ok(Prepared {
            request,
            cache,
            scope,
        })
    }

    /// Runs a query or mutation that passed its checks: from the response
    /// cache when it can be, with the replica's marks after a mutation.
    async fn run(&self, prepared: Prepared, session: Option<Arc<Data>>) -> Response {
        let Prepared {
            request,
            cache,
            scope,
        } = prepared;
        let schema = &self.0.schema;
        let run = async move {
            match session {
                None => schema.execute(request).await,
                // The connection's data reaches resolvers this way only.
                Some(session) => Executor::execute_stream(schema, request, Some(session))
                    .next()
                    .await
                    .unwrap_or_else(|| Response::new(async_graphql::Value::Null)),
            }
        };
        let run = self.0.scope.execute(scope, run);
        self.0.cache.execute(cache, run).await
    }

    /// One query or mutation, counted and timed.
    async fn operation(&self, request: Request, session: Option<Arc<Data>>) -> Response {
        match self.parse(request) {
            Ok(parsed) => self.parsed_operation(parsed, session).await,
            Err(refused) => self.refused(*refused).await,
        }
    }

    async fn parsed_operation(&self, parsed: Parsed, session: Option<Arc<Data>>) -> Response {
        let name = parsed.name.clone();
        let run = async move {
            let prepared = self.prepare(parsed, session.as_deref()).await;
            let response = match prepared {
                Ok(prepared) => self.run(prepared, session).await,
                Err(e) => Response::from_errors(vec![e]),
            };
            self.finish(response)
        };
        self.0.metrics.execute(name.as_deref(), run).await
    }

    /// Codes on every error, and at most so many errors.
    fn finish(&self, response: Response) -> Response {
        error_codes::classify_all(response, self.0.max_errors)
    }

    async fn refused(&self, (name, e): (Option<String>, ServerError)) -> Response {
        let response = self.finish(Response::from_errors(vec![e]));
        self.0
            .metrics
            .execute(name.as_deref(), future::ready(response))
            .await
    }

    /// What a WebSocket's `subscribe` message starts: a subscription's
    /// events, or the one answer of a query or mutation.
    async fn stream(
        self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let one = |response| stream::once(future::ready(response)).boxed();
        let parsed = match self.parse(request) {
            Ok(parsed) if parsed.ty == Some(OperationType::Subscription) => parsed,
            Ok(parsed) => return one(self.parsed_operation(parsed, session).await),
            Err(refused) => return one(self.refused(*refused).await),
        };
        match self.prepare(parsed, session.as_deref()).await {
            Ok(prepared) => {
                let pipeline = self.clone();
                Executor::execute_stream(&self.0.schema, prepared.request, session)
                    .map(move |response| pipeline.finish(response))
                    .boxed()
            }
            Err(e) => one(self.finish(Response::from_errors(vec![e]))),
        }
    }
}

impl Executor for Pipeline {
    async fn execute(&self, request: Request) -> Response {
        self.operation(request, None).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        stream::once(self.clone().stream(request, session_data))
            .flatten()
            .boxed()
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

/// A document whose fragments each spread the next one twice, in
/// `around` at `NEXT`: 2^n paths through n + 1 fragments.
#[cfg(test)]
fn fragment_bomb(n: usize, around: &str) -> String {
    let mut q = String::from("{ ...F0 }\n");
    for i in 0..n {
        let body = around.replace("NEXT", &format!("...F{0} ...F{0}", i + 1));
        q.push_str(&format!("fragment F{i} on Query {{ {body} }}\n"));
    }
    q.push_str(&format!("fragment F{n} on Query {{ leaf }}\n"));
    q
}

/// The schema the server runs behind its pipeline: shape, limits,
/// services and loaders, and the read replica queries go to when there is
/// one.
pub fn build_schema(
    config: &domain::config::GraphqlConfig,
    services: crate::graphql::Services,
    db: sea_orm::DatabaseConnection,
    replica: Option<crate::graphql::replica::ReadReplica>,
    hub: crate::realtime::Hub,
    limits: crate::ratelimit::RateLimits,
    cache: ResponseCache,
) -> Pipeline {
    Pipeline::new(Parts {
        schema: crate::schema::schema_builder(config)
            .data(services)
            .data(hub)
            .finish(),
        checks: DocumentChecks {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_aliases: config.max_aliases,
            max_tokens: config.max_tokens,
            max_variables: config.max_variables,
            max_list_items: config.max_list_items,
            introspection: config.introspection,
        },
        documents: ParsedDocuments::default(),
        metrics: OperationMetrics::default(),
        limits: OperationRateLimits { limits },
        cache,
        scope: RequestScope {
            db,
            replica,
            loaders: crate::schema::install_loaders,
        },
        max_errors: config.max_errors.max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(query: &str, name: Option<&str>) -> Option<OperationType> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        selected_operation(&doc.operations, name).map(|op| op.ty)
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
    }
}
