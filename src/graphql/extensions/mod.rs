//! async-graphql extensions every operation goes through.

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
pub use error_codes::{ErrorCodes, is_request_error};
pub use metrics::OperationMetrics;
pub use operation_limits::MAX_DIRECTIVES;
pub use rate_limits::{OperationRateLimits, sign_in_attempts};
pub use request_scope::RequestScope;
pub use response_cache::{CACHE_HEADER, ResponseCache};

use async_graphql::parser::types::{DocumentOperations, OperationDefinition};

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
