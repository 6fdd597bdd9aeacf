//! Discovery, RFC 8414 metadata and the JWKS: public, cacheable for a short while, CORS-open.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::{AppState, error::ApiError, oidc::find_org};

fn public_json(value: serde_json::Value) -> Response {
    let mut response = Json(value).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Response {
    let org = match find_org(&state, &org).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    match state.core.discovery(&org).await {
        Ok(doc) => public_json(doc),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn jwks(State(state): State<AppState>, Path(org): Path<String>) -> Response {
    let org = match find_org(&state, &org).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    match state.core.jwks(&org).await {
        Ok(doc) => public_json(doc),
        Err(e) => ApiError::from(e).into_response(),
    }
}
