//! Users: profiles, roles, and the `User` type.

pub mod fields;
pub mod loader;
pub mod mutations;
pub mod queries;
pub mod service;
pub mod types;

pub use loader::UserLoader;
pub use mutations::UserMutation;
pub use queries::UserQuery;
pub use service::UserService;
pub use types::{RoleValue, User};
