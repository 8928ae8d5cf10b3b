//! Users: profiles, roles, and the `User` type.

pub mod loader;
pub mod mutations;
pub mod queries;
pub mod types;

pub use loader::UserLoader;
pub use mutations::UserMutation;
pub use queries::UserQuery;
pub use types::{RoleValue, User};
