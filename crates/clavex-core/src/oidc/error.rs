//! OAuth 2.0 / OpenID Connect errors, named after their RFC codes. The web layer decides how each
//! travels: a JSON body at the token endpoint, a redirect from `authorize`, a `WWW-Authenticate`
//! header at userinfo.

use crate::CoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The RFC 6749 / OIDC / RFC 6750 code, e.g. `invalid_grant`.
    pub code: &'static str,
    pub description: String,
}

macro_rules! codes {
    ($($name:ident),* $(,)?) => {
        impl OAuthError {
            $(
                pub fn $name(description: impl Into<String>) -> Self {
                    OAuthError { code: stringify!($name), description: description.into() }
                }
            )*
        }
    };
}

codes!(
    invalid_request,
    invalid_client,
    invalid_grant,
    unauthorized_client,
    unsupported_grant_type,
    unsupported_response_type,
    invalid_scope,
    access_denied,
    login_required,
    interaction_required,
    invalid_token,
    server_error,
    temporarily_unavailable,
);

impl From<CoreError> for OAuthError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                OAuthError::temporarily_unavailable("the service is unavailable; try again shortly")
            }
            CoreError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                OAuthError::server_error("an internal error occurred")
            }
            other => OAuthError::invalid_request(other.to_string()),
        }
    }
}

impl From<clavex_store::StoreError> for OAuthError {
    fn from(err: clavex_store::StoreError) -> Self {
        CoreError::from(err).into()
    }
}
