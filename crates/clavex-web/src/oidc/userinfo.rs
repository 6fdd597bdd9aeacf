//! `P/{org}/userinfo` (GET and POST): the bearer token in the header, or in a POST form body.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use clavex_core::oidc::OAuthError;

use crate::{
    AppState,
    oidc::{find_org, no_store, oauth_error, parse_form, single},
};

fn unauthorized(err: &OAuthError) -> Response {
    let mut response = oauth_error(err);
    let description = err.description.replace(['"', '\\'], "");
    let challenge = format!(
        "Bearer realm=\"clavex\", error=\"{}\", error_description=\"{description}\"",
        err.code
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

pub async fn userinfo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let org = match find_org(&state, &slug).await {
        Ok(org) => org,
        Err(r) => return r,
    };
    let from_body = if method == Method::POST && !body.is_empty() {
        match parse_form(&headers, &body).and_then(|f| single(&f, "access_token")) {
            Ok(t) => t,
            Err(e) => return oauth_error(&e),
        }
    } else {
        None
    };
    let token = match (bearer(&headers), from_body.as_deref()) {
        (Some(_), Some(_)) => {
            return oauth_error(&OAuthError::invalid_request(
                "send the access token in the header or the body, not both",
            ));
        }
        (Some(t), None) | (None, Some(t)) => t.to_string(),
        (None, None) => {
            return unauthorized(&OAuthError::invalid_token("an access token is required"));
        }
    };
    match state.core.userinfo(&org, &token).await {
        Ok(claims) => {
            let mut response = Json(claims).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) if e.code == "invalid_token" => unauthorized(&e),
        Err(e) => oauth_error(&e),
    }
}
