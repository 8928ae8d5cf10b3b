//! Authentication: passwords, tokens and sessions, and the mutations that
//! start and end them.

pub mod actor;
pub mod login;
pub mod login_throttle;
pub mod mutations;
pub mod password_change;
pub mod passwords;
pub mod refresh;
pub mod register;
pub mod service;
pub mod session_store;
pub mod tokens;
pub mod types;
pub mod viewer;

pub use mutations::AuthMutation;
pub use service::AuthService;
pub use viewer::{ClientInfo, Credentials, Viewer};
