//! The `roost` command line.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::{
    Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
    error::{ContextKind, ContextValue, ErrorKind},
};
use secrecy::ExposeSecret;

use crate::{
    auth::passwords::Passwords,
    properties::location::PublicPoints,
    seed::{self, SeedOptions},
    startup::{Application, shutdown_signal},
    telemetry,
};

use domain::{
    config::{Config, Environment},
    infra::db::{self, MigrationStep},
    kernel::actor::Role,
    users::UserService,
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

impl Cli {
    /// Parses the process's arguments, or exits with clap's message; a
    /// `--demo` without `serve` is pointed to `roost serve --demo`.
    pub fn from_env_args() -> Self {
        Self::command()
            .try_get_matches()
            .and_then(|m| Self::from_arg_matches(&m))
            .unwrap_or_else(|mut e| {
                let demo = matches!(
                    e.get(ContextKind::InvalidArg),
                    Some(ContextValue::String(arg)) if arg == "--demo"
                );
                if e.kind() == ErrorKind::UnknownArgument && demo {
                    e.insert(
                        ContextKind::Suggested,
                        ContextValue::StyledStrs(vec![
                            "--demo belongs to serve: run 'roost serve --demo'".into(),
                        ]),
                    );
                }
                e.exit()
            })
    }
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
        print!("{}", crate::schema::sdl());
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
            if args.demo {
                not_in_production(&config, "roost serve --demo")?;
            }
            let app = Application::build(config).await?;
            if args.demo {
                demo(app.state()).await?;
            }
            let addr = app.local_addr()?;
            tracing::info!("Roost listening on http://{addr}/graphql");
            if let Some(addr) = app.metrics_addr()? {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            app.run_until(shutdown_signal()).await
        }
        Command::Worker => crate::startup::run_worker(config, shutdown_signal()).await,
        Command::Migrate { action } => migrate(&config, action).await,
        Command::Seed(args) => {
            not_in_production(&config, "roost seed")?;
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

/// Made-up accounts with a published password have no place in a
/// production database.
fn not_in_production(config: &Config, command: &str) -> anyhow::Result<()> {
    if config.env == Environment::Production {
        bail!(
            "{command} writes made-up accounts with a published password, so it does \
             not run when ROOST_ENV=production"
        );
    }
    Ok(())
}

/// Seeds the demo dataset unless the database already has users.
async fn demo(state: &crate::state::AppState) -> anyhow::Result<()> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let users = entity::user::Entity::find().count(&state.db).await?;
    if users > 0 {
        let seeded = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(seed::ADMIN_EMAIL))
            .count(&state.db)
            .await?
            > 0;
        if seeded {
            tracing::info!(
                "--demo: the demo dataset is already there; sign in as host1@example.com, \
                 guest1@example.com or {} with the password {}",
                seed::ADMIN_EMAIL,
                seed::PASSWORD
            );
        } else {
            tracing::warn!("--demo: {}", not_empty(&state.config, users));
        }
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

/// What to do when `--demo` meets a database with users of its own.
fn not_empty(config: &Config, users: u64) -> String {
    let default_file = format!(
        "sqlite://{}?mode=rwc",
        config.data_dir.join("roost.db").display()
    );
    let fresh = if config.database.url.expose_secret() == default_file {
        format!(
            "give it a data folder of its own (`ROOST_DATA_DIR=roost-demo roost serve --demo`), \
             or delete {} to start over",
            config.data_dir.display()
        )
    } else {
        "point DATABASE_URL at an empty database".to_owned()
    };
    let users = match users {
        1 => "1 user".to_owned(),
        n => format!("{n} users"),
    };
    format!(
        "the database already has {users}, so the demo dataset was not added; \
         to start fresh with it, {fresh}"
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use figment::{Figment, providers::Serialized};

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut f = Figment::from(Serialized::defaults(domain::config::RawConfig::default()));
        for (k, v) in pairs {
            f = f.merge(Serialized::default(k, v));
        }
        Config::from_figment(f).expect("valid")
    }

    #[test]
    fn demo_on_a_used_database_says_how_to_start_fresh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_str().expect("utf-8 path");
        assert_eq!(
            not_empty(&config(&[("data_dir", path)]), 3),
            format!(
                "the database already has 3 users, so the demo dataset was not added; to start \
                 fresh with it, give it a data folder of its own (`ROOST_DATA_DIR=roost-demo \
                 roost serve --demo`), or delete {path} to start over"
            )
        );
        assert_eq!(
            not_empty(
                &config(&[("data_dir", path), ("database_url", "postgres://db/roost")]),
                1
            ),
            "the database already has 1 user, so the demo dataset was not added; to start \
             fresh with it, point DATABASE_URL at an empty database"
        );
    }
}
