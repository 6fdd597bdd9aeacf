//! `clavex config check`: loads the settings exactly as `clavex serve` does (the dispatcher has
//! already done that, so an invalid setting fails with serve's own message), then shows the
//! effective values with secrets masked and where each came from. Nothing is started or created;
//! the database is opened, read-only, only with `--connect`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use clavex_config::{DatabaseUrl, FlagOverrides, Origin, Settings, describe};
use clavex_store::SqlStore;
use clavex_web::boot;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the settings `clavex serve` would use (same flags, CLAVEX_* variables and TOML
    /// file) and show them with secrets masked, without starting the server or opening the
    /// database. Exits non-zero with serve's error message if they are invalid.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub serve: super::ServeArgs,
    /// Also connect to the database, read-only, to check that it is reachable with these
    /// credentials (a SQLite file that does not exist yet is not created).
    #[arg(long)]
    pub connect: bool,
    /// Print the result as one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Longest `--connect` may wait for the database (the pool's own acquire timeout is 5 s).
const CONNECT_DEADLINE: Duration = Duration::from_secs(15);

#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    variable: &'static str,
    value: String,
    /// `None` for a setting that is unset and has no default.
    from: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    valid: bool,
    config_file: Option<String>,
    settings: Vec<Row>,
    notes: Vec<String>,
    warnings: Vec<String>,
}

