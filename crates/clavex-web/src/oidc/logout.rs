//! `P/{org}/logout` (GET and POST): RP-initiated logout.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::Response,
};
use clavex_core::oidc::logout::{LogoutOutcome, LogoutRequest};
use clavex_crypto::secret;

use crate::{
    AppState,
    oidc::{
        CookieJar, PeerIp,
        authorize::{redirect, unavailable},
        cookie, find_org_page, parse_form, single,
    },
    pages,
};

pub async fn logout(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let org = match find_org_page(&state, &slug).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    let pairs: Result<Vec<(String, String)>, String> = if method == Method::POST {
        parse_form(&headers, &body).map_err(|e| e.description)
    } else {
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).map_err(|e| e.to_string())
    };
    let bad = |message: &str| {
        pages::error_page(
            StatusCode::BAD_REQUEST,
            Some(&org.name),
            "Sign-out request rejected",
            message,
            Some("invalid_request"),
        )
    };
    let pairs = match pairs {
        Ok(p) => p,
        Err(e) => return bad(&e),
    };
    let field = |name: &str| single(&pairs, name);
    let jar = CookieJar::new(&state);
    let session_cookie = jar.session_name(&org);
    let session = match state
        .core
        .session_from_cookie(&org, cookie(&headers, &session_cookie))
        .await
    {
        Ok(s) => s,
        Err(e) => return unavailable(&org, e),
    };
    let key = state.core.master_key.derive("logout");
    // The confirmation form's token is a MAC of the session it ends: only a page Clavex showed
    // to this browser can confirm.
    let confirm = match (method == Method::POST, field("confirm")) {
        (true, Ok(Some(token))) => {
            let valid = session
                .as_ref()
                .is_some_and(|s| secret::verify_mac(&key, s.record.sid.as_bytes(), &token));
            if !valid {
                return pages::error_page(
                    StatusCode::FORBIDDEN,
                    Some(&org.name),
                    "Sign-out refused",
                    "The sign-out form expired. Go back to the application and try again.",
                    None,
                );
            }
            true
        }
        _ => false,
    };
    let req = match (|| {
        Ok::<_, clavex_core::oidc::OAuthError>(LogoutRequest {
            id_token_hint: field("id_token_hint")?,
            client_id: field("client_id")?,
            post_logout_redirect_uri: field("post_logout_redirect_uri")?,
            state: field("state")?,
            confirmed: confirm,
        })
    })() {
        Ok(r) => r,
        Err(e) => return bad(&e.description),
    };
    let carried: Vec<(&str, String)> = [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ]
    .into_iter()
    .filter_map(|name| field(name).ok().flatten().map(|v| (name, v)))
    .collect();
    let outcome = match state
        .core
        .logout(&org, req, session.as_ref(), peer.clone())
        .await
    {
        Ok(o) => o,
        Err(e) => return bad(&e.description),
    };
    if outcome == LogoutOutcome::Confirm {
        let Some(session) = session.as_ref() else {
            return bad("there is no session to end");
        };
        let csrf = secret::mac(&key, session.record.sid.as_bytes());
        let action = format!("/{}/logout", org.slug);
        return pages::render(
            StatusCode::OK,
            &pages::LogoutConfirmPage {
                org_name: &org.name,
                username: &session.user.username,
                action: &action,
                csrf: &csrf,
                fields: carried.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            },
        );
    }
    let mut response = match outcome {
        LogoutOutcome::ErrorPage(err) => return bad(&err.description),
        LogoutOutcome::Confirm => return bad("confirmation is required"),
        LogoutOutcome::Redirect(url) => redirect(
            if method == Method::POST {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FOUND
            },
            &url,
        ),
        LogoutOutcome::SignedOut => pages::render(
            StatusCode::OK,
            &pages::MessagePage {
                org_name: Some(&org.name),
                title: "Signed out",
                message: "You have been signed out. You can close this window.",
                error_code: None,
                request_id: None,
            },
        ),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, jar.clear(&session_cookie));
    response
}
