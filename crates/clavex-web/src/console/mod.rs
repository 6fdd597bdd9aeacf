//! The Admin Console at `P/admin`: server-rendered pages for administrators.
//!
//! The console is an OAuth client of Clavex itself (`auth`): it signs its users in through the
//! console org's issuer `P/admin` with PKCE, then keeps a console session of its own. Every page
//! resolves the session into the same `Actor` the Admin API uses and calls the same core
//! functions, so the console has no rights the API would not grant.
//!
//! Pages work without JavaScript. Every form carries a CSRF token bound to the session
//! (`Posted` checks it before a handler runs); every response carries a strict CSP with no inline script or style.

mod accounts;
mod auth;
mod clients;
mod forms;
mod groups;
mod keys;
mod orgs;
mod setup;
mod users;

use askama::Template;
use axum::{
    Router,
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use clavex_core::{CoreError, console::ConsoleUser};
use clavex_crypto::secret;

pub use forms::{FieldErrors, Form, Posted, form_status};

use crate::{
    AppState,
    oidc::{CookieJar, PeerIp, cookie},
};

/// Every console route. Paths are below `/admin`; the console org's OpenID Provider endpoints
/// (`/admin/authorize`, `/admin/login`, `/admin/token`, ...) are the generic `/{org}/...` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(orgs::home))
        .route("/admin/", get(orgs::home))
        .merge(auth::routes())
        .merge(orgs::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(clients::routes())
        .merge(keys::routes())
        .merge(accounts::routes())
        .merge(setup::routes())
        .route("/static/console.css", get(stylesheet))
        .route("/static/console.js", get(script))
        .layer(axum::middleware::map_response(with_page_headers))
}

/// Every console response carries the page headers, redirects and extractor rejections included;
/// a header a handler set itself (a static asset's caching) is kept.
async fn with_page_headers(mut response: Response) -> Response {
    let mut wanted = HeaderMap::new();
    page_headers(&mut wanted);
    let headers = response.headers_mut();
    for (name, value) in &wanted {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

/// Name of the console session cookie.
fn session_cookie_name(jar: &CookieJar) -> String {
    format!("{}clavex_console", if jar.secure { "__Host-" } else { "" })
}

/// A signed-in console user. Extracting it from a request without a valid session redirects the
/// browser to sign in and come back.
pub struct Console {
    pub who: ConsoleUser,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

fn csrf_for(state: &AppState, session_hash: &str) -> String {
    let key = state.core.master_key.derive("console-csrf");
    secret::mac(&key, session_hash.as_bytes())
}

impl Console {
    /// Refuses a form whose CSRF token is not this session's (compared in constant time).
    #[expect(
        clippy::result_large_err,
        reason = "the refusal is the page to send; it is built once per refused request"
    )]
    pub fn check_csrf(&self, state: &AppState, presented: &str) -> Result<(), Response> {
        let key = state.core.master_key.derive("console-csrf");
        if secret::verify_mac(&key, self.who.session_hash.as_bytes(), presented) {
            Ok(())
        } else {
            Err(message_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page was open too long, or it came from another site. Go back, reload the page and try again.",
            ))
        }
    }

    pub fn is_superadmin(&self) -> bool {
        self.who.superadmin
    }

    /// The page frame for this user; `org` when the page belongs to one org.
    pub fn chrome(
        &self,
        title: impl Into<String>,
        section: Section,
        org: Option<OrgRef>,
    ) -> Chrome {
        Chrome {
            title: title.into(),
            username: self.who.user.username.clone(),
            superadmin: self.who.superadmin,
            csrf: self.csrf.clone(),
            section,
            org,
            notice: None,
        }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PeerIp(ip) = PeerIp::from_request_parts(parts, state)
            .await
            .unwrap_or(PeerIp(None));
        let jar = CookieJar::new(state);
        let value = cookie(&parts.headers, &session_cookie_name(&jar)).unwrap_or("");
        let who = match state.core.console_user(value, ip).await {
            Ok(Some(who)) => who,
            Ok(None) => return Err(sign_in_redirect(parts)),
            Err(e) => return Err(core_error_page(&e)),
        };
        let csrf = csrf_for(state, &who.session_hash);
        Ok(Console { who, csrf })
    }
}

/// Sends the browser to sign in, remembering where it was going (GET pages only: a form post
/// cannot be replayed after signing in).
fn sign_in_redirect(parts: &Parts) -> Response {
    let next = if parts.method == axum::http::Method::GET {
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin".into())
    } else {
        "/admin".into()
    };
    let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
    see_other(&format!("/admin/signin?{query}"))
}

/// A 303 redirect to a path of this server.
pub fn see_other(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The top-level area a page belongs to, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Orgs,
    Accounts,
    Overview,
    Users,
    Groups,
    Clients,
    Keys,
    Admins,
}

/// The org a page belongs to.
#[derive(Debug, Clone)]
pub struct OrgRef {
    pub slug: String,
    pub name: String,
}

/// What the page frame (`console/layout.html`) shows around every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub username: String,
    pub superadmin: bool,
    pub csrf: String,
    pub section: Section,
    pub org: Option<OrgRef>,
    /// A confirmation of what the last action did.
    pub notice: Option<&'static str>,
}

