//! A per-node cache of each org's keys, parsed once: the key that signs now, and every key still
//! published for verification. Entries are re-read from the store after `REFRESH_SECONDS`, so a
//! rotation on another node is seen within that time.

use std::{collections::HashMap, sync::Arc};

use clavex_crypto::signing::{SigningKey, VerifyingKey};
use clavex_store::SigningKeyRecord;

use crate::{
    Core, CoreError, CoreResult,
    cache::{Guarded, Loading},
    keys::seal_aad,
};

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
    /// Guarded, so that a load that read the keys before a rotation on this node does not put
    /// them back after it (see [`Loading`]).
    entries: Guarded<HashMap<String, Entry>>,
}

impl Keyring {
    /// Forgets an org's keys (after a rotation on this node).
    pub fn invalidate(&self, org_id: &str) {
        self.entries.remove(|map| {
            map.remove(org_id);
        });
    }

    fn cached(&self, org_id: &str, now: i64) -> Option<Arc<OrgKeys>> {
        self.entries.read(|map| {
            let entry = map.get(org_id)?;
            (now - entry.loaded_at < REFRESH_SECONDS && entry.loaded_at <= now)
                .then(|| entry.keys.clone())
        })
    }

    /// Keeps `keys` unless an entry was invalidated since `loading` was taken.
    fn store(&self, org_id: &str, now: i64, keys: Arc<OrgKeys>, loading: Loading) {
        self.entries.insert(loading, |map| {
            map.insert(
                org_id.to_string(),
                Entry {
                    loaded_at: now,
                    keys,
                },
            );
        });
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
        let loading = self.keyring.entries.loading();
        let records = self.store.list_signing_keys(org_id, now).await?;
        let keys = Arc::new(self.build_org_keys(org_id, &records, now)?);
        self.keyring.store(org_id, now, keys.clone(), loading);
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

#[cfg(test)]
mod tests {
    use clavex_crypto::signing::{Algorithm, generate};

    use super::*;

    fn keys() -> Arc<OrgKeys> {
        let key = generate(Algorithm::EdDSA).unwrap();
        let signing = SigningKey::from_pkcs8(key.kid.clone(), key.alg, &key.private_der).unwrap();
        Arc::new(OrgKeys {
            verifying: vec![signing.verifying_key()],
            signing,
            jwks_body: bytes::Bytes::new(),
            algs: vec!["EdDSA"],
        })
    }

    /// A load read the keys, a rotation on this node invalidated them, then the load finished:
    /// the keys it read (perhaps without the new one) must not be cached.
    #[test]
    fn keys_read_before_a_rotation_are_not_cached() {
        let ring = Keyring::default();
        let before = ring.entries.loading();
        ring.invalidate("org");
        ring.store("org", 100, keys(), before);
        assert!(
            ring.cached("org", 100).is_none(),
            "stale keys were put back"
        );

        ring.store("org", 100, keys(), ring.entries.loading());
        assert!(ring.cached("org", 100).is_some());
        assert!(ring.cached("org", 100 + REFRESH_SECONDS).is_none());
    }
}
