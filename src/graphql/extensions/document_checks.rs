//! The checks made on every operation's text before anything runs, in one
//! extension: NUL characters in the document or variables, then, on the
//! parsed document, introspection (when it is off), a rejected token, the
//! operation's shape (root/aliased fields, directives) and its depth.
//!
//! One extension rather than one each: async-graphql passes every field of
//! every answer through each installed extension, so each one costs a
//! little on every field whether it looks at fields or not.

use std::sync::Arc;

use async_graphql::{
    Request, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
    },
    parser::types::ExecutableDocument,
};

use super::{auth_gate, depth_limit, no_introspection, nul_bytes, operation_limits};

#[derive(Clone, Copy)]
pub struct DocumentChecks {
    pub max_depth: usize,
    /// Root fields plus aliased fields, per operation.
    pub max_aliases: usize,
    pub introspection: bool,
}

impl ExtensionFactory for DocumentChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentChecks {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        nul_bytes::check(&request)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if !self.introspection {
            no_introspection::check(&doc)?;
        }
        auth_gate::check(ctx, &doc)?;
        operation_limits::check(&doc, self.max_aliases)?;
        depth_limit::check(&doc, self.max_depth)?;
        Ok(doc)
    }
}
