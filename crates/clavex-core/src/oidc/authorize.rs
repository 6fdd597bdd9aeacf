//! The authorization endpoint's decisions. The client and redirect URI are checked first, and a
//! problem with either is shown on an error page, never redirected. Every other problem goes back
//! to the client as a redirect carrying `error`, `state` and `iss` (RFC 9207).

use std::collections::HashMap;

use clavex_crypto::secret;
use clavex_store::{AuthRequestRecord, Client, CodeRecord, Org};
use serde::{Deserialize, Serialize};

use crate::{
    Core, CoreResult,
    oidc::{
        AUTH_REQUEST_TTL_SECONDS, CODE_TTL_SECONDS, OAuthError, session::ActiveSession, split_scope,
    },
};

/// A validated authorization request, as parked while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `prompt=login` or an expired `max_age`: a password is needed even with a session.
    pub force_login: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// What the web layer should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Show an error page; do not redirect (unknown client, unregistered redirect URI).
    ErrorPage(OAuthError),
    /// Redirect the browser to this URL (a code, or an error for the client).
    Redirect(String),
    /// Show the sign-in page for this pending request.
    SignIn {
        request_id: String,
        login_hint: Option<String>,
    },
}

/// Appends parameters to a redirect URI, keeping any query it already has.
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

impl Core {
    fn error_redirect(
        &self,
        org: &Org,
        redirect_uri: &str,
        state: Option<&str>,
        err: &OAuthError,
    ) -> String {
        let issuer = self.issuer(&org.slug);
        let mut params = vec![
            ("error", err.code),
            ("error_description", err.description.as_str()),
        ];
        if let Some(s) = state {
            params.push(("state", s));
        }
        params.push(("iss", issuer.as_str()));
        redirect_with(redirect_uri, &params)
    }

