//! Signing in to the console: the console is a public OAuth client (`clavex-console`) of the
//! console org's issuer `P/admin`, using the authorization code flow with PKCE. The pending
//! request (state, nonce, PKCE verifier, where to return) travels in a short-lived cookie sealed
//! with the master key, so any node can finish what another began. The code is exchanged
//! in-process through the same core function as the token endpoint.

use axum::{
    Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clavex_core::{
    console::{CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID},
    oidc::token::TokenRequest,
};
use clavex_crypto::secret;
use clavex_store::CONSOLE_ORG_SLUG;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::console::Posted;
use crate::{
    AppState,
    console::{core_error_page, message_page, see_other, session_cookie_name},
    oidc::{CookieJar, PeerIp, cookie},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/signin", get(start))
        .route("/admin/callback", get(callback))
        .route("/admin/signout", post(signout))
}

/// A sign-in in progress lives this long (the user has to type a password in between).
const PENDING_SECONDS: i64 = 600;
const PENDING_AAD: &[u8] = b"clavex-console-pending";

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires_at: i64,
}

fn pending_cookie_name(jar: &CookieJar) -> String {
    format!(
        "{}clavex_console_pending",
        if jar.secure { "__Host-" } else { "" }
    )
}

/// Only paths of the console itself: never another site (`//host`, `\\host`), never a path
/// that a browser would resolve elsewhere (`/admin/../x`, `/admin/%2e%2e/x`), never anything a
/// header cannot carry (control characters).
fn safe_next(next: Option<&str>) -> String {
    let console_path = |n: &str| {
        let path = n.split(['?', '#']).next().unwrap_or("");
        (path == "/admin" || path.starts_with("/admin/"))
            && n.bytes().all(|b| b.is_ascii_graphic())
            && !n.contains("//")
            && !n.contains('\\')
            && !path
                .split('/')
                .any(|seg| seg == "." || seg == ".." || seg.to_ascii_lowercase().contains("%2e"))
    };
    match next {
        Some(n) if console_path(n) => n.to_string(),
        _ => "/admin".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_console_paths() {
        for kept in [
            "/admin",
            "/admin/",
            "/admin/orgs/acme/users?q=a%20b&cursor=x",
            "/admin?done=x",
        ] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "//evil.example",
            "/admin//evil.example",
            "/admin/../acme/authorize",
            "/admin/./x",
            "/admin/%2e%2e/acme",
            "/admin/%2E./acme",
            "/admin/x\n",
            "/admin/x y",
            "/admin\\evil",
            "/administrator",
            "https://evil.example/admin",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), "/admin", "{refused:?}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

async fn start(State(state): State<AppState>, Query(q): Query<StartQuery>) -> Response {
    let jar = CookieJar::new(&state);
    let pending = Pending {
        state: secret::generate_token(""),
        nonce: secret::generate_token(""),
        verifier: secret::generate_token(""),
        next: safe_next(q.next.as_deref()),
        expires_at: state.core.now() + PENDING_SECONDS,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let sealed = match serde_json::to_vec(&pending)
        .map_err(|e| e.to_string())
        .and_then(|json| {
            state
                .core
                .master_key
                .seal(&json, PENDING_AAD)
                .map_err(|e| e.to_string())
        }) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot seal the console sign-in state");
            return message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Signing in could not start. Try again.",
            );
        }
    };
    let redirect_uri = format!("{}{CONSOLE_CALLBACK_PATH}", state.core.settings.public_url);
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CONSOLE_CLIENT_ID),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "openid profile"),
        ("state", pending.state.as_str()),
        ("nonce", pending.nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    let mut response = see_other(&format!("/{CONSOLE_ORG_SLUG}/authorize?{query}"));
    response.headers_mut().append(
        header::SET_COOKIE,
        jar.set(&pending_cookie_name(&jar), &sealed, PENDING_SECONDS),
    );
    response
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

fn restart(message: &str) -> Response {
    message_page(StatusCode::BAD_REQUEST, "Sign-in did not complete", message)
}

async fn callback(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    headers: axum::http::HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let jar = CookieJar::new(&state);
    let pending_name = pending_cookie_name(&jar);
    let pending: Option<Pending> = cookie(&headers, &pending_name)
        .and_then(|v| state.core.master_key.open(v, PENDING_AAD).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .filter(|p: &Pending| p.expires_at > state.core.now());
    let Some(pending) = pending else {
        return restart(
            "This sign-in has expired or began in another browser. Open the console again to sign in.",
        );
    };
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| secret::verify_token_hash(s, &secret::hash_token(&pending.state)));
    if !state_ok {
        return restart(
            "The sign-in response does not belong to this browser. Open the console again to sign in.",
        );
    }
    // From here on the pending sign-in is used up, whatever the outcome (a response with a
    // wrong state may be someone else's, so it does not clear it).
    let mut response = match answer(&state, &jar, &pending, q, ip).await {
        Ok(response) | Err(response) => response,
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, jar.clear(&pending_name));
    response
}

async fn answer(
    state: &AppState,
    jar: &CookieJar,
    pending: &Pending,
    q: CallbackQuery,
    ip: Option<String>,
) -> Result<Response, Response> {
    if q.error.is_some() {
        return Err(restart(
            "Signing in was cancelled or refused. Open the console again to sign in.",
        ));
    }
    let issuer = state.core.issuer(CONSOLE_ORG_SLUG);
    if q.iss.as_deref().is_some_and(|iss| iss != issuer) {
        return Err(restart("The sign-in response came from another issuer."));
    }
    let Some(code) = q.code else {
        return Err(restart("The sign-in response has no code."));
    };
    let (cookie_value, max_age) = finish(state, pending, code, ip).await?;
    let mut response = see_other(&pending.next);
    response.headers_mut().append(
        header::SET_COOKIE,
        jar.set(&session_cookie_name(jar), &cookie_value, max_age),
    );
    Ok(response)
}

/// Exchanges the code (with the PKCE verifier), checks the ID token and starts a console session.
async fn finish(
    state: &AppState,
    pending: &Pending,
    code: String,
    ip: Option<String>,
) -> Result<(String, i64), Response> {
    let core = &state.core;
    let org = core
        .store
        .get_org_by_slug(CONSOLE_ORG_SLUG)
        .await
        .map_err(|e| core_error_page(&e.into()))?
        .ok_or_else(|| restart("The console is not set up on this server."))?;
    let client = core
        .store
        .get_client(&org.id, CONSOLE_CLIENT_ID)
        .await
        .map_err(|e| core_error_page(&e.into()))?
        .ok_or_else(|| restart("The console is not set up on this server."))?;
    let tokens = core
        .token(
            &org,
            &client,
            TokenRequest {
                grant_type: Some("authorization_code".into()),
                code: Some(code),
                redirect_uri: Some(format!(
                    "{}{CONSOLE_CALLBACK_PATH}",
                    core.settings.public_url
                )),
                code_verifier: Some(pending.verifier.clone()),
                ..TokenRequest::default()
            },
            ip,
        )
        .await
        .map_err(|e| {
            tracing::info!(error = %e.code, "console code exchange refused");
            restart("The sign-in could not be completed. Open the console again to sign in.")
        })?;
    let id_token = tokens
        .id_token
        .ok_or_else(|| restart("The sign-in returned no ID token."))?;
    let claims = core
        .verify_org_jwt(&org, &id_token)
        .await
        .map_err(|_| restart("The ID token does not verify."))?;
    let nonce_ok = claims["nonce"]
        .as_str()
        .is_some_and(|n| secret::verify_token_hash(n, &secret::hash_token(&pending.nonce)));
    if claims["aud"].as_str() != Some(CONSOLE_CLIENT_ID) || !nonce_ok {
        return Err(restart("The ID token was not issued for this sign-in."));
    }
    let (Some(sub), Some(sid)) = (claims["sub"].as_str(), claims["sid"].as_str()) else {
        return Err(restart("The ID token lacks its subject or session."));
    };
    let session = core
        .start_console_session(sub, sid)
        .await
        .map_err(|e| core_error_page(&e))?;
    Ok((session.cookie_value, session.expires_at - core.now()))
}

/// Ends the console session and the console org's SSO session, so the next visit asks for the
/// password again.
async fn signout(State(state): State<AppState>, Posted { console, .. }: Posted) -> Response {
    if let Err(e) = state.core.end_console_session(&console.who).await {
        return core_error_page(&e);
    }
    let jar = CookieJar::new(&state);
    let mut response = message_page(
        StatusCode::OK,
        "Signed out",
        "You have signed out of the Clavex Admin Console.",
    );
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, jar.clear(&session_cookie_name(&jar)));
    headers.append(
        header::SET_COOKIE,
        jar.clear(&format!(
            "{}clavex_sso_{CONSOLE_ORG_SLUG}",
            if jar.secure { "__Host-" } else { "" }
        )),
    );
    response.into_response()
}
