//! Console page for an org's signing keys: the keys the JWKS publishes (public parts only), which
//! one signs, and rotating to a new key.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use clavex_core::keys::{KeyView, PUBLISH_LEAD_SECONDS};
use serde::Deserialize;

use crate::console::Posted;
use crate::{
    AppState,
    console::{Chrome, Console, OrgRef, Section, core_error_page, render, see_other},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs/{org}/keys", get(list))
        .route("/admin/orgs/{org}/keys/rotate", post(rotate))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    slug: String,
    signing_alg: String,
    jwks_url: String,
    keys: Vec<KeyView>,
    lead_seconds: i64,
}

async fn list(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let org = match state.core.get_org(&console.who.actor, &slug).await {
        Ok(org) => org,
        Err(e) => return core_error_page(&e),
    };
    let keys = match state.core.list_keys(&console.who.actor, &slug).await {
        Ok(keys) => keys,
        Err(e) => return core_error_page(&e),
    };
    render(
        StatusCode::OK,
        &KeysPage {
            chrome: console
                .chrome(
                    "Signing keys",
                    Section::Keys,
                    Some(OrgRef {
                        slug: org.slug.clone(),
                        name: org.name,
                    }),
                )
                .with_notice(q.done.as_deref()),
            slug: org.slug,
            signing_alg: org.signing_alg,
            jwks_url: format!("{}/jwks", org.issuer),
            keys,
            lead_seconds: PUBLISH_LEAD_SECONDS,
        },
    )
}

async fn rotate(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, .. }: Posted,
) -> Response {
    match state.core.rotate_keys(&console.who.actor, &slug).await {
        Ok(_) => see_other(&format!("/admin/orgs/{slug}/keys?done=key-rotated")),
        Err(e) => core_error_page(&e),
    }
}
