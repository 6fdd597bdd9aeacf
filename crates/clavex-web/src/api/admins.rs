//! `/api/v1/admins` (console accounts) and `/api/v1/organizations/{org}/admins` (who administers
//! an org). Creating accounts and granting rights needs a superadmin.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use clavex_core::console::{
    ConsoleAdminView, CreateConsoleAdmin, CreatedConsoleAdmin, UpdateConsoleAdmin,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::{Admin, JsonBody},
};

/// Every console account (there are few; not paginated).
#[derive(Serialize, ToSchema)]
pub struct AdminList {
    pub items: Vec<ConsoleAdminView>,
}

#[utoipa::path(post, path = "/api/v1/admins", tag = "admins",
    request_body = CreateConsoleAdmin,
    responses((status = 201, body = CreatedConsoleAdmin), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(input): JsonBody<CreateConsoleAdmin>,
) -> ApiResult<(StatusCode, Json<CreatedConsoleAdmin>)> {
    let created = state.core.create_console_admin(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/admins", tag = "admins",
    responses((status = 200, body = AdminList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
) -> ApiResult<Json<AdminList>> {
    Ok(Json(AdminList {
        items: state.core.list_console_admins(&actor).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/admins/{id}", tag = "admins",
    params(("id" = String, Path, description = "console account id")),
    responses((status = 200, body = ConsoleAdminView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<ConsoleAdminView>> {
    Ok(Json(state.core.get_console_admin(&actor, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/admins/{id}", tag = "admins",
    params(("id" = String, Path, description = "console account id")),
    request_body = UpdateConsoleAdmin,
    responses((status = 200, body = ConsoleAdminView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<UpdateConsoleAdmin>,
) -> ApiResult<Json<ConsoleAdminView>> {
    Ok(Json(
        state.core.update_console_admin(&actor, &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/admins/{id}", tag = "admins",
    params(("id" = String, Path, description = "console account id")),
    responses((status = 204, description = "deleted with its rights and sessions"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.delete_console_admin(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/admins", tag = "admins",
    params(("org" = String, Path, description = "org slug")),
    responses((status = 200, body = AdminList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn org_list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
) -> ApiResult<Json<AdminList>> {
    Ok(Json(AdminList {
        items: state.core.list_org_admins(&actor, &org).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/organizations/{org}/admins/{id}", tag = "admins",
    params(("org" = String, Path, description = "org slug"),
        ("id" = String, Path, description = "console account id")),
    responses((status = 204, description = "granted (idempotent)"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.grant_org_admin(&actor, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/admins/{id}", tag = "admins",
    params(("org" = String, Path, description = "org slug"),
        ("id" = String, Path, description = "console account id")),
    responses((status = 204, description = "revoked (idempotent)"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.revoke_org_admin(&actor, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
