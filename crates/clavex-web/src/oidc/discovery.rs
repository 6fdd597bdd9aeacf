//! Discovery, RFC 8414 metadata and the JWKS: public, cacheable for a short while, CORS-open.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::{AppState, error::ApiError, oidc::find_org};

/// A document serialized once (`Core` keeps it), sent as it is.
fn public_json(body: Bytes) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
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
    match state.core.discovery_body(&org).await {
        Ok(doc) => public_json(doc),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn jwks(State(state): State<AppState>, Path(org): Path<String>) -> Response {
    let org = match find_org(&state, &org).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    match state.core.jwks_body(&org).await {
        Ok(doc) => public_json(doc),
        Err(e) => ApiError::from(e).into_response(),
    }
}
