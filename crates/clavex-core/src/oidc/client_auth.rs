//! Client authentication at the token, revocation and introspection endpoints. It runs before any
//! code or token is looked at, so a failed attempt never uses one up.

use clavex_store::{Client, Org};

use crate::{Core, oidc::OAuthError};

/// The credentials a request carried.
#[derive(Default)]
pub struct ClientCredentials {
    /// From `Authorization: Basic`, already form-decoded (RFC 6749 §2.3.1).
    pub basic: Option<(String, String)>,
    /// `client_id` in the body.
    pub body_client_id: Option<String>,
    /// `client_secret` in the body.
    pub body_client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("basic_client_id", &self.basic.as_ref().map(|(id, _)| id))
            .field("body_client_id", &self.body_client_id)
            .finish_non_exhaustive()
    }
}

/// A failed client authentication; `basic` says whether to answer with a Basic challenge.
#[derive(Debug)]
pub struct ClientAuthError {
    pub error: OAuthError,
    pub basic: bool,
}

impl From<OAuthError> for ClientAuthError {
    fn from(error: OAuthError) -> Self {
        ClientAuthError {
            error,
            basic: false,
        }
    }
}

impl Core {
    pub async fn authenticate_client(
        &self,
        org: &Org,
        creds: &ClientCredentials,
    ) -> Result<Client, ClientAuthError> {
        let invalid = |basic: bool| ClientAuthError {
            error: OAuthError::invalid_client("client authentication failed"),
            basic,
        };
        if let Some((id, secret)) = &creds.basic {
            if creds.body_client_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not Basic and client_secret together",
                )
                .into());
            }
            if creds.body_client_id.as_deref().is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Basic credentials",
                )
                .into());
            }
            return match self.authenticate_client_secret(&org.id, id, secret).await {
                Ok(Some(client)) => Ok(client),
                Ok(None) => Err(invalid(true)),
                Err(e) => Err(OAuthError::from(e).into()),
            };
        }
        let Some(id) = creds.body_client_id.as_deref() else {
            return Err(invalid(false));
        };
        if let Some(secret) = &creds.body_client_secret {
            return match self.authenticate_client_secret(&org.id, id, secret).await {
                Ok(Some(client)) => Ok(client),
                Ok(None) => Err(invalid(false)),
                Err(e) => Err(OAuthError::from(e).into()),
            };
        }
        // No secret: only a public client may do that.
        match self.protocol_client(&org.id, id).await {
            Ok(Some(found)) if found.client.token_endpoint_auth_method == "none" => {
                Ok(found.client.clone())
            }
            Ok(_) => Err(invalid(false)),
            Err(e) => Err(OAuthError::from(e).into()),
        }
    }
}
