//! Notifications: what users are told about, recorded in the transaction of
//! the change they report, and emailed by the worker.

pub mod email;
pub mod service;

pub use service::{Kind, NewNotification, Recorded, announce, record};
