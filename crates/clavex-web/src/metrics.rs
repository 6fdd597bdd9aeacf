//! `/metrics` and the per-request middleware that feeds it: requests by route template, method
//! and status, with a latency histogram by route. Raw paths never become labels, and nothing here
//! allocates per request. With `CLAVEX_METRICS_LISTEN`, `/metrics` is served by a listener of its
//! own (`serve_metrics`) and the main listener answers 404 for it.

use std::{net::SocketAddr, time::Instant};

use anyhow::Context;
use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use clavex_config::Settings;
use clavex_core::{Core, metrics::BuildInfo};

use crate::{AppState, error::ApiError};

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // `MatchedPath` holds an `Arc<str>`: cloning it copies a pointer, not the route.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state
        .core
        .metrics
        .http_request(route, method, response.status().as_str(), started.elapsed());
    response
}

/// Methods outside the standard set (clients may send any token) share one label value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `/metrics` on the main listener: 404, like any unknown path, when it is served elsewhere.
pub async fn render(State(state): State<AppState>) -> Response {
    if !state.core.metrics.options().on_main_listener {
        return ApiError::not_found("no such endpoint").into_response();
    }
    exposition(&state.core)
}

fn exposition(core: &Core) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        core.render_metrics(),
    )
        .into_response()
}

/// Stops the separate metrics listener when dropped.
pub struct MetricsListener(Option<tokio::task::JoinHandle<()>>);

impl Drop for MetricsListener {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// What `clavex serve` calls once the domain is open: records the binary's build information,
/// and with `CLAVEX_METRICS_LISTEN` binds that address and serves `/metrics` there (and only
/// there) until the returned guard is dropped. A bind failure stops start-up.
pub async fn serve_metrics(
    settings: &Settings,
    core: &Core,
    build: BuildInfo,
) -> anyhow::Result<MetricsListener> {
    core.metrics.set_build_info(build);
    let Some(addr) = settings.metrics.listen.filter(|_| settings.metrics.enabled) else {
        return Ok(MetricsListener(None));
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (CLAVEX_METRICS_LISTEN)"))?;
    let local: SocketAddr = listener
        .local_addr()
        .context("cannot read the bound metrics address")?;
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(core): State<Core>| async move { exposition(&core) }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(core.clone());
    tracing::info!(metrics = %local, "serving /metrics at http://{local}/metrics");
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(MetricsListener(Some(task)))
}