impl Chrome {
    pub fn with_notice(mut self, code: Option<&str>) -> Self {
        self.notice = code.and_then(notice_text);
        self
    }

    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }

    /// `aria-current` for a navigation link.
    pub fn current(&self, section: Section) -> &'static str {
        if self.is(section) { "page" } else { "false" }
    }
}

/// Confirmations shown after a redirect (`?done=CODE`). Codes, never free text, travel in the
/// URL, so nobody can make the console display words of their choosing.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "org-created" => "The organization was created.",
        "org-renamed" => "The organization was renamed.",
        "org-deleted" => "The organization and everything in it were deleted.",
        "user-created" => "The user was created.",
        "user-updated" => "The user was saved.",
        "user-disabled" => "The user was disabled and can no longer sign in.",
        "user-enabled" => "The user was enabled.",
        "password-set" => "The password was set.",
        "user-deleted" => "The user was deleted.",
        "group-created" => "The group was created.",
        "group-deleted" => "The group was deleted.",
        "member-added" => "The member was added.",
        "member-removed" => "The member was removed.",
        "client-updated" => "The client was saved.",
        "client-deleted" => "The client was deleted.",
        "key-rotated" => {
            "A new signing key is in use; the previous one stays published until tokens signed with it expire."
        }
        "admin-granted" => "Admin rights were granted.",
        "admin-revoked" => "Admin rights were removed.",
        "account-created" => "The console account was created.",
        "account-updated" => "The console account was saved.",
        "account-deleted" => "The console account was deleted.",
        _ => return None,
    })
}

/// Headers of every console page: scripts and styles only from this origin, no framing.
pub fn page_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::CACHE_CONTROL, "no-store");
}

/// Renders a console template with the page headers.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            page_headers(response.headers_mut());
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "console template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    /// Shown on error pages, so that a report can be matched with the server's log.
    request_id: Option<&'a str>,
}

/// A page that only says something (errors, signed out).
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let request_id = crate::request_log::current()
        .filter(|_| status.is_client_error() || status.is_server_error());
    render(
        status,
        &MessagePage {
            title,
            message,
            request_id: request_id.as_deref(),
        },
    )
}

/// The page for a core error that no form can show next to a field.
pub fn core_error_page(err: &CoreError) -> Response {
    match err {
        CoreError::NotFound { what } => message_page(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no such {what}. It may have been deleted."),
        ),
        CoreError::Forbidden(reason) => message_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!("You cannot do this: {reason}."),
        ),
        CoreError::Unauthenticated => message_page(
            StatusCode::UNAUTHORIZED,
            "Signed out",
            "Your session has ended. Sign in again.",
        ),
        CoreError::Invalid { field, reason } => message_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            &format!("{field}: {reason}"),
        ),
        CoreError::Conflict { field } => message_page(
            StatusCode::CONFLICT,
            "Already taken",
            &format!("That {field} is already taken."),
        ),
        CoreError::Unavailable(_) => message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The database cannot be reached. Try again in a moment.",
        ),
        CoreError::Internal(msg) => {
            tracing::error!(error = %msg, "console request failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The request failed. It has been logged; try again.",
            )
        }
    }
}

/// The org a page of `slug` belongs to, checked against the user's rights (403 for an org it
/// does not administer, whether or not it exists).
pub async fn org_ref(state: &AppState, console: &Console, slug: &str) -> Result<OrgRef, Response> {
    state
        .core
        .get_org(&console.who.actor, slug)
        .await
        .map(|o| OrgRef {
            slug: o.slug,
            name: o.name,
        })
        .map_err(|e| core_error_page(&e))
}

async fn stylesheet() -> Response {
    static_asset(
        "text/css; charset=utf-8",
        include_str!("../../static/console.css"),
    )
}

async fn script() -> Response {
    static_asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/console.js"),
    )
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
