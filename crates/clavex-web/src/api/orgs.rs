//! `/api/v1/organizations`

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use clavex_core::{
    orgs::{CreateOrg, OrgView, UpdateOrg},
    pagination::{Listing, PageParams},
};

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::{Admin, ApiQuery, JsonBody},
};

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations",
    request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(input): JsonBody<CreateOrg>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let org = state.core.create_org(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    params(PageParams),
    responses((status = 200, body = Listing<OrgView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Listing<OrgView>>> {
    Ok(Json(state.core.list_orgs(&actor, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}", tag = "organizations",
    params(("org" = String, Path, description = "org slug")),
    responses((status = 200, body = OrgView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(state.core.get_org(&actor, &org).await?))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{org}", tag = "organizations",
    params(("org" = String, Path, description = "org slug")),
    request_body = UpdateOrg,
    responses((status = 200, body = OrgView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    JsonBody(input): JsonBody<UpdateOrg>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(state.core.update_org(&actor, &org, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}", tag = "organizations",
    params(("org" = String, Path, description = "org slug")),
    responses((status = 204, description = "deleted with everything under it"),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.delete_org(&actor, &org).await?;
    Ok(StatusCode::NO_CONTENT)
}
