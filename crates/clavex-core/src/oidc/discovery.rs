//! OpenID Provider metadata (OIDC Discovery 1.0 and RFC 8414). It lists exactly what this
//! provider implements, nothing more.

use std::sync::Arc;

use bytes::Bytes;
use clavex_store::Org;
use serde_json::{Value, json};

use crate::{
    Core, CoreError, CoreResult,
    oidc::{
        claims::{CLAIMS_SUPPORTED, SCOPES_SUPPORTED},
        keyring::OrgKeys,
    },
};

/// A serialized discovery document and the keys it was made from.
pub struct DiscoveryDocument {
    keys: Arc<OrgKeys>,
    pub body: Bytes,
}

impl Core {
    /// The discovery document as sent: serialized once per org and kept until the org's keys
    /// change (its signing algorithm is in it) or the cache entry expires.
    pub async fn discovery_body(&self, org: &Org) -> CoreResult<Bytes> {
        let loading = self.cache.discovery.loading();
        let keys = self.org_keys(&org.id).await?;
        if let Some(doc) = self.cache.discovery.get(org.id.as_str())
            && Arc::ptr_eq(&doc.keys, &keys)
        {
            return Ok(doc.body.clone());
        }
        let body = serde_json::to_vec(&self.discovery_document(org, &keys)).map_err(|e| {
            CoreError::Internal(format!("cannot serialize the discovery document: {e}"))
        })?;
        let body = Bytes::from(body);
        self.cache.discovery.insert(
            org.id.clone(),
            Arc::new(DiscoveryDocument {
                keys,
                body: body.clone(),
            }),
            loading,
        );
        Ok(body)
    }

    /// The JWKS as sent, serialized when the keys were loaded.
    pub async fn jwks_body(&self, org: &Org) -> CoreResult<Bytes> {
        Ok(self.org_keys(&org.id).await?.jwks_body.clone())
    }

    fn discovery_document(&self, org: &Org, keys: &OrgKeys) -> Value {
        let issuer = self.issuer(&org.slug);
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        json!({
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
        })
    }
}