    /// Handles an authorization request (GET query or POST form, as name/value pairs).
    pub async fn authorize(
        &self,
        org: &Org,
        raw: &[(String, String)],
        session: Option<&ActiveSession>,
    ) -> CoreResult<AuthorizeOutcome> {
        let mut map: HashMap<&str, &str> = HashMap::new();
        let mut duplicate = None;
        for (k, v) in raw {
            if map.insert(k.as_str(), v.as_str()).is_some() {
                duplicate = Some(k.clone());
            }
        }
        let get = |k: &str| map.get(k).copied().filter(|v| !v.is_empty());

        // 1. Client and redirect URI: errors here never redirect.
        let Some(client_id) = get("client_id") else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the request has no client_id",
            )));
        };
        let Some(client) = self.protocol_client(&org.id, client_id).await? else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                format!("unknown client '{client_id}'"),
            )));
        };
        let Some(redirect_uri) = get("redirect_uri") else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the request has no redirect_uri",
            )));
        };
        if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the redirect_uri is not registered for this client",
            )));
        }
        if let Some(dup) = duplicate
            .as_deref()
            .filter(|d| *d == "client_id" || *d == "redirect_uri")
        {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                format!("the parameter {dup} is repeated"),
            )));
        }
        let state = map.get("state").copied();

        // 2. Everything else is reported to the client.
        match self.check_request(&client, &map, duplicate.as_deref(), session) {
            Err(err) => Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                org,
                redirect_uri,
                state,
                &err,
            ))),
            Ok(params) => {
                self.continue_authorization(org, &client, params, session)
                    .await
            }
        }
    }

    fn check_request(
        &self,
        client: &Client,
        map: &HashMap<&str, &str>,
        duplicate: Option<&str>,
        session: Option<&ActiveSession>,
    ) -> Result<AuthParams, OAuthError> {
        let get = |k: &str| map.get(k).copied().filter(|v| !v.is_empty());
        if let Some(dup) = duplicate {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {dup} is repeated"
            )));
        }
        for unsupported in ["request", "request_uri"] {
            if get(unsupported).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the {unsupported} parameter is not supported"
                )));
            }
        }
        match get("response_type") {
            Some("code") => {}
            Some(other) => {
                return Err(OAuthError::unsupported_response_type(format!(
                    "response_type '{other}' is not supported; use code"
                )));
            }
            None => {
                return Err(OAuthError::invalid_request(
                    "the request has no response_type",
                ));
            }
        }
        if let Some(mode) = get("response_mode").filter(|m| *m != "query") {
            return Err(OAuthError::invalid_request(format!(
                "response_mode '{mode}' is not supported; use query"
            )));
        }
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(OAuthError::unauthorized_client(
                "this client is not registered for the authorization_code grant",
            ));
        }
        let scopes = split_scope(get("scope").unwrap_or(""));
        if scopes.is_empty() {
            return Err(OAuthError::invalid_scope("the request has no scope"));
        }
        if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "the client may not request the scope '{bad}'"
            )));
        }
        let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (Some(c), Some("S256")) => Some(c),
            (Some(_), None) | (Some(_), Some("plain")) => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method must be S256 (plain is not supported)",
                ));
            }
            (Some(_), Some(other)) => {
                return Err(OAuthError::invalid_request(format!(
                    "code_challenge_method '{other}' is not supported; use S256"
                )));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method was sent without code_challenge",
                ));
            }
            (None, None) => None,
        };
        if let Some(c) = code_challenge {
            // base64url of a SHA-256 digest: 43 characters.
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(OAuthError::invalid_request(
                    "code_challenge is not a S256 challenge",
                ));
            }
        }
        if client.token_endpoint_auth_method == "none" && code_challenge.is_none() {
            return Err(OAuthError::invalid_request(
                "public clients must use PKCE (code_challenge with S256)",
            ));
        }
        let max_age = match get("max_age") {
            Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                OAuthError::invalid_request("max_age must be a non-negative integer")
            })?),
            None => None,
        };
        let prompts: Vec<&str> = get("prompt")
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .collect();
        if prompts.contains(&"none") && prompts.len() > 1 {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        if let Some(p) = prompts
            .iter()
            .find(|p| !matches!(**p, "none" | "login" | "consent" | "select_account"))
        {
            return Err(OAuthError::invalid_request(format!(
                "prompt '{p}' is not supported"
            )));
        }
        let now = self.now();
        let session_too_old = match (session, max_age) {
            (Some(s), Some(max)) => now - s.record.auth_time > max,
            _ => false,
        };
        let force_login = prompts.contains(&"login") || session_too_old;
        if prompts.contains(&"none") && (session.is_none() || force_login) {
            return Err(OAuthError::login_required("the user is not signed in"));
        }
        Ok(AuthParams {
            client_id: client.client_id.clone(),
            redirect_uri: map
                .get("redirect_uri")
                .copied()
                .unwrap_or_default()
                .to_string(),
            scopes,
            state: map.get("state").map(|s| s.to_string()),
            nonce: get("nonce").map(str::to_string),
            code_challenge: code_challenge.map(str::to_string),
            force_login,
            max_age,
            login_hint: get("login_hint").map(str::to_string),
        })
    }

    async fn continue_authorization(
        &self,
        org: &Org,
        client: &Client,
        params: AuthParams,
        session: Option<&ActiveSession>,
    ) -> CoreResult<AuthorizeOutcome> {
        if let (Some(session), false) = (session, params.force_login) {
            let url = self.issue_code(org, client, &params, session).await?;
            return Ok(AuthorizeOutcome::Redirect(url));
        }
        let request_id = secret::generate_token("");
        let now = self.now();
        let record = AuthRequestRecord {
            id_hash: secret::hash_token(&request_id),
            org_id: org.id.clone(),
            params: serde_json::to_value(&params)
                .map_err(|e| crate::CoreError::Internal(format!("serialize request: {e}")))?,
            created_at: now,
            expires_at: now + AUTH_REQUEST_TTL_SECONDS,
        };
        self.store.create_auth_request(&record).await?;
        Ok(AuthorizeOutcome::SignIn {
            request_id,
            login_hint: params.login_hint,
        })
    }

    /// Issues a code for `params` under `session` and returns the redirect carrying it.
    pub async fn issue_code(
        &self,
        org: &Org,
        client: &Client,
        params: &AuthParams,
        session: &ActiveSession,
    ) -> CoreResult<String> {
        let now = self.now();
        let code = secret::generate_token("");
        let record = CodeRecord {
            code_hash: secret::hash_token(&code),
            org_id: org.id.clone(),
            client_id: client.client_id.clone(),
            user_id: session.user.id.clone(),
            redirect_uri: params.redirect_uri.clone(),
            scope: params.scopes.join(" "),
            nonce: params.nonce.clone(),
            code_challenge: params.code_challenge.clone(),
            auth_time: session.record.auth_time,
            sid: session.record.sid.clone(),
            created_at: now,
            expires_at: now + CODE_TTL_SECONDS,
            used_at: None,
            grant_id: None,
        };
        self.store.create_code(&record).await?;
        let issuer = self.issuer(&org.slug);
        let mut out = vec![("code", code.as_str())];
        if let Some(s) = &params.state {
            out.push(("state", s.as_str()));
        }
        out.push(("iss", issuer.as_str()));
        Ok(redirect_with(&params.redirect_uri, &out))
    }

    /// The parked request behind a sign-in form, if it is still pending.
    pub async fn pending_request(
        &self,
        org: &Org,
        request_id: &str,
    ) -> CoreResult<Option<AuthParams>> {
        if request_id.is_empty() || request_id.len() > 128 {
            return Ok(None);
        }
        let found = self
            .store
            .get_auth_request(&org.id, &secret::hash_token(request_id), self.now())
            .await?;
        Ok(found.and_then(|r| serde_json::from_value(r.params).ok()))
    }

    /// After a successful sign-in: consumes the parked request and issues its code.
    pub async fn complete_sign_in(
        &self,
        org: &Org,
        request_id: &str,
        params: &AuthParams,
        session: &ActiveSession,
    ) -> CoreResult<AuthorizeOutcome> {
        // Consuming the request decides which of two simultaneous form posts continues.
        if !self
            .store
            .delete_auth_request(&secret::hash_token(request_id))
            .await?
        {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "this sign-in was already completed",
            )));
        }
        let Some(client) = self.protocol_client(&org.id, &params.client_id).await? else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the client was deleted while you signed in",
            )));
        };
        if !client.redirect_uris.contains(&params.redirect_uri) {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the redirect_uri is no longer registered for this client",
            )));
        }
        let url = self.issue_code(org, &client, params, session).await?;
        Ok(AuthorizeOutcome::Redirect(url))
    }
}
