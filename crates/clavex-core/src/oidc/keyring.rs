//! A per-node cache of each org's keys, parsed once: the key that signs now, and every key still
//! published for verification. Entries are re-read from the store after `REFRESH_SECONDS`, so a
//! rotation on another node is seen within that time.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use clavex_crypto::signing::{SigningKey, VerifyingKey};
use clavex_store::SigningKeyRecord;

use crate::{Core, CoreError, CoreResult, keys::seal_aad};

/// How long a cached entry is trusted before the store is asked again.
pub const REFRESH_SECONDS: i64 = 1;

pub struct OrgKeys {
    /// The key new tokens are signed with.
    pub signing: SigningKey,
    /// Every published key (current, next and retired-but-valid), for verification.
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialized once, as the JWKS endpoint sends it.
    pub jwks_body: bytes::Bytes,
    /// Algorithms of the published keys.
    pub algs: Vec<&'static str>,
}

struct Entry {
    loaded_at: i64,
    keys: Arc<OrgKeys>,
}

#[derive(Default)]
pub struct Keyring {
    entries: RwLock<HashMap<String, Entry>>,
}

impl Keyring {
    /// Forgets an org's keys (after a rotation on this node).
    pub fn invalidate(&self, org_id: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.remove(org_id);
        }
    }

    fn cached(&self, org_id: &str, now: i64) -> Option<Arc<OrgKeys>> {
        let map = self.entries.read().ok()?;
        let entry = map.get(org_id)?;
        (now - entry.loaded_at < REFRESH_SECONDS && entry.loaded_at <= now)
            .then(|| entry.keys.clone())
    }

    fn store(&self, org_id: &str, now: i64, keys: Arc<OrgKeys>) {
        if let Ok(mut map) = self.entries.write() {
            map.insert(
                org_id.to_string(),
                Entry {
                    loaded_at: now,
                    keys,
                },
            );
        }
    }
}

impl Core {
    /// The org's keys, from the cache or freshly loaded. A new `Arc` means new keys: callers
    /// may key derived documents on it.
    pub async fn org_keys(&self, org_id: &str) -> CoreResult<Arc<OrgKeys>> {
        let now = self.now();
        if let Some(keys) = self.keyring.cached(org_id, now) {
            return Ok(keys);
        }
        let records = self.store.list_signing_keys(org_id, now).await?;
        let keys = Arc::new(self.build_org_keys(org_id, &records, now)?);
        self.keyring.store(org_id, now, keys.clone());
        Ok(keys)
    }

    fn build_org_keys(
        &self,
        org_id: &str,
        records: &[SigningKeyRecord],
        now: i64,
    ) -> CoreResult<OrgKeys> {
        // Newest first: the first key that is active now signs.
        let current = records
            .iter()
            .find(|k| k.active_from <= now && k.retired_at.is_none_or(|t| t > now))
            .or_else(|| records.iter().find(|k| k.active_from <= now))
            .ok_or_else(|| {
                CoreError::Internal(format!("org {org_id} has no usable signing key"))
            })?;
        let alg = crate::keys::parse_algorithm("alg", &current.alg)?;
        let der = self
            .master_key
            .open(&current.private_sealed, &seal_aad(org_id, &current.kid))
            .map_err(|e| {
                CoreError::Internal(format!(
                    "cannot unseal signing key {} of org {org_id} (is this the installation's master key?): {e}",
                    current.kid
                ))
            })?;
        let signing = SigningKey::from_pkcs8(current.kid.clone(), alg, &der)?;
        let verifying = records
            .iter()
            .map(|k| VerifyingKey::from_jwk(&k.public_jwk))
            .collect::<Result<Vec<_>, _>>()?;
        let jwks = serde_json::json!({
            "keys": verifying.iter().map(|k| k.to_jwk().clone()).collect::<Vec<_>>()
        });
        let jwks_body = bytes::Bytes::from(serde_json::to_vec(&jwks).map_err(|e| {
            CoreError::Internal(format!("cannot serialize the JWKS of org {org_id}: {e}"))
        })?);
        let mut algs: Vec<&'static str> = verifying.iter().map(|k| k.alg().as_str()).collect();
        algs.sort_unstable();
        algs.dedup();
        Ok(OrgKeys {
            signing,
            verifying,
            jwks_body,
            algs,
        })
    }
}