pub async fn run(
    command: ConfigCommand,
    settings: &Settings,
    flags: &FlagOverrides,
) -> anyhow::Result<()> {
    let ConfigCommand::Check(args) = command;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    check_files(settings, &mut notes, &mut warnings)?;
    if let Some(files) = &settings.tls {
        // Loaded exactly as serve loads it, so a bad pair fails here with serve's message.
        let pair = clavex_web::tls::load(files)?;
        notes.push(format!(
            "https: {} serves a chain of {} certificate(s), valid until {}, with the matching key \
             {}",
            files.cert.display(),
            pair.chain_len,
            pair.not_after.as_deref().unwrap_or("an unknown date"),
            files.key.display()
        ));
        if settings.public_url.url().scheme() == "http" {
            warnings.push(crate::serve::https_with_http_public_url(settings));
        }
    }
    if args.connect {
        notes.push(connect(settings).await?);
    }
    if settings.public_url.url().scheme() == "http" && !is_local(&settings.public_url) {
        warnings.push(format!(
            "public_url {} is plain http on a non-local host: browsers would send passwords and \
             cookies unencrypted; use https:// (TLS at a proxy or built in)",
            settings.public_url
        ));
    }
    let report = Report {
        valid: true,
        config_file: settings.config_file.as_ref().map(|p| {
            let by_flag = flags
                .config_file
                .as_ref()
                .is_some_and(|f| !f.as_os_str().is_empty());
            let named_by = if by_flag {
                "flag --config"
            } else {
                "environment variable CLAVEX_CONFIG"
            };
            format!("{} (named by {named_by})", p.display())
        }),
        settings: rows(settings, flags)?,
        notes,
        warnings,
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(report: &Report) {
    println!("The configuration is valid; `clavex serve` would run with:");
    println!();
    let name_width = report.settings.iter().map(|r| r.name.len()).max();
    let value_width = report.settings.iter().map(|r| r.value.len()).max();
    let (nw, vw) = (name_width.unwrap_or(0), value_width.unwrap_or(0).min(48));
    for row in &report.settings {
        let line = match &row.from {
            Some(from) => format!("  {:nw$}  {:vw$}  ({from})", row.name, row.value),
            None => format!("  {:nw$}  {}", row.name, row.value),
        };
        println!("{line}");
    }
    println!();
    match &report.config_file {
        Some(file) => println!("config file: {file}"),
        None => println!("config file: none"),
    }
    for note in &report.notes {
        println!("{note}");
    }
}

/// One row per setting of the catalogue, in its order.
fn rows(settings: &Settings, flags: &FlagOverrides) -> anyhow::Result<Vec<Row>> {
    // Rendered defaults tell a value from the file apart from the default (a file value equal to
    // the default is shown as the default, which is what it is).
    let defaults = Settings::load_from(&FlagOverrides::default(), &[])
        .context("the built-in defaults do not load")?;
    let mut rows = Vec::new();
    for doc in describe() {
        // The file itself is reported on its own line.
        if doc.toml_key.is_none() {
            continue;
        }
        let value = shown(settings, doc.name)
            .unwrap_or_else(|| "(not shown by this version of `config check`)".to_owned());
        let from = if flag_value(flags, doc.name)
            .flatten()
            .is_some_and(|v| !v.is_empty())
        {
            Origin::Flag(doc.flag)
        } else if std::env::var_os(doc.env).is_some_and(|v| !v.is_empty()) {
            Origin::Env(doc.env)
        } else if let Some(file) = &settings.config_file
            && shown(settings, doc.name) != shown(&defaults, doc.name)
        {
            Origin::File(file.clone())
        } else {
            Origin::Default
        };
        let from = match from {
            // Unset and without default: it came from nowhere.
            Origin::Default if doc.default.is_none() => None,
            from => Some(from.to_string()),
        };
        rows.push(Row {
            name: doc.name,
            variable: doc.env,
            value,
            from,
        });
    }
    Ok(rows)
}

const UNSET: &str = "(unset)";
const HIDDEN: &str = "(set, hidden)";

fn masked(set: bool) -> String {
    if set { HIDDEN } else { UNSET }.to_owned()
}

/// The effective value of setting `name` as shown to the operator: secrets masked, a database
/// password redacted. `None` for a setting this function does not know yet.
fn shown(settings: &Settings, name: &str) -> Option<String> {
    // Destructured without `..`, so that a new field in `Settings` fails to compile here until it is
    // shown.
    let Settings {
        listen,
        public_url,
        database,
        database_max_connections,
        bootstrap_admin_token,
        bootstrap_admin,
        master_key_base64,
        log,
        log_format,
        tls,
        trusted_proxies,
        access_token_ttl_seconds,
        id_token_ttl_seconds,
        refresh_token_ttl_seconds,
        session_ttl_seconds,
        max_body_bytes,
        audit_retention_days,
        audit_token_events,
        metrics,
        config_file: _,
    } = settings;
    let value = match name {
        "listen" => listen.to_string(),
        "public_url" => public_url.to_string(),
        "database_url" => database.redacted(),
        "database_max_connections" => database_max_connections.to_string(),
        "bootstrap_admin_token" => masked(bootstrap_admin_token.is_some()),
        "bootstrap_admin_username" => bootstrap_admin
            .as_ref()
            .map_or_else(|| UNSET.to_owned(), |(user, _)| user.clone()),
        "bootstrap_admin_password" => masked(bootstrap_admin.is_some()),
        "master_key" => masked(master_key_base64.is_some()),
        "log" => log.clone(),
        "log_format" => log_format.as_str().to_owned(),
        "tls_cert" => tls
            .as_ref()
            .map_or_else(|| UNSET.to_owned(), |t| t.cert.display().to_string()),
        "tls_key" => tls
            .as_ref()
            .map_or_else(|| UNSET.to_owned(), |t| t.key.display().to_string()),
        "trusted_proxies" if trusted_proxies.is_empty() => UNSET.to_owned(),
        "trusted_proxies" => trusted_proxies.to_string(),
        "access_token_ttl_seconds" => access_token_ttl_seconds.to_string(),
        "id_token_ttl_seconds" => id_token_ttl_seconds.to_string(),
        "refresh_token_ttl_seconds" => refresh_token_ttl_seconds.to_string(),
        "session_ttl_seconds" => session_ttl_seconds.to_string(),
        "max_body_bytes" => max_body_bytes.to_string(),
        "audit_retention_days" => audit_retention_days.to_string(),
        "audit_token_events" => if *audit_token_events { "on" } else { "off" }.to_owned(),
        "metrics" => if metrics.enabled { "on" } else { "off" }.to_owned(),
        "metrics_listen" => metrics
            .listen
            .map_or_else(|| UNSET.to_owned(), |a| a.to_string()),
        "metrics_orgs" => match metrics.orgs.to_string() {
            orgs if orgs.is_empty() => UNSET.to_owned(),
            orgs => orgs,
        },
        _ => return None,
    };
    Some(value)
}

/// The flag value given for setting `name` (inner `None`: not given); `None` for a setting this
/// function does not know yet.
fn flag_value<'a>(flags: &'a FlagOverrides, name: &str) -> Option<Option<&'a str>> {
    // Exhaustive for the same reason as in `shown`.
    let FlagOverrides {
        config_file: _,
        listen,
        public_url,
        database_url,
        database_max_connections,
        bootstrap_admin_token,
        bootstrap_admin_username,
        bootstrap_admin_password,
        master_key,
        log,
        log_format,
        tls_cert,
        tls_key,
        trusted_proxies,
        access_token_ttl_seconds,
        id_token_ttl_seconds,
        refresh_token_ttl_seconds,
        session_ttl_seconds,
        max_body_bytes,
        audit_retention_days,
        audit_token_events,
        metrics,
        metrics_listen,
        metrics_orgs,
    } = flags;
    let value = match name {
        "listen" => listen,
        "public_url" => public_url,
        "database_url" => database_url,
        "database_max_connections" => database_max_connections,
        "bootstrap_admin_token" => bootstrap_admin_token,
        "bootstrap_admin_username" => bootstrap_admin_username,
        "bootstrap_admin_password" => bootstrap_admin_password,
        "master_key" => master_key,
        "log" => log,
        "log_format" => log_format,
        "tls_cert" => tls_cert,
        "tls_key" => tls_key,
        "trusted_proxies" => trusted_proxies,
        "access_token_ttl_seconds" => access_token_ttl_seconds,
        "id_token_ttl_seconds" => id_token_ttl_seconds,
        "refresh_token_ttl_seconds" => refresh_token_ttl_seconds,
        "session_ttl_seconds" => session_ttl_seconds,
        "max_body_bytes" => max_body_bytes,
        "audit_retention_days" => audit_retention_days,
        "audit_token_events" => audit_token_events,
        "metrics" => metrics,
        "metrics_listen" => metrics_listen,
        "metrics_orgs" => metrics_orgs,
        _ => return None,
    };
    Some(value.as_deref())
}

