//! The types every domain speaks: errors and money.

pub mod error;
pub mod money;
