//! `/api/v1/organizations/{org}/clients`

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use clavex_core::{
    clients::{ClientView, ClientWithSecret, CreateClient, RotateSecret, UpdateClient},
    pagination::{Listing, PageParams},
};

use crate::{
    AppState,
    error::{ApiResult, ErrorBody},
    extract::{Admin, ApiQuery, JsonBody, OptionalJsonBody},
};

#[utoipa::path(post, path = "/api/v1/organizations/{org}/clients", tag = "clients",
    params(("org" = String, Path, description = "org slug")),
    request_body = CreateClient,
    responses((status = 201, body = ClientWithSecret, description = "the only response that shows the secret besides a rotation"),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    JsonBody(input): JsonBody<CreateClient>,
) -> ApiResult<(StatusCode, Json<ClientWithSecret>)> {
    let client = state.core.create_client(&actor, &org, input).await?;
    Ok((StatusCode::CREATED, Json(client)))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/clients", tag = "clients",
    params(("org" = String, Path, description = "org slug"), PageParams),
    responses((status = 200, body = Listing<ClientView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Listing<ClientView>>> {
    Ok(Json(state.core.list_clients(&actor, &org, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/clients/{client_id}", tag = "clients",
    params(("org" = String, Path, description = "org slug"), ("client_id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, client_id)): Path<(String, String)>,
) -> ApiResult<Json<ClientView>> {
    Ok(Json(state.core.get_client(&actor, &org, &client_id).await?))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{org}/clients/{client_id}", tag = "clients",
    params(("org" = String, Path, description = "org slug"), ("client_id" = String, Path)),
    request_body = UpdateClient,
    responses((status = 200, body = ClientView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, client_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<UpdateClient>,
) -> ApiResult<Json<ClientView>> {
    Ok(Json(
        state
            .core
            .update_client(&actor, &org, &client_id, input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/clients/{client_id}", tag = "clients",
    params(("org" = String, Path, description = "org slug"), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.delete_client(&actor, &org, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/clients/{client_id}/secret", tag = "clients",
    params(("org" = String, Path, description = "org slug"), ("client_id" = String, Path)),
    request_body(content = Option<RotateSecret>, description = "optional; without it the old secret stops at once"),
    responses((status = 200, body = ClientWithSecret), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path((org, client_id)): Path<(String, String)>,
    OptionalJsonBody(input): OptionalJsonBody<RotateSecret>,
) -> ApiResult<Json<ClientWithSecret>> {
    Ok(Json(
        state
            .core
            .rotate_client_secret(&actor, &org, &client_id, input)
            .await?,
    ))
}
