//! Minting and checking the signed tokens: access tokens (RFC 9068 JWTs, `typ: at+jwt`) and ID
//! tokens. Access tokens name their grant (`gid`) so that revoking the grant, disabling the user
//! or deleting the org cuts them off at once.

use clavex_crypto::{secret, signing};
use clavex_store::{Org, User};
use serde_json::{Value, json};

use std::sync::Arc;

use crate::{
    Core, CoreError, CoreResult,
    oidc::{OAuthError, keyring::OrgKeys},
};

/// The checked claims of a presented access token.
#[derive(Debug, Clone)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// `None` for client_credentials tokens.
    pub grant_id: Option<String>,
    pub jti: String,
    pub exp: i64,
    pub iat: i64,
    /// The user, for user tokens (not client_credentials).
    pub user: Option<User>,
    /// The user's group names, read with the user.
    pub groups: Vec<String>,
}

pub struct MintedAccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// Signs `claims` with the org's current key. An RSA signature takes about 250 µs of CPU: on an
/// async worker that would hold up every task waiting there for a database answer, among them,
/// on SQLite, the one holding the write turn, which stretched every write under load. RSA
/// signatures therefore run on the blocking pool; the curves (12-18 µs) run in place.
async fn sign(keys: Arc<OrgKeys>, claims: Value, typ: &'static str) -> CoreResult<String> {
    if keys.signing.alg() != signing::Algorithm::RS256 {
        return Ok(keys.signing.sign_jwt_typed(&claims, typ)?);
    }
    tokio::task::spawn_blocking(move || keys.signing.sign_jwt_typed(&claims, typ))
        .await
        .map_err(|e| CoreError::Internal(format!("the signing task failed: {e}")))?
        .map_err(Into::into)
}

impl Core {
    pub async fn mint_access_token(
        &self,
        org: &Org,
        client_id: &str,
        sub: &str,
        scope: &str,
        grant_id: Option<&str>,
        auth_time: Option<i64>,
    ) -> CoreResult<MintedAccessToken> {
        let now = self.now();
        let ttl = self.settings.access_token_ttl_seconds;
        let mut claims = json!({
            "iss": self.issuer(&org.slug),
            "sub": sub,
            "aud": client_id,
            "client_id": client_id,
            "iat": now,
            "exp": now + ttl,
            "jti": secret::generate_token(""),
            "scope": scope,
        });
        if let Some(g) = grant_id {
            claims["gid"] = json!(g);
        }
        if let Some(t) = auth_time {
            claims["auth_time"] = json!(t);
        }
        let keys = self.org_keys(&org.id).await?;
        let token = sign(keys, claims, "at+jwt").await?;
        Ok(MintedAccessToken {
            token,
            expires_in: ttl,
        })
    }

