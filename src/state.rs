//! What every HTTP handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::AuthService, config::Config, graphql::RoostSchema, redis::Redis, storage::Storage,
};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub redis: Option<Redis>,
    pub schema: RoostSchema,
    pub auth: AuthService,
    pub storage: Storage,
    /// Statements this instance has sent to the database.
    pub statements: crate::db::StatementCounter,
    pub metrics: PrometheusHandle,
    /// Cancelled when the server starts shutting down; long-lived
    /// connections (WebSockets) watch it and close.
    pub shutdown: CancellationToken,
}
