//! OpenID Provider metadata (OIDC Discovery 1.0 and RFC 8414). It lists exactly what this
//! provider implements, nothing more.

use clavex_store::Org;
use serde_json::{Value, json};

use crate::{
    Core, CoreResult,
    oidc::claims::{CLAIMS_SUPPORTED, SCOPES_SUPPORTED},
};

impl Core {
    pub async fn discovery(&self, org: &Org) -> CoreResult<Value> {
        let issuer = self.issuer(&org.slug);
        let keys = self.org_keys(&org.id).await?;
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        Ok(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "jwks_uri": format!("{issuer}/jwks"),
            "revocation_endpoint": format!("{issuer}/revoke"),
            "introspection_endpoint": format!("{issuer}/introspect"),
            "end_session_endpoint": format!("{issuer}/logout"),
            "scopes_supported": SCOPES_SUPPORTED,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [keys.signing.alg().as_str()],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": CLAIMS_SUPPORTED,
            "prompt_values_supported": ["none", "login"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "ui_locales_supported": ["en"],
        }))
    }

    pub async fn jwks(&self, org: &Org) -> CoreResult<Value> {
        Ok(self.org_keys(&org.id).await?.jwks)
    }
}
