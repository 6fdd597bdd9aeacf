//! Console pages for OAuth clients: the list, registering one (the secret is shown once, on the
//! page that answers the registration), a client's settings with an edit form, rotating its secret
//! (shown once the same way) and deleting it.
//!
//! Form field names are the Admin API's JSON field names. Lists are textareas with one entry per
//! line (`redirect_uris`, `post_logout_redirect_uris`), checkboxes (`grant_types`) or a
//! space-separated text input (`scopes`). The grant type checkboxes come after a hidden empty
//! `grant_types` value, so that a form with every box unchecked still says "grant_types: none"
//! rather than "leave grant_types alone".

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use clavex_core::{
    CoreError,
    clients::{
        ClientView, ClientWithSecret, CreateClient, MAX_GRACE_SECONDS, RotateSecret, UpdateClient,
    },
    pagination::PageParams,
};
use serde::Deserialize;

use crate::console::{Posted, form_status};
use crate::{
    AppState,
    console::{
        Chrome, Console, FieldErrors, Form, OrgRef, Section, core_error_page, render, see_other,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs/{org}/clients", get(list).post(create))
        // `_new` can never be a client_id (those start with a letter or digit), so the form
        // cannot shadow one.
        .route("/admin/orgs/{org}/clients/_new", get(new_form))
        .route("/admin/orgs/{org}/clients/{client_id}", get(show))
        .route("/admin/orgs/{org}/clients/{client_id}/edit", post(update))
        .route("/admin/orgs/{org}/clients/{client_id}/secret", post(rotate))
        .route("/admin/orgs/{org}/clients/{client_id}/delete", post(delete))
}

/// Grant types the forms offer, with what each is for.
const GRANTS: &[(&str, &str)] = &[
    (
        "authorization_code",
        "Authorization code (authorization_code): users sign in through the browser",
    ),
    (
        "refresh_token",
        "Refresh token (refresh_token): users stay signed in; needs the grant above",
    ),
    (
        "client_credentials",
        "Client credentials (client_credentials): the application acts as itself, without a user",
    ),
];

/// Client authentication methods the forms offer.
const METHODS: &[(&str, &str)] = &[
    (
        "client_secret_basic",
        "Client secret, sent with HTTP Basic (client_secret_basic)",
    ),
    (
        "client_secret_post",
        "Client secret, sent in the form body (client_secret_post)",
    ),
    ("none", "None: a public client that uses PKCE (none)"),
];

/// A human label for an authentication method.
fn method_label(method: &str) -> &str {
    METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, label)| *label)
        .unwrap_or(method)
}

/// An org with its issuer, checked against the user's rights like `org_ref` (403 for an org it
/// does not administer).
struct OrgInfo {
    org: OrgRef,
    issuer: String,
}

impl OrgInfo {
    fn discovery(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }
}

async fn org_info(state: &AppState, console: &Console, slug: &str) -> Result<OrgInfo, CoreError> {
    state
        .core
        .get_org(&console.who.actor, slug)
        .await
        .map(|o| OrgInfo {
            org: OrgRef {
                slug: o.slug,
                name: o.name,
            },
            issuer: o.issuer,
        })
}

/// Whether the form carried `name` at all (even empty).
fn present(form: &Form, name: &str) -> bool {
    !form.all(name).is_empty()
}

/// The checked grant types, or None when the form had no grant type field.
fn grant_types(form: &Form) -> Option<Vec<String>> {
    present(form, "grant_types").then(|| {
        form.all("grant_types")
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect()
    })
}

fn scope_list(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// What the register and edit forms show: the stored client, or what was typed.
#[derive(Debug, Clone, Default)]
struct ClientFields {
    client_id: String,
    client_name: String,
    grant_types: Vec<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
    token_endpoint_auth_method: String,
}

impl ClientFields {
    fn blank() -> Self {
        ClientFields {
            grant_types: vec!["authorization_code".into()],
            scopes: clavex_core::clients::DEFAULT_SCOPES.join(" "),
            token_endpoint_auth_method: "client_secret_basic".into(),
            ..Default::default()
        }
    }

    fn of(client: &ClientView) -> Self {
        ClientFields {
            client_id: client.client_id.clone(),
            client_name: client.client_name.clone(),
            grant_types: client.grant_types.clone(),
            redirect_uris: client.redirect_uris.join("\n"),
            post_logout_redirect_uris: client.post_logout_redirect_uris.join("\n"),
            scopes: client.scopes.join(" "),
            token_endpoint_auth_method: client.token_endpoint_auth_method.clone(),
        }
    }

    fn typed(form: &Form) -> Self {
        ClientFields {
            client_id: form.get("client_id").to_string(),
            client_name: form.get("client_name").to_string(),
            grant_types: grant_types(form).unwrap_or_default(),
            redirect_uris: form.get("redirect_uris").to_string(),
            post_logout_redirect_uris: form.get("post_logout_redirect_uris").to_string(),
            scopes: form.get("scopes").to_string(),
            token_endpoint_auth_method: form.get("token_endpoint_auth_method").to_string(),
        }
    }

    /// (value, label, checked) for each grant type checkbox.
    fn grants(&self) -> Vec<(&'static str, &'static str, bool)> {
        GRANTS
            .iter()
            .map(|(g, label)| (*g, *label, self.grant_types.iter().any(|x| x == g)))
            .collect()
    }

    /// (value, label, selected) for each authentication method.
    fn methods(&self) -> Vec<(&'static str, &'static str, bool)> {
        METHODS
            .iter()
            .map(|(m, label)| (*m, *label, self.token_endpoint_auth_method == *m))
            .collect()
    }
}

// ---- List ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ListPage {
    chrome: Chrome,
    slug: String,
    clients: Vec<ClientView>,
    next_cursor: Option<String>,
}

