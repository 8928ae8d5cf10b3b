use std::{net::SocketAddr, time::Duration};

use domain::config::{Config, RawConfig};
use figment::{Figment, providers::Serialized};
use roost::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A running server and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub config: Config,
    /// The server's own pool, for assertions on what was written.
    pub db: sea_orm::DatabaseConnection,
    /// How many statements the server has sent to its database.
    pub statements: domain::infra::db::StatementCounter,
    /// The server's read replica pool, when it was given one
    /// ([`spawn_with_replica`]).
    pub replica: Option<domain::infra::db::ReplicaPool>,
    /// The server's event bus, to watch what it publishes.
    pub bus: domain::infra::events::EventBus,
    /// Its subscription router, to see subscriptions registered.
    pub hub: roost::realtime::Hub,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: Option<tempfile::TempDir>,
    database: TestDatabase,
    _replica_database: Option<TestDatabase>,
}

/// The database a test runs on, and how to get rid of it.
#[derive(Clone)]
pub struct TestDatabase {
    pub url: String,
    /// PostgreSQL: the admin URL and the name of the database to drop.
    drop: Option<(String, String)>,
}

impl TestDatabase {
    /// A new empty database: a file in `dir`, or a new PostgreSQL database.
    pub async fn fresh(dir: &std::path::Path) -> Self {
        Self::fresh_named(dir, "test.db").await
    }

    /// Like [`TestDatabase::fresh`], with the SQLite file called `file`.
    pub async fn fresh_named(dir: &std::path::Path, file: &str) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin) => {
                let name = format!("roost_test_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    drop: Some((admin, name)),
                }
            }
            None => Self {
                url: format!("sqlite://{}?mode=rwc", dir.join(file).display()),
                drop: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.drop.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop.take() {
            // Dropped on a thread of its own: Drop cannot await, and the
            // test's runtime may already be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let conn = Database::connect(&admin).await.ok()?;
                    conn.execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .await
                    .ok()?;
                    conn.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Settings every test app starts from: port 0, cheap password hashing
/// (still argon2id), quiet logs.
pub fn base_figment(data_dir: &std::path::Path, database_url: &str) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()))
        .merge(("bind", "127.0.0.1:0"))
        .merge(("data_dir", data_dir.to_string_lossy().to_string()))
        .merge(("database_url", database_url))
        .merge(("argon2_memory_kib", 256))
        .merge(("argon2_iterations", 1))
        .merge(("shutdown_timeout", 5))
        .merge(("job_poll_interval", "50ms"))
        // Tests register and sign in quickly from one address; the rate
        // limits' own tests turn them on with small budgets.
        .merge(("rate_limit_ip_per_second", 0))
        .merge(("rate_limit_user_per_second", 0))
        .merge(("rate_limit_auth_per_minute", 0));
    if let Some(redis) = redis_url() {
        figment = figment.merge(("redis_url", redis)).merge((
            "redis_prefix",
            format!("roost_test_{}:", uuid::Uuid::new_v4().simple()),
        ));
    }
    figment
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|f| f).await
}

/// Starts an app with settings changed by `tune`.
pub async fn spawn_with(tune: impl FnOnce(Figment) -> Figment) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::fresh(dir.path()).await;
    let figment = tune(base_figment(dir.path(), &database.url));
    let mut app = start(Config::from_figment(figment).expect("test config")).await;
    app._data_dir = Some(dir);
    app.database = database;
    app
}

/// Starts an app whose queries read from a second database acting as its
/// read replica, migrated like the primary but otherwise empty: a test puts
/// there what replication would have copied (and may make it differ).
pub async fn spawn_with_replica(tune: impl FnOnce(Figment) -> Figment) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::fresh(dir.path()).await;
    let replica = TestDatabase::fresh_named(dir.path(), "replica.db").await;
    domain::infra::db::migrate(
        &domain::config::DatabaseConfig {
            url: replica.url.clone().into(),
            max_connections: 1,
            auto_migrate: true,
            read: None,
        },
        domain::infra::db::MigrationStep::Up,
    )
    .await
    .expect("migrate the replica");
    let figment = tune(
        base_figment(dir.path(), &database.url).merge(("database_read_url", replica.url.clone())),
    );
    let mut app = start(Config::from_figment(figment).expect("test config")).await;
    app._data_dir = Some(dir);
    app.database = database;
    app._replica_database = Some(replica);
    app
}

