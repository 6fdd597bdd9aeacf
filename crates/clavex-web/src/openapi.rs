//! The OpenAPI 3 description of the Admin API, generated from the handlers' annotations so that it
//! cannot drift from the code. A snapshot test shows every change to it in review.

use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clavex Admin API",
        description = "Manage organizations, OAuth clients, users, groups, signing keys, the audit trail and Admin Console accounts. Every call needs `Authorization: Bearer <admin token>`.",
        license(name = "Apache-2.0")
    ),
    paths(
        api::orgs::create, api::orgs::list, api::orgs::get, api::orgs::update, api::orgs::delete,
        api::clients::create, api::clients::list, api::clients::get, api::clients::update,
        api::clients::delete, api::clients::rotate_secret,
        api::users::create, api::users::list, api::users::get, api::users::update,
        api::users::delete,
        api::groups::create, api::groups::list, api::groups::get, api::groups::delete,
        api::groups::members, api::groups::add_member, api::groups::remove_member,
        api::keys::list, api::keys::rotate,
        api::events::list, api::events::list_all,
        api::admins::create, api::admins::list, api::admins::get, api::admins::update,
        api::admins::delete, api::admins::org_list, api::admins::grant, api::admins::revoke,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as served; version fields come from the build so the snapshot stays stable.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