impl ListPage {
    fn method_label<'a>(&self, method: &'a str) -> &'a str {
        method_label(method)
    }
}

async fn list(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let info = match org_info(&state, &console, &slug).await {
        Ok(info) => info,
        Err(e) => return core_error_page(&e),
    };
    let page = PageParams {
        limit: Some(100),
        cursor: q.cursor.clone(),
    };
    match state
        .core
        .list_clients(&console.who.actor, &slug, &page)
        .await
    {
        Ok(listing) => render(
            StatusCode::OK,
            &ListPage {
                chrome: console
                    .chrome("Clients", Section::Clients, Some(info.org))
                    .with_notice(q.done.as_deref()),
                slug,
                clients: listing.items,
                next_cursor: listing.next_cursor,
            },
        ),
        Err(e) => core_error_page(&e),
    }
}

// ---- Register ----

#[derive(Template)]
#[template(path = "console/clients_new.html")]
struct NewPage {
    chrome: Chrome,
    slug: String,
    fields: ClientFields,
    errors: FieldErrors,
}

async fn new_form(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
) -> Response {
    let info = match org_info(&state, &console, &slug).await {
        Ok(info) => info,
        Err(e) => return core_error_page(&e),
    };
    render(
        StatusCode::OK,
        &NewPage {
            chrome: console.chrome("Register client", Section::Clients, Some(info.org)),
            slug,
            fields: ClientFields::blank(),
            errors: FieldErrors::default(),
        },
    )
}

/// The page that shows a new secret, the only time it is ever shown: after registering a client
/// or rotating its secret.
#[derive(Template)]
#[template(path = "console/clients_secret.html")]
struct SecretPage {
    chrome: Chrome,
    slug: String,
    client: ClientView,
    client_secret: Option<String>,
    /// After a rotation with a grace period: when the previous secret stops working (RFC 3339).
    previous_secret_expires_at: Option<String>,
    rotated: bool,
    issuer: String,
    discovery: String,
}

impl SecretPage {
    fn method_label<'a>(&self, method: &'a str) -> &'a str {
        method_label(method)
    }
}

fn secret_page(
    console: &Console,
    info: OrgInfo,
    created: ClientWithSecret,
    rotated: bool,
) -> SecretPage {
    let title = if rotated {
        format!("New secret for {}", created.client.client_name)
    } else {
        format!("Client {} registered", created.client.client_name)
    };
    SecretPage {
        chrome: console.chrome(title, Section::Clients, Some(info.org.clone())),
        slug: info.org.slug.clone(),
        discovery: info.discovery(),
        issuer: info.issuer,
        client_secret: created.client_secret,
        previous_secret_expires_at: created.previous_secret_expires_at.map(datetime),
        client: created.client,
        rotated,
    }
}

async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    let info = match org_info(&state, &console, &slug).await {
        Ok(info) => info,
        Err(e) => return core_error_page(&e),
    };
    let input = CreateClient {
        client_id: form.opt("client_id"),
        client_name: form.opt("client_name"),
        grant_types: grant_types(&form),
        redirect_uris: present(&form, "redirect_uris").then(|| form.lines("redirect_uris")),
        post_logout_redirect_uris: present(&form, "post_logout_redirect_uris")
            .then(|| form.lines("post_logout_redirect_uris")),
        // Empty: the default scopes, as the API does when `scopes` is absent.
        scopes: form.opt("scopes").map(|s| scope_list(&s)),
        token_endpoint_auth_method: form.opt("token_endpoint_auth_method"),
    };
    match state
        .core
        .create_client(&console.who.actor, &slug, input)
        .await
    {
        Ok(created) => render(
            StatusCode::CREATED,
            &secret_page(&console, info, created, false),
        ),
        Err(e) => {
            let status = form_status(&e);
            match FieldErrors::from_core(e) {
                Ok(errors) => render(
                    status,
                    &NewPage {
                        chrome: console.chrome("Register client", Section::Clients, Some(info.org)),
                        slug,
                        fields: ClientFields::typed(&form),
                        errors,
                    },
                ),
                Err(e) => core_error_page(&e),
            }
        }
    }
}

// ---- One client ----

#[derive(Template)]
#[template(path = "console/clients_show.html")]
struct ShowPage {
    chrome: Chrome,
    slug: String,
    client: ClientView,
    registered: String,
    discovery: String,
    /// The edit form's values.
    fields: ClientFields,
    /// The rotate form's grace period, as typed.
    grace: String,
    max_grace: i64,
    errors: FieldErrors,
}

