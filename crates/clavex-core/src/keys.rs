//! Per-org signing keys: generation, sealing under the master key, listing and rotation.
//! Private keys leave this module only sealed; views carry the public JWK alone.

use clavex_crypto::signing::{self, Algorithm};
use clavex_store::SigningKeyRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Actor, Core, CoreError, CoreResult, views::rfc3339};

/// How long a new key is published before it signs.
pub const PUBLISH_LEAD_SECONDS: i64 = 5;

/// Parses an algorithm name as the API accepts it.
pub fn parse_algorithm(field: &str, value: &str) -> CoreResult<Algorithm> {
    value.parse::<Algorithm>().map_err(|_| {
        CoreError::invalid(
            field,
            format!("'{value}' is not one of RS256, ES256, EdDSA"),
        )
    })
}

/// Binds a sealed private key to its org and kid, so a blob copied to another row cannot be opened.
pub fn seal_aad(org_id: &str, kid: &str) -> Vec<u8> {
    format!("clavex-signing-key:{org_id}:{kid}").into_bytes()
}

impl Core {
    /// Generates a key pair (off the async runtime: RSA generation takes tens of milliseconds) and
    /// seals its private half.
    pub async fn generate_signing_key(
        &self,
        org_id: &str,
        alg: Algorithm,
        now: i64,
    ) -> CoreResult<SigningKeyRecord> {
        let generated = tokio::task::spawn_blocking(move || signing::generate(alg))
            .await
            .map_err(|e| CoreError::Internal(format!("key generation task failed: {e}")))??;
        let private_sealed = self
            .master_key
            .seal(&generated.private_der, &seal_aad(org_id, &generated.kid))?;
        Ok(SigningKeyRecord {
            kid: generated.kid,
            org_id: org_id.to_string(),
            alg: alg.as_str().to_string(),
            public_jwk: generated.public_jwk,
            private_sealed,
            created_at: now,
            active_from: now,
            retired_at: None,
            expires_at: None,
        })
    }

    pub async fn list_keys(&self, actor: &Actor, slug: &str) -> CoreResult<Vec<KeyView>> {
        let org = self.authorize_org(actor, slug).await?;
        let now = self.now();
        let keys = self.store.list_signing_keys(&org.id, now).await?;
        Ok(keys.into_iter().map(|k| KeyView::new(k, now)).collect())
    }

    /// Replaces the org's current key with a new one of the org's algorithm. The old key stays in
    /// the JWKS until every token it signed has expired.
    pub async fn rotate_keys(&self, actor: &Actor, slug: &str) -> CoreResult<KeyView> {
        let org = self.authorize_org(actor, slug).await?;
        let alg = parse_algorithm("signing_alg", &org.signing_alg)?;
        self.rotate_org_key(actor, &org.id, &org.slug, alg).await
    }

    pub(crate) async fn rotate_org_key(
        &self,
        actor: &Actor,
        org_id: &str,
        slug: &str,
        alg: Algorithm,
    ) -> CoreResult<KeyView> {
        let now = self.now();
        let mut key = self.generate_signing_key(org_id, alg, now).await?;
        // Published now, signing only after every node's cache and relying parties polling the
        // JWKS have had time to see it.
        key.active_from = now + PUBLISH_LEAD_SECONDS;
        let event = self.event(
            actor,
            Some(org_id),
            "key.rotated",
            slug,
            serde_json::json!({ "kid": key.kid, "alg": key.alg }),
        );
        self.store
            .rotate_signing_key(
                &key,
                key.active_from + self.settings.key_retention_seconds(),
                &event,
            )
            .await?;
        self.keyring.invalidate(org_id);
        Ok(KeyView::new(key, now))
    }
}

/// A signing key as the API shows it: public parts only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// `active` (signs new tokens), `next` (published, signs soon) or `retired` (verifies only).
    pub status: &'static str,
    pub created_at: String,
    pub active_from: String,
    pub retired_at: Option<String>,
    /// When the key leaves the JWKS.
    pub expires_at: Option<String>,
    #[schema(value_type = Object)]
    pub public_jwk: serde_json::Value,
}

impl KeyView {
    fn new(key: SigningKeyRecord, now: i64) -> Self {
        let status = match key.retired_at {
            Some(t) if t <= now => "retired",
            _ if key.active_from > now => "next",
            _ => "active",
        };
        KeyView {
            kid: key.kid,
            alg: key.alg,
            status,
            created_at: rfc3339(key.created_at),
            active_from: rfc3339(key.active_from),
            retired_at: key.retired_at.map(rfc3339),
            expires_at: key.expires_at.map(rfc3339),
            public_jwk: key.public_jwk,
        }
    }
}
