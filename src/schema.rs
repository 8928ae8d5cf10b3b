//! The schema: every domain's roots merged into one, and the loaders each
//! operation gets. The one place that names every domain's roots; the
//! pipeline (`crate::pipeline::build_schema`) runs it.

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::{
    auth::AuthMutation,
    bookings::{BookingMutation, BookingQuery, BookingSubscription},
    graphql::node,
    messaging::{MessagingMutation, MessagingQuery, MessagingSubscription},
    notifications::{NotificationMutation, NotificationQuery, NotificationSubscription},
    properties::{PropertyMutation, PropertyQuery},
    reviews::ReviewMutation,
    users::{UserMutation, UserQuery},
};
use domain::config::GraphqlConfig;

#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    UserQuery,
    PropertyQuery,
    BookingQuery,
    NotificationQuery,
    MessagingQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    UserMutation,
    PropertyMutation,
    BookingMutation,
    NotificationMutation,
    MessagingMutation,
    ReviewMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    BookingSubscription,
    MessagingSubscription,
    NotificationSubscription,
);

pub type RoostSchema = Schema<Query, Mutation, Subscription>;

/// Puts a fresh set of every domain's loaders in an operation's data.
pub fn install_loaders(data: &mut async_graphql::Data, db: &DatabaseConnection, keep: bool) {
    crate::properties::loaders::install(data, db, keep);
    crate::messaging::install(data, db, keep);
    crate::reviews::install(data, db, keep);
}

/// The schema's shape and limits, without data: enough to print the SDL.
pub fn schema_builder(config: &GraphqlConfig) -> SchemaBuilder<Query, Mutation, Subscription> {
    // Costs are computed and limited before the schema sees a request
    // (`pipeline`), with page sizes applied to each page's items only.
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    );
    if !config.introspection {
        // "Did you mean ...?" would reveal the schema piece by piece.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
}

/// The SDL `roost schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder(&GraphqlConfig::default()).finish().sdl()
}
