//! The administrative subcommands. Each opens the installation, calls one core function as the
//! local administrator and prints the result as JSON (tokens and secrets exactly once).

use std::{
    io::{BufRead, IsTerminal},
    path::PathBuf,
    sync::Arc,
};

use anyhow::Context;
use clap::{Args, Subcommand};
use clavex_config::{DatabaseUrl, Settings};
use clavex_core::{
    Actor, Core, SystemClock, clients::CreateClient, console::CreateConsoleAdmin,
    groups::CreateGroup, orgs::CreateOrg, users::CreateUser,
};
use clavex_store::normalize_login;
use clavex_web::boot;
use serde::Serialize;

use super::Command;

#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Create an Admin API token and print it once.
    Create {
        /// A unique name for the token (shown in the audit trail as token:NAME).
        #[arg(long)]
        name: String,
        /// Limit the token to this organization; without it the token is a superadmin token.
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
    },
    /// List the admin tokens: name, organization (or superadmin) and creation time, never the
    /// token itself.
    List,
    /// Revoke an admin token: requests with it get 401 from now on.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsoleAdminCommand {
    /// Create an Admin Console account: a superadmin, or with --org an admin of those orgs.
    ///
    /// The password is read from standard input with --password-stdin, asked for when standard
    /// input is a terminal, or else generated and printed once.
    Create {
        /// What the account signs in with at P/admin.
        #[arg(long)]
        username: String,
        /// Defaults to USERNAME@console.invalid.
        #[arg(long)]
        email: Option<String>,
        /// Display name; defaults to the username.
        #[arg(long)]
        name: Option<String>,
        /// Make it an admin of this org only (repeatable) instead of a superadmin.
        #[arg(long = "org", value_name = "SLUG")]
        orgs: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a console account admin rights on an org (idempotent).
    Grant {
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "SLUG")]
        org: String,
    },
    /// Take a console account's admin rights on an org away (idempotent).
    Revoke {
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "SLUG")]
        org: String,
    },
    /// List console accounts and their rights.
    List,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with its first signing key.
    Create {
        /// Lowercase letters, digits and '-'; the issuer becomes PUBLIC_URL/SLUG.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// RS256 (default), ES256 or EdDSA.
        #[arg(long, value_name = "ALG")]
        signing_alg: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an OAuth client and print it with its secret (shown once).
    Create(ClientCreateArgs),
}

