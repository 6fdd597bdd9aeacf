//! The command line: argument definitions and dispatch. Subcommands other than `serve` act as the
//! local administrator (`cli` in the audit trail) on the database the settings name; they are safe
//! while a server runs on the same database.

mod admin;
mod config;
mod healthcheck;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clavex_config::{FlagOverrides, Settings};

/// `clavex --version`: what was built, from which commit, for which target.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CLAVEX_GIT_COMMIT"),
    ", ",
    env!("CLAVEX_TARGET"),
    ", ",
    env!("CLAVEX_PROFILE"),
    ")"
);

/// The same build information, for `clavex_build_info` in the metrics.
pub fn build_info() -> clavex_core::metrics::BuildInfo {
    clavex_core::metrics::BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("CLAVEX_GIT_COMMIT"),
        target: env!("CLAVEX_TARGET"),
        profile: env!("CLAVEX_PROFILE"),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "clavex",
    version,
    long_version = LONG_VERSION,
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
    /// Most database connections this process holds (also CLAVEX_DATABASE_MAX_CONNECTIONS).
    #[arg(long, global = true, value_name = "N")]
    pub database_max_connections: Option<String>,
    /// Log filter, e.g. info or clavex=debug (also CLAVEX_LOG).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// text or json (also CLAVEX_LOG_FORMAT).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Base64 of 32 bytes sealing keys at rest (also CLAVEX_MASTER_KEY; prefer the variable, since
    /// flags show in process lists).
    #[arg(long, global = true, value_name = "BASE64")]
    pub master_key: Option<String>,
    /// Superadmin API token that must exist after start-up (also CLAVEX_BOOTSTRAP_ADMIN_TOKEN;
    /// prefer the variable).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub bootstrap_admin_token: Option<String>,
    /// Console superadmin user name (also CLAVEX_BOOTSTRAP_ADMIN_USERNAME).
    #[arg(long, global = true, value_name = "NAME")]
    pub bootstrap_admin_username: Option<String>,
    /// Console superadmin password (also CLAVEX_BOOTSTRAP_ADMIN_PASSWORD; prefer the variable).
    #[arg(long, global = true, value_name = "PASSWORD")]
    pub bootstrap_admin_password: Option<String>,
    /// PEM certificate chain for built-in HTTPS (also CLAVEX_TLS_CERT).
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_cert: Option<String>,
    /// PEM private key for built-in HTTPS (also CLAVEX_TLS_KEY).
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_key: Option<String>,
    /// Addresses and networks of reverse proxies whose X-Forwarded-For is believed, e.g.
    /// 127.0.0.1,10.0.0.0/8 (also CLAVEX_TRUSTED_PROXIES).
    #[arg(long, global = true, value_name = "LIST")]
    pub trusted_proxies: Option<String>,
    /// Access token lifetime in seconds (also CLAVEX_ACCESS_TOKEN_TTL_SECONDS).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub access_token_ttl_seconds: Option<String>,
    /// ID token lifetime in seconds (also CLAVEX_ID_TOKEN_TTL_SECONDS).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub id_token_ttl_seconds: Option<String>,
    /// Refresh token lifetime in seconds (also CLAVEX_REFRESH_TOKEN_TTL_SECONDS).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub refresh_token_ttl_seconds: Option<String>,
    /// SSO session lifetime in seconds (also CLAVEX_SESSION_TTL_SECONDS).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub session_ttl_seconds: Option<String>,
    /// Largest request body in bytes (also CLAVEX_MAX_BODY_BYTES).
    #[arg(long, global = true, value_name = "BYTES")]
    pub max_body_bytes: Option<String>,
    /// Days audit events are kept, 0 for ever (also CLAVEX_AUDIT_RETENTION_DAYS).
    #[arg(long, global = true, value_name = "DAYS")]
    pub audit_retention_days: Option<String>,
    /// `on` records every issued token in the audit trail (also CLAVEX_AUDIT_TOKEN_EVENTS).
    #[arg(long, global = true, value_name = "on|off")]
    pub audit_token_events: Option<String>,
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
    /// Manage Admin Console accounts (superadmins and org admins).
    #[command(subcommand)]
    Admin(admin::ConsoleAdminCommand),
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
    /// Copy a whole installation into an empty database (e.g. SQLite to PostgreSQL).
    MigrateData(admin::MigrateDataArgs),
    /// Check the configuration without starting the server.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Exit 0 if the server of these settings answers /readyz with 200 (container health checks).
    Healthcheck(healthcheck::HealthcheckArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind, e.g. 0.0.0.0:8080 (also CLAVEX_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public URL that issuers and links are built from (also CLAVEX_PUBLIC_URL).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// on or off: record and serve /metrics (also CLAVEX_METRICS).
    #[arg(long, value_name = "on|off")]
    pub metrics: Option<String>,
    /// Serve /metrics only on this address, e.g. 127.0.0.1:9464 (also CLAVEX_METRICS_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Org slugs (comma-separated, or *) labelled by name in metrics (also CLAVEX_METRICS_ORGS).
    #[arg(long, value_name = "SLUGS")]
    pub metrics_orgs: Option<String>,
}

impl Cli {
    fn flags(&self) -> FlagOverrides {
        let mut flags = FlagOverrides {
            config_file: self.global.config.clone(),
            database_url: self.global.database_url.clone(),
            database_max_connections: self.global.database_max_connections.clone(),
            log: self.global.log.clone(),
            log_format: self.global.log_format.clone(),
            master_key: self.global.master_key.clone(),
            bootstrap_admin_token: self.global.bootstrap_admin_token.clone(),
            bootstrap_admin_username: self.global.bootstrap_admin_username.clone(),
            bootstrap_admin_password: self.global.bootstrap_admin_password.clone(),
            tls_cert: self.global.tls_cert.clone(),
            tls_key: self.global.tls_key.clone(),
            trusted_proxies: self.global.trusted_proxies.clone(),
            access_token_ttl_seconds: self.global.access_token_ttl_seconds.clone(),
            id_token_ttl_seconds: self.global.id_token_ttl_seconds.clone(),
            refresh_token_ttl_seconds: self.global.refresh_token_ttl_seconds.clone(),
            session_ttl_seconds: self.global.session_ttl_seconds.clone(),
            max_body_bytes: self.global.max_body_bytes.clone(),
            audit_retention_days: self.global.audit_retention_days.clone(),
            audit_token_events: self.global.audit_token_events.clone(),
            ..FlagOverrides::default()
        };
        // `config check` takes serve's own flags, so that it checks what serve would run with.
        let serve = match &self.command {
            Command::Serve(serve) => Some(serve),
            Command::Config(config::ConfigCommand::Check(check)) => Some(&check.serve),
            _ => None,
        };
        if let Some(serve) = serve {
            flags.listen = serve.listen.clone();
            flags.public_url = serve.public_url.clone();
            flags.metrics = serve.metrics.clone();
            flags.metrics_listen = serve.metrics_listen.clone();
            flags.metrics_orgs = serve.metrics_orgs.clone();
        }
        flags
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let flags = cli.flags();
    let settings = Settings::load(&flags)?;
    crate::logging::init(&settings);
    match cli.command {
        Command::Serve(_) => crate::serve::run(settings).await,
        Command::Config(command) => config::run(command, &settings, &flags).await,
        Command::Healthcheck(args) => healthcheck::run(args, &settings).await,
        command => admin::run(command, &settings).await,
    }
}
