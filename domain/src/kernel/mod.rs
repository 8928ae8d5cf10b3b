//! The types every domain speaks: who acts, errors, money, pages, stay
//! dates.

pub mod actor;
pub mod error;
pub mod money;
pub mod page;
pub mod stay;
