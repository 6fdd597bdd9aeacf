//! Minting and checking the signed tokens: access tokens (RFC 9068 JWTs, `typ: at+jwt`) and ID
//! tokens. Access tokens name their grant (`gid`) so that revoking the grant, disabling the user
//! or deleting the org cuts them off at once.

use clavex_crypto::{secret, signing};
use clavex_store::{Org, User};
use serde_json::{Value, json};

use crate::{Core, CoreResult, oidc::OAuthError};

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
}

pub struct MintedAccessToken {
    pub token: String,
    pub expires_in: i64,
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
        let token = keys.signing.sign_jwt_typed(&claims, "at+jwt")?;
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
        Ok(keys.signing.sign_jwt(&Value::Object(claims))?)
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
        if self.store.is_access_token_revoked(&jti).await? {
            return Err(OAuthError::invalid_token("the access token was revoked"));
        }
        let user = match &grant_id {
            Some(grant_id) => {
                let grant = self
                    .store
                    .get_grant(&org.id, grant_id)
                    .await?
                    .ok_or_else(|| {
                        OAuthError::invalid_token("the access token's grant no longer exists")
                    })?;
                if grant.revoked_at.is_some() {
                    return Err(OAuthError::invalid_token("the access token was revoked"));
                }
                match &grant.user_id {
                    Some(user_id) => Some(
                        self.store
                            .get_user(&org.id, user_id)
                            .await?
                            .filter(|u| !u.disabled)
                            .ok_or_else(|| {
                                OAuthError::invalid_token("the user is disabled or deleted")
                            })?,
                    ),
                    None => None,
                }
            }
            None => None,
        };
        // Deleting a client cuts off its tokens, also once a client of the same id is registered
        // again: a token older than the client was issued to its predecessor.
        let iat = claims["iat"].as_i64().unwrap_or(0);
        if self
            .store
            .get_client(&org.id, &client_id)
            .await?
            .is_none_or(|c| c.created_at > iat)
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
        let groups = self.store.user_group_names(&org.id, &user.id).await?;
        Ok(Value::Object(crate::oidc::claims::user_claims(
            &org.slug,
            &user,
            &groups,
            &access.scopes,
        )))
    }
}
