//! `P/{org}/token`, `P/{org}/revoke` and `P/{org}/introspect`: the client-authenticated endpoints.
//! The client is authenticated before the grant is looked at.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use clavex_core::oidc::{OAuthError, client_auth::ClientAuthError, token::TokenRequest};
use clavex_store::{Client, Org};

use crate::{
    AppState,
    oidc::{PeerIp, client_credentials, find_org, no_store, oauth_error, parse_form, single},
};

fn client_auth_error(err: ClientAuthError) -> Response {
    let mut response = oauth_error(&err.error);
    if err.basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"clavex\""),
        );
    }
    response
}

/// Parses the form and authenticates the client: the common first half of every endpoint here.
async fn authenticated(
    state: &AppState,
    slug: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Arc<Org>, Client, Vec<(String, String)>), Response> {
    let org = find_org(state, slug).await?;
    let form = parse_form(headers, body).map_err(|e| oauth_error(&e))?;
    let creds = client_credentials(headers, &form).map_err(|e| {
        client_auth_error(ClientAuthError {
            basic: e.code == "invalid_client",
            error: e,
        })
    })?;
    let client = state
        .core
        .authenticate_client(&org, &creds)
        .await
        .map_err(client_auth_error)?;
    Ok((org, client, form))
}

fn token_request(form: &[(String, String)]) -> Result<TokenRequest, OAuthError> {
    Ok(TokenRequest {
        grant_type: single(form, "grant_type")?,
        code: single(form, "code")?,
        redirect_uri: single(form, "redirect_uri")?,
        code_verifier: single(form, "code_verifier")?,
        refresh_token: single(form, "refresh_token")?,
        scope: single(form, "scope")?,
    })
}

pub async fn token(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (org, client, form) = match authenticated(&state, &slug, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let req = match token_request(&form) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    match state.core.token(&org, &client, req, peer.clone()).await {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => oauth_error(&e),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (org, client, form) = match authenticated(&state, &slug, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = match single(&form, "token") {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => return oauth_error(&e),
    };
    match state.core.revoke(&org, &client, &token, peer.clone()).await {
        Ok(()) => {
            let mut response = axum::http::StatusCode::OK.into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => oauth_error(&e),
    }
}

pub async fn introspect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (org, client, form) = match authenticated(&state, &slug, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = match single(&form, "token") {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => return oauth_error(&e),
    };
    match state.core.introspect(&org, &client, &token).await {
        Ok(v) => {
            let mut response = Json(v).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => oauth_error(&e),
    }
}
