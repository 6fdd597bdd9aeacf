//! Per-node caches of the configuration that nearly every protocol request reads: orgs by slug,
//! and clients with the hashes of their valid secrets. Without them a `client_credentials` grant
//! or a discovery request is one or two database round trips, which cost more than the request's
//! own work (docs/performance.md).
//!
//! Entries live for `TTL` of real time, like the signing keys in `oidc::keyring`: a change made
//! through another node or the CLI is seen within that time, and a change made through this
//! node's `Core` drops the entry at once. Only configuration is cached. Revocation state
//! (grants, revoked access tokens, users, sessions) is read from the database on every request,
//! so that revoking at one node is honoured by every other on its very next request
//! (tests/nodes/revocation.rs).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use clavex_store::{Client, ClientSecret, Org};

/// How long an entry is trusted before the store is asked again.
pub const TTL: Duration = Duration::from_secs(1);

/// Entries per cache before it is emptied and refilled from what is hot. An installation with
/// more orgs or clients than this still works; it only reads more often from the database.
const CAPACITY: usize = 10_000;

/// A map whose entries expire `TTL` after they were loaded. Misses are not cached: a name that
/// does not exist costs a lookup every time, and exists as soon as it is created.
pub struct TtlCache<K, V> {
    entries: RwLock<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> TtlCache<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let map = self.entries.read().ok()?;
        let (loaded, value) = map.get(key)?;
        (loaded.elapsed() < TTL).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(key, (Instant::now(), value));
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut map) = self.entries.write() {
            map.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.write() {
            map.clear();
        }
    }
}

/// A client with every secret that was valid when it was loaded; expiry is checked again at use.
pub struct CachedClient {
    pub client: Client,
    pub secrets: Vec<ClientSecret>,
}

impl std::ops::Deref for CachedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// The caches one `Core` keeps.
#[derive(Default)]
pub struct ConfigCache {
    /// Orgs by slug (slugs never change).
    pub orgs: TtlCache<String, Org>,
    /// Clients by (org id, client id).
    pub clients: TtlCache<(String, String), CachedClient>,
    /// Serialized discovery documents by org id.
    pub discovery: TtlCache<String, crate::oidc::discovery::DiscoveryDocument>,
}

impl ConfigCache {
    /// After a change to a client on this node.
    pub fn forget_client(&self, org_id: &str, client_id: &str) {
        self.clients
            .remove(&(org_id.to_string(), client_id.to_string()));
    }

    /// After a change to an org on this node: its clients and documents go with it.
    pub fn forget_org(&self, slug: &str) {
        self.orgs.remove(slug);
        self.clients.clear();
        self.discovery.clear();
    }
}

impl crate::Core {
    /// An org by slug for the protocol endpoints, from the cache or the store.
    pub async fn protocol_org(&self, slug: &str) -> crate::CoreResult<Option<Arc<Org>>> {
        if let Some(org) = self.cache.orgs.get(slug) {
            return Ok(Some(org));
        }
        let Some(org) = self.store.get_org_by_slug(slug).await? else {
            return Ok(None);
        };
        let org = Arc::new(org);
        self.cache.orgs.insert(slug.to_string(), org.clone());
        Ok(Some(org))
    }

    /// A client and its secret hashes for the protocol endpoints, from the cache or the store.
    pub async fn protocol_client(
        &self,
        org_id: &str,
        client_id: &str,
    ) -> crate::CoreResult<Option<Arc<CachedClient>>> {
        let key = (org_id.to_string(), client_id.to_string());
        if let Some(found) = self.cache.clients.get(&key) {
            return Ok(Some(found));
        }
        let Some(client) = self.store.get_client(org_id, client_id).await? else {
            return Ok(None);
        };
        let secrets = self
            .store
            .client_secrets(org_id, client_id, self.now())
            .await?;
        let found = Arc::new(CachedClient { client, secrets });
        self.cache.clients.insert(key, found.clone());
        Ok(Some(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_dropped() {
        let cache: TtlCache<String, u32> = TtlCache::default();
        assert!(cache.get("a").is_none());
        cache.insert("a".into(), Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        cache.remove("a");
        assert!(cache.get("a").is_none());
        cache.insert("b".into(), Arc::new(2));
        std::thread::sleep(TTL + Duration::from_millis(20));
        assert!(cache.get("b").is_none(), "an entry outlived its TTL");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache: TtlCache<u32, u32> = TtlCache::default();
        for i in 0..u32::try_from(CAPACITY).unwrap() {
            cache.insert(i, Arc::new(i));
        }
        cache.insert(u32::MAX, Arc::new(0));
        assert!(cache.get(&0).is_none());
        assert!(cache.get(&u32::MAX).is_some());
    }
}
