//! Users: who they are, the rules of their fields, and what they may change
//! about themselves.

pub mod fields;
pub mod service;

pub use service::{ProfilePatch, UserService};
