//! Database rows of Roost, one module per table.
//!
//! These are storage types: the GraphQL API has its own types in the `roost`
//! crate, so a column can change without a client noticing.

pub mod amenity;
pub mod booking;
pub mod calendar_day;
pub mod conversation;
pub mod conversation_participant;
pub mod message;
pub mod notification;
pub mod payment;
pub mod property;
pub mod property_amenity;
pub mod property_photo;
pub mod provider_event;
pub mod refresh_token;
pub mod review;
pub mod saved_property;
pub mod session;
pub mod user;
