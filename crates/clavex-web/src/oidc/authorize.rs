//! `P/{org}/authorize` (GET and POST).

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use clavex_core::oidc::authorize::AuthorizeOutcome;
use clavex_store::Org;

use crate::{
    AppState,
    oidc::{CookieJar, cookie, find_org_page, parse_form},
    pages,
};

pub async fn get(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
            Ok(p) => p,
            Err(_) => return bad_request_page("The sign-in request could not be read."),
        };
    handle(&state, &org, &headers, pairs, StatusCode::FOUND).await
}

pub async fn post(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match parse_form(&headers, &body) {
        Ok(pairs) => handle(&state, &org, &headers, pairs, StatusCode::SEE_OTHER).await,
        Err(e) => bad_request_page(&e.description),
    }
}

fn bad_request_page(message: &str) -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        None,
        "Sign-in request rejected",
        message,
        Some("invalid_request"),
    )
}

pub fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = header::HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    crate::oidc::no_store(response.headers_mut());
    response
}

async fn handle(
    state: &AppState,
    slug: &str,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
    redirect_status: StatusCode,
) -> Response {
    let org = match find_org_page(state, slug).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    let jar = CookieJar::new(state);
    let session = match state
        .core
        .session_from_cookie(&org, cookie(headers, &jar.session_name(&org)))
        .await
    {
        Ok(s) => s,
        Err(e) => return unavailable(&org, e),
    };
    match state.core.authorize(&org, &pairs, session.as_ref()).await {
        Ok(AuthorizeOutcome::ErrorPage(err)) => pages::error_page(
            StatusCode::BAD_REQUEST,
            Some(&org.name),
            "Sign-in request rejected",
            &err.description,
            Some(err.code),
        ),
        Ok(AuthorizeOutcome::Redirect(url)) => redirect(redirect_status, &url),
        Ok(AuthorizeOutcome::SignIn { request_id, .. }) => redirect(
            redirect_status,
            &format!(
                "{}/{}/login?request={request_id}",
                state.core.settings.public_url, org.slug
            ),
        ),
        Err(e) => unavailable(&org, e),
    }
}

pub fn unavailable(org: &Org, err: clavex_core::CoreError) -> Response {
    tracing::error!(error = %err, org = %org.slug, "sign-in failed");
    pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        Some(&org.name),
        "Temporarily unavailable",
        "Sign-in is temporarily unavailable. Please try again in a moment.",
        Some("temporarily_unavailable"),
    )
}