/// Starts a server with exactly this configuration.
pub async fn start(config: Config) -> TestApp {
    // RUST_LOG shows the servers' logs beside a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let application = Application::build(config.clone()).await.expect("build app");
    let addr = application.local_addr().expect("local addr");
    let db = application.state().db.clone();
    let statements = application.state().statements.clone();
    let replica = application.state().replica.clone();
    let bus = application.state().bus.clone();
    let hub = application.state().hub.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        http: client(),
        config,
        db,
        statements,
        replica,
        bus,
        hub,
        shutdown: Some(tx),
        server: Some(server),
        _data_dir: None,
        database: TestDatabase {
            url: String::new(),
            drop: None,
        },
        _replica_database: None,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP client (installs the TLS provider reqwest is built to expect).
pub fn client() -> reqwest::Client {
    domain::infra::tls::install_crypto_provider();
    reqwest::Client::new()
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "correct horse battery";

pub const AUTH_FIELDS: &str = "accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id email role firstName lastName }";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The text of `/metrics`.
    pub async fn metrics_page(&self) -> String {
        let resp = self.http.get(self.url("/metrics")).send().await;
        resp.expect("metrics").text().await.expect("text")
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }

    /// POSTs an operation, with a bearer token when given; the JSON answer.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_response(token, query, variables)
            .await
            .json()
            .await
            .expect("JSON response")
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(None, query, variables).await
    }

    pub async fn gql_response(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn register(&self, email: &str) -> Session {
        self.register_as(email, "GUEST").await
    }

    pub async fn register_as(&self, email: &str, role: &str) -> Session {
        let resp = self
            .gql(
                &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"),
                json!({ "input": {
                    "email": email, "password": PASSWORD,
                    "firstName": "Test", "lastName": "User", "role": role,
                }}),
            )
            .await;
        session_from(&resp["data"]["register"], email)
            .unwrap_or_else(|| panic!("register failed: {resp}"))
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            &format!(
                "mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "input": { "email": email, "password": password } }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.gql(
            &format!(
                "mutation($t: String!) {{ refreshSession(refreshToken: $t) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "t": refresh_token }),
        )
        .await
    }

    pub async fn me(&self, token: &str) -> Value {
        self.gql_as(Some(token), "{ me { id email } }", json!({}))
            .await
    }

    /// What places this server's public points (for seeding it).
    pub fn points(&self) -> roost::properties::location::PublicPoints {
        roost::properties::location::PublicPoints::new(self.config.auth.jwt_secret.bytes())
    }

    /// Seeds the reference dataset at `scale` (0.02 is `serve --demo`'s).
    pub async fn seed(&self, scale: f64, seed: u64) -> roost::seed::SeedReport {
        let passwords = roost::auth::passwords::Passwords::new(256, 1)
            .await
            .expect("passwords");
        let options = roost::seed::SeedOptions { scale, seed };
        roost::seed::seed(&self.db, &passwords, &self.points(), options)
            .await
            .expect("seed")
    }

    /// Makes a user an admin the way an operator would.
    pub async fn make_admin(&self, email: &str) {
        let db = domain::infra::db::connect(&self.config.database)
            .await
            .expect("connect");
        domain::users::UserService::new(db)
            .set_role(email, domain::kernel::actor::Role::Admin)
            .await
            .expect("set role");
    }
}

pub fn session_from(payload: &Value, email: &str) -> Option<Session> {
    Some(Session {
        user_id: payload["user"]["id"].as_str()?.to_owned(),
        email: email.to_owned(),
        access_token: payload["accessToken"].as_str()?.to_owned(),
        refresh_token: payload["refreshToken"].as_str()?.to_owned(),
    })
}

/// The first error's `extensions.code`.
pub fn code(resp: &Value) -> &str {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {resp}"))
}

/// Asserts the first error is BAD_USER_INPUT naming `field`.
#[track_caller]
pub fn assert_bad_input(resp: &Value, field: &str) {
    assert_eq!(code(resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(resp["errors"][0]["extensions"]["field"], field, "{resp}");
}

/// Rows in a table, read straight from the database.
pub async fn count_rows(db: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    use sea_orm::{FromQueryResult, Statement};
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    Count::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    ))
    .one(db)
    .await
    .expect("count")
    .expect("a row")
    .n
}

/// How long a test waits for something that should happen soon.
pub const SOON: Duration = Duration::from_secs(10);

/// A valid `CreatePropertyInput`, with `overrides` laid over it.
pub fn property_input(overrides: Value) -> Value {
    let mut input = json!({
        "title": "Sunny loft by the river",
        "description": "Bright and quiet, with a balcony over the water.",
        "propertyType": "ENTIRE_PLACE",
        "address": "12 Quay Street",
        "city": "Lisbon",
        "country": "Portugal",
        "latitude": 38.7223,
        "longitude": -9.1393,
        "pricePerNight": "100.00",
        "currency": "EUR",
        "cleaningFee": "25.00",
        "maxGuests": 4,
        "bedrooms": 2,
        "beds": 2,
        "bathrooms": 1.5,
        "amenities": ["wifi", "kitchen"],
    });
    if let (Value::Object(base), Value::Object(o)) = (&mut input, overrides) {
        base.extend(o);
    }
    input
}

pub const PROPERTY_FIELDS: &str = "id title status propertyType pricePerNight { amount currency } \
    cleaningFee { amount currency } location { city country latitude longitude } maxGuests bedrooms beds \
    bathrooms minNights maxNights instantBook cancellationPolicy weeklyDiscountPercent monthlyDiscountPercent \
    amenities { code name category } host { id } rating { average count }";

impl TestApp {
    /// Registers a host.
    pub async fn host(&self, email: &str) -> Session {
        self.register_as(email, "HOST").await
    }

    /// Creates a listing as `host`; the whole answer.
    pub async fn create_property_raw(&self, host: &Session, overrides: Value) -> Value {
        self.gql_as(
            Some(&host.access_token),
            &format!("mutation($input: CreatePropertyInput!) {{ createProperty(input: $input) {{ {PROPERTY_FIELDS} }} }}"),
            json!({ "input": property_input(overrides) }),
        )
        .await
    }

    /// Creates a listing as `host`; its id.
    pub async fn create_property(&self, host: &Session, overrides: Value) -> String {
        let resp = self.create_property_raw(host, overrides).await;
        resp["data"]["createProperty"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createProperty failed: {resp}"))
            .to_owned()
    }
}

/// A date `days` from today (UTC), as the API writes dates.
pub fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

pub const BOOKING_FIELDS: &str = "id status checkIn checkOut nights guests expiresAt cancelledAt \
    cancellationReason refundAmount { amount currency } total { amount currency } \
    price { checkIn checkOut nights guests nightsTotal { amount } discount { amount } \
    cleaningFee { amount } serviceFee { amount } taxes { amount } total { amount currency } } \
    payment { id status amount { amount currency } refundedAmount { amount } provider \
    providerReference failureReason } guest { id } property { id title } createdAt updatedAt";

pub const PAYMENT_FIELDS: &str = "id status amount { amount currency } refundedAmount { amount } \
    provider providerReference failureReason booking { id status }";

impl TestApp {
    /// `createBooking` as `guest`; the whole answer.
    pub async fn book_raw(
        &self,
        guest: &Session,
        property_id: &str,
        check_in: &str,
        check_out: &str,
        guests: i64,
    ) -> Value {
        self.gql_as(
            Some(&guest.access_token),
            &format!("mutation($input: CreateBookingInput!) {{ createBooking(input: $input) {{ {BOOKING_FIELDS} }} }}"),
            json!({ "input": {
                "propertyId": property_id, "checkIn": check_in, "checkOut": check_out, "guests": guests,
            }}),
        )
        .await
    }

    /// Books `nights` nights from `days` days ahead for one guest; the booking.
    pub async fn book(&self, guest: &Session, property_id: &str, days: i64, nights: i64) -> Value {
        let resp = self
            .book_raw(guest, property_id, &day(days), &day(days + nights), 1)
            .await;
        let booking = resp["data"]["createBooking"].clone();
        assert!(booking.is_object(), "createBooking failed: {resp}");
        booking
    }

    /// `payBooking` as `guest`; the whole answer.
    pub async fn pay_raw(
        &self,
        guest: &Session,
        booking_id: &str,
        method: &str,
        key: &str,
    ) -> Value {
        self.gql_as(
            Some(&guest.access_token),
            &format!("mutation($input: PayBookingInput!) {{ payBooking(input: $input) {{ {PAYMENT_FIELDS} }} }}"),
            json!({ "input": { "bookingId": booking_id, "paymentMethod": method, "idempotencyKey": key } }),
        )
        .await
    }

    /// Pays; the payment as `payBooking` answered.
    pub async fn pay(&self, guest: &Session, booking_id: &str, method: &str) -> Value {
        let resp = self
            .pay_raw(guest, booking_id, method, &uuid::Uuid::new_v4().to_string())
            .await;
        let payment = resp["data"]["payBooking"].clone();
        assert!(payment.is_object(), "payBooking failed: {resp}");
        payment
    }

    /// `booking(id)` as `viewer`.
    pub async fn booking(&self, viewer: &Session, id: &str) -> Value {
        let resp = self
            .gql_as(
                Some(&viewer.access_token),
                &format!("query($id: ID!) {{ booking(id: $id) {{ {BOOKING_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await;
        assert!(resp["errors"].is_null(), "{resp}");
        resp["data"]["booking"].clone()
    }

    /// Reads the booking until `done` holds for it; panics after [`SOON`].
    pub async fn wait_for(
        &self,
        viewer: &Session,
        id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + SOON;
        loop {
            let booking = self.booking(viewer, id).await;
            if done(&booking) {
                return booking;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("waited {SOON:?} for {what}; the booking is {booking}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the booking's status and its payment's status.
    pub async fn wait_for_status(
        &self,
        viewer: &Session,
        id: &str,
        status: &str,
        payment: &str,
    ) -> Value {
        self.wait_for(
            viewer,
            id,
            &format!("{status} with a {payment} payment"),
            |b| b["status"] == status && b["payment"]["status"] == payment,
        )
        .await
    }

    /// A LISTED instant-book listing of `host`, 100.00/night + 25.00 cleaning.
    pub async fn instant_listing(&self, host: &Session, overrides: Value) -> String {
        let mut base = json!({ "instantBook": true, "status": "LISTED" });
        if let (Value::Object(b), Value::Object(o)) = (&mut base, overrides) {
            b.extend(o);
        }
        self.create_property(host, base).await
    }

    /// Creates, pays with pm_card_visa and waits until CONFIRMED + SUCCEEDED.
    pub async fn confirmed_booking(
        &self,
        guest: &Session,
        property_id: &str,
        days: i64,
        nights: i64,
    ) -> Value {
        let booking = self.book(guest, property_id, days, nights).await;
        let id = booking["id"].as_str().expect("id").to_owned();
        self.pay(guest, &id, "pm_card_visa").await;
        self.wait_for_status(guest, &id, "CONFIRMED", "SUCCEEDED")
            .await
    }
}

/// Rows of `table` matching `filter` (an SQL condition).
pub async fn count_where(db: &sea_orm::DatabaseConnection, table: &str, filter: &str) -> i64 {
    count_rows(db, &format!("{table} WHERE {filter}")).await
}

/// A second instance on `a`'s database and Redis prefix, with settings
/// changed by `tune` (the same as `a`'s, for anything they must share such
/// as the JWT secret); `None`, and a note, unless PostgreSQL and Redis are
/// configured. Keep the directory as long as the instance.
pub async fn second_instance(
    a: &TestApp,
    tune: impl FnOnce(Figment) -> Figment,
) -> Option<(TestApp, tempfile::TempDir)> {
    let Some(redis) = a.config.redis.as_ref() else {
        eprintln!("skipped: needs TEST_REDIS_URL and TEST_DATABASE_URL (two instances share them)");
        return None;
    };
    if !a.database().is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (two instances share one database)");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let b = start(
        Config::from_figment(
            tune(base_figment(dir.path(), &a.database().url))
                .merge(("redis_prefix", redis.prefix.clone()))
                .merge(("auto_migrate", false)),
        )
        .expect("config"),
    )
    .await;
    Some((b, dir))
}

/// A port nothing listens on, for a server process a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
