//! Console pages for an org's users: the list (search over username, email and name, 50 a page
//! with the opaque cursor), creating one, and a user's page with its groups, an edit form,
//! disabling and enabling, setting a password, and deleting.
//!
//! Form field names are the Admin API's JSON field names. The `email_verified` checkbox comes
//! after a hidden `email_verified=false`, so an unchecked box still says "false" rather than
//! "leave it alone". Passwords are never written back into a page, not even after a failed post.

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
    pagination::PageParams,
    users::{CreateUser, UpdateUser, UserSearch, UserView},
};
use serde::Deserialize;

use crate::console::{Posted, form_status};
use crate::{
    AppState,
    console::{
        Chrome, Console, FieldErrors, Form, OrgRef, Section, core_error_page, org_ref, render,
        see_other,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs/{org}/users", get(list).post(create))
        .route("/admin/orgs/{org}/users/new", get(new_form))
        .route("/admin/orgs/{org}/users/{id}", get(show))
        .route("/admin/orgs/{org}/users/{id}/edit", post(update))
        .route("/admin/orgs/{org}/users/{id}/status", post(set_status))
        .route("/admin/orgs/{org}/users/{id}/password", post(set_password))
        .route("/admin/orgs/{org}/users/{id}/groups", post(join_group))
        .route(
            "/admin/orgs/{org}/users/{id}/groups/remove",
            post(leave_group),
        )
        .route("/admin/orgs/{org}/users/{id}/delete", post(delete))
}

/// Users a list page shows.
const PAGE_SIZE: u32 = 50;

/// The most groups the "Add to group" select offers; past that it is a text input.
const GROUP_CHOICES: u32 = 200;

/// The day part of an RFC 3339 timestamp.
pub(super) fn day(timestamp: &str) -> &str {
    timestamp.get(..10).unwrap_or(timestamp)
}

/// A query string (`?a=b&c=d`, or "" when every value is empty), URL-encoded.
pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
    }
}

/// A password as posted: not trimmed (spaces may be part of it), None when empty.
fn password(form: &Form) -> Option<String> {
    let p = form.get("password");
    (!p.is_empty()).then(|| p.to_string())
}

// ---- List ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct ListPage {
    chrome: Chrome,
    slug: String,
    q: String,
    users: Vec<UserView>,
    /// The "Next page" link, keeping the search.
    next: Option<String>,
    /// Whether this is a later page (so the page offers a way back to the first).
    paged: bool,
    /// Why the search could not run (a too long query, a bad cursor).
    error: Option<String>,
}

impl ListPage {
    fn day<'a>(&self, timestamp: &'a str) -> &'a str {
        day(timestamp)
    }

    fn first_page(&self) -> String {
        format!(
            "/admin/orgs/{}/users{}",
            self.slug,
            query_string(&[("q", &self.q)])
        )
    }
}

