//! `/api/v1/organizations/{org}/users`

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use clavex_core::{
    pagination::{Listing, PageParams},
    users::{CreateUser, UpdateUser, UserSearch, UserView},
};
use serde::Deserialize;

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::{Admin, ApiQuery, JsonBody},
};

/// `?q=&limit=&cursor=` together (serde cannot flatten into two query extractors).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/users", tag = "users",
    params(("org" = String, Path, description = "org slug")),
    request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    JsonBody(input): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = state.core.create_user(&actor, &org, input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/users", tag = "users",
    params(("org" = String, Path, description = "org slug"), UserSearch, PageParams),
    responses((status = 200, body = Listing<UserView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> ApiResult<Json<Listing<UserView>>> {
    let search = UserSearch { q: query.q };
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(
        state.core.list_users(&actor, &org, &search, &page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}", tag = "users",
    params(("org" = String, Path, description = "org slug"), ("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(state.core.get_user(&actor, &org, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{org}/users/{id}", tag = "users",
    params(("org" = String, Path, description = "org slug"), ("id" = String, Path)),
    request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, id)): Path<(String, String)>,
    JsonBody(input): JsonBody<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        state.core.update_user(&actor, &org, &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}", tag = "users",
    params(("org" = String, Path, description = "org slug"), ("id" = String, Path)),
    responses((status = 204, description = "deleted with its memberships"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.delete_user(&actor, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
