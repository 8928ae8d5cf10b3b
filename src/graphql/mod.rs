//! The GraphQL schema: the domain modules' roots merged into one, with the
//! limits and the pipeline every request goes through.

pub mod connection;
pub mod ids;
pub mod money;
pub mod node;
pub mod pipeline;
pub mod replica;
pub mod scalars;
#[cfg(test)]
pub(crate) mod schema_names;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::{
    auth::{AuthMutation, AuthService},
    bookings::{BookingMutation, BookingQuery, BookingService, BookingSubscription},
    error::AppError,
    messaging::{MessagingMutation, MessagingQuery, MessagingService, MessagingSubscription},
    notifications::{
        NotificationMutation, NotificationQuery, NotificationService, NotificationSubscription,
    },
    payments::PaymentService,
    properties::{PropertyMutation, PropertyQuery, PropertyService},
    realtime::Hub,
    reviews::{ReviewMutation, ReviewService},
    storage::Storage,
    users::{UserMutation, UserQuery, UserService},
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

/// The service layer, shared by every resolver through the schema's data.
#[derive(Clone)]
pub struct Services {
    pub users: UserService,
    pub auth: AuthService,
    pub properties: PropertyService,
    pub storage: Storage,
    pub bookings: BookingService,
    pub payments: PaymentService,
    pub notifications: NotificationService,
    pub messaging: MessagingService,
    pub reviews: ReviewService,
}

impl Services {
    /// The same services reading through `db`, a read replica: what
    /// read-only queries run on. Sessions stay on the primary (`auth`), and
    /// Redis, the event bus and the job queue are shared.
    pub fn reading_from(&self, db: DatabaseConnection) -> Self {
        let properties = PropertyService::new(
            db.clone(),
            self.properties.catalogue.clone(),
            self.properties.fees,
            self.properties.points.clone(),
        );
        let bookings = BookingService {
            db: db.clone(),
            properties: properties.clone(),
            ..self.bookings.clone()
        };
        Self {
            users: UserService::new(db.clone()),
            auth: self.auth.clone(),
            storage: self.storage.clone(),
            payments: PaymentService {
                db: db.clone(),
                bookings: bookings.clone(),
                ..self.payments.clone()
            },
            notifications: NotificationService::new(db.clone()),
            messaging: self.messaging.with_db(db.clone(), properties.clone()),
            reviews: ReviewService {
                db,
                ..self.reviews.clone()
            },
            properties,
            bookings,
        }
    }
}

pub trait ServicesExt {
    fn services(&self) -> async_graphql::Result<&Services>;
}

impl ServicesExt for Context<'_> {
    fn services(&self) -> async_graphql::Result<&Services> {
        self.data::<Services>().map_err(|_| {
            crate::error::GraphqlError::extend(&AppError::Internal(anyhow::anyhow!(
                "services missing from the schema data"
            )))
        })
    }
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

/// The schema the server runs behind its pipeline: shape, limits,
/// services and loaders, and the read replica queries go to when there is
/// one.
pub fn build_schema(
    config: &GraphqlConfig,
    services: Services,
    db: DatabaseConnection,
    replica: Option<replica::ReadReplica>,
    hub: Hub,
    limits: crate::ratelimit::RateLimits,
    cache: pipeline::ResponseCache,
) -> pipeline::Pipeline {
    pipeline::Pipeline::new(pipeline::Parts {
        schema: schema_builder(config).data(services).data(hub).finish(),
        checks: pipeline::DocumentChecks {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_aliases: config.max_aliases,
            max_tokens: config.max_tokens,
            max_variables: config.max_variables,
            max_list_items: config.max_list_items,
            introspection: config.introspection,
        },
        documents: pipeline::ParsedDocuments::default(),
        metrics: pipeline::OperationMetrics::default(),
        limits: pipeline::OperationRateLimits { limits },
        cache,
        scope: pipeline::RequestScope { db, replica },
        max_errors: config.max_errors.max(1),
    })
}

/// The SDL `roost schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder(&GraphqlConfig::default()).finish().sdl()
}
