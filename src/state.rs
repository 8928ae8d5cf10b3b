//! What every HTTP handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::AuthService, bookings::BookingService, jobs::Jobs, jobs::worker::Handlers,
    notifications::email::Mailer, payments::PaymentService, pipeline::Pipeline, storage::Storage,
};

use domain::{
    config::Config,
    infra::{events::EventBus, redis::Redis},
};

/// What every handler shares, behind one `Arc`: axum hands a copy of the
/// state to each handler and middleware of every request, and a copy is
/// then one reference count, not a clone of every service.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    /// The read replica queries go to, when configured.
    pub replica: Option<domain::infra::db::ReplicaPool>,
    pub redis: Option<Redis>,
    /// Every GraphQL operation goes through it.
    pub graphql: Pipeline,
    pub auth: AuthService,
    pub storage: Storage,
    /// Statements this instance has sent to the database.
    pub statements: domain::infra::db::StatementCounter,
    pub metrics: PrometheusHandle,
    /// Cancelled when the server starts shutting down; long-lived
    /// connections (WebSockets) watch it and close.
    pub shutdown: CancellationToken,
    pub bus: EventBus,
    /// Routes the bus's events to this instance's subscriptions.
    pub hub: crate::realtime::Hub,
    pub jobs: Jobs,
    pub bookings: BookingService,
    pub payments: PaymentService,
    pub mailer: Mailer,
    pub persisted: crate::http::persisted::PersistedQueries,
    pub rate_limits: crate::ratelimit::RateLimits,
}

impl Shared {
    /// What the job worker needs, when this process runs one.
    pub fn handlers(&self) -> Handlers {
        Handlers {
            db: self.db.clone(),
            payments: self.payments.clone(),
            mailer: self.mailer.clone(),
        }
    }
}
