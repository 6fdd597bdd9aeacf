//! RP-initiated logout 1.0. The `id_token_hint` may have expired (its signature and issuer must
//! still verify); the browser goes back only to a `post_logout_redirect_uri` registered for the
//! client the hint names.

use clavex_store::Org;

use crate::{
    Core,
    oidc::{OAuthError, authorize::redirect_with, session::ActiveSession},
};

#[derive(Debug, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    /// The user confirmed on Clavex's own page (a CSRF-checked POST).
    pub confirmed: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Show an error page (bad hint, unregistered redirect); the session is left alone.
    ErrorPage(OAuthError),
    /// The session (if any) ended; send the browser here.
    Redirect(String),
    /// The session (if any) ended; show the signed-out page.
    SignedOut,
    /// Nothing ended yet: ask the user first, because nothing proves the request comes from an
    /// application the user signed in to (no hint, or a hint for another user).
    Confirm,
}

impl Core {
    pub async fn logout(
        &self,
        org: &Org,
        req: LogoutRequest,
        session: Option<&ActiveSession>,
        source_ip: Option<String>,
    ) -> Result<LogoutOutcome, OAuthError> {
        let mut client_id = req.client_id.clone();
        let mut hint_sub = None;
        if let Some(hint) = req.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
            let claims = match self.verify_org_jwt(org, hint).await {
                Ok(c) => c,
                Err(_) => {
                    return Ok(LogoutOutcome::ErrorPage(OAuthError::invalid_request(
                        "the id_token_hint is not an ID token issued here",
                    )));
                }
            };
            hint_sub = claims["sub"].as_str().map(str::to_string);
            let aud = match &claims["aud"] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Array(a) => {
                    a.first().and_then(|v| v.as_str()).map(str::to_string)
                }
                _ => None,
            };
            if let (Some(given), Some(aud)) = (&client_id, &aud)
                && given != aud
            {
                return Ok(LogoutOutcome::ErrorPage(OAuthError::invalid_request(
                    "client_id does not match the id_token_hint",
                )));
            }
            client_id = client_id.or(aud);
        }
        let redirect = match req
            .post_logout_redirect_uri
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            Some(uri) => {
                let Some(cid) = client_id.as_deref() else {
                    return Ok(LogoutOutcome::ErrorPage(OAuthError::invalid_request(
                        "post_logout_redirect_uri needs an id_token_hint or a client_id",
                    )));
                };
                let registered = self
                    .protocol_client(&org.id, cid)
                    .await?
                    .is_some_and(|c| c.client.post_logout_redirect_uris.iter().any(|u| u == uri));
                if !registered {
                    return Ok(LogoutOutcome::ErrorPage(OAuthError::invalid_request(
                        "the post_logout_redirect_uri is not registered for this client",
                    )));
                }
                let mut params = Vec::new();
                if let Some(s) = req.state.as_deref() {
                    params.push(("state", s));
                }
                Some(redirect_with(uri, &params))
            }
            None => None,
        };
        // RP-Initiated Logout §2: without a hint naming this session's user, another site could
        // be sending the browser here; ask before ending the session.
        if let Some(session) = session
            && !req.confirmed
            && hint_sub.as_deref() != Some(session.user.id.as_str())
        {
            return Ok(LogoutOutcome::Confirm);
        }
        if let Some(session) = session {
            let event = self.event_as(
                &format!("user:{}", session.user.id),
                source_ip,
                Some(&org.id),
                "logout",
                &session.user.id,
                serde_json::json!({ "sid": session.record.sid }),
            );
            self.store
                .delete_session(&org.id, &session.record.sid, &event)
                .await?;
        }
        Ok(match redirect {
            Some(url) => LogoutOutcome::Redirect(url),
            None => LogoutOutcome::SignedOut,
        })
    }
}
