//! Error policy: every error leaves as SPEC's body `{"error","error_description"}` with the fitting
//! status. Client mistakes say exactly what was wrong (naming the field); internal errors are
//! logged in full and shown only as a generic sentence.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use clavex_core::CoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `invalid_request`, `not_found`, `conflict`.
    pub error: String,
    /// A sentence for humans.
    pub error_description: String,
    /// The request field at fault, for 400 and 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (also in the `X-Request-Id` header and the server's log line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.to_string(),
                error_description: description.into(),
                field: None,
                request_id: crate::request_log::current(),
            },
        }
    }

    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", description);
        e.body.field = Some(field.to_string());
        e
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", description)
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            CoreError::Conflict { field } => {
                let mut e = ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("{field} is already taken"),
                );
                e.body.field = Some(field.to_string());
                e
            }
            CoreError::Invalid { field, reason } => {
                ApiError::invalid(&field, format!("invalid {field}: {reason}"))
            }
            CoreError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid admin token is required (Authorization: Bearer <token>)",
            ),
            CoreError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
            CoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            CoreError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "an internal error occurred; the server log has details",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, Json(self.body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"clavex-admin\""),
            );
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