#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    /// Organization slug.
    #[arg(long, value_name = "SLUG")]
    org: String,
    /// The registration as JSON, exactly as the Admin API takes it (`-` reads stdin). Other
    /// flags are not allowed with it.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["client_id", "name", "grant_type", "redirect_uri", "post_logout_redirect_uri", "scope", "auth_method"])]
    json: Option<String>,
    /// Client id (generated when absent).
    #[arg(long)]
    client_id: Option<String>,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Grant type; repeat for several (authorization_code, refresh_token, client_credentials).
    #[arg(long = "grant-type", value_name = "GRANT")]
    grant_type: Vec<String>,
    /// Redirect URI; repeat for several.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uri: Vec<String>,
    /// Post-logout redirect URI; repeat for several.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uri: Vec<String>,
    /// Scope the client may request; repeat for several.
    #[arg(long = "scope", value_name = "SCOPE")]
    scope: Vec<String>,
    /// client_secret_basic (default), client_secret_post or none.
    #[arg(long, value_name = "METHOD")]
    auth_method: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// Organization slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input (never from a flag, which
        /// would leave it in shell history and process lists).
        #[arg(long)]
        password_stdin: bool,
        /// Mark the email address as verified.
        #[arg(long)]
        email_verified: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Create {
        /// Organization slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a user to a group (idempotent).
    AddMember {
        /// Organization slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
        /// Group name.
        #[arg(long)]
        group: String,
        /// The user's id, username or email.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Replace an organization's signing key; the old key stays published until its tokens expire.
    Rotate {
        /// Organization slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// File to write; must not exist yet.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Args)]
pub struct MigrateDataArgs {
    /// The installation to copy, e.g. sqlite://./clavex-data/clavex.db
    #[arg(long, value_name = "URL")]
    from: String,
    /// An empty database to copy into, e.g. postgres://clavex@db/clavex (migrated first).
    #[arg(long, value_name = "URL")]
    to: String,
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn open(settings: &Settings) -> anyhow::Result<Core> {
    boot::open_core(settings, Arc::new(SystemClock)).await
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match command {
        Command::Serve(_) | Command::Config(_) | Command::Healthcheck(_) => unreachable_serve(),
        Command::Migrate => {
            boot::open_store(settings).await?;
            eprintln!("database {} is up to date", settings.database.redacted());
            Ok(())
        }
        Command::AdminToken(AdminTokenCommand::Create { name, org }) => {
            let core = open(settings).await?;
            let created = core
                .create_admin_token(&actor, &name, org.as_deref())
                .await?;
            eprintln!(
                "Created admin token '{}'{}. It is shown only now; store it safely:",
                created.name,
                created
                    .org
                    .as_deref()
                    .map(|o| format!(" for organization {o}"))
                    .unwrap_or_else(|| " (superadmin)".into())
            );
            println!("{}", created.token);
            Ok(())
        }
        Command::AdminToken(AdminTokenCommand::List) => {
            let core = open(settings).await?;
            for t in core.list_admin_tokens(&actor).await? {
                println!(
                    "{}\t{}\t{}",
                    t.name,
                    t.org.as_deref().unwrap_or("(superadmin)"),
                    clavex_core::rfc3339(t.created_at)
                );
            }
            Ok(())
        }
        Command::AdminToken(AdminTokenCommand::Revoke { name }) => {
            let core = open(settings).await?;
            core.revoke_admin_token(&actor, &name).await?;
            eprintln!("Revoked admin token '{name}'.");
            if name == clavex_core::admin_tokens::BOOTSTRAP_TOKEN_NAME
                && settings.bootstrap_admin_token.is_some()
            {
                eprintln!(
                    "CLAVEX_BOOTSTRAP_ADMIN_TOKEN is still set here: the next `clavex serve` with it \
                     creates the token again. Unset it everywhere to keep it revoked."
                );
            }
            Ok(())
        }
        Command::Admin(command) => console_admin(command, settings, &actor).await,
        Command::Org(OrgCommand::Create {
            slug,
            name,
            signing_alg,
        }) => {
            let core = open(settings).await?;
            let org = core
                .create_org(
                    &actor,
                    CreateOrg {
                        slug,
                        name,
                        signing_alg,
                    },
                )
                .await?;
            print_json(&org)
        }
        Command::Client(ClientCommand::Create(args)) => {
            let core = open(settings).await?;
            let org = args.org.clone();
            let input = client_input(args)?;
            let client = core.create_client(&actor, &org, input).await?;
            print_json(&client)
        }
        Command::User(UserCommand::Create {
            org,
            username,
            email,
            name,
            password_stdin,
            email_verified,
        }) => {
            let password = if password_stdin {
                Some(read_password_line()?)
            } else {
                None
            };
            let core = open(settings).await?;
            let user = core
                .create_user(
                    &actor,
                    &org,
                    CreateUser {
                        username,
                        email,
                        name,
                        password,
                        email_verified: Some(email_verified),
                        given_name: None,
                        family_name: None,
                        disabled: None,
                    },
                )
                .await?;
            print_json(&user)
        }
        Command::Group(GroupCommand::Create {
            org,
            name,
            description,
        }) => {
            let core = open(settings).await?;
            let group = core
                .create_group(&actor, &org, CreateGroup { name, description })
                .await?;
            print_json(&group)
        }
        Command::Group(GroupCommand::AddMember { org, group, user }) => {
            let core = open(settings).await?;
            let user_id = resolve_user(&core, &actor, &org, &user).await?;
            core.add_group_member(&actor, &org, &group, &user_id)
                .await?;
            eprintln!("{user} is a member of {group}");
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { org }) => {
            let core = open(settings).await?;
            let key = core.rotate_keys(&actor, &org).await?;
            print_json(&key)
        }
        Command::Backup(BackupArgs { output }) => backup(settings, &output).await,
        Command::MigrateData(args) => migrate_data(&args).await,
    }
}

async fn console_admin(
    command: ConsoleAdminCommand,
    settings: &Settings,
    actor: &Actor,
) -> anyhow::Result<()> {
    match command {
        ConsoleAdminCommand::Create {
            username,
            email,
            name,
            orgs,
            password_stdin,
        } => {
            let password = if password_stdin {
                Some(read_password_line()?)
            } else if std::io::stdin().is_terminal() {
                Some(prompt_new_password()?)
            } else {
                None
            };
            let core = open(settings).await?;
            let superadmin = orgs.is_empty();
            let failed = format!("cannot create the console account '{username}'");
            let created = core
                .create_console_admin(
                    actor,
                    CreateConsoleAdmin {
                        username,
                        email,
                        name,
                        password,
                        superadmin: Some(superadmin),
                        orgs: Some(orgs),
                    },
                )
                .await
                .context(failed)?;
            let role = if superadmin {
                "superadmin".to_string()
            } else {
                format!("admin of {}", created.admin.orgs.join(", "))
            };
            eprintln!(
                "Created console account '{}' ({role}); it signs in at {}/admin",
                created.admin.username,
                settings.public_url.as_str()
            );
            if let Some(password) = &created.password {
                eprintln!("Its password is shown only now; store it safely:");
                println!("{password}");
            }
            Ok(())
        }
        ConsoleAdminCommand::Grant { username, org } => {
            let core = open(settings).await?;
            let failed = || format!("cannot make '{username}' an admin of '{org}'");
            let admin = core
                .find_console_admin(&username)
                .await
                .with_context(failed)?;
            core.grant_org_admin(actor, &org, &admin.id)
                .await
                .with_context(failed)?;
            eprintln!("{username} is an admin of {org}");
            Ok(())
        }
        ConsoleAdminCommand::Revoke { username, org } => {
            let core = open(settings).await?;
            let failed = || format!("cannot take '{username}''s admin rights on '{org}'");
            let admin = core
                .find_console_admin(&username)
                .await
                .with_context(failed)?;
            core.revoke_org_admin(actor, &org, &admin.id)
                .await
                .with_context(failed)?;
            eprintln!("{username} is no longer an admin of {org}");
            Ok(())
        }
        ConsoleAdminCommand::List => {
            let core = open(settings).await?;
            print_json(&core.list_console_admins(actor).await?)
        }
    }
}

/// Asks twice without echo, so that a typo cannot lock the account out.
fn prompt_new_password() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password for the new account: ")
        .context("cannot read the password from the terminal")?;
    let second = rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
    if first != second {
        anyhow::bail!("the two passwords differ; nothing was created");
    }
    Ok(first)
}

fn unreachable_serve() -> anyhow::Result<()> {
    anyhow::bail!("serve is dispatched before administrative commands")
}

fn client_input(args: ClientCreateArgs) -> anyhow::Result<CreateClient> {
    if let Some(json) = args.json {
        let text = if json == "-" {
            std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
        } else {
            json
        };
        return serde_json::from_str(&text).context("--json is not a valid client registration");
    }
    let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Ok(CreateClient {
        client_id: args.client_id,
        client_name: args.name,
        grant_types: list(args.grant_type),
        redirect_uris: list(args.redirect_uri),
        post_logout_redirect_uris: list(args.post_logout_redirect_uri),
        scopes: list(args.scope),
        token_endpoint_auth_method: args.auth_method,
    })
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: standard input had no password");
    }
    Ok(password)
}

/// Accepts a user id, a username or an email.
async fn resolve_user(core: &Core, actor: &Actor, org: &str, user: &str) -> anyhow::Result<String> {
    let org_row = core.authorize_org(actor, org).await?;
    if let Some(found) = core.store.get_user(&org_row.id, user).await? {
        return Ok(found.id);
    }
    match core
        .store
        .find_user_by_login(&org_row.id, &normalize_login(user))
        .await?
    {
        Some(found) => Ok(found.id),
        None => {
            anyhow::bail!("user not found: no user with id, username or email '{user}' in {org}")
        }
    }
}

async fn backup(settings: &Settings, output: &std::path::Path) -> anyhow::Result<()> {
    let DatabaseUrl::Sqlite { path, .. } = &settings.database else {
        anyhow::bail!(
            "clavex backup copies SQLite databases; for PostgreSQL use pg_dump (see docs/operations/backup.md)"
        );
    };
    // Opening creates a missing file: a mistyped path must not "back up" a new, empty database.
    if !path.is_file() {
        anyhow::bail!(
            "no SQLite database at {}: nothing to back up (check CLAVEX_DATABASE_URL)",
            path.display()
        );
    }
    if output.exists() {
        anyhow::bail!("{} already exists; choose a new file", output.display());
    }
    let store = boot::open_store(settings).await?;
    store
        .backup_sqlite_to(output)
        .await
        .with_context(|| format!("backup to {} failed", output.display()))?;
    eprintln!(
        "wrote a consistent copy of {} to {}; keep the master key file with it",
        settings.database.redacted(),
        output.display()
    );
    Ok(())
}

async fn migrate_data(args: &MigrateDataArgs) -> anyhow::Result<()> {
    let from_url =
        DatabaseUrl::parse(&args.from).map_err(|e| anyhow::anyhow!("--from: {}", e.0))?;
    let to_url = DatabaseUrl::parse(&args.to).map_err(|e| anyhow::anyhow!("--to: {}", e.0))?;
    if from_url.url() == to_url.url() {
        anyhow::bail!("--from and --to name the same database");
    }
    if let DatabaseUrl::Sqlite { path, .. } = &from_url
        && !path.exists()
    {
        anyhow::bail!("--from: no SQLite database at {}", path.display());
    }
    let source = clavex_store::SqlStore::connect(from_url.url())
        .await
        .with_context(|| format!("cannot open --from {}", from_url.redacted()))?;
    source
        .migrate()
        .await
        .with_context(|| format!("cannot bring --from {} up to date", from_url.redacted()))?;
    let target = clavex_store::SqlStore::connect(to_url.url())
        .await
        .with_context(|| format!("cannot open --to {}", to_url.redacted()))?;
    target
        .migrate()
        .await
        .with_context(|| format!("cannot migrate --to {}", to_url.redacted()))?;
    let counts = source.copy_into(&target).await.with_context(|| {
        format!(
            "copy into {} failed; nothing was written",
            to_url.redacted()
        )
    })?;
    for (table, n) in &counts {
        eprintln!("{table:>24}: {n} rows");
    }
    eprintln!(
        "copied {} into {}; row counts verified",
        from_url.redacted(),
        to_url.redacted()
    );
    if let DatabaseUrl::Sqlite { path, .. } = &from_url {
        eprintln!(
            "The private signing keys are sealed with this installation's master key: start the new \
             nodes with CLAVEX_MASTER_KEY set to the contents of {} (or to the CLAVEX_MASTER_KEY you used).",
            boot::master_key_file(path).display()
        );
    }
    Ok(())
}
