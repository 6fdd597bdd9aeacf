//! Liveness and readiness. `/healthz` says the process runs; `/readyz` says it can serve: the
//! database answers and the node is not draining for shutdown.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::AppState;

/// The longest `/readyz` waits for the database.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        );
    }
    // Bounded well below the pool's 5-second wait for a connection, so that a load balancer with
    // a short health-check timeout sees a 503, not a timeout, while the database is down.
    let ping = tokio::time::timeout(READINESS_TIMEOUT, state.core.store.ping()).await;
    match ping.unwrap_or_else(|_| {
        Err(clavex_store::StoreError::Unavailable(format!(
            "no answer within {READINESS_TIMEOUT:?}"
        )))
    }) {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "error": "temporarily_unavailable",
                    "error_description": "the database is unreachable"
                })),
            )
        }
    }
}