async fn list(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let org = match org_ref(&state, &console, &slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let q = query.q.clone().unwrap_or_default();
    let search = UserSearch {
        q: Some(q.trim().to_string()).filter(|q| !q.is_empty()),
    };
    let page = PageParams {
        limit: Some(PAGE_SIZE),
        cursor: query.cursor.clone().filter(|c| !c.is_empty()),
    };
    let (users, next, error) = match state
        .core
        .list_users(&console.who.actor, &slug, &search, &page)
        .await
    {
        Ok(listing) => {
            let next = listing.next_cursor.map(|cursor| {
                format!(
                    "/admin/orgs/{slug}/users{}",
                    query_string(&[("q", q.trim()), ("cursor", &cursor)])
                )
            });
            (listing.items, next, None)
        }
        Err(CoreError::Invalid { field, reason }) => {
            (Vec::new(), None, Some(format!("{field} {reason}")))
        }
        Err(e) => return core_error_page(&e),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        &ListPage {
            chrome: console
                .chrome("Users", Section::Users, Some(org))
                .with_notice(query.done.as_deref()),
            slug,
            q,
            users,
            next,
            paged: page.cursor.is_some(),
            error,
        },
    )
}

// ---- Fields shared by the create and edit forms ----

/// What the create and edit forms show: the stored user, or what was typed.
#[derive(Debug, Clone, Default)]
struct UserFields {
    username: String,
    email: String,
    name: String,
    given_name: String,
    family_name: String,
    email_verified: bool,
}

impl UserFields {
    fn of(user: &UserView) -> Self {
        UserFields {
            username: user.username.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            given_name: user.given_name.clone().unwrap_or_default(),
            family_name: user.family_name.clone().unwrap_or_default(),
            email_verified: user.email_verified,
        }
    }

    fn typed(form: &Form) -> Self {
        UserFields {
            username: form.get("username").to_string(),
            email: form.get("email").to_string(),
            name: form.get("name").to_string(),
            given_name: form.get("given_name").to_string(),
            family_name: form.get("family_name").to_string(),
            email_verified: form.checked("email_verified"),
        }
    }
}

/// The checkbox's value: None when the form had no `email_verified` field at all.
fn email_verified(form: &Form) -> Option<bool> {
    (!form.all("email_verified").is_empty()).then(|| form.checked("email_verified"))
}

// ---- Create ----

#[derive(Template)]
#[template(path = "console/users_new.html")]
struct NewPage {
    chrome: Chrome,
    slug: String,
    fields: UserFields,
    errors: FieldErrors,
    /// A password was typed in a form that came back with errors: it must be typed again.
    retype_password: bool,
}

async fn new_form(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
) -> Response {
    let org = match org_ref(&state, &console, &slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    render(
        StatusCode::OK,
        &NewPage {
            chrome: console.chrome("New user", Section::Users, Some(org)),
            slug,
            fields: UserFields::default(),
            errors: FieldErrors::default(),
            retype_password: false,
        },
    )
}

async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    let org = match org_ref(&state, &console, &slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let input = CreateUser {
        username: form.get("username").trim().to_string(),
        email: form.get("email").trim().to_string(),
        name: form.get("name").to_string(),
        password: password(&form),
        email_verified: Some(form.checked("email_verified")),
        given_name: form.opt("given_name"),
        family_name: form.opt("family_name"),
        disabled: None,
    };
    match state
        .core
        .create_user(&console.who.actor, &slug, input)
        .await
    {
        Ok(user) => see_other(&format!(
            "/admin/orgs/{slug}/users/{}?done=user-created",
            user.id
        )),
        Err(e) => {
            let status = form_status(&e);
            match FieldErrors::from_core(e) {
                Ok(errors) => render(
                    status,
                    &NewPage {
                        chrome: console.chrome("New user", Section::Users, Some(org)),
                        slug,
                        fields: UserFields::typed(&form),
                        errors,
                        retype_password: !form.get("password").is_empty(),
                    },
                ),
                Err(e) => core_error_page(&e),
            }
        }
    }
}

// ---- One user ----

#[derive(Template)]
#[template(path = "console/users_show.html")]
struct ShowPage {
    chrome: Chrome,
    slug: String,
    user: UserView,
    groups: Vec<String>,
    /// Groups the user could join, for the "Add to group" select.
    group_choices: Vec<String>,
    /// The org has more groups than the select offers: the form asks for a name instead.
    group_by_name: bool,
    /// The edit form's values.
    fields: UserFields,
    /// The "Add to group" form's value, as typed.
    group: String,
    errors: FieldErrors,
}

impl ShowPage {
    fn day<'a>(&self, timestamp: &'a str) -> &'a str {
        day(timestamp)
    }
}

/// What a user's page shows besides the stored user: a failed form's values and its errors.
#[derive(Default)]
struct Shown {
    fields: Option<UserFields>,
    group: String,
    errors: FieldErrors,
    done: Option<String>,
}

