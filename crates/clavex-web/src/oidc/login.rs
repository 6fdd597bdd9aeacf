//! `P/{org}/login`: the sign-in form. The CSRF token is a MAC over a browser cookie and the pending
//! request, so a form only works in the browser it was shown to, for the request it belongs to.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use clavex_core::oidc::{authorize::AuthorizeOutcome, signin::SignInOutcome};
use clavex_crypto::secret;
use clavex_store::Org;
use serde::Deserialize;

use crate::{
    AppState,
    oidc::{
        CookieJar, PeerIp,
        authorize::{redirect, unavailable},
        cookie, find_org_page, parse_form, single,
    },
    pages,
};

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
}

/// The CSRF cookie lives as long as a pending request.
const CSRF_COOKIE_SECONDS: i64 = clavex_core::oidc::AUTH_REQUEST_TTL_SECONDS;

fn csrf_token(state: &AppState, browser: &str, request_id: &str) -> String {
    let key = state.core.master_key.derive("csrf");
    secret::mac(&key, format!("{browser}|{request_id}").as_bytes())
}

fn expired(org: &Org) -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        Some(&org.name),
        "This sign-in link has expired",
        "Go back to the application and start signing in again.",
        None,
    )
}

struct Form<'a> {
    request_id: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

fn render_form(
    state: &AppState,
    org: &Org,
    headers: &HeaderMap,
    status: StatusCode,
    form: Form<'_>,
) -> Response {
    let jar = CookieJar::new(state);
    let existing = cookie(headers, &jar.csrf_name())
        .filter(|v| v.len() == 43)
        .map(str::to_string);
    let browser = existing
        .clone()
        .unwrap_or_else(|| secret::generate_token(""));
    let csrf = csrf_token(state, &browser, form.request_id);
    let action = format!("/{}/login", org.slug);
    let mut response = pages::render(
        status,
        &pages::LoginPage {
            org_name: &org.name,
            action: &action,
            request_id: form.request_id,
            csrf: &csrf,
            username: form.username,
            error: form.error,
        },
    );
    if existing.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            jar.set(&jar.csrf_name(), &browser, CSRF_COOKIE_SECONDS),
        );
    }
    response
}

pub async fn get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let org = match find_org_page(&state, &slug).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    let Some(request_id) = query.request else {
        return expired(&org);
    };
    match state.core.pending_request(&org, &request_id).await {
        Ok(Some(params)) => render_form(
            &state,
            &org,
            &headers,
            StatusCode::OK,
            Form {
                request_id: &request_id,
                username: params.login_hint.as_deref().unwrap_or(""),
                error: None,
            },
        ),
        Ok(None) => expired(&org),
        Err(e) => unavailable(&org, e),
    }
}

/// True when the browser says the form came from another site.
fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let ours = url::Url::parse(&state.core.settings.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    origin != ours
}

pub async fn post(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let org = match find_org_page(&state, &slug).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    let forbidden = |message: &str| {
        pages::error_page(
            StatusCode::FORBIDDEN,
            Some(&org.name),
            "Sign-in refused",
            message,
            None,
        )
    };
    let Ok(form) = parse_form(&headers, &body) else {
        return forbidden("The sign-in form could not be read.");
    };
    let field = |name: &str| single(&form, name).ok().flatten().unwrap_or_default();
    let (request_id, csrf, username, password) = (
        field("request"),
        field("csrf"),
        field("username"),
        field("password"),
    );
    if cross_site(&state, &headers) {
        return forbidden("The sign-in form was submitted from another site.");
    }
    let jar = CookieJar::new(&state);
    let csrf_ok = cookie(&headers, &jar.csrf_name()).is_some_and(|browser| {
        let key = state.core.master_key.derive("csrf");
        secret::verify_mac(&key, format!("{browser}|{request_id}").as_bytes(), &csrf)
    });
    if !csrf_ok {
        return forbidden(
            "The sign-in form expired or was opened in another browser. Go back to the application and try again.",
        );
    }
    let params = match state.core.pending_request(&org, &request_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return expired(&org),
        Err(e) => return unavailable(&org, e),
    };
    let ip = peer;
    let outcome = match state
        .core
        .sign_in(&org, &username, &password, ip.as_deref())
        .await
    {
        Ok(o) => o,
        Err(e) => return unavailable(&org, e),
    };
    let user = match outcome {
        SignInOutcome::Success(user) => *user,
        SignInOutcome::BadCredentials => {
            return render_form(
                &state,
                &org,
                &headers,
                StatusCode::UNAUTHORIZED,
                Form {
                    request_id: &request_id,
                    username: &username,
                    error: Some("The username or password is incorrect."),
                },
            );
        }
        SignInOutcome::Throttled { retry_after } => {
            let minutes = (retry_after + 59) / 60;
            let message = format!(
                "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            let mut response = render_form(
                &state,
                &org,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                Form {
                    request_id: &request_id,
                    username: &username,
                    error: Some(&message),
                },
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    };
    let new_session = match state.core.start_session(&org, &user, ip).await {
        Ok(s) => s,
        Err(e) => return unavailable(&org, e),
    };
    let session = clavex_core::oidc::session::ActiveSession {
        record: new_session.record,
        user,
    };
    let mut response = match state
        .core
        .complete_sign_in(&org, &request_id, &params, &session)
        .await
    {
        Ok(AuthorizeOutcome::Redirect(url)) => redirect(StatusCode::SEE_OTHER, &url),
        Ok(AuthorizeOutcome::ErrorPage(err)) => pages::error_page(
            StatusCode::BAD_REQUEST,
            Some(&org.name),
            "Sign-in request rejected",
            &err.description,
            Some(err.code),
        ),
        Ok(AuthorizeOutcome::SignIn { .. }) => expired(&org),
        Err(e) => return unavailable(&org, e),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        jar.set(
            &jar.session_name(&org),
            &new_session.cookie_value,
            state.core.settings.session_ttl_seconds,
        ),
    );
    response
}
