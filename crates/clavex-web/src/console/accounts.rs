//! Console pages for console accounts (superadmins only): the list, creating one (a generated
//! password is shown once, on the page that answers the form), an account's page with its
//! settings, a new password, the orgs it administers and deleting it. Also each org's Admins tab:
//! who administers the org (its org admins may look), and for superadmins granting and revoking.
//!
//! Form field names are the Admin API's JSON field names (`username`, `email`, `name`,
//! `password`, `superadmin`, `orgs`, `disabled`). The core refuses to delete, disable or demote
//! the last enabled superadmin; the account page shows its reason at the top.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use clavex_core::{
    Actor, CoreError, CoreResult,
    console::{ConsoleAdminView, CreateConsoleAdmin, UpdateConsoleAdmin},
    orgs::OrgView,
    pagination::{MAX_LIMIT, PageParams},
};
use serde::Deserialize;

use crate::console::{Posted, form_status};
use crate::{
    AppState,
    console::{
        Chrome, Console, FieldErrors, Form, Section, core_error_page, org_ref, render, see_other,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list).post(create))
        .route("/admin/accounts/new", get(new_form))
        .route("/admin/accounts/{id}", get(show))
        .route("/admin/accounts/{id}/edit", post(update))
        .route("/admin/accounts/{id}/password", post(set_password))
        .route("/admin/accounts/{id}/grant", post(grant))
        .route("/admin/accounts/{id}/revoke", post(revoke))
        .route("/admin/accounts/{id}/delete", post(delete))
        .route("/admin/orgs/{org}/admins", get(org_admins).post(org_grant))
        .route("/admin/orgs/{org}/admins/{id}/revoke", post(org_revoke))
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Every org the actor sees (the console org is never among them).
async fn all_orgs(state: &AppState, actor: &Actor) -> CoreResult<Vec<OrgView>> {
    let mut out = Vec::new();
    let mut page = PageParams {
        limit: Some(MAX_LIMIT),
        cursor: None,
    };
    loop {
        let listing = state.core.list_orgs(actor, &page).await?;
        out.extend(listing.items);
        match listing.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

/// The display name of org `slug`, or the slug when it is not among `orgs`.
fn org_name<'a>(orgs: &'a [OrgView], slug: &'a str) -> &'a str {
    orgs.iter()
        .find(|o| o.slug == slug)
        .map(|o| o.name.as_str())
        .unwrap_or(slug)
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    accounts: Vec<ConsoleAdminView>,
    me: String,
}

async fn list(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<DoneQuery>,
) -> Response {
    match state.core.list_console_admins(&console.who.actor).await {
        Ok(accounts) => render(
            StatusCode::OK,
            &AccountsPage {
                chrome: console
                    .chrome("Console accounts", Section::Accounts, None)
                    .with_notice(q.done.as_deref()),
                accounts,
                me: console.who.user.id.clone(),
            },
        ),
        Err(e) => core_error_page(&e),
    }
}

// ---------------------------------------------------------------------------------------------
// Creating one

#[derive(Template)]
#[template(path = "console/accounts_new.html")]
struct NewAccountPage {
    chrome: Chrome,
    username: String,
    email: String,
    name: String,
    superadmin: bool,
    /// (slug, name, checked) for each org.
    orgs: Vec<(String, String, bool)>,
    errors: FieldErrors,
}

async fn new_account_page(
    state: &AppState,
    console: &Console,
    status: StatusCode,
    form: Option<&Form>,
    errors: FieldErrors,
) -> Response {
    if let Err(e) = console.who.actor.require_superadmin() {
        return core_error_page(&e);
    }
    let orgs = match all_orgs(state, &console.who.actor).await {
        Ok(orgs) => orgs,
        Err(e) => return core_error_page(&e),
    };
    let chosen = form.map(|f| f.all("orgs")).unwrap_or_default();
    let value = |name: &str| form.map(|f| f.get(name).to_string()).unwrap_or_default();
    render(
        status,
        &NewAccountPage {
            chrome: console.chrome("New account", Section::Accounts, None),
            username: value("username"),
            email: value("email"),
            name: value("name"),
            superadmin: form.is_some_and(|f| f.checked("superadmin")),
            orgs: orgs
                .into_iter()
                .map(|o| {
                    let checked = chosen.contains(&o.slug);
                    (o.slug, o.name, checked)
                })
                .collect(),
            errors,
        },
    )
}

async fn new_form(State(state): State<AppState>, console: Console) -> Response {
    new_account_page(
        &state,
        &console,
        StatusCode::OK,
        None,
        FieldErrors::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "console/accounts_created.html")]
struct CreatedPage {
    chrome: Chrome,
    admin: ConsoleAdminView,
    password: String,
}

async fn create(State(state): State<AppState>, Posted { console, form }: Posted) -> Response {
    let password = form.get("password");
    let input = CreateConsoleAdmin {
        username: form.get("username").trim().to_string(),
        email: form.opt("email"),
        name: form.opt("name"),
        password: (!password.is_empty()).then(|| password.to_string()),
        superadmin: Some(form.checked("superadmin")),
        orgs: Some(
            form.all("orgs")
                .into_iter()
                .filter(|s| !s.trim().is_empty())
                .collect(),
        ),
    };
    match state
        .core
        .create_console_admin(&console.who.actor, input)
        .await
    {
        Ok(created) => match created.password {
            // Shown on this answer only: no later page can show it again.
            Some(password) => render(
                StatusCode::CREATED,
                &CreatedPage {
                    chrome: console
                        .chrome("Account created", Section::Accounts, None)
                        .with_notice(Some("account-created")),
                    admin: created.admin,
                    password,
                },
            ),
            None => see_other(&format!(
                "/admin/accounts/{}?done=account-created",
                created.admin.id
            )),
        },
        Err(e) => {
            let status = form_status(&e);
            match FieldErrors::from_core(e) {
                Ok(errors) => new_account_page(&state, &console, status, Some(&form), errors).await,
                Err(e) => core_error_page(&e),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// An account's page

#[derive(Template)]
#[template(path = "console/accounts_show.html")]
struct AccountPage {
    chrome: Chrome,
    admin: ConsoleAdminView,
    /// Whether this is the signed-in user's own account.
    me: bool,
    /// What the edit form shows: the stored values, or what was typed.
    name: String,
    email: String,
    superadmin: bool,
    disabled: bool,
    /// (slug, name) of the orgs it administers.
    granted: Vec<(String, String)>,
    /// Orgs it could be granted.
    grantable: Vec<OrgView>,
    errors: FieldErrors,
}

/// The account page; `typed` is an edit form to show again instead of the stored values.
async fn account_page(
    state: &AppState,
    console: &Console,
    id: &str,
    status: StatusCode,
    typed: Option<&Form>,
    errors: FieldErrors,
    done: Option<&str>,
) -> Response {
    let actor = &console.who.actor;
    let admin = match state.core.get_console_admin(actor, id).await {
        Ok(admin) => admin,
        Err(e) => return core_error_page(&e),
    };
    let orgs = match all_orgs(state, actor).await {
        Ok(orgs) => orgs,
        Err(e) => return core_error_page(&e),
    };
    let granted = admin
        .orgs
        .iter()
        .map(|slug| (slug.clone(), org_name(&orgs, slug).to_string()))
        .collect();
    let grantable = orgs
        .into_iter()
        .filter(|o| !admin.orgs.contains(&o.slug))
        .collect();
    let (name, email, superadmin, disabled) = match typed {
        Some(f) => (
            f.get("name").to_string(),
            f.get("email").to_string(),
            f.checked("superadmin"),
            f.checked("disabled"),
        ),
        None => (
            admin.name.clone(),
            admin.email.clone(),
            admin.superadmin,
            admin.disabled,
        ),
    };
    render(
        status,
        &AccountPage {
            chrome: console
                .chrome(
                    format!("Account {}", admin.username),
                    Section::Accounts,
                    None,
                )
                .with_notice(done),
            me: admin.id == console.who.user.id,
            admin,
            name,
            email,
            superadmin,
            disabled,
            granted,
            grantable,
            errors,
        },
    )
}

/// The answer to a failed change on the account page: field errors next to their fields, and the
/// last-superadmin refusal (the only `Forbidden` a superadmin gets here) at the top.
async fn account_error(
    state: &AppState,
    console: &Console,
    id: &str,
    typed: Option<&Form>,
    err: CoreError,
) -> Response {
    let (status, errors) = match err {
        CoreError::Forbidden(reason) => {
            let mut errors = FieldErrors::default();
            errors.general = Some(format!("Refused: {reason}."));
            (StatusCode::FORBIDDEN, errors)
        }
        other => {
            let status = form_status(&other);
            match FieldErrors::from_core(other) {
                Ok(errors) => (status, errors),
                Err(e) => return core_error_page(&e),
            }
        }
    };
    account_page(state, console, id, status, typed, errors, None).await
}

async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    account_page(
        &state,
        &console,
        &id,
        StatusCode::OK,
        None,
        FieldErrors::default(),
        q.done.as_deref(),
    )
    .await
}

/// Checks that the user is a superadmin (so that a `Forbidden` from the core afterwards can only
/// be the last-superadmin rule); `Posted` has checked the CSRF token. `Some` is the refusal.
fn refuse_post(console: &Console) -> Option<Response> {
    console
        .who
        .actor
        .require_superadmin()
        .err()
        .map(|e| core_error_page(&e))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    if let Some(refused) = refuse_post(&console) {
        return refused;
    }
    let actor = &console.who.actor;
    let current = match state.core.get_console_admin(actor, &id).await {
        Ok(admin) => admin,
        Err(e) => return core_error_page(&e),
    };
    // Only what changed, so that the audit trail names exactly that.
    let name = form.get("name").trim().to_string();
    let email = form.get("email").trim().to_string();
    let superadmin = form.checked("superadmin");
    let disabled = form.checked("disabled");
    let input = UpdateConsoleAdmin {
        name: (name != current.name).then_some(name),
        email: (email != current.email).then_some(email),
        password: None,
        superadmin: (superadmin != current.superadmin).then_some(superadmin),
        disabled: (disabled != current.disabled).then_some(disabled),
    };
    match state.core.update_console_admin(actor, &id, input).await {
        // Having demoted itself, the user may no longer see the accounts.
        Ok(admin) if admin.id == console.who.user.id && !admin.superadmin => {
            see_other("/admin?done=account-updated")
        }
        Ok(admin) => see_other(&format!(
            "/admin/accounts/{}?done=account-updated",
            admin.id
        )),
        Err(e) => account_error(&state, &console, &id, Some(&form), e).await,
    }
}

async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    if let Some(refused) = refuse_post(&console) {
        return refused;
    }
    let input = UpdateConsoleAdmin {
        password: Some(form.get("password").to_string()),
        ..UpdateConsoleAdmin::default()
    };
    match state
        .core
        .update_console_admin(&console.who.actor, &id, input)
        .await
    {
        Ok(admin) => see_other(&format!("/admin/accounts/{}?done=password-set", admin.id)),
        Err(e) => account_error(&state, &console, &id, None, e).await,
    }
}

async fn grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    if let Some(refused) = refuse_post(&console) {
        return refused;
    }
    let Some(org) = form.opt("org") else {
        return account_page(
            &state,
            &console,
            &id,
            StatusCode::BAD_REQUEST,
            None,
            FieldErrors::field("org", "choose an organization"),
            None,
        )
        .await;
    };
    match state
        .core
        .grant_org_admin(&console.who.actor, &org, &id)
        .await
    {
        Ok(()) => see_other(&format!("/admin/accounts/{id}?done=admin-granted")),
        Err(e) => core_error_page(&e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    if let Some(refused) = refuse_post(&console) {
        return refused;
    }
    match state
        .core
        .revoke_org_admin(&console.who.actor, form.get("org").trim(), &id)
        .await
    {
        Ok(()) => see_other(&format!("/admin/accounts/{id}?done=admin-revoked")),
        Err(e) => core_error_page(&e),
    }
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { console, .. }: Posted,
) -> Response {
    if let Some(refused) = refuse_post(&console) {
        return refused;
    }
    match state
        .core
        .delete_console_admin(&console.who.actor, &id)
        .await
    {
        Ok(()) => see_other("/admin/accounts?done=account-deleted"),
        Err(e) => account_error(&state, &console, &id, None, e).await,
    }
}

// ---------------------------------------------------------------------------------------------
// An org's Admins tab

#[derive(Template)]
#[template(path = "console/org_admins.html")]
struct OrgAdminsPage {
    chrome: Chrome,
    slug: String,
    admins: Vec<ConsoleAdminView>,
    /// Accounts a superadmin could grant this org to (empty for org admins).
    candidates: Vec<ConsoleAdminView>,
    errors: FieldErrors,
}

async fn org_admins_page(
    state: &AppState,
    console: &Console,
    slug: &str,
    status: StatusCode,
    errors: FieldErrors,
    done: Option<&str>,
) -> Response {
    let org = match org_ref(state, console, slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let actor = &console.who.actor;
    let admins = match state.core.list_org_admins(actor, slug).await {
        Ok(admins) => admins,
        Err(e) => return core_error_page(&e),
    };
    let candidates = if console.is_superadmin() {
        match state.core.list_console_admins(actor).await {
            Ok(all) => all
                .into_iter()
                .filter(|a| !admins.iter().any(|x| x.id == a.id))
                .collect(),
            Err(e) => return core_error_page(&e),
        }
    } else {
        Vec::new()
    };
    render(
        status,
        &OrgAdminsPage {
            chrome: console
                .chrome(
                    format!("Admins of {}", org.name),
                    Section::Admins,
                    Some(org),
                )
                .with_notice(done),
            slug: slug.to_string(),
            admins,
            candidates,
            errors,
        },
    )
}

async fn org_admins(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    org_admins_page(
        &state,
        &console,
        &slug,
        StatusCode::OK,
        FieldErrors::default(),
        q.done.as_deref(),
    )
    .await
}

async fn org_grant(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    let Some(id) = form.opt("id") else {
        if let Err(e) = console.who.actor.require_superadmin() {
            return core_error_page(&e);
        }
        return org_admins_page(
            &state,
            &console,
            &slug,
            StatusCode::BAD_REQUEST,
            FieldErrors::field("id", "choose an account"),
            None,
        )
        .await;
    };
    match state
        .core
        .grant_org_admin(&console.who.actor, &slug, &id)
        .await
    {
        Ok(()) => see_other(&format!("/admin/orgs/{slug}/admins?done=admin-granted")),
        Err(e) => core_error_page(&e),
    }
}

async fn org_revoke(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, .. }: Posted,
) -> Response {
    match state
        .core
        .revoke_org_admin(&console.who.actor, &slug, &id)
        .await
    {
        Ok(()) => see_other(&format!("/admin/orgs/{slug}/admins?done=admin-revoked")),
        Err(e) => core_error_page(&e),
    }
}
