//! The checks made on every operation's text before anything runs: NUL
//! characters in the document or variables, then, on the parsed document,
//! introspection (when it is off), a rejected token, the operation's shape
//! (root/aliased fields, directives), its depth, its cost, and the values
//! of its arguments whose scalars have a format of their own.

use async_graphql::{
    Request, ServerResult, Variables,
    parser::types::{ExecutableDocument, OperationDefinition},
};

use super::{
    OperationData, argument_values, auth_gate, depth_limit, no_introspection, nul_bytes,
    operation_limits, query_cost, schema_types::SchemaTypes,
};

#[derive(Clone, Copy)]
pub struct DocumentChecks {
    pub max_depth: usize,
    /// The most an operation may cost (`query_cost`).
    pub max_complexity: usize,
    /// Root fields plus aliased fields, per operation.
    pub max_aliases: usize,
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
        nul_bytes::check(request)
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
            argument_values::check(types, doc, operation, &vars)?;
        }
        Ok(())
    }
}
