//! Reviews of completed stays, the hosts' responses, and the rating
//! aggregates they keep exact (a listing's `RatingSummary`, a host's
//! `hostRating`).

pub mod inputs;
pub mod lists;
pub mod loaders;
pub mod messages;
pub mod mutations;
pub mod queries;
pub mod resolvers;
pub mod service;
pub mod types;

pub use mutations::ReviewMutation;
pub use service::ReviewService;
pub use types::{Review, ReviewOrder};

crate::connection_types!(ReviewConnection, ReviewEdge, Review);

pub use loaders::install;
