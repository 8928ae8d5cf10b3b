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
    config::Config,
    db::{self, MigrationStep},
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
    Serve,
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
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Schema = command {
        print!("{}", crate::graphql::sdl());
        return Ok(());
    }
    let config = Config::load(cli.config)?;
    telemetry::init(&config.log);
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            let addr = app.local_addr()?;
            tracing::info!("Roost listening on http://{addr}/graphql");
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate { action } => migrate(&config, action).await,
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
