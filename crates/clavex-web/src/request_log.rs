//! One id per request, and one log line per request.
//!
//! The id is the `X-Request-Id` header: taken from the request when it is a short token (a proxy
//! in front may have set it, so its logs and ours share ids), otherwise generated. With
//! `CLAVEX_TRUSTED_PROXIES` set, only a trusted proxy's id is taken; without it, anyone's is, as
//! before that setting existed. It is echoed
//! in the response header, in every JSON error body (`request_id`) and on every error page, so a
//! user's screenshot or a client's log line leads to the server's log line. Only the path is
//! logged, never the query string: it can carry codes and tokens.

use std::time::Instant;

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served by this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Whether an incoming id may be reused: short, and only characters that cannot forge a log line
/// or a header.
fn acceptable(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Probes and scrapes, logged at debug so that a load balancer polling every second does not
/// drown the log.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub async fn layer(mut req: Request, next: Next) -> Response {
    let may_set_id = req
        .extensions()
        .get::<crate::client_addr::ClientAddr>()
        .is_none_or(|client| client.headers_trusted);
    let id = req
        .headers()
        .get(HEADER)
        .filter(|_| may_set_id)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"));
    req.headers_mut().insert(HEADER, header.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", %method, %path, request_id = %id);
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id, next.run(req))
        .instrument(span.clone())
        .await;
    response.headers_mut().insert(HEADER, header);
    let status = response.status();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(status = status.as_u16(), ms, "request failed");
    } else if is_probe(&path) {
        tracing::debug!(status = status.as_u16(), ms, "request");
    } else {
        tracing::info!(status = status.as_u16(), ms, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_reused() {
        assert!(acceptable("f47ac10b-58cc-4372-a567-0e02b2c3d479"));
        assert!(acceptable("lb.1234567_abc"));
        for bad in [
            "",
            "short",
            "has space in it",
            "new\nline-forged",
            "quote\"inside-it",
            &"x".repeat(65),
        ] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
