//! Building and running the server. `roost serve` and the integration tests
//! go through the same [`Application::build`].

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use sea_orm::DatabaseConnection;

use crate::{
    auth::AuthService,
    bookings::BookingService,
    graphql::{Services, replica::ReadReplica},
    http,
    jobs::{self, Jobs, worker::Handlers},
    messaging::MessagingService,
    notifications::NotificationService,
    notifications::email::Mailer,
    payments::{PaymentService, Provider, simulated::Simulated, stripe::Stripe},
    pipeline::build_schema,
    properties::{
        PropertyService,
        catalogue::Catalogue,
        location::{PublicPoints, fill_missing},
    },
    realtime::Hub,
    reviews::ReviewService,
    state::AppState,
    storage::Storage,
};

use domain::{
    config::{Config, ProviderKind},
    infra::{
        db::{self, MigrationStep, RecentWriters},
        events::EventBus,
        redis::Redis,
    },
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
    /// `ROOST_METRICS_BIND`'s listener, for `/metrics` apart.
    metrics: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Connects to the database (applying pending migrations unless turned
    /// off) and to Redis when configured, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        domain::infra::tls::install_crypto_provider();
        if config.database.auto_migrate {
            db::migrate(&config.database, MigrationStep::Up).await?;
        }
        let core = Core::connect(&config).await?;
        let Core {
            db,
            statements,
            redis,
            bus,
            jobs,
            bookings,
            payments,
            mailer,
        } = core;
        let auth = AuthService::new(db.clone(), redis.clone(), &config.auth, bus.clone()).await?;
        let hub = Hub::start(&bus, config.realtime.buffer);
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("could not listen on {} (ROOST_BIND)", config.bind))?;
        let metrics = match config.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("could not listen on {addr} (ROOST_METRICS_BIND)"))?,
            ),
            None => None,
        };
        let server_url = match &config.public_url {
            Some(url) => url.clone(),
            None => default_public_url(listener.local_addr()?),
        };
        let storage = Storage::new(&config.storage, &server_url)?;
        let services = Services {
            users: UserService::new(db.clone()),
            auth: auth.clone(),
            properties: bookings.properties.clone(),
            storage: storage.clone(),
            bookings: bookings.clone(),
            payments: payments.clone(),
            notifications: NotificationService::new(db.clone()),
            messaging: MessagingService::new(
                db.clone(),
                bookings.properties.clone(),
                bus.clone(),
                jobs.clone(),
            ),
            reviews: ReviewService::new(db.clone(), bus.clone(), jobs.clone()),
        };
        let replica = db::connect_replica(&config.database).await?;
        let read_replica = match (&replica, &config.database.read) {
            (Some(pool), Some(read)) => Some(ReadReplica {
                db: pool.db.clone(),
                services: services.reading_from(pool.db.clone()),
                writers: RecentWriters::new(read.read_your_writes, redis.clone()),
            }),
            _ => None,
        };
        let rate_limits = crate::ratelimit::RateLimits::new(&config.rate_limits, redis.as_ref());
        let graphql = build_schema(
            &config.graphql,
            services,
            db.clone(),
            read_replica,
            hub.clone(),
            rate_limits.clone(),
            crate::pipeline::ResponseCache {
                cache: config.response_cache.map(|c| {
                    domain::infra::cache::ResponseCache::new(
                        redis.clone(),
                        bus.versions().clone(),
                        c.ttl,
                        c.max_bytes,
                    )
                }),
                versions: bus.versions().clone(),
            },
        );
        let persisted =
            http::persisted::PersistedQueries::new(&config.persisted_queries, redis.clone())?;
        let state = AppState::new(crate::state::Shared {
            config: Arc::new(config),
            db,
            replica,
            redis,
            graphql,
            auth,
            storage,
            statements,
            metrics: http::metrics::recorder()?,
            shutdown: CancellationToken::new(),
            bus,
            hub,
            jobs,
            bookings,
            payments,
            mailer,
            persisted,
            rate_limits,
        });
        Ok(Self {
            listener,
            metrics,
            state,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Where `/metrics` is served, when it is apart (`ROOST_METRICS_BIND`).
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        Ok(match &self.metrics {
            Some(listener) => Some(listener.local_addr()?),
            None => None,
        })
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
        let Self {
            listener,
            metrics,
            state,
        } = self;
        let token = state.shutdown.clone();
        let timeout = state.config.shutdown_timeout;
        let db = state.db.clone();
        let replica = state.replica.clone();
        let jobs = state.jobs.clone();
        // In the embedded default the server works its own jobs; it stops
        // taking new ones when shutdown starts.
        let worker = state.config.worker.in_serve.then(|| {
            tokio::spawn(jobs::worker::run(
                state.jobs.clone(),
                state.handlers(),
                state.bookings.clone(),
                state.config.worker.clone(),
                token.clone(),
            ))
        });
        let limits = state.config.connections;
        http::server::open_file_limit(limits.max_connections);
        // Scrapes stop with the server; they hold no work worth finishing.
        if let Some(metrics) = metrics {
            let router = http::metrics_router(state.clone());
            let stopped = token.clone();
            tokio::spawn(http::server::serve(metrics, router, limits, async move {
                stopped.cancelled().await
            }));
        }
        let app = http::router(state);
        let stopping = token.clone();
        let server = http::server::serve(listener, app, limits, async move {
            signal.await;
            tracing::info!("shutting down: finishing in-flight requests");
            stopping.cancel();
        });
        let mut server = tokio::spawn(server);
        let outcome = tokio::select! {
            result = &mut server => result.context("server task failed"),
            () = async { token.cancelled().await; tokio::time::sleep(timeout).await } => {
                tracing::warn!(?timeout, "requests still running after the shutdown timeout; stopping anyway");
                server.abort();
                Ok(())
            }
        };
        if let Some(worker) = worker {
            token.cancel();
            match tokio::time::timeout(timeout, worker).await {
                Ok(Ok(Err(e))) => {
                    tracing::error!(error = format!("{e:#}"), "the job worker failed")
                }
                Ok(Err(e)) => tracing::error!(error = %e, "the job worker panicked"),
                Err(_) => tracing::warn!(
                    "jobs still running after the shutdown timeout; they will be retried"
                ),
                Ok(Ok(Ok(()))) => {}
            }
        }
        jobs.close().await;
        let _ = db.close().await;
        if let Some(replica) = replica {
            let _ = replica.db.close().await;
        }
        tracing::info!("stopped");
        outcome
    }
}

