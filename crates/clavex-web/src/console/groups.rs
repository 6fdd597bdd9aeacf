//! Console pages for an org's groups: the list with a form to create one, and a group's page
//! with its members (each with a Remove button), an "Add member" user picker and deleting.
//!
//! The picker is a plain GET search (`?q=` on the group's page) whose results each carry an Add
//! button, so it works without JavaScript; adding keeps the search, so several users can be
//! added one after the other. The list shows no member counts: the core has no cheap way to count
//! them, and a query per row is what the list must not do.

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
    groups::{CreateGroup, GroupView},
    pagination::PageParams,
    users::{UserSearch, UserView},
};
use serde::Deserialize;

use super::users::query_string;
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
        .route("/admin/orgs/{org}/groups", get(list).post(create))
        .route("/admin/orgs/{org}/groups/{name}", get(show))
        .route("/admin/orgs/{org}/groups/{name}/delete", post(delete))
        .route("/admin/orgs/{org}/groups/{name}/members", post(add_member))
        .route(
            "/admin/orgs/{org}/groups/{name}/members/remove",
            post(remove_member),
        )
}

/// Groups a list page shows.
const GROUPS_PAGE: u32 = 100;
/// Members a group's page shows.
const MEMBERS_PAGE: u32 = 100;
/// Users the picker shows for a search.
const PICKER_RESULTS: u32 = 20;

// ---- List and create ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/groups.html")]
struct ListPage {
    chrome: Chrome,
    slug: String,
    groups: Vec<GroupView>,
    next_cursor: Option<String>,
    paged: bool,
    /// The create form's values.
    name: String,
    description: String,
    errors: FieldErrors,
}

impl ListPage {
    fn day<'a>(&self, timestamp: &'a str) -> &'a str {
        super::users::day(timestamp)
    }
}