async fn show_page(
    state: &AppState,
    console: &Console,
    slug: &str,
    id: &str,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let org: OrgRef = match org_ref(state, console, slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let user = match state.core.get_user(&console.who.actor, slug, id).await {
        Ok(user) => user,
        Err(e) => return core_error_page(&e),
    };
    let page = PageParams {
        limit: Some(GROUP_CHOICES),
        cursor: None,
    };
    let all_groups = match state
        .core
        .list_groups(&console.who.actor, slug, &page)
        .await
    {
        Ok(listing) => listing,
        Err(e) => return core_error_page(&e),
    };
    let groups = user.groups.clone().unwrap_or_default();
    let group_choices = all_groups
        .items
        .into_iter()
        .map(|g| g.name)
        .filter(|name| !groups.contains(name))
        .collect();
    let title = format!("User {}", user.username);
    render(
        status,
        &ShowPage {
            chrome: console
                .chrome(title, Section::Users, Some(org))
                .with_notice(shown.done.as_deref()),
            slug: slug.to_string(),
            fields: shown.fields.unwrap_or_else(|| UserFields::of(&user)),
            groups,
            group_choices,
            group_by_name: all_groups.next_cursor.is_some(),
            group: shown.group,
            errors: shown.errors,
            user,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    console: Console,
    Path((slug, id)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let shown = Shown {
        done: query.done,
        ..Shown::default()
    };
    show_page(&state, &console, &slug, &id, StatusCode::OK, shown).await
}

/// The redirect after a successful change of a user.
fn back_to_user(slug: &str, id: &str, done: &str) -> Response {
    see_other(&format!("/admin/orgs/{slug}/users/{id}?done={done}"))
}

/// Re-renders the user's page with a form error next to its field, or the error page.
async fn form_error(
    state: &AppState,
    console: &Console,
    slug: &str,
    id: &str,
    err: CoreError,
    fields: Option<UserFields>,
    group: String,
) -> Response {
    let status = form_status(&err);
    match FieldErrors::from_core(err) {
        Ok(errors) => {
            let shown = Shown {
                fields,
                group,
                errors,
                done: None,
            };
            show_page(state, console, slug, id, status, shown).await
        }
        Err(e) => core_error_page(&e),
    }
}

async fn update(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    let input = UpdateUser {
        username: Some(form.get("username").trim().to_string()),
        email: Some(form.get("email").trim().to_string()),
        name: Some(form.get("name").to_string()),
        email_verified: email_verified(&form),
        // An empty value removes it.
        given_name: Some(form.get("given_name").to_string()),
        family_name: Some(form.get("family_name").to_string()),
        ..UpdateUser::default()
    };
    match state
        .core
        .update_user(&console.who.actor, &slug, &id, input)
        .await
    {
        Ok(_) => back_to_user(&slug, &id, "user-updated"),
        Err(e) => {
            let typed = Some(UserFields::typed(&form));
            form_error(&state, &console, &slug, &id, e, typed, String::new()).await
        }
    }
}

async fn set_status(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    let disabled = match form.get("disabled") {
        "true" => true,
        "false" => false,
        _ => {
            return core_error_page(&CoreError::invalid("disabled", "must be true or false"));
        }
    };
    let input = UpdateUser {
        disabled: Some(disabled),
        ..UpdateUser::default()
    };
    match state
        .core
        .update_user(&console.who.actor, &slug, &id, input)
        .await
    {
        Ok(_) => back_to_user(
            &slug,
            &id,
            if disabled {
                "user-disabled"
            } else {
                "user-enabled"
            },
        ),
        Err(e) => core_error_page(&e),
    }
}

async fn set_password(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    let input = UpdateUser {
        // An empty password is checked (and refused) by the core, like any other.
        password: Some(form.get("password").to_string()),
        ..UpdateUser::default()
    };
    match state
        .core
        .update_user(&console.who.actor, &slug, &id, input)
        .await
    {
        Ok(_) => back_to_user(&slug, &id, "password-set"),
        Err(e) => form_error(&state, &console, &slug, &id, e, None, String::new()).await,
    }
}

/// A group the form names that does not exist is an error next to the `group` field.
fn group_error(err: CoreError) -> CoreError {
    match err {
        CoreError::NotFound { what: "group" } => {
            CoreError::invalid("group", "does not exist in this organization")
        }
        other => other,
    }
}

async fn join_group(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    let group = form.get("group").trim().to_string();
    if group.is_empty() {
        let shown = Shown {
            errors: FieldErrors::field("group", "choose a group"),
            ..Shown::default()
        };
        return show_page(&state, &console, &slug, &id, StatusCode::BAD_REQUEST, shown).await;
    }
    let result = state
        .core
        .add_group_member(&console.who.actor, &slug, &group, &id)
        .await
        .map_err(group_error);
    match result {
        Ok(()) => back_to_user(&slug, &id, "member-added"),
        Err(e) => form_error(&state, &console, &slug, &id, e, None, group).await,
    }
}

async fn leave_group(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    match state
        .core
        .remove_group_member(&console.who.actor, &slug, form.get("group"), &id)
        .await
    {
        Ok(()) => back_to_user(&slug, &id, "member-removed"),
        Err(e) => core_error_page(&e),
    }
}

async fn delete(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Posted { console, .. }: Posted,
) -> Response {
    match state.core.delete_user(&console.who.actor, &slug, &id).await {
        Ok(()) => see_other(&format!("/admin/orgs/{slug}/users?done=user-deleted")),
        Err(e) => core_error_page(&e),
    }
}