    /// Signs an ID token carrying `claims` (the user's, from `user_claims`) plus the protocol
    /// claims.
    #[expect(
        clippy::too_many_arguments,
        reason = "each is a distinct ID token claim"
    )]
    pub async fn mint_id_token(
        &self,
        org: &Org,
        client_id: &str,
        mut claims: serde_json::Map<String, Value>,
        auth_time: i64,
        nonce: Option<&str>,
        sid: Option<&str>,
        access_token: &str,
    ) -> CoreResult<String> {
        let now = self.now();
        let keys = self.org_keys(&org.id).await?;
        claims.insert("iss".into(), json!(self.issuer(&org.slug)));
        claims.insert("aud".into(), json!(client_id));
        claims.insert("azp".into(), json!(client_id));
        claims.insert("iat".into(), json!(now));
        claims.insert(
            "exp".into(),
            json!(now + self.settings.id_token_ttl_seconds),
        );
        claims.insert("auth_time".into(), json!(auth_time));
        if let Some(n) = nonce {
            claims.insert("nonce".into(), json!(n));
        }
        if let Some(s) = sid {
            claims.insert("sid".into(), json!(s));
        }
        claims.insert(
            "at_hash".into(),
            json!(signing::at_hash(access_token, keys.signing.alg())),
        );
        sign(keys, Value::Object(claims), "JWT").await
    }

    /// Verifies a JWT's signature against the org's published keys and its issuer. Time and
    /// revocation checks are the caller's.
    pub async fn verify_org_jwt(&self, org: &Org, token: &str) -> Result<Value, OAuthError> {
        let keys = self.org_keys(&org.id).await?;
        let claims = signing::verify_jwt(token, &keys.verifying).map_err(|_| {
            OAuthError::invalid_token("the token is malformed or its signature is invalid")
        })?;
        if claims["iss"].as_str() != Some(self.issuer(&org.slug).as_str()) {
            return Err(OAuthError::invalid_token(
                "the token was issued by another issuer",
            ));
        }
        Ok(claims)
    }

    /// Checks an access token fully: signature, issuer, type, expiry, revocation, its grant, and
    /// that its user still exists and is enabled.
    pub async fn verify_access_token(
        &self,
        org: &Org,
        token: &str,
    ) -> Result<AccessClaims, OAuthError> {
        let header = signing::decode_unverified_header(token)
            .map_err(|_| OAuthError::invalid_token("the token is malformed"))?;
        if header["typ"].as_str() != Some("at+jwt") {
            return Err(OAuthError::invalid_token("not an access token"));
        }
        let claims = self.verify_org_jwt(org, token).await?;
        let now = self.now();
        let exp = claims["exp"].as_i64().unwrap_or(0);
        if exp <= now {
            return Err(OAuthError::invalid_token("the access token has expired"));
        }
        let text = |name: &str| claims[name].as_str().map(str::to_string);
        let grant_id = text("gid");
        let (Some(sub), Some(client_id), Some(jti)) = (text("sub"), text("client_id"), text("jti"))
        else {
            return Err(OAuthError::invalid_token(
                "the access token lacks required claims",
            ));
        };
        // Revocation, the grant, its user and their groups: one query, read fresh every time so
        // that a revocation at any node counts at once (only the client comes from the cache).
        let (revoked, holder) = self
            .store
            .access_token_state(&org.id, &jti, grant_id.as_deref())
            .await?;
        if revoked {
            return Err(OAuthError::invalid_token("the access token was revoked"));
        }
        let (user, groups) = match &grant_id {
            Some(_) => {
                let holder = holder.ok_or_else(|| {
                    OAuthError::invalid_token("the access token's grant no longer exists")
                })?;
                if holder.grant.revoked_at.is_some() {
                    return Err(OAuthError::invalid_token("the access token was revoked"));
                }
                match &holder.grant.user_id {
                    Some(_) => {
                        let user = holder.user.filter(|u| !u.disabled).ok_or_else(|| {
                            OAuthError::invalid_token("the user is disabled or deleted")
                        })?;
                        (Some(user), holder.groups)
                    }
                    None => (None, Vec::new()),
                }
            }
            None => (None, Vec::new()),
        };
        // Deleting a client cuts off its tokens, also once a client of the same id is registered
        // again: a token older than the client was issued to its predecessor.
        let iat = claims["iat"].as_i64().unwrap_or(0);
        if self
            .protocol_client(&org.id, &client_id)
            .await?
            .is_none_or(|c| c.client.created_at > iat)
        {
            return Err(OAuthError::invalid_token("the client no longer exists"));
        }
        Ok(AccessClaims {
            sub,
            client_id,
            scopes: crate::oidc::split_scope(claims["scope"].as_str().unwrap_or("")),
            grant_id,
            jti,
            exp,
            iat,
            user,
            groups,
        })
    }

    /// The userinfo response for a checked access token.
    pub async fn userinfo(&self, org: &Org, token: &str) -> Result<Value, OAuthError> {
        let access = self.verify_access_token(org, token).await?;
        let Some(user) = access.user else {
            return Err(OAuthError::invalid_token(
                "the token does not belong to a user",
            ));
        };
        if !access.scopes.iter().any(|s| s == "openid") {
            return Err(OAuthError::invalid_token(
                "the token was not granted the openid scope",
            ));
        }
        Ok(Value::Object(crate::oidc::claims::user_claims(
            &org.slug,
            &user,
            &access.groups,
            &access.scopes,
        )))
    }
}
