//! The checks made on every operation's text before anything runs: NUL
//! characters in the document or variables and the document's tokens, then,
//! once it parses, its variable definitions, and (after the nesting bound
//! and the rate limits) introspection (when it is off), a rejected token,
//! the operation's shape (root/aliased fields, directives), its depth, its
//! cost, and the values of its arguments: scalars with a format of their
//! own, and the length of lists.

use async_graphql::{
    Request, ServerResult, Variables,
    parser::types::{ExecutableDocument, OperationDefinition},
};

use super::{
    OperationData, argument_values, auth_gate, depth_limit, document_bounds, no_introspection,
    nul_bytes, operation_limits, query_cost, schema_types::SchemaTypes,
};

#[derive(Clone, Copy)]
pub struct DocumentChecks {
    pub max_depth: usize,
    /// The most an operation may cost (`query_cost`).
    pub max_complexity: usize,
    /// Root fields plus aliased fields, per operation.
    pub max_aliases: usize,
    /// Lexical tokens of a document (`document_bounds`).
    pub max_tokens: usize,
    /// Variable definitions of an operation.
    pub max_variables: usize,
    /// Items of a list in an argument's value, variables included.
    pub max_list_items: usize,
    pub introspection: bool,
}

/// A parsed request as the checks see it.
pub(super) struct Checked<'a> {
    pub data: OperationData<'a>,
    pub doc: &'a ExecutableDocument,
    /// The operation that runs; `None` when the request names none of the
    /// document's (execution refuses it with its own error).
    pub operation: Option<&'a OperationDefinition>,
    pub variables: &'a Variables,
    pub types: &'a SchemaTypes,
}

impl DocumentChecks {
    pub(super) fn prepare_request(&self, request: &Request) -> ServerResult<()> {
        nul_bytes::check(request)?;
        document_bounds::check_tokens(&request.query, self.max_tokens)
    }

    /// The bounds on a document that has just parsed.
    pub(super) fn parsed_document(&self, doc: &ExecutableDocument) -> ServerResult<()> {
        document_bounds::check_variables(doc, self.max_variables)
    }

    pub(super) fn parsed(&self, request: Checked<'_>) -> ServerResult<()> {
        let Checked {
            data,
            doc,
            operation,
            variables,
            types,
        } = request;
        if !self.introspection {
            no_introspection::check(doc)?;
        }
        auth_gate::check(data, doc)?;
        operation_limits::check(doc, self.max_aliases)?;
        depth_limit::check(doc, self.max_depth)?;
        if let Some(operation) = operation {
            let vars = argument_values::Vars::new(operation, variables);
            query_cost::check(types, doc, operation, &vars, self.max_complexity)?;
            argument_values::check(types, doc, operation, &vars, self.max_list_items)?;
        }
        Ok(())
    }
}
