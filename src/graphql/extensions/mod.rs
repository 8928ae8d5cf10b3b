//! async-graphql extensions every operation goes through.

mod auth_gate;
mod error_codes;
mod metrics;
mod no_introspection;

pub use auth_gate::AuthGate;
pub use error_codes::{ErrorCodes, is_request_error};
pub use metrics::OperationMetrics;
pub use no_introspection::NoIntrospection;
