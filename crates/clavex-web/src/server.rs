//! The server loop: serve until a shutdown signal, then drain — `/readyz` turns 503 first, new
//! connections stop, and requests in flight finish.

use std::{future::Future, net::SocketAddr, time::Duration};

use tokio::net::TcpListener;

use crate::{AppState, router};

/// Serves on `listener` until `shutdown` resolves. `drain_delay` is how long `/readyz` reports 503
/// before the listener closes, so that load balancers notice first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_delay: Duration,
) -> std::io::Result<()> {
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.start_draining();
            tracing::info!(
                ?drain_delay,
                "shutting down: readiness is now 503, draining"
            );
            tokio::time::sleep(drain_delay).await;
        })
        .await
}
