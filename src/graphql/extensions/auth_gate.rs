//! A request whose token is malformed, expired or revoked fails with
//! UNAUTHENTICATED before anything runs: it is never treated as anonymous.
//!
//! The one exception is an operation made only of the session mutations that
//! carry their own credentials in their arguments (`register`, `login`,
//! `refreshSession`, `logout`). A client whose access token has expired
//! must be able to refresh it, even when its HTTP link still attaches the
//! old token to every request.

use std::sync::Arc;

use async_graphql::{
    ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, OperationType, Selection},
};

use crate::{
    auth::Credentials,
    error::{code, request_error},
};

const OWN_CREDENTIALS: [&str; 5] = [
    "register",
    "login",
    "refreshSession",
    "logout",
    "__typename",
];

pub struct AuthGate;

impl ExtensionFactory for AuthGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuthGateExtension)
    }
}

struct AuthGateExtension;

/// Every operation in the document is a mutation selecting only fields that
/// carry their own credentials.
fn needs_no_viewer(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Mutation
            && op
                .node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| match &s.node {
                    Selection::Field(f) => OWN_CREDENTIALS.contains(&f.node.name.node.as_str()),
                    _ => false,
                })
    })
}

#[async_graphql::async_trait::async_trait]
impl Extension for AuthGateExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let Some(Credentials::Rejected(reason)) = ctx.data_opt::<Credentials>()
            && !needs_no_viewer(&doc)
        {
            return Err(request_error(reason.clone(), code::UNAUTHENTICATED));
        }
        Ok(doc)
    }
}
