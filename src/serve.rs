//! `clavex serve`: open the installation, bind, serve until SIGTERM or SIGINT, then drain.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use clavex_config::{DatabaseUrl, Settings};
use clavex_core::SystemClock;
use clavex_web::{AppState, boot};

/// How long `/readyz` reports 503 before the listener closes at shutdown.
const DRAIN_DELAY: Duration = Duration::from_millis(500);

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    if settings.tls.is_some() {
        anyhow::bail!(
            "CLAVEX_TLS_CERT/CLAVEX_TLS_KEY: built-in HTTPS is not available in this version; \
             terminate TLS at a reverse proxy and unset both"
        );
    }
    let core = boot::open_core(&settings, Arc::new(SystemClock)).await?;
    boot::apply_bootstrap(&core, &settings).await?;
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
    let state = AppState::new(core.clone(), settings.max_body_bytes);
    clavex_web::serve(listener, state, shutdown_signal(), DRAIN_DELAY)
        .await
        .context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
