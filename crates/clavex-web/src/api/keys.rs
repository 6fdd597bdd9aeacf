//! `/api/v1/organizations/{org}/keys`

use axum::{
    Json,
    extract::{Path, State},
};
use clavex_core::keys::KeyView;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::Admin,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/keys", tag = "keys",
    params(("org" = String, Path, description = "org slug")),
    responses((status = 200, body = KeyList, description = "public parts only, newest first"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
) -> ApiResult<Json<KeyList>> {
    let items = state.core.list_keys(&actor, &org).await?;
    Ok(Json(KeyList { items }))
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/keys/rotate", tag = "keys",
    params(("org" = String, Path, description = "org slug")),
    responses((status = 200, body = KeyView, description = "the new key"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(state.core.rotate_keys(&actor, &org).await?))
}
