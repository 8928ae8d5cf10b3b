//! Roost: a GraphQL backend for home-sharing marketplaces.
//!
//! One module per domain (`users`, `auth`, ...), each with thin GraphQL
//! resolvers over a service that owns the rules and the transactions;
//! transport (`http`), configuration, errors and storage in their own
//! modules. `startup::Application` builds the whole server.

pub mod auth;
pub mod bookings;
pub mod cli;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod messaging;
pub mod notifications;
pub mod payments;
pub mod pipeline;
pub mod properties;
pub mod ratelimit;
pub mod realtime;
pub mod reviews;
pub mod schema;
pub mod seed;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod users;
