//! Request extractors that answer in SPEC's error format: JSON bodies (415 for other types, 413
//! beyond the limit, 400 naming the offending field), query strings, and the admin bearer token.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use clavex_core::{Actor, CoreError};
use serde::de::DeserializeOwned;

use crate::{AppState, error::ApiError};

/// A JSON body, strictly: `Content-Type: application/json`, within the size limit, and every field
/// known (the input types deny unknown fields).
pub struct JsonBody<T>(pub T);

/// Like `JsonBody`, but an empty body means `T::default()` (for calls whose body is optional).
pub struct OptionalJsonBody<T>(pub T);

async fn read_json_bytes(req: Request, state: &AppState) -> Result<Option<bytes::Bytes>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let body = axum::body::to_bytes(req.into_body(), state.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the request body is larger than {} bytes",
                    state.max_body_bytes
                ),
            )
        })?;
    if body.is_empty() && content_type.is_none() {
        return Ok(None);
    }
    match content_type.as_deref() {
        Some("application/json") => Ok(Some(body)),
        Some(t) if t.ends_with("+json") && t.starts_with("application/") => Ok(Some(body)),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON (Content-Type: application/json)",
        )),
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        // Unknown fields are reported by serde at the parent path; name the field itself.
        let field = if let Some(rest) = message.strip_prefix("unknown field `") {
            rest.split('`').next().unwrap_or("").to_string()
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            rest.split('`').next().unwrap_or("").to_string()
        } else if path == "." {
            "body".to_string()
        } else {
            path.split(['.', '[']).next().unwrap_or(&path).to_string()
        };
        let field = if field.is_empty() {
            "body".to_string()
        } else {
            field
        };
        let description = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not valid JSON: {message}")
        } else {
            format!("invalid {field}: {message}")
        };
        ApiError::invalid(&field, description)
    })
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match read_json_bytes(req, state).await? {
            Some(body) => parse_json(&body).map(JsonBody),
            None => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "a JSON body is required (Content-Type: application/json)",
            )),
        }
    }
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match read_json_bytes(req, state).await? {
            Some(body) => parse_json(&body).map(OptionalJsonBody),
            None => Ok(OptionalJsonBody(T::default())),
        }
    }
}

/// A query string whose problems are reported as 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        // Track the path so that a bad value (`?limit=abc`) names its parameter; serde reports
        // unknown parameters at the root, naming them in the message instead.
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                let field = match message.split('`').nth(1) {
                    Some(named) => named.to_string(),
                    None if path != "." && !path.is_empty() => path,
                    None => "query".to_string(),
                };
                ApiError::invalid(&field, format!("invalid query string: {field}: {message}"))
            })
    }
}

/// The caller of an Admin API endpoint, authenticated by `Authorization: Bearer <token>`.
pub struct Admin(pub Actor);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::from(CoreError::Unauthenticated))?;
        let source_ip = parts
            .extensions
            .get::<crate::client_addr::ClientAddr>()
            .map(|client| client.ip.to_string());
        let actor = state
            .core
            .authenticate_admin_token(token, source_ip)
            .await?;
        Ok(Admin(actor))
    }
}