/// What serve would find on disk for a SQLite installation, without creating anything: the
/// database file, and the master key file when no key is configured. A key file that exists is
/// read exactly as serve reads it, so a corrupt or unreadable one fails with serve's message.
fn check_files(
    settings: &Settings,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<()> {
    let DatabaseUrl::Sqlite { path, .. } = &settings.database else {
        return Ok(());
    };
    if path.as_os_str() == ":memory:" {
        notes.push("database: in memory (everything is lost when the process ends)".to_owned());
        return Ok(());
    }
    let db_exists = path.exists();
    notes.push(if db_exists {
        format!("database: SQLite file {} exists", path.display())
    } else {
        format!(
            "database: SQLite file {} does not exist yet; `clavex serve` creates it{}",
            path.display(),
            missing_folder(path)
                .map(|d| format!(" and its folder {}", d.display()))
                .unwrap_or_default()
        )
    });
    if settings.master_key_base64.is_some() {
        return Ok(());
    }
    let key_file = boot::master_key_file(path);
    if key_file.exists() {
        // Only reads: the file exists, so `load_master_key` takes its reading branch.
        boot::load_master_key(settings)?;
        notes.push(format!(
            "master key: none configured; the key file {} is used (back it up with the database)",
            key_file.display()
        ));
    } else {
        notes.push(format!(
            "master key: none configured; `clavex serve` creates the key file {} on first start \
             (back it up with the database)",
            key_file.display()
        ));
        if db_exists {
            warnings.push(format!(
                "the database {} exists but its master key file {} does not, and CLAVEX_MASTER_KEY \
                 is unset: `clavex serve` would create a new key, and the signing keys already in \
                 the database could not be opened. Restore master.key from the backup, or set \
                 CLAVEX_MASTER_KEY",
                path.display(),
                key_file.display()
            ));
        }
    }
    Ok(())
}

/// The folder serve would have to create for the database file, if any.
fn missing_folder(db: &Path) -> Option<&Path> {
    db.parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
}

/// Checks that the database can be used. PostgreSQL: connects and counts the tables. SQLite: checks
/// the file's header and that this user may write it, without opening it as a database, because
/// even a read-only connection leaves `-wal`/`-shm` files behind, owned by whoever ran the check.
async fn connect(settings: &Settings) -> anyhow::Result<String> {
    let url = match &settings.database {
        DatabaseUrl::Sqlite { path, .. } => return sqlite_file(path),
        DatabaseUrl::Postgres { url } => url,
    };
    let redacted = settings.database.redacted();
    let tables = tokio::time::timeout(CONNECT_DEADLINE, async {
        // Same context as serve's, so that the operator sees the same message.
        let store = SqlStore::connect_with(url, 1)
            .await
            .with_context(|| format!("cannot open the database {redacted}"))?;
        let tables = store
            .schema_tables()
            .await
            .with_context(|| format!("cannot read the tables of the database {redacted}"));
        store.close().await;
        tables
    })
    .await
    .with_context(|| {
        format!(
            "cannot open the database {redacted}: no answer within {}s",
            CONNECT_DEADLINE.as_secs()
        )
    })??;
    Ok(if tables.is_empty() {
        format!(
            "database: connected to {redacted}; it has no tables yet (`clavex serve` or `clavex \
             migrate` creates them)"
        )
    } else {
        format!("database: connected to {redacted}; {} tables", tables.len())
    })
}

fn sqlite_file(path: &Path) -> anyhow::Result<String> {
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    if path.as_os_str() == ":memory:" {
        return Ok("database: in memory, nothing to connect to".to_owned());
    }
    if !path.exists() {
        return Ok(format!(
            "database: not checked, {} does not exist yet",
            path.display()
        ));
    }
    let what = || format!("cannot open the database {}", path.display());
    // Opening for writing neither creates, truncates nor modifies the file.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(what)?;
    if file.metadata().with_context(what)?.len() == 0 {
        // SQLite treats an empty file as an empty database.
        return Ok(format!(
            "database: {} is empty; `clavex serve` creates the schema",
            path.display()
        ));
    }
    let mut header = [0u8; 16];
    let is_sqlite = std::io::Read::read_exact(&mut file, &mut header).is_ok() && &header == HEADER;
    if !is_sqlite {
        anyhow::bail!("{}: it is not a SQLite database", what());
    }
    Ok(format!(
        "database: {} is a SQLite database this user can read and write",
        path.display()
    ))
}

/// Whether the public URL's host is this machine (plain http is fine for trying Clavex out there).
fn is_local(url: &clavex_config::PublicUrl) -> bool {
    let host = url.url().host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new setting in the catalogue must be shown, and its flag recognised, by `config check`.
    #[test]
    fn every_setting_is_shown() {
        let settings = Settings::for_tests("sqlite://./clavex-data/clavex.db");
        let flags = FlagOverrides::default();
        for doc in describe().into_iter().filter(|d| d.toml_key.is_some()) {
            assert!(
                shown(&settings, doc.name).is_some(),
                "{} is not shown",
                doc.name
            );
            assert_eq!(flag_value(&flags, doc.name), Some(None), "{}", doc.name);
        }
        assert_eq!(shown(&settings, "no_such_setting"), None);
    }

    #[test]
    fn local_hosts() {
        for (url, local) in [
            ("http://localhost:8080", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:8080", true),
            ("http://id.localhost", true),
            ("http://id.example.com", false),
            ("http://10.0.0.1", false),
        ] {
            let url = clavex_config::PublicUrl::parse(url).unwrap();
            assert_eq!(is_local(&url), local, "{url}");
        }
    }
}
