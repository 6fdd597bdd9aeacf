//! Wiring from settings to a running domain: open the database, run migrations, find or create the
//! master key, and apply the bootstrap settings. `clavex serve`, every CLI subcommand and the test
//! kit go through here, so they all see the same installation the same way.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use clavex_config::{DatabaseUrl, MetricsOrgs, Settings};
use clavex_core::{
    Clock, Core, CoreSettings,
    metrics::{Metrics, MetricsOptions, OrgLabels},
};
use clavex_crypto::master_key::MasterKey;
use clavex_store::SqlStore;

/// Opens the store named by the settings, creating a SQLite file and its folder on first use, and
/// brings the schema up to date.
pub async fn open_store(settings: &Settings) -> anyhow::Result<SqlStore> {
    if let DatabaseUrl::Sqlite { path, .. } = &settings.database
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    }
    let store = SqlStore::connect_with(settings.database.url(), settings.database_max_connections)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database.redacted()))?;
    // PostgreSQL's migrator takes an advisory lock; SQLite's does not, so processes sharing a file
    // (a server and a CLI command started together) serialize on a lock file beside it.
    let _guard = match &settings.database {
        DatabaseUrl::Sqlite { path, .. } if path.as_os_str() != ":memory:" => {
            Some(lock_beside(path).await?)
        }
        _ => None,
    };
    store.migrate().await.with_context(|| {
        format!(
            "cannot migrate the database {}",
            settings.database.redacted()
        )
    })?;
    Ok(store)
}

/// Takes an exclusive lock on `<database>.lock`, waiting for other processes (released on drop).
async fn lock_beside(db_path: &Path) -> anyhow::Result<std::fs::File> {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        Ok(file)
    })
    .await
    .context("the lock task failed")?
}

/// Where the master key file lives for a SQLite installation without `CLAVEX_MASTER_KEY`.
pub fn master_key_file(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("master.key")
}

/// The master key from configuration; on SQLite without one, from a key file beside the database
/// (created with mode 0600 on first start). PostgreSQL installations must configure it, since every
/// node needs the same key.
pub fn load_master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(configured) = &settings.master_key_base64 {
        return MasterKey::from_base64(configured.expose()).context("invalid CLAVEX_MASTER_KEY");
    }
    match &settings.database {
        DatabaseUrl::Postgres { .. } => bail!(
            "CLAVEX_MASTER_KEY is required with PostgreSQL: every node must seal keys with the same \
             master key. Generate one with `head -c 32 /dev/urandom | base64`"
        ),
        DatabaseUrl::Sqlite { path, .. } => {
            let file = master_key_file(path);
            match std::fs::read_to_string(&file) {
                Ok(text) => MasterKey::from_base64(text.trim())
                    .with_context(|| format!("the master key file {} is corrupt", file.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&file),
                Err(e) => Err(e)
                    .with_context(|| format!("cannot read the master key file {}", file.display())),
            }
        }
    }
}

fn create_key_file(file: &Path) -> anyhow::Result<MasterKey> {
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", key.to_base64()).as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write the master key file {}", file.display()))?;
            tracing::info!(file = %file.display(), "created a new master key file; back it up with the database");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the master key file {}", file.display()))?;
            MasterKey::from_base64(text.trim())
                .with_context(|| format!("the master key file {} is corrupt", file.display()))
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the master key file {}", file.display()))
        }
    }
}

pub fn core_settings(settings: &Settings) -> CoreSettings {
    CoreSettings {
        public_url: settings.public_url.as_str().to_string(),
        access_token_ttl_seconds: i64::from(settings.access_token_ttl_seconds),
        id_token_ttl_seconds: i64::from(settings.id_token_ttl_seconds),
        refresh_token_ttl_seconds: i64::from(settings.refresh_token_ttl_seconds),
        session_ttl_seconds: i64::from(settings.session_ttl_seconds),
        audit_retention_seconds: (settings.audit_retention_days > 0)
            .then(|| i64::from(settings.audit_retention_days) * 86_400),
        audit_token_events: settings.audit_token_events,
    }
}

/// Opens everything: store (migrated), master key, domain.
pub async fn open_core(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Core> {
    // The store first: it creates the data folder the key file lives in.
    let store = open_store(settings).await?;
    let master_key = load_master_key(settings)?;
    let metrics = Arc::new(Metrics::new(metrics_options(settings), clock.now()));
    // The store reports each operation's latency into the same metrics (not with metrics off).
    let store = if metrics.enabled() {
        store.observed_by(metrics.clone())
    } else {
        store
    };
    let core = Core::new(Arc::new(store), clock, master_key, core_settings(settings));
    Ok(core.with_metrics(metrics))
}

pub fn metrics_options(settings: &Settings) -> MetricsOptions {
    let m = &settings.metrics;
    MetricsOptions {
        enabled: m.enabled,
        org_labels: match &m.orgs {
            MetricsOrgs::None => OrgLabels::None,
            MetricsOrgs::All => OrgLabels::All,
            MetricsOrgs::Listed(slugs) => OrgLabels::Listed(slugs.clone()),
        },
        on_main_listener: m.listen.is_none(),
    }
}

/// Prepares the Admin Console's org and client, then applies `CLAVEX_BOOTSTRAP_ADMIN_TOKEN` and
/// `CLAVEX_BOOTSTRAP_ADMIN_USERNAME`/`_PASSWORD` (each idempotent).
pub async fn apply_bootstrap(core: &Core, settings: &Settings) -> anyhow::Result<()> {
    core.ensure_console()
        .await
        .context("cannot prepare the Admin Console's organization")?;
    if let Some((username, password)) = &settings.bootstrap_admin {
        let changed = core
            .ensure_bootstrap_console_admin(username, password.expose())
            .await
            .context(
                "cannot apply CLAVEX_BOOTSTRAP_ADMIN_USERNAME/CLAVEX_BOOTSTRAP_ADMIN_PASSWORD",
            )?;
        if changed {
            tracing::info!(username = %username, "console superadmin set from CLAVEX_BOOTSTRAP_ADMIN_USERNAME");
        }
    }
    if let Some(token) = &settings.bootstrap_admin_token {
        let changed = core
            .ensure_bootstrap_token(token.expose())
            .await
            .context("cannot apply CLAVEX_BOOTSTRAP_ADMIN_TOKEN")?;
        if changed {
            tracing::info!("bootstrap admin token set from CLAVEX_BOOTSTRAP_ADMIN_TOKEN");
        }
    }
    Ok(())
}
