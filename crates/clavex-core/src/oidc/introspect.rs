//! RFC 7662 introspection and RFC 7009 revocation, for authenticated clients. A client learns
//! about its own tokens only: anything else is `{"active": false}` or silently ignored.

use clavex_crypto::secret;
use clavex_store::{Client, Org};
use serde_json::{Value, json};

use crate::{Core, oidc::OAuthError};

impl Core {
    pub async fn introspect(
        &self,
        org: &Org,
        client: &Client,
        token: &str,
    ) -> Result<Value, OAuthError> {
        let inactive = json!({ "active": false });
        if token.is_empty() {
            return Ok(inactive);
        }
        let now = self.now();
        if let Some(rt) = self
            .store
            .get_refresh_token(&secret::hash_token(token))
            .await?
        {
            let Some(grant) = self.store.get_grant(&org.id, &rt.grant_id).await? else {
                return Ok(inactive);
            };
            let active = grant.client_id == client.client_id
                && grant.created_at >= client.created_at
                && grant.revoked_at.is_none()
                && rt.used_at.is_none()
                && rt.expires_at > now;
            if !active {
                return Ok(inactive);
            }
            // The token endpoint refuses a refresh token of a disabled or deleted user, so it is
            // not active either (RFC 7662 §2.2).
            if let Some(user_id) = &grant.user_id {
                let usable = self
                    .store
                    .get_user(&org.id, user_id)
                    .await?
                    .is_some_and(|u| !u.disabled);
                if !usable {
                    return Ok(inactive);
                }
            }
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": grant.client_id,
                "scope": rt.scope,
                "sub": grant.user_id,
                "iss": self.issuer(&org.slug),
                "iat": rt.created_at,
                "exp": rt.expires_at,
            }));
        }
        match self.verify_access_token(org, token).await {
            Ok(access) if access.client_id == client.client_id => {
                let mut out = json!({
                    "active": true,
                    "token_type": "Bearer",
                    "client_id": access.client_id,
                    "scope": access.scopes.join(" "),
                    "sub": access.sub,
                    "aud": access.client_id,
                    "iss": self.issuer(&org.slug),
                    "iat": access.iat,
                    "exp": access.exp,
                    "jti": access.jti,
                });
                if let Some(user) = access.user {
                    out["username"] = json!(user.username);
                }
                Ok(out)
            }
            Ok(_) => Ok(inactive),
            Err(e) if e.code == "invalid_token" => Ok(inactive),
            Err(e) => Err(e),
        }
    }

    /// Revokes a refresh token (and its whole grant) or an access token. Unknown tokens and other
    /// clients' tokens are ignored, as RFC 7009 asks.
    pub async fn revoke(
        &self,
        org: &Org,
        client: &Client,
        token: &str,
        source_ip: Option<String>,
    ) -> Result<(), OAuthError> {
        if token.is_empty() {
            return Err(OAuthError::invalid_request("the request has no token"));
        }
        let now = self.now();
        let revoked = |details| {
            self.event_as(
                &format!("client:{}", client.client_id),
                source_ip.clone(),
                Some(&org.id),
                "token.revoked",
                &client.client_id,
                details,
            )
        };
        if let Some(rt) = self
            .store
            .get_refresh_token(&secret::hash_token(token))
            .await?
        {
            if let Some(grant) = self.store.get_grant(&org.id, &rt.grant_id).await?
                && grant.client_id == client.client_id
            {
                let event = revoked(json!({ "grant_id": grant.id, "token_type": "refresh_token" }));
                self.store
                    .revoke_grant(&org.id, &grant.id, now, &event)
                    .await?;
            }
            return Ok(());
        }
        if let Ok(claims) = self.verify_org_jwt(org, token).await {
            let mine = claims["client_id"].as_str() == Some(client.client_id.as_str());
            if let (true, Some(jti)) = (mine, claims["jti"].as_str()) {
                let exp = claims["exp"].as_i64().unwrap_or(now);
                if exp > now {
                    let event = revoked(json!({ "jti": jti, "token_type": "access_token" }));
                    self.store
                        .revoke_access_token(&org.id, jti, exp, &event)
                        .await?;
                }
            }
        }
        Ok(())
    }
}
