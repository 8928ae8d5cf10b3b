//! Database rows of Roost, one module per table.
//!
//! These are storage types: the GraphQL API has its own types in the `roost`
//! crate, so a column can change without a client noticing.

pub mod refresh_token;
pub mod session;
pub mod user;
