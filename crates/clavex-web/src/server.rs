//! The server loop: serve until a shutdown signal, then drain — `/readyz` turns 503 first, new
//! connections stop, and requests in flight finish. Plain HTTP or built-in HTTPS; either way
//! handlers see the TCP peer as `ConnectInfo<SocketAddr>` (read only by `client_addr`).

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::{AppState, router, tls::TlsListener};

/// Serves plain HTTP on `listener` until `shutdown` resolves. `drain_delay` is how long `/readyz`
/// reports 503 before the listener closes, so that load balancers notice first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_delay: Duration,
) -> std::io::Result<()> {
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(drain(state, shutdown, drain_delay))
        .await
}

/// Like [`serve`], but HTTPS only: every connection on `listener` must complete a TLS handshake
/// with `tls` first (see `tls::Https`, whose watcher may swap the certificate meanwhile).
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_delay: Duration,
) -> std::io::Result<()> {
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // `tap_io` is also what gives a custom listener axum's `ConnectInfo<SocketAddr>`.
    let listener = TlsListener::new(listener, tls)?.tap_io(|tls| {
        // Small TLS records should leave at once rather than wait for Nagle's algorithm.
        let _ = tls.get_ref().0.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(drain(state, shutdown, drain_delay))
        .await
}

async fn drain(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_delay: Duration,
) {
    shutdown.await;
    state.start_draining();
    tracing::info!(
        ?drain_delay,
        "shutting down: readiness is now 503, draining"
    );
    tokio::time::sleep(drain_delay).await;
}
