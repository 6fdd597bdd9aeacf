//! The token endpoint's grants: authorization_code (with PKCE), refresh_token (rotation with reuse
//! detection) and client_credentials. The caller has already authenticated the client.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clavex_crypto::secret;
use clavex_store::{
    Client, CodeRedemption, Event, GrantRecord, Org, RefreshRotation, RefreshTokenRecord, User,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    Core,
    oidc::{OAuthError, claims::user_claims, split_scope},
};

/// A refresh token presented again within this many seconds of its use (whole seconds, so up to
/// one more) lost a race with a concurrent request of the same client, such as two tabs or two
/// nodes of a relying party: that request fails, and the family stays valid. A later replay is
/// treated as theft and revokes the whole grant. Kept short because within it a replay goes
/// undetected (though it obtains nothing).
pub const REFRESH_RACE_SECONDS: i64 = 2;

/// The token endpoint's form, parsed once.
#[derive(Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// What differs between the user grants' responses.
struct UserTokens<'a> {
    grant: &'a GrantRecord,
    scope: &'a str,
    auth_time: i64,
    nonce: Option<&'a str>,
    refresh_token: Option<String>,
    /// The user's groups when already read with the user; otherwise read for the ID token.
    groups: Option<Vec<String>>,
}

fn has_grant(client: &Client, grant: &str) -> bool {
    client.grant_types.iter().any(|g| g == grant)
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Core {
    pub async fn token(
        &self,
        org: &Org,
        client: &Client,
        req: TokenRequest,
        source_ip: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = req.grant_type.clone().unwrap_or_default();
        let result = self
            .dispatch_grant(org, client, req, source_ip.clone())
            .await;
        if let Ok(issued) = &result {
            if self.settings.audit_token_events {
                // Written once the grant is committed, before the response leaves. If that
                // write fails the token is returned all the same: the code is used up or the
                // refresh token rotated by now, so an error would make the client retry, and
                // the retry would count as a replay and revoke the user's grant.
                let event = self.token_issued_event(org, client, &grant, issued, source_ip);
                if let Err(err) = self.store.append_event(&event).await {
                    tracing::error!(error = %err, client_id = %client.client_id, grant_type = %grant,
                        "could not record token.issued; the token was issued");
                    self.metrics.inc(
                        "clavex_audit_write_failures_total",
                        "Audit events that could not be written after the change they record \
                         (token.issued only).",
                        &[("kind", "token.issued")],
                    );
                }
            }
            // Grant types are a fixed set here: unsupported ones fail before this point.
            self.metrics.token_issued(&grant, &org.slug);
        }
        result
    }

    /// `token.issued`: who got which token. The token's `jti` (not the token) ties it to a later
    /// `token.revoked`.
    fn token_issued_event(
        &self,
        org: &Org,
        client: &Client,
        grant_type: &str,
        issued: &TokenResponse,
        source_ip: Option<String>,
    ) -> Event {
        // Our own token, just signed: reading its claims needs no verification.
        let claims = issued
            .access_token
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
            .unwrap_or_default();
        self.event_as(
            &format!("client:{}", client.client_id),
            source_ip,
            Some(&org.id),
            "token.issued",
            &client.client_id,
            serde_json::json!({
                "grant_type": grant_type,
                "scope": issued.scope,
                "sub": claims["sub"],
                "jti": claims["jti"],
                "refresh_token": issued.refresh_token.is_some(),
                "id_token": issued.id_token.is_some(),
            }),
        )
    }

    async fn dispatch_grant(
        &self,
        org: &Org,
        client: &Client,
        req: TokenRequest,
        source_ip: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        match req.grant_type.as_deref() {
            Some("authorization_code") => {
                self.grant_authorization_code(org, client, req, source_ip)
                    .await
            }
            Some("refresh_token") => self.grant_refresh_token(org, client, req, source_ip).await,
            Some("client_credentials") => self.grant_client_credentials(org, client, req).await,
            Some(other) => Err(OAuthError::unsupported_grant_type(format!(
                "grant_type '{other}' is not supported"
            ))),
            None => Err(OAuthError::invalid_request("the request has no grant_type")),
        }
    }

    fn security_event(
        &self,
        org: &Org,
        kind: &str,
        target: &str,
        source_ip: Option<String>,
        details: serde_json::Value,
    ) -> Event {
        Event {
            id: crate::new_id(),
            org_id: Some(org.id.clone()),
            time: self.now(),
            kind: kind.into(),
            actor: "anonymous".into(),
            target: target.into(),
            outcome: "failure".into(),
            source_ip,
            details,
        }
    }

    async fn grant_authorization_code(
        &self,
        org: &Org,
        client: &Client,
        req: TokenRequest,
        source_ip: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        if !has_grant(client, "authorization_code") {
            return Err(OAuthError::unauthorized_client(
                "this client is not registered for the authorization_code grant",
            ));
        }
        let code = req
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("the request has no code"))?;
        let code_hash = secret::hash_token(&code);
        let bad_code =
            || OAuthError::invalid_grant("the code is invalid, expired or was already used");
        let record = self
            .store
            .get_code(&code_hash)
            .await?
            .ok_or_else(bad_code)?;
        // A code older than the client was issued to a deleted client of the same id.
        if record.org_id != org.id
            || record.client_id != client.client_id
            || record.created_at < client.created_at
        {
            return Err(bad_code());
        }
        let now = self.now();
        if record.used_at.is_none() {
            if record.expires_at <= now {
                return Err(bad_code());
            }
            if req.redirect_uri.as_deref() != Some(record.redirect_uri.as_str()) {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            match (&record.code_challenge, req.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier)) => {
                    if !valid_verifier(verifier) || s256(verifier) != *challenge {
                        return Err(OAuthError::invalid_grant(
                            "the code_verifier does not match",
                        ));
                    }
                }
                (Some(_), None) => {
                    return Err(OAuthError::invalid_grant(
                        "the code requires a code_verifier",
                    ));
                }
                (None, Some(_)) => {
                    return Err(OAuthError::invalid_grant(
                        "a code_verifier was sent for a code issued without PKCE",
                    ));
                }
                (None, None) => {}
            }
        }
        let user = self
            .store
            .get_user(&org.id, &record.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(bad_code)?;
        let grant = GrantRecord {
            id: crate::new_id(),
            org_id: org.id.clone(),
            client_id: client.client_id.clone(),
            user_id: Some(user.id.clone()),
            scope: record.scope.clone(),
            auth_time: Some(record.auth_time),
            sid: Some(record.sid.clone()),
            nonce: record.nonce.clone(),
            created_at: now,
            expires_at: now + self.settings.refresh_token_ttl_seconds,
            revoked_at: None,
        };
        let refresh_plain =
            has_grant(client, "refresh_token").then(|| secret::generate_token("rt_"));
        let refresh = refresh_plain.as_ref().map(|plain| RefreshTokenRecord {
            token_hash: secret::hash_token(plain),
            grant_id: grant.id.clone(),
            scope: grant.scope.clone(),
            created_at: now,
            expires_at: grant.expires_at,
            used_at: None,
        });
        let replay_event = self.security_event(
            org,
            "code.replayed",
            &client.client_id,
            source_ip,
            serde_json::json!({ "user_id": user.id }),
        );
        match self
            .store
            .redeem_code(&code_hash, now, &grant, refresh.as_ref(), &replay_event)
            .await?
        {
            CodeRedemption::Redeemed => {}
            CodeRedemption::Replayed => {
                self.metrics.code_replayed();
                tracing::warn!(org = %org.slug, client = %client.client_id, "authorization code replayed; its grant is revoked");
                return Err(bad_code());
            }
            CodeRedemption::NotFound => return Err(bad_code()),
        }
        self.user_token_response(
            org,
            client,
            &user,
            UserTokens {
                grant: &grant,
                scope: &grant.scope,
                auth_time: record.auth_time,
                nonce: record.nonce.as_deref(),
                refresh_token: refresh_plain,
                groups: None,
            },
        )
        .await
    }

    async fn grant_refresh_token(
        &self,
        org: &Org,
        client: &Client,
        req: TokenRequest,
        source_ip: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        if !has_grant(client, "refresh_token") {
            return Err(OAuthError::unauthorized_client(
                "this client is not registered for the refresh_token grant",
            ));
        }
        let presented = req
            .refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("the request has no refresh_token"))?;
        let bad = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let old_hash = secret::hash_token(&presented);
        // The token, its grant, the user and their groups in one query.
        let (token, holder) = self
            .store
            .refresh_token_state(&org.id, &old_hash)
            .await?
            .ok_or_else(bad)?;
        let holder = holder.ok_or_else(bad)?;
        let grant = holder.grant;
        // A grant older than the client belonged to a deleted client of the same id.
        if grant.client_id != client.client_id || grant.created_at < client.created_at {
            return Err(bad());
        }
        let now = self.now();
        // The grant's own expiry bounds the whole chain of rotations: refreshing regularly does
        // not keep a sign-in alive forever.
        if grant.revoked_at.is_some()
            || grant.expires_at <= now
            || (token.expires_at <= now && token.used_at.is_none())
        {
            return Err(bad());
        }
        let granted = split_scope(&token.scope);
        let scopes = match req.scope.as_deref().map(split_scope) {
            Some(asked) if !asked.is_empty() => {
                if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                    return Err(OAuthError::invalid_scope(format!(
                        "the scope '{extra}' was not granted originally"
                    )));
                }
                asked
            }
            _ => granted,
        };
        grant.user_id.as_ref().ok_or_else(bad)?;
        let user = holder.user.filter(|u| !u.disabled).ok_or_else(bad)?;
        let scope = scopes.join(" ");
        let next_plain = secret::generate_token("rt_");
        let next = RefreshTokenRecord {
            token_hash: secret::hash_token(&next_plain),
            grant_id: grant.id.clone(),
            scope: scope.clone(),
            created_at: now,
            expires_at: (now + self.settings.refresh_token_ttl_seconds).min(grant.expires_at),
            used_at: None,
        };
        let reuse_event = self.security_event(
            org,
            "refresh_token.reused",
            &client.client_id,
            source_ip,
            serde_json::json!({ "grant_id": grant.id, "user_id": user.id }),
        );
        match self
            .store
            .rotate_refresh_token(
                &old_hash,
                now,
                now - REFRESH_RACE_SECONDS,
                &next,
                &reuse_event,
            )
            .await?
        {
            RefreshRotation::Rotated => {}
            RefreshRotation::Raced => {
                self.metrics.refresh_token_raced();
                return Err(OAuthError::invalid_grant(
                    "the refresh token was just used by another request",
                ));
            }
            RefreshRotation::Reused { .. } => {
                self.metrics.refresh_token_reused();
                tracing::warn!(org = %org.slug, client = %client.client_id, "refresh token reused; its grant is revoked");
                return Err(bad());
            }
            RefreshRotation::NotFound => return Err(bad()),
        }
        // OIDC Core §12.2: a refreshed ID token carries no nonce.
        self.user_token_response(
            org,
            client,
            &user,
            UserTokens {
                grant: &grant,
                scope: &scope,
                auth_time: grant.auth_time.unwrap_or(grant.created_at),
                nonce: None,
                refresh_token: Some(next_plain),
                groups: Some(holder.groups),
            },
        )
        .await
    }

    /// The response of a grant made for a user: an access token naming the grant, and an ID
    /// token with the user's claims when `openid` is in scope.
    async fn user_token_response(
        &self,
        org: &Org,
        client: &Client,
        user: &User,
        t: UserTokens<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = split_scope(t.scope);
        let access = self
            .mint_access_token(
                org,
                &client.client_id,
                &user.id,
                t.scope,
                Some(&t.grant.id),
                t.grant.auth_time,
            )
            .await?;
        let id_token = if scopes.iter().any(|s| s == "openid") {
            let groups = match t.groups {
                Some(groups) => groups,
                None => self.store.user_group_names(&org.id, &user.id).await?,
            };
            let claims = user_claims(&org.slug, user, &groups, &scopes);
            Some(
                self.mint_id_token(
                    org,
                    &client.client_id,
                    claims,
                    t.auth_time,
                    t.nonce,
                    t.grant.sid.as_deref(),
                    &access.token,
                )
                .await?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            id_token,
            refresh_token: t.refresh_token,
            scope: t.scope.to_string(),
        })
    }

    async fn grant_client_credentials(
        &self,
        org: &Org,
        client: &Client,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        if !has_grant(client, "client_credentials") || client.token_endpoint_auth_method == "none" {
            return Err(OAuthError::unauthorized_client(
                "this client is not registered for the client_credentials grant",
            ));
        }
        let scopes = match req.scope.as_deref().map(split_scope) {
            Some(asked) if !asked.is_empty() => {
                if let Some(bad) = asked.iter().find(|s| !client.scopes.contains(s)) {
                    return Err(OAuthError::invalid_scope(format!(
                        "the client may not request the scope '{bad}'"
                    )));
                }
                asked
            }
            // Without a request, every registered scope except the user-facing OIDC ones.
            _ => client
                .scopes
                .iter()
                .filter(|s| {
                    !matches!(
                        s.as_str(),
                        "openid" | "profile" | "email" | "groups" | "offline_access"
                    )
                })
                .cloned()
                .collect(),
        };
        // No grant row: a client_credentials token names no user and no session, and is cut off
        // through its client (deleted) or its jti (revoked). This keeps the hot path write-free.
        let scope = scopes.join(" ");
        let access = self
            .mint_access_token(
                org,
                &client.client_id,
                &client.client_id,
                &scope,
                None,
                None,
            )
            .await?;
        Ok(TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            id_token: None,
            refresh_token: None,
            scope,
        })
    }
}
