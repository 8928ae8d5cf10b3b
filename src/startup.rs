//! Building and running the server. `roost serve` and the integration tests
//! go through the same [`Application::build`].

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::AuthService,
    config::Config,
    db::{self, MigrationStep},
    graphql::{Services, build_schema},
    http,
    properties::{PropertyService, catalogue::Catalogue},
    redis::Redis,
    state::AppState,
    storage::Storage,
    users::UserService,
};

/// `http://<address>`; a wildcard bind address is shown as localhost.
fn default_public_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects to the database (applying pending migrations unless turned
    /// off) and to Redis when configured, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        if config.database.auto_migrate {
            db::migrate(&config.database, MigrationStep::Up).await?;
        }
        let (db, statements) = db::connect_counted(&config.database).await?;
        let redis = match &config.redis {
            Some(redis) => Some(Redis::connect(redis).await?),
            None => None,
        };
        let auth = AuthService::new(db.clone(), redis.clone(), &config.auth).await?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("could not listen on {} (ROOST_BIND)", config.bind))?;
        let server_url = match &config.public_url {
            Some(url) => url.clone(),
            None => default_public_url(listener.local_addr()?),
        };
        let storage = Storage::new(&config.storage, &server_url)?;
        let catalogue = Catalogue::load(&db)
            .await
            .context("loading the amenity catalogue")?;
        let services = Services {
            users: UserService::new(db.clone()),
            auth: auth.clone(),
            properties: PropertyService::new(db.clone(), catalogue, config.fees),
            storage: storage.clone(),
        };
        let schema = build_schema(&config.graphql, services, db.clone());
        let state = AppState {
            config: Arc::new(config),
            db,
            redis,
            schema,
            auth,
            storage,
            statements,
            metrics: http::metrics::recorder()?,
            shutdown: CancellationToken::new(),
        };
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then stops accepting connections,
    /// lets in-flight requests finish (up to the shutdown timeout), closes
    /// WebSockets and the database pool, and returns.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { listener, state } = self;
        let token = state.shutdown.clone();
        let timeout = state.config.shutdown_timeout;
        let db = state.db.clone();
        let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let stopping = token.clone();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            signal.await;
            tracing::info!("shutting down: finishing in-flight requests");
            stopping.cancel();
        });
        let mut server = tokio::spawn(async move { server.await });
        let outcome = tokio::select! {
            result = &mut server => result.context("server task failed")?.context("server failed"),
            () = async { token.cancelled().await; tokio::time::sleep(timeout).await } => {
                tracing::warn!(?timeout, "requests still running after the shutdown timeout; stopping anyway");
                server.abort();
                Ok(())
            }
        };
        let _ = db.close().await;
        tracing::info!("stopped");
        outcome
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
