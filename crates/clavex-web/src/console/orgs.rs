//! Console pages for organizations: the list (the console's home), creating one, its overview with
//! the OIDC endpoints to copy, renaming, and deleting after a confirmation that names what goes.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use clavex_core::{
    orgs::{CreateOrg, OrgSummary, OrgView, UpdateOrg},
    pagination::PageParams,
};
use serde::Deserialize;

use crate::console::Posted;
use crate::{
    AppState,
    console::{Chrome, Console, FieldErrors, OrgRef, Section, core_error_page, render, see_other},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs", get(home).post(create))
        // `_new` can never be a slug (those start with a letter or digit), so the form
        // cannot shadow one.
        .route("/admin/orgs/_new", get(new_form))
        .route("/admin/orgs/{org}", get(overview))
        .route("/admin/orgs/{org}/rename", axum::routing::post(rename))
        .route("/admin/orgs/{org}/delete", get(confirm_delete).post(delete))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/orgs.html")]
struct OrgsPage {
    chrome: Chrome,
    orgs: Vec<OrgView>,
    next_cursor: Option<String>,
}

/// `/admin`: the orgs this user manages.
pub async fn home(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ListQuery>,
) -> Response {
    let page = PageParams {
        limit: Some(100),
        cursor: q.cursor.clone(),
    };
    match state.core.list_orgs(&console.who.actor, &page).await {
        Ok(listing) => render(
            StatusCode::OK,
            &OrgsPage {
                chrome: console
                    .chrome("Organizations", Section::Orgs, None)
                    .with_notice(q.done.as_deref()),
                orgs: listing.items,
                next_cursor: listing.next_cursor,
            },
        ),
        Err(e) => core_error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "console/org_new.html")]
struct NewOrgPage {
    chrome: Chrome,
    slug: String,
    name: String,
    signing_alg: String,
    errors: FieldErrors,
}

async fn new_form(console: Console) -> Response {
    render(
        StatusCode::OK,
        &NewOrgPage {
            chrome: console.chrome("New organization", Section::Orgs, None),
            slug: String::new(),
            name: String::new(),
            signing_alg: "RS256".into(),
            errors: FieldErrors::default(),
        },
    )
}

async fn create(State(state): State<AppState>, Posted { console, form }: Posted) -> Response {
    let input = CreateOrg {
        slug: form.get("slug").trim().to_string(),
        name: form.get("name").to_string(),
        signing_alg: form.opt("signing_alg"),
    };
    match state.core.create_org(&console.who.actor, input).await {
        Ok(org) => see_other(&format!("/admin/orgs/{}?done=org-created", org.slug)),
        Err(e) => match FieldErrors::from_core(e) {
            Ok(errors) => render(
                StatusCode::BAD_REQUEST,
                &NewOrgPage {
                    chrome: console.chrome("New organization", Section::Orgs, None),
                    slug: form.get("slug").to_string(),
                    name: form.get("name").to_string(),
                    signing_alg: form.get("signing_alg").to_string(),
                    errors,
                },
            ),
            Err(e) => core_error_page(&e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/org_overview.html")]
struct OverviewPage {
    chrome: Chrome,
    summary: OrgSummary,
    endpoints: Vec<(&'static str, String)>,
    name: String,
    errors: FieldErrors,
}

fn overview_page(
    console: &Console,
    summary: OrgSummary,
    name: String,
    errors: FieldErrors,
    done: Option<&str>,
) -> OverviewPage {
    let issuer = summary.org.issuer.clone();
    let endpoints = vec![
        ("Issuer", issuer.clone()),
        (
            "Discovery",
            format!("{issuer}/.well-known/openid-configuration"),
        ),
        ("Authorization", format!("{issuer}/authorize")),
        ("Token", format!("{issuer}/token")),
        ("Userinfo", format!("{issuer}/userinfo")),
        ("JWKS", format!("{issuer}/jwks")),
        ("End session (logout)", format!("{issuer}/logout")),
        ("Revocation", format!("{issuer}/revoke")),
        ("Introspection", format!("{issuer}/introspect")),
    ];
    let org = OrgRef {
        slug: summary.org.slug.clone(),
        name: summary.org.name.clone(),
    };
    OverviewPage {
        chrome: console
            .chrome(summary.org.name.clone(), Section::Overview, Some(org))
            .with_notice(done),
        summary,
        endpoints,
        name,
        errors,
    }
}

async fn overview(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    match state.core.org_summary(&console.who.actor, &slug).await {
        Ok(summary) => {
            let name = summary.org.name.clone();
            render(
                StatusCode::OK,
                &overview_page(
                    &console,
                    summary,
                    name,
                    FieldErrors::default(),
                    q.done.as_deref(),
                ),
            )
        }
        Err(e) => core_error_page(&e),
    }
}

async fn rename(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    let input = UpdateOrg {
        name: Some(form.get("name").to_string()),
        signing_alg: None,
    };
    match state
        .core
        .update_org(&console.who.actor, &slug, input)
        .await
    {
        Ok(org) => see_other(&format!("/admin/orgs/{}?done=org-renamed", org.slug)),
        Err(e) => match FieldErrors::from_core(e) {
            Ok(errors) => match state.core.org_summary(&console.who.actor, &slug).await {
                Ok(summary) => render(
                    StatusCode::BAD_REQUEST,
                    &overview_page(
                        &console,
                        summary,
                        form.get("name").to_string(),
                        errors,
                        None,
                    ),
                ),
                Err(e) => core_error_page(&e),
            },
            Err(e) => core_error_page(&e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/org_delete.html")]
struct DeletePage {
    chrome: Chrome,
    summary: OrgSummary,
    errors: FieldErrors,
}

async fn delete_page(
    state: &AppState,
    console: &Console,
    slug: &str,
    status: StatusCode,
    errors: FieldErrors,
) -> Response {
    if let Err(e) = console.who.actor.require_superadmin() {
        return core_error_page(&e);
    }
    match state.core.org_summary(&console.who.actor, slug).await {
        Ok(summary) => {
            let org = OrgRef {
                slug: summary.org.slug.clone(),
                name: summary.org.name.clone(),
            };
            render(
                status,
                &DeletePage {
                    chrome: console.chrome(
                        format!("Delete {}", summary.org.name),
                        Section::Overview,
                        Some(org),
                    ),
                    summary,
                    errors,
                },
            )
        }
        Err(e) => core_error_page(&e),
    }
}

async fn confirm_delete(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
) -> Response {
    delete_page(
        &state,
        &console,
        &slug,
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

async fn delete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    // Typing the slug proves the right org is being deleted, not just a stray click.
    if form.get("confirm").trim() != slug {
        return delete_page(
            &state,
            &console,
            &slug,
            StatusCode::BAD_REQUEST,
            FieldErrors::field("confirm", "type the organization's slug exactly to confirm"),
        )
        .await;
    }
    match state.core.delete_org(&console.who.actor, &slug).await {
        Ok(()) => see_other("/admin?done=org-deleted"),
        Err(e) => core_error_page(&e),
    }
}
