//! `clavex serve`: open the installation, bind, serve (plain HTTP, or HTTPS with a certificate that is
//! reloaded when its files change) until SIGTERM or SIGINT, then drain.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use clavex_config::{DatabaseUrl, Settings};
use clavex_core::SystemClock;
use clavex_web::{AppState, boot, tls};

/// How long `/readyz` reports 503 before the listener closes at shutdown.
const DRAIN_DELAY: Duration = Duration::from_millis(500);

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Before the database is touched: a bad certificate or key stops start-up at once.
    let https = settings.tls.as_ref().map(tls::Https::load).transpose()?;
    let core = boot::open_core(&settings, Arc::new(SystemClock)).await?;
    boot::apply_bootstrap(&core, &settings).await?;
    // Build info for /metrics, and its own listener with CLAVEX_METRICS_LISTEN (stops when dropped).
    let _metrics =
        clavex_web::metrics::serve_metrics(&settings, &core, crate::cli::build_info()).await?;
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
    let scheme = if https.is_some() { "https" } else { "http" };
    tracing::info!(
        listen = %local,
        public_url = %settings.public_url.as_str(),
        data = %data,
        "clavex {} listening on {scheme}://{local}; data in {data}",
        env!("CARGO_PKG_VERSION")
    );
    if let (Some(https), Some(files)) = (&https, &settings.tls) {
        tracing::info!(
            cert = %files.cert.display(),
            key = %files.key.display(),
            "HTTPS with a chain of {} certificate(s), valid until {}; the files are checked for \
             changes every {}s",
            https.loaded.chain_len,
            https.loaded.not_after.as_deref().unwrap_or("an unknown date"),
            tls::RELOAD_POLL.as_secs()
        );
        if settings.public_url.url().scheme() == "http" {
            tracing::warn!("{}", https_with_http_public_url(&settings));
        }
    }
    print_first_run(&core, &settings).await?;
    // Dropped (and so stopped) when serving ends.
    let purge = AbortOnDrop(tokio::spawn(core.clone().purge_forever()));
    let state = AppState::new(core.clone(), settings.max_body_bytes)
        .with_trusted_proxies(settings.trusted_proxies.clone());
    let served = match https {
        Some(https) => {
            let metrics = core.metrics.clone();
            // Dropped (and so stopped) when serving ends.
            let _watcher = AbortOnDrop(tokio::spawn(https.watcher.run(move |outcome| {
                metrics.inc(
                    "clavex_tls_reloads_total",
                    "Changes of the TLS certificate or key files acted on, by outcome (success: \
                     new connections use the new pair; failure: the previous pair still serves)",
                    &[("outcome", outcome.as_str())],
                );
            })));
            clavex_web::serve_tls(listener, https.config, state, shutdown, DRAIN_DELAY).await
        }
        None => clavex_web::serve(listener, state, shutdown, DRAIN_DELAY).await,
    };
    drop(purge);
    served.context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

/// Built-in HTTPS with an http:// public URL: issuers and links would name a scheme that the
/// listener does not speak. A warning, not an error (`serve` and `config check` say the same):
/// a lab may want exactly that.
pub fn https_with_http_public_url(settings: &Settings) -> String {
    format!(
        "CLAVEX_TLS_CERT is set, so Clavex serves HTTPS, but CLAVEX_PUBLIC_URL {} is http://: \
         issuers, redirects and links are built from it; make it https://",
        settings.public_url
    )
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
