//! Bookings: the state machine, the refunds, and the lists.

pub mod actions;
pub mod lists;
pub mod loaders;
pub mod machine;
pub mod messages;
pub mod mutations;
pub mod queries;
pub mod refunds;
pub mod resolvers;
pub mod service;
pub mod subscriptions;
pub mod types;

pub use mutations::BookingMutation;
pub use queries::BookingQuery;
pub use service::BookingService;
pub use subscriptions::BookingSubscription;
pub use types::Booking;

crate::connection_types!(BookingConnection, BookingEdge, Booking);
