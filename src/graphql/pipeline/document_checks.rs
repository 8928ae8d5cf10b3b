//! The checks made on every operation's text before anything runs: NUL
//! characters in the document or variables, then, on the parsed document,
//! introspection (when it is off), a rejected token, the operation's shape
//! (root/aliased fields, directives) and its depth.

use async_graphql::{Request, ServerResult, parser::types::ExecutableDocument};

use super::{OperationData, auth_gate, depth_limit, no_introspection, nul_bytes, operation_limits};

#[derive(Clone, Copy)]
pub struct DocumentChecks {
    pub max_depth: usize,
    /// Root fields plus aliased fields, per operation.
    pub max_aliases: usize,
    pub introspection: bool,
}

impl DocumentChecks {
    pub(super) fn prepare_request(&self, request: &Request) -> ServerResult<()> {
        nul_bytes::check(request)
    }

    pub(super) fn parsed(
        &self,
        data: OperationData<'_>,
        doc: &ExecutableDocument,
    ) -> ServerResult<()> {
        if !self.introspection {
            no_introspection::check(doc)?;
        }
        auth_gate::check(data, doc)?;
        operation_limits::check(doc, self.max_aliases)?;
        depth_limit::check(doc, self.max_depth)
    }
}
