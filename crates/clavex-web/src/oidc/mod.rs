//! HTTP for the OpenID Provider endpoints under `P/{org}/...`. Handlers parse the request, call the
//! `clavex_core::oidc` function that decides, and render the result (JSON, redirect or page).

pub mod authorize;
pub mod discovery;
pub mod login;
pub mod logout;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use clavex_core::oidc::{OAuthError, client_auth::ClientCredentials};
use clavex_store::Org;

use crate::{AppState, error::ApiError, pages};

/// The org of a `P/{org}/...` path, or a 404 (JSON for API-like endpoints).
pub async fn find_org(state: &AppState, slug: &str) -> Result<Arc<Org>, Response> {
    match state.core.protocol_org(slug).await {
        Ok(Some(org)) => Ok(org),
        Ok(None) => Err(ApiError::not_found("no such organization").into_response()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// Like `find_org`, but answers with an HTML page (for browser-facing endpoints).
pub async fn find_org_page(state: &AppState, slug: &str) -> Result<Arc<Org>, Response> {
    match state.core.protocol_org(slug).await {
        Ok(Some(org)) => Ok(org),
        Ok(None) => Err(pages::error_page(
            StatusCode::NOT_FOUND,
            None,
            "Unknown organization",
            "There is no organization at this address.",
            None,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "database unavailable");
            Err(pages::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Temporarily unavailable",
                "Sign-in is temporarily unavailable. Please try again in a moment.",
                Some("temporarily_unavailable"),
            ))
        }
    }
}

/// An OAuth error as a JSON body, with the status RFC 6749 §5.2 gives it.
pub fn oauth_error(err: &OAuthError) -> Response {
    let status = match err.code {
        "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = serde_json::json!({ "error": err.code, "error_description": err.description });
    if let Some(id) = crate::request_log::current() {
        body["request_id"] = id.into();
    }
    let mut response = (status, Json(body)).into_response();
    no_store(response.headers_mut());
    response
}

pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Parses `application/x-www-form-urlencoded` into pairs, refusing other content types.
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if !body.is_empty() && content_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|e| OAuthError::invalid_request(format!("the form cannot be parsed: {e}")))
}

/// Reads one parameter, refusing repeats (RFC 6749 §3.1).
pub fn single(pairs: &[(String, String)], name: &str) -> Result<Option<String>, OAuthError> {
    let mut found = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = found.next().cloned();
    if found.next().is_some() {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name} is repeated"
        )));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// Client credentials from `Authorization: Basic` (form-decoded per RFC 6749 §2.3.1) and the body.
pub fn client_credentials(
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<ClientCredentials, OAuthError> {
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(value) => {
            let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
            if scheme.eq_ignore_ascii_case("basic") {
                let bad = || OAuthError::invalid_client("malformed Basic credentials");
                let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
                let text = String::from_utf8(decoded).map_err(|_| bad())?;
                let (id, secret) = text.split_once(':').ok_or_else(bad)?;
                let decode = |s: &str| -> Result<String, OAuthError> {
                    let pairs: Vec<(String, String)> =
                        serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| bad())?;
                    Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
                };
                Some((decode(id)?, decode(secret)?))
            } else {
                None
            }
        }
        None => None,
    };
    Ok(ClientCredentials {
        basic,
        body_client_id: single(form, "client_id")?,
        body_client_secret: single(form, "client_secret")?,
    })
}

/// The client's IP address as `client_addr` decided it (the TCP peer, or the forwarded address
/// when the peer is a trusted proxy); `None` only where the server runs without connect info.
pub struct PeerIp(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<crate::client_addr::ClientAddr>()
                .map(|client| client.ip.to_string()),
        ))
    }
}

/// A named cookie from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Cookie names and attributes: `__Host-` and `Secure` when the public URL is https.
pub struct CookieJar {
    pub secure: bool,
}

impl CookieJar {
    pub fn new(state: &AppState) -> Self {
        CookieJar {
            secure: state.core.settings.public_url.starts_with("https://"),
        }
    }

    fn prefix(&self) -> &'static str {
        if self.secure { "__Host-" } else { "" }
    }

    pub fn session_name(&self, org: &Org) -> String {
        format!("{}clavex_sso_{}", self.prefix(), org.slug)
    }

    pub fn csrf_name(&self) -> String {
        format!("{}clavex_csrf", self.prefix())
    }

    pub fn set(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text =
            format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    pub fn clear(&self, name: &str) -> HeaderValue {
        self.set(name, "", 0)
    }
}
