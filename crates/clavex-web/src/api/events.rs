//! `/api/v1/organizations/{org}/events` and `/api/v1/events`: the audit trail.

use axum::{
    Json,
    extract::{Path, State},
};
use clavex_core::{
    events::EventView,
    pagination::{Listing, PageParams},
};
use clavex_store::EventFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    AppState,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{Admin, ApiQuery},
};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Event type, e.g. `client.created`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// e.g. `token:ci` or `cli`.
    actor: Option<String>,
    /// A slug, client_id, user id or group name.
    target: Option<String>,
    /// RFC 3339 time or unix seconds; inclusive.
    since: Option<String>,
    /// RFC 3339 time or unix seconds; inclusive.
    until: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn parse_time(field: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(n) = value.parse::<i64>() {
        return Ok(n);
    }
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("invalid {field}: expected RFC 3339 or unix seconds"),
            )
        })
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/events", tag = "events",
    params(("org" = String, Path, description = "org slug"), EventQuery),
    responses((status = 200, body = Listing<EventView>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(org): Path<String>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<Listing<EventView>>> {
    let (filter, page) = query.split()?;
    Ok(Json(
        state.core.list_events(&actor, &org, &filter, &page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    description = "Every event of the installation: all orgs (deleted ones too) and those of no org \
                   (admin tokens, console accounts). Superadmins only.",
    params(EventQuery),
    responses((status = 200, body = Listing<EventView>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_all(
    State(state): State<AppState>,
    Admin(actor): Admin,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<Listing<EventView>>> {
    let (filter, page) = query.split()?;
    Ok(Json(
        state.core.list_all_events(&actor, &filter, &page).await?,
    ))
}

impl EventQuery {
    fn split(self) -> Result<(EventFilter, PageParams), ApiError> {
        let query = self;
        let filter = EventFilter {
            kind: query.kind,
            actor: query.actor,
            target: query.target,
            since: query
                .since
                .as_deref()
                .map(|v| parse_time("since", v))
                .transpose()?,
            until: query
                .until
                .as_deref()
                .map(|v| parse_time("until", v))
                .transpose()?,
        };
        let page = PageParams {
            limit: query.limit,
            cursor: query.cursor,
        };
        Ok((filter, page))
    }
}
