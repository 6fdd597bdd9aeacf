//! Per-node caches of the configuration that nearly every protocol request reads: orgs by slug,
//! and clients with the hashes of their valid secrets. Without them a `client_credentials` grant
//! or a discovery request is one or two database round trips, which cost more than the request's
//! own work (docs/performance.md).
//!
//! Entries live for `TTL` of real time, like the signing keys in `oidc::keyring`: a change made
//! through another node or the CLI is seen within that time, and a change made through this
//! node's `Core` drops the entry at once, and keeps a load that read the old row before the
//! change from putting it back (see [`Loading`]). Only configuration is cached. Revocation state
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

/// Taken before a value is read from the store and handed back with it to be cached: the value
/// is cached only if nothing was removed meanwhile. Without it a request that read a client just
/// before this node changed it could put the old row back after the change dropped it, and an
/// old secret or redirect URI would keep working for up to `TTL`.
#[derive(Debug, Clone, Copy)]
#[must_use = "a value loaded from the store is inserted with the Loading taken before the read"]
pub struct Loading {
    removals: u64,
}

/// A map behind a lock that counts the removals made through it, so that an insert can tell
/// whether one happened since its value was read ([`Loading`]). The count lives under the same
/// lock as the map: a removal is wholly before an insert's check or wholly after the insert.
pub(crate) struct Guarded<M> {
    inner: RwLock<Counted<M>>,
}

struct Counted<M> {
    map: M,
    removals: u64,
}

impl<M: Default> Default for Guarded<M> {
    fn default() -> Self {
        Guarded {
            inner: RwLock::new(Counted {
                map: M::default(),
                removals: 0,
            }),
        }
    }
}

impl<M> Guarded<M> {
    /// Reads the map; `None` if a panic poisoned the lock (the caller then loads afresh).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&M) -> Option<R>) -> Option<R> {
        f(&self.inner.read().ok()?.map)
    }

    /// Call before reading from the store what will be inserted.
    pub(crate) fn loading(&self) -> Loading {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Loading {
            removals: inner.removals,
        }
    }

    /// Changes the map with `f` unless something was removed since `loading` was taken: the
    /// value may then predate that change. Skipping costs one more read later; any removal
    /// counts, because changes are rare and a stale entry is worse.
    pub(crate) fn insert(&self, loading: Loading, f: impl FnOnce(&mut M)) {
        if let Ok(mut inner) = self.inner.write()
            && inner.removals == loading.removals
        {
            f(&mut inner.map);
        }
    }

    /// Removes with `f` and counts it, even after a panic elsewhere poisoned the lock: a
    /// change on this node must always drop what was cached before it.
    pub(crate) fn remove(&self, f: impl FnOnce(&mut M)) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.removals += 1;
        f(&mut inner.map);
    }
}

/// A map whose entries expire `TTL` after they were loaded. Misses are not cached: a name that
/// does not exist costs a lookup every time, and exists as soon as it is created.
pub struct TtlCache<K, V> {
    entries: Guarded<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache {
            entries: Guarded::default(),
        }
    }
}

impl<K: Eq + Hash, V> TtlCache<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.read(|map| {
            let (loaded, value) = map.get(key)?;
            (loaded.elapsed() < TTL).then(|| value.clone())
        })
    }

    /// Call before reading from the store what will be inserted.
    pub fn loading(&self) -> Loading {
        self.entries.loading()
    }

    /// Caches `value` under `key` unless an entry was removed (or the cache cleared) since
    /// `loading` was taken.
    pub fn insert(&self, key: K, value: Arc<V>, loading: Loading) {
        self.entries.insert(loading, |map| {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(key, (Instant::now(), value));
        });
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.remove(|map| {
            map.remove(key);
        });
    }

    pub fn clear(&self) {
        self.entries.remove(HashMap::clear);
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
        let loading = self.cache.orgs.loading();
        let Some(org) = self.store.get_org_by_slug(slug).await? else {
            return Ok(None);
        };
        let org = Arc::new(org);
        self.cache
            .orgs
            .insert(slug.to_string(), org.clone(), loading);
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
        let loading = self.cache.clients.loading();
        let Some(client) = self.store.get_client(org_id, client_id).await? else {
            return Ok(None);
        };
        let secrets = self
            .store
            .client_secrets(org_id, client_id, self.now())
            .await?;
        let found = Arc::new(CachedClient { client, secrets });
        self.cache.clients.insert(key, found.clone(), loading);
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
        cache.insert("a".into(), Arc::new(1), cache.loading());
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        cache.remove("a");
        assert!(cache.get("a").is_none());
        cache.insert("b".into(), Arc::new(2), cache.loading());
        std::thread::sleep(TTL + Duration::from_millis(20));
        assert!(cache.get("b").is_none(), "an entry outlived its TTL");
    }

    /// A load reads the old row, a change on this node drops the entry, then the load finishes:
    /// the old row must not come back. A load that began after the change is cached as usual.
    #[test]
    fn a_load_that_began_before_a_removal_is_not_cached() {
        let cache: TtlCache<String, &str> = TtlCache::default();
        let before_remove = cache.loading();
        let before_clear = cache.loading();
        cache.remove("client");
        cache.insert("client".into(), Arc::new("old secret"), before_remove);
        assert!(cache.get("client").is_none(), "a stale row was put back");

        let after = cache.loading();
        cache.clear();
        cache.insert("client".into(), Arc::new("old secret"), before_clear);
        cache.insert("client".into(), Arc::new("read before the clear"), after);
        assert!(
            cache.get("client").is_none(),
            "a stale row outlived clear()"
        );

        let fresh = cache.loading();
        cache.insert("client".into(), Arc::new("new secret"), fresh);
        assert_eq!(cache.get("client").as_deref(), Some(&"new secret"));
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache: TtlCache<u32, u32> = TtlCache::default();
        for i in 0..u32::try_from(CAPACITY).unwrap() {
            cache.insert(i, Arc::new(i), cache.loading());
        }
        cache.insert(u32::MAX, Arc::new(0), cache.loading());
        assert!(cache.get(&0).is_none());
        assert!(cache.get(&u32::MAX).is_some());
    }
}