/// Connections of the job queue's pool (apart from the main pool).
const QUEUE_CONNECTIONS: u32 = 4;

/// What both `roost serve` and `roost worker` run on: the database, Redis,
/// the event bus, the job queue, and the services that change bookings and
/// payments.
pub struct Core {
    pub db: DatabaseConnection,
    pub statements: db::StatementCounter,
    pub redis: Option<Redis>,
    pub bus: EventBus,
    pub jobs: Jobs,
    pub bookings: BookingService,
    pub payments: PaymentService,
    pub mailer: Mailer,
}

impl Core {
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let (db, statements) = db::connect_counted(&config.database).await?;
        let (redis, bus) = match &config.redis {
            Some(settings) => {
                let redis = Redis::connect(settings).await?;
                let bus = EventBus::over_redis(redis.clone(), settings)
                    .await
                    .context("subscribing to events in Redis")?;
                (Some(redis), bus)
            }
            None => (None, EventBus::in_process()),
        };
        let bus = bus.with_replica_lag(config.database.read.as_ref().map(|r| r.read_your_writes));
        let queue = db::connect_with(&config.database, QUEUE_CONNECTIONS).await?;
        let jobs = Jobs::open(queue, config.worker.max_attempts)
            .await
            .context("opening the job queue")?;
        let catalogue = Catalogue::load(&db)
            .await
            .context("loading the amenity catalogue")?;
        let points = PublicPoints::new(config.auth.jwt_secret.bytes());
        let placed = fill_missing(&db, &points)
            .await
            .context("placing the public points of listings")?;
        if placed > 0 {
            tracing::info!(listings = placed, "placed the public points of listings");
        }
        let properties = PropertyService::new(db.clone(), catalogue, config.fees, points);
        let bookings = BookingService {
            db: db.clone(),
            properties,
            bus: bus.clone(),
            jobs: jobs.clone(),
            windows: config.bookings,
        };
        let provider = match config.payments.provider {
            ProviderKind::Simulated => {
                if config.env == domain::config::Environment::Production {
                    tracing::warn!(
                        "payments are SIMULATED: no money moves; set ROOST_PAYMENT_PROVIDER=stripe"
                    );
                }
                Provider::Simulated(Simulated)
            }
            ProviderKind::Stripe => {
                let key =
                    config.payments.stripe_secret_key.clone().context(
                        "STRIPE_SECRET_KEY must be set when ROOST_PAYMENT_PROVIDER=stripe",
                    )?;
                Provider::Stripe(Stripe::new(config.payments.stripe_api_base.clone(), key)?)
            }
        };
        let payments = PaymentService {
            db: db.clone(),
            provider,
            bookings: bookings.clone(),
            jobs: jobs.clone(),
        };
        let mailer = Mailer::from_config(config.email.smtp_url.as_ref(), &config.email.from)?;
        Ok(Self {
            db,
            statements,
            redis,
            bus,
            jobs,
            bookings,
            payments,
            mailer,
        })
    }

    pub fn handlers(&self) -> Handlers {
        Handlers {
            db: self.db.clone(),
            payments: self.payments.clone(),
            mailer: self.mailer.clone(),
        }
    }
}

/// `roost worker`: jobs and timers, no HTTP, until `signal` completes.
pub async fn run_worker(
    config: Config,
    signal: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    domain::infra::tls::install_crypto_provider();
    if config.database.auto_migrate {
        db::migrate(&config.database, MigrationStep::Up).await?;
    }
    let core = Core::connect(&config).await?;
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    tokio::spawn(async move {
        signal.await;
        tracing::info!("shutting down: finishing running jobs");
        stopping.cancel();
    });
    tracing::info!("Roost worker started");
    let result = jobs::worker::run(
        core.jobs.clone(),
        core.handlers(),
        core.bookings.clone(),
        config.worker.clone(),
        stop,
    )
    .await;
    core.jobs.close().await;
    let _ = core.db.close().await;
    tracing::info!("stopped");
    result
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
