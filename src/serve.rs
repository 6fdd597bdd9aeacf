//! `clavex serve`: open the installation, bind, serve until SIGTERM or SIGINT, then drain.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use clavex_config::{DatabaseUrl, Settings};
use clavex_core::SystemClock;
use clavex_web::{AppState, boot};

/// How long `/readyz` reports 503 before the listener closes at shutdown.
const DRAIN_DELAY: Duration = Duration::from_millis(500);

/// Settings that load but that this version cannot serve with. `clavex config check` calls it
/// too, so that it never calls valid what `serve` would refuse.
pub fn refuse_unsupported(settings: &Settings) -> anyhow::Result<()> {
    if settings.tls.is_some() {
        anyhow::bail!(
            "CLAVEX_TLS_CERT/CLAVEX_TLS_KEY: built-in HTTPS is not available in this version; \
             terminate TLS at a reverse proxy and unset both"
        );
    }
    Ok(())
}

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    refuse_unsupported(&settings)?;
    let core = boot::open_core(&settings, Arc::new(SystemClock)).await?;
    boot::apply_bootstrap(&core, &settings).await?;
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {} (CLAVEX_LISTEN)", settings.listen))?;
    let local = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let data = match &settings.database {
        DatabaseUrl::Sqlite { path, .. } => format!("SQLite file {}", path.display()),
        DatabaseUrl::Postgres { .. } => format!("PostgreSQL {}", settings.database.redacted()),
    };
    tracing::info!(
        listen = %local,
        public_url = %settings.public_url.as_str(),
        data = %data,
        "clavex {} listening on http://{local}; data in {data}",
        env!("CARGO_PKG_VERSION")
    );
    print_first_run(&core, &settings).await?;
    // Dropped (and so stopped) when serving ends.
    let purge = AbortOnDrop(tokio::spawn(core.clone().purge_forever()));
    let state = AppState::new(core.clone(), settings.max_body_bytes);
    let served = clavex_web::serve(listener, state, shutdown, DRAIN_DELAY).await;
    drop(purge);
    served.context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

/// While nobody can sign in to the console, tells the operator how to get in. Written to stdout
/// (the log goes to stderr), never through the log: the link is a credential, and logs are often
/// shipped elsewhere.
async fn print_first_run(core: &clavex_core::Core, settings: &Settings) -> anyhow::Result<()> {
    let Some(link) = core
        .first_run_link()
        .await
        .context("cannot check for console accounts")?
    else {
        return Ok(());
    };
    let public = settings.public_url.as_str();
    println!(
        "\n  Clavex has no administrator yet. To create the first one, open this link (it works\n  \
         once, and only until an administrator exists):\n\n    {link}\n\n  \
         or run `clavex admin create --username NAME` on this database. Then sign in at\n  \
         {public}/admin. API tokens: `clavex admin-token create --name NAME`.\n"
    );
    Ok(())
}

/// Registers the signal handlers now, so that a SIGTERM arriving right after "listening" is
/// logged already stops the server gracefully, and returns what resolves on the first signal.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
