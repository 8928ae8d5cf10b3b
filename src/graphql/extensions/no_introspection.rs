//! With introspection turned off, asking for `__schema` or `__type` is an
//! error, not a silent null.

use std::sync::Arc;

use async_graphql::{
    ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, Selection},
};

use crate::error::{code, request_error};

pub struct NoIntrospection;

impl ExtensionFactory for NoIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoIntrospection)
    }
}

fn asks_for_schema(doc: &ExecutableDocument) -> bool {
    let fragments = doc.fragments.values().map(|f| &f.node.selection_set);
    doc.operations
        .iter()
        .map(|(_, op)| &op.node.selection_set)
        .chain(fragments)
        .flat_map(|set| set.node.items.iter())
        .any(|s| match &s.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
            Selection::InlineFragment(i) => i.node.selection_set.node.items.iter().any(|s| {
                matches!(&s.node, Selection::Field(f) if matches!(f.node.name.node.as_str(), "__schema" | "__type"))
            }),
            Selection::FragmentSpread(_) => false,
        })
}

#[async_graphql::async_trait::async_trait]
impl Extension for NoIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if asks_for_schema(&doc) {
            return Err(request_error(
                "Introspection is turned off on this server",
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        Ok(doc)
    }
}