async fn list_page(
    state: &AppState,
    console: &Console,
    slug: String,
    query: ListQuery,
    status: StatusCode,
    typed: (String, String),
    errors: FieldErrors,
) -> Response {
    let org = match org_ref(state, console, &slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let page = PageParams {
        limit: Some(GROUPS_PAGE),
        cursor: query.cursor.filter(|c| !c.is_empty()),
    };
    match state
        .core
        .list_groups(&console.who.actor, &slug, &page)
        .await
    {
        Ok(listing) => {
            let (name, description) = typed;
            render(
                status,
                &ListPage {
                    chrome: console
                        .chrome("Groups", Section::Groups, Some(org))
                        .with_notice(query.done.as_deref()),
                    slug,
                    groups: listing.items,
                    next_cursor: listing.next_cursor,
                    paged: page.cursor.is_some(),
                    name,
                    description,
                    errors,
                },
            )
        }
        Err(e) => core_error_page(&e),
    }
}

async fn list(
    State(state): State<AppState>,
    console: Console,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    list_page(
        &state,
        &console,
        slug,
        query,
        StatusCode::OK,
        Default::default(),
        FieldErrors::default(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { console, form }: Posted,
) -> Response {
    let input = CreateGroup {
        name: form.get("name").trim().to_string(),
        description: Some(form.get("description").trim().to_string()),
    };
    match state
        .core
        .create_group(&console.who.actor, &slug, input)
        .await
    {
        Ok(group) => see_other(&format!(
            "/admin/orgs/{slug}/groups/{}?done=group-created",
            group.name
        )),
        Err(e) => {
            let status = form_status(&e);
            match FieldErrors::from_core(e) {
                Ok(errors) => {
                    let typed = (
                        form.get("name").to_string(),
                        form.get("description").to_string(),
                    );
                    list_page(
                        &state,
                        &console,
                        slug,
                        ListQuery::default(),
                        status,
                        typed,
                        errors,
                    )
                    .await
                }
                Err(e) => core_error_page(&e),
            }
        }
    }
}

// ---- One group ----

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    /// The picker's search.
    q: Option<String>,
    /// The members list's page.
    cursor: Option<String>,
    done: Option<String>,
}

/// A user the picker found.
struct Candidate {
    user: UserView,
    /// Known to be a member already (only when the group's members fit on one page).
    member: bool,
}

#[derive(Template)]
#[template(path = "console/groups_show.html")]
struct ShowPage {
    chrome: Chrome,
    slug: String,
    group: GroupView,
    members: Vec<UserView>,
    /// The members list's "Next page" link, keeping the search.
    next: Option<String>,
    paged: bool,
    q: String,
    /// The picker's results; None before a search.
    results: Option<Vec<Candidate>>,
    /// More users match than the picker shows.
    more_results: bool,
    /// Why the search could not run.
    search_error: Option<String>,
}

impl ShowPage {
    fn first_page(&self) -> String {
        format!(
            "/admin/orgs/{}/groups/{}{}",
            self.slug,
            self.group.name,
            query_string(&[("q", &self.q)])
        )
    }
}

async fn show(
    State(state): State<AppState>,
    console: Console,
    Path((slug, name)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let org: OrgRef = match org_ref(&state, &console, &slug).await {
        Ok(org) => org,
        Err(refused) => return refused,
    };
    let actor = &console.who.actor;
    let group = match state.core.get_group(actor, &slug, &name).await {
        Ok(group) => group,
        Err(e) => return core_error_page(&e),
    };
    let page = PageParams {
        limit: Some(MEMBERS_PAGE),
        cursor: query.cursor.clone().filter(|c| !c.is_empty()),
    };
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let members = match state
        .core
        .list_group_members(actor, &slug, &name, &page)
        .await
    {
        Ok(listing) => listing,
        Err(e) => return core_error_page(&e),
    };
    // Every member is on this page: the picker can tell who is in already.
    let all_members_known = page.cursor.is_none() && members.next_cursor.is_none();
    let (mut results, mut more_results, mut search_error) = (None, false, None);
    if !q.is_empty() {
        let search = UserSearch { q: Some(q.clone()) };
        let picker = PageParams {
            limit: Some(PICKER_RESULTS),
            cursor: None,
        };
        match state.core.list_users(actor, &slug, &search, &picker).await {
            Ok(found) => {
                more_results = found.next_cursor.is_some();
                results = Some(
                    found
                        .items
                        .into_iter()
                        .map(|user| Candidate {
                            member: all_members_known
                                && members.items.iter().any(|m| m.id == user.id),
                            user,
                        })
                        .collect(),
                );
            }
            Err(CoreError::Invalid { field, reason }) => {
                search_error = Some(format!("{field} {reason}"));
            }
            Err(e) => return core_error_page(&e),
        }
    }
    let next = members.next_cursor.map(|cursor| {
        format!(
            "/admin/orgs/{slug}/groups/{}{}",
            group.name,
            query_string(&[("q", &q), ("cursor", &cursor)])
        )
    });
    let status = if search_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        &ShowPage {
            chrome: console
                .chrome(format!("Group {}", group.name), Section::Groups, Some(org))
                .with_notice(query.done.as_deref()),
            slug,
            members: members.items,
            next,
            paged: page.cursor.is_some(),
            q,
            results,
            more_results,
            search_error,
            group,
        },
    )
}

async fn delete(
    State(state): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Posted { console, .. }: Posted,
) -> Response {
    match state
        .core
        .delete_group(&console.who.actor, &slug, &name)
        .await
    {
        Ok(()) => see_other(&format!("/admin/orgs/{slug}/groups?done=group-deleted")),
        Err(e) => core_error_page(&e),
    }
}

/// Back to the group's page after a change of its members, keeping the picker's search.
fn back_to_group(slug: &str, name: &str, form: &Form, done: &str) -> Response {
    see_other(&format!(
        "/admin/orgs/{slug}/groups/{name}{}",
        query_string(&[("q", form.get("q").trim()), ("done", done)])
    ))
}

async fn add_member(
    State(state): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    match state
        .core
        .add_group_member(&console.who.actor, &slug, &name, form.get("user_id"))
        .await
    {
        Ok(()) => back_to_group(&slug, &name, &form, "member-added"),
        Err(e) => core_error_page(&e),
    }
}

async fn remove_member(
    State(state): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Posted { console, form }: Posted,
) -> Response {
    match state
        .core
        .remove_group_member(&console.who.actor, &slug, &name, form.get("user_id"))
        .await
    {
        Ok(()) => back_to_group(&slug, &name, &form, "member-removed"),
        Err(e) => core_error_page(&e),
    }
}
