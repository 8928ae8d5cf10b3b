//! Listings: properties, their amenities, photos, calendars and prices,
//! search, and wishlists.

pub mod calendar;
pub mod catalogue;
pub mod columns;
pub mod inputs;
pub mod listings;
pub mod loaders;
pub mod location;
pub mod mutations;
pub mod photos;
pub mod pricing;
pub mod prime;
pub mod queries;
pub mod resolvers;
pub mod search;
pub mod service;
pub mod types;
pub mod validation;
pub mod wishlist;

pub use mutations::PropertyMutation;
pub use queries::PropertyQuery;
pub use service::PropertyService;
pub use types::Property;

crate::connection_types!(PropertyConnection, PropertyEdge, Property);
