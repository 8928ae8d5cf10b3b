//! The `roost` command line.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    auth::passwords::Passwords,
    config::Config,
    db::{self, MigrationStep},
    properties::location::PublicPoints,
    seed::{self, SeedOptions},
    startup::{Application, shutdown_signal},
    telemetry,
    users::{Role, UserService},
};

#[derive(Parser)]
#[command(
    name = "roost",
    version,
    about = "A GraphQL backend for home-sharing marketplaces"
)]
pub struct Cli {
    /// A TOML configuration file (also ROOST_CONFIG). Environment variables
    /// override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve(ServeArgs),
    /// Work the job queue and the booking timers (no HTTP); run one or
    /// more beside `roost serve` in production.
    Worker,
    /// Fill an empty database with the reference dataset (deterministic).
    Seed(SeedArgs),
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL) the server serves.
    Schema,
    /// Manage users from the operator's side.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Exit 0 when the local server answers /health (for container health checks).
    Healthcheck,
}

#[derive(Args, Default)]
struct ServeArgs {
    /// On an empty database, seed a small demo dataset first, so the
    /// playground has listings to search at once.
    #[arg(long)]
    demo: bool,
}

#[derive(Args)]
struct SeedArgs {
    /// Multiplies every row count: 1 is 10,000 users and 5,000 properties.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The same seed gives the same rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The demo dataset: 200 users, 100 listings.
const DEMO_SCALE: f64 = 0.02;

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migration (or more).
    Down(DownArgs),
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Args)]
struct DownArgs {
    /// How many migrations to roll back.
    #[arg(long, default_value_t = 1, conflicts_with = "all")]
    steps: u32,
    /// Roll back every migration, leaving an empty database.
    #[arg(long)]
    all: bool,
}

#[derive(Subcommand)]
enum UserAction {
    /// Give a user a role, e.g. make the first admin.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: CliRole,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CliRole {
    Guest,
    Host,
    Admin,
}

impl From<CliRole> for Role {
    fn from(r: CliRole) -> Self {
        match r {
            CliRole::Guest => Role::Guest,
            CliRole::Host => Role::Host,
            CliRole::Admin => Role::Admin,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    if let Command::Schema = command {
        print!("{}", crate::graphql::sdl());
        return Ok(());
    }
    let config = Config::load(cli.config)?;
    let telemetry = telemetry::init(&config.log);
    let outcome = run_command(command, config).await;
    telemetry.shutdown().await;
    outcome
}

async fn run_command(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let app = Application::build(config).await?;
            if args.demo {
                demo(app.state()).await?;
            }
            let addr = app.local_addr()?;
            tracing::info!("Roost listening on http://{addr}/graphql");
            app.run_until(shutdown_signal()).await
        }
        Command::Worker => crate::startup::run_worker(config, shutdown_signal()).await,
        Command::Migrate { action } => migrate(&config, action).await,
        Command::Seed(args) => {
            db::migrate(&config.database, MigrationStep::Up).await?;
            let conn = db::connect(&config.database).await?;
            let passwords =
                Passwords::new(config.auth.argon2_memory_kib, config.auth.argon2_iterations)
                    .await?;
            let points = PublicPoints::new(config.auth.jwt_secret.bytes());
            let report = seed::seed(
                &conn,
                &passwords,
                &points,
                SeedOptions {
                    scale: args.scale,
                    seed: args.seed,
                },
            )
            .await?;
            println!(
                "seeded {} users ({} hosts), {} properties, {} amenity links, {} blocked nights, {} bookings, {} payments, {} conversations, {} messages in {:.1} s",
                report.users,
                report.hosts,
                report.properties,
                report.amenity_links,
                report.blocked_nights,
                report.bookings,
                report.payments,
                report.conversations,
                report.messages,
                report.seconds
            );
            println!(
                "sign in as host1@example.com, guest1@example.com or {} with the password {}",
                seed::ADMIN_EMAIL,
                seed::PASSWORD
            );
            Ok(())
        }
        Command::User {
            action: UserAction::SetRole { email, role },
        } => {
            let db = db::connect(&config.database).await?;
            let user = UserService::new(db)
                .set_role(&email, role.into())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{} is now {:?}", user.email, user.role);
            Ok(())
        }
        Command::Healthcheck => healthcheck(config.bind),
        Command::Schema => Ok(()),
    }
}

/// Seeds the demo dataset unless the database already has users.
async fn demo(state: &crate::state::AppState) -> anyhow::Result<()> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    if entity::user::Entity::find().count(&state.db).await? > 0 {
        tracing::info!("--demo: the database already has users; nothing seeded");
        return Ok(());
    }
    let passwords = Passwords::new(
        state.config.auth.argon2_memory_kib,
        state.config.auth.argon2_iterations,
    )
    .await?;
    let report = seed::seed(
        &state.db,
        &passwords,
        &PublicPoints::new(state.config.auth.jwt_secret.bytes()),
        SeedOptions {
            scale: DEMO_SCALE,
            seed: 1,
        },
    )
    .await?;
    seed::photos::add(&state.db, &state.storage).await?;
    tracing::info!(
        users = report.users,
        properties = report.properties,
        "--demo: seeded; sign in as host1@example.com, guest1@example.com or {} with the password {}",
        seed::ADMIN_EMAIL,
        seed::PASSWORD
    );
    Ok(())
}

async fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    match action {
        MigrateAction::Up => db::migrate(&config.database, MigrationStep::Up).await?,
        MigrateAction::Down(args) => {
            let step = MigrationStep::Down((!args.all).then_some(args.steps));
            db::migrate(&config.database, step).await?;
        }
        MigrateAction::Status => {}
    }
    let conn = db::connect(&config.database).await?;
    for (name, applied) in db::migration_status(&conn).await? {
        println!("{:<8} {name}", if applied { "applied" } else { "pending" });
    }
    Ok(())
}

fn healthcheck(bind: SocketAddr) -> anyhow::Result<()> {
    let target = if bind.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], bind.port()))
    } else {
        bind
    };
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(3))
        .with_context(|| format!("cannot connect to {target}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        bail!("unhealthy: {}", String::from_utf8_lossy(&head))
    }
}