impl ShowPage {
    fn method_label<'a>(&self, method: &'a str) -> &'a str {
        method_label(method)
    }

    fn is_public(&self) -> bool {
        self.client.token_endpoint_auth_method == "none"
    }
}

/// What a client's page shows besides the stored client: what a failed form had typed, its
/// errors, and the notice of the last action.
#[derive(Default)]
struct Shown<'a> {
    /// The edit form's values as typed (None: the stored settings).
    fields: Option<ClientFields>,
    /// The rotate form's grace period as typed (None: 0).
    grace: Option<String>,
    errors: FieldErrors,
    done: Option<&'a str>,
}

async fn show_page(
    state: &AppState,
    console: &Console,
    slug: &str,
    client_id: &str,
    status: StatusCode,
    shown: Shown<'_>,
) -> Response {
    let info = match org_info(state, console, slug).await {
        Ok(info) => info,
        Err(e) => return core_error_page(&e),
    };
    let client = match state
        .core
        .get_client(&console.who.actor, slug, client_id)
        .await
    {
        Ok(client) => client,
        Err(e) => return core_error_page(&e),
    };
    let fields = shown.fields.unwrap_or_else(|| ClientFields::of(&client));
    render(
        status,
        &ShowPage {
            chrome: console
                .chrome(
                    format!("Client {}", client.client_name),
                    Section::Clients,
                    Some(info.org.clone()),
                )
                .with_notice(shown.done),
            slug: slug.to_string(),
            registered: datetime(client.client_id_issued_at),
            discovery: info.discovery(),
            client,
            fields,
            grace: shown.grace.unwrap_or_else(|| "0".into()),
            max_grace: MAX_GRACE_SECONDS,
            errors: shown.errors,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    console: Console,
    Path((slug, client_id)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let shown = Shown {
        done: q.done.as_deref(),
        ..Shown::default()
    };
    show_page(&state, &console, &slug, &client_id, StatusCode::OK, shown).await
}

async fn update(
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    // PATCH semantics: a field the form did not carry stays as it is.
    let input = UpdateClient {
        client_name: present(&form, "client_name")
            .then(|| form.get("client_name").trim().to_string()),
        grant_types: grant_types(&form),
        redirect_uris: present(&form, "redirect_uris").then(|| form.lines("redirect_uris")),
        post_logout_redirect_uris: present(&form, "post_logout_redirect_uris")
            .then(|| form.lines("post_logout_redirect_uris")),
        scopes: present(&form, "scopes").then(|| scope_list(form.get("scopes"))),
        token_endpoint_auth_method: form.opt("token_endpoint_auth_method"),
    };
    match state
        .core
        .update_client(&console.who.actor, &slug, &client_id, input)
        .await
    {
        Ok(client) => see_other(&format!(
            "/admin/orgs/{slug}/clients/{}?done=client-updated",
            client.client_id
        )),
        Err(e) => {
            let status = form_status(&e);
            match FieldErrors::from_core(e) {
                Ok(errors) => {
                    let mut fields = ClientFields::typed(&form);
                    fields.client_id = client_id.clone();
                    let shown = Shown {
                        fields: Some(fields),
                        errors,
                        ..Shown::default()
                    };
                    show_page(&state, &console, &slug, &client_id, status, shown).await
                }
                Err(e) => core_error_page(&e),
            }
        }
    }
}

async fn rotate(
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    let typed = form.get("grace_period_seconds").trim().to_string();
    let grace = if typed.is_empty() {
        Ok(None)
    } else {
        typed.parse::<i64>().map(Some).map_err(|_| {
            FieldErrors::field(
                "grace_period_seconds",
                format!(
                    "grace_period_seconds must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS}"
                ),
            )
        })
    };
    let (errors, status) = match grace {
        Err(errors) => (errors, StatusCode::BAD_REQUEST),
        Ok(grace_period_seconds) => {
            let info = match org_info(&state, &console, &slug).await {
                Ok(info) => info,
                Err(e) => return core_error_page(&e),
            };
            let input = RotateSecret {
                grace_period_seconds,
            };
            match state
                .core
                .rotate_client_secret(&console.who.actor, &slug, &client_id, input)
                .await
            {
                Ok(rotated) => {
                    return render(StatusCode::OK, &secret_page(&console, info, rotated, true));
                }
                Err(e) => {
                    let status = form_status(&e);
                    match FieldErrors::from_core(e) {
                        Ok(errors) => (errors, status),
                        Err(e) => return core_error_page(&e),
                    }
                }
            }
        }
    };
    let shown = Shown {
        grace: Some(typed),
        errors,
        ..Shown::default()
    };
    show_page(&state, &console, &slug, &client_id, status, shown).await
}

async fn delete(
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    Posted { console, .. }: Posted,
) -> Response {
    match state
        .core
        .delete_client(&console.who.actor, &slug, &client_id)
        .await
    {
        Ok(()) => see_other(&format!("/admin/orgs/{slug}/clients?done=client-deleted")),
        Err(e) => core_error_page(&e),
    }
}

/// Unix seconds as RFC 3339 (UTC).
fn datetime(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
