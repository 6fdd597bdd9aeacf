//! Server-rendered pages of the sign-in flow: the sign-in form, error pages and the signed-out
//! page. Templates are compiled and auto-escaped (askama); every page carries strict security
//! headers and works without JavaScript.

use askama::Template;
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub org_name: &'a str,
    pub action: &'a str,
    pub request_id: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub org_name: &'a str,
    pub username: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    /// Parameters of the original request, carried through the confirmation.
    pub fields: Vec<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub org_name: Option<&'a str>,
    pub title: &'a str,
    pub message: &'a str,
    pub error_code: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// Headers every page carries: no inline scripts or styles, no framing, no sniffing, no referrer
/// to other sites, no caching of pages that hold CSRF tokens.
pub fn security_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Not no-referrer: browsers then send `Origin: null` with the sign-in form, which the
    // cross-site check must refuse. same-origin keeps the Origin and still sends no referrer to
    // other sites.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::CACHE_CONTROL, "no-store");
}

/// Renders a template into a response with the page headers.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            security_headers(response.headers_mut());
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// An error page (never a redirect): for bad clients, bad redirect URIs, expired sign-in forms.
pub fn error_page(
    status: StatusCode,
    org_name: Option<&str>,
    title: &str,
    message: &str,
    error_code: Option<&str>,
) -> Response {
    let request_id = crate::request_log::current();
    render(
        status,
        &MessagePage {
            org_name,
            title,
            message,
            error_code,
            request_id: request_id.as_deref(),
        },
    )
}

pub async fn stylesheet() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/clavex.css"),
    )
        .into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
