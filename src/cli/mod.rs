//! The command line: argument definitions and dispatch. Subcommands other than `serve` act as the
//! local administrator (`cli` in the audit trail) on the database the settings name; they are safe
//! while a server runs on the same database.

mod admin;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clavex_config::{FlagOverrides, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "clavex",
    version,
    about = "Clavex: a multi-tenant OpenID Connect identity provider",
    long_about = "Clavex: a multi-tenant OpenID Connect identity provider.\n\nSettings come from flags, then CLAVEX_* environment variables, then the TOML file named by --config or CLAVEX_CONFIG, then defaults. See docs/configuration.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (also CLAVEX_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://PATH or postgres://... (also CLAVEX_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log filter, e.g. info or clavex=debug (also CLAVEX_LOG).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// text or json (also CLAVEX_LOG_FORMAT).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage Admin API tokens.
    #[command(subcommand)]
    AdminToken(admin::AdminTokenCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(admin::ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage groups and memberships.
    #[command(subcommand)]
    Group(admin::GroupCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(admin::KeysCommand),
    /// Write a consistent copy of a SQLite database while it may be in use.
    Backup(admin::BackupArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind, e.g. 0.0.0.0:8080 (also CLAVEX_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public URL that issuers and links are built from (also CLAVEX_PUBLIC_URL).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

impl Cli {
    fn flags(&self) -> FlagOverrides {
        let mut flags = FlagOverrides {
            config_file: self.global.config.clone(),
            database_url: self.global.database_url.clone(),
            log: self.global.log.clone(),
            log_format: self.global.log_format.clone(),
            ..FlagOverrides::default()
        };
        if let Command::Serve(serve) = &self.command {
            flags.listen = serve.listen.clone();
            flags.public_url = serve.public_url.clone();
        }
        flags
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(&cli.flags())?;
    crate::logging::init(&settings);
    match cli.command {
        Command::Serve(_) => crate::serve::run(settings).await,
        command => admin::run(command, &settings).await,
    }
}
