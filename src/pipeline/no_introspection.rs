//! With introspection turned off, asking for `__schema` or `__type` is an
//! error, not a silent null.

use async_graphql::{
    ServerResult,
    parser::types::{ExecutableDocument, Selection},
};

use crate::error::{code, request_error};

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

/// Refuses `__schema` and `__type` (when introspection is off).
pub(super) fn check(doc: &ExecutableDocument) -> ServerResult<()> {
    if asks_for_schema(doc) {
        return Err(request_error(
            "Introspection is turned off on this server",
            code::GRAPHQL_VALIDATION_FAILED,
        ));
    }
    Ok(())
}
