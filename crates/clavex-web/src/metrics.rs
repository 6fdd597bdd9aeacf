//! `/metrics` and the per-request middleware that feeds it: requests by route template, method
//! and status, with a latency histogram by route. Raw paths never become labels.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::AppState;

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let metrics = &state.core.metrics;
    metrics.inc(
        "clavex_http_requests_total",
        "HTTP requests by route template, method and status.",
        &[("route", &route), ("method", &method), ("status", &status)],
    );
    metrics.observe(
        "clavex_http_request_duration_seconds",
        "HTTP request latency by route template.",
        &[("route", &route)],
        started.elapsed(),
    );
    response
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.core.metrics.render(),
    )
}
