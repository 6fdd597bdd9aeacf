//! `/api/v1/organizations/{org}/groups`

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use clavex_core::{
    groups::{CreateGroup, GroupView},
    pagination::{Listing, PageParams},
    users::UserView,
};

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::{Admin, ApiQuery, JsonBody},
};

#[utoipa::path(post, path = "/api/v1/organizations/{org}/groups", tag = "groups",
    params(("org" = String, Path, description = "org slug")),
    request_body = CreateGroup,
    responses((status = 201, body = GroupView), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    JsonBody(input): JsonBody<CreateGroup>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    let group = state.core.create_group(&actor, &org, input).await?;
    Ok((StatusCode::CREATED, Json(group)))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups", tag = "groups",
    params(("org" = String, Path, description = "org slug"), PageParams),
    responses((status = 200, body = Listing<GroupView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Listing<GroupView>>> {
    Ok(Json(state.core.list_groups(&actor, &org, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups/{name}", tag = "groups",
    params(("org" = String, Path, description = "org slug"), ("name" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(state.core.get_group(&actor, &org, &name).await?))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/groups/{name}", tag = "groups",
    params(("org" = String, Path, description = "org slug"), ("name" = String, Path)),
    responses((status = 204, description = "deleted with its memberships"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.delete_group(&actor, &org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups/{name}/members", tag = "groups",
    params(("org" = String, Path, description = "org slug"), ("name" = String, Path), PageParams),
    responses((status = 200, body = Listing<UserView>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn members(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, name)): Path<(String, String)>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Listing<UserView>>> {
    Ok(Json(
        state
            .core
            .list_group_members(&actor, &org, &name, &page)
            .await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/organizations/{org}/groups/{name}/members/{user_id}", tag = "groups",
    params(("org" = String, Path, description = "org slug"), ("name" = String, Path),
        ("user_id" = String, Path)),
    responses((status = 204, description = "is a member (idempotent)"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_member(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, name, user_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    state
        .core
        .add_group_member(&actor, &org, &name, &user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/groups/{name}/members/{user_id}", tag = "groups",
    params(("org" = String, Path, description = "org slug"), ("name" = String, Path),
        ("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_member(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, name, user_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    state
        .core
        .remove_group_member(&actor, &org, &name, &user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
