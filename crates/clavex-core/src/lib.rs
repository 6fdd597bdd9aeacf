//! The domain of Clavex: organizations, users, groups, OAuth clients, admin tokens, signing keys and
//! the audit trail, with every validation rule and permission check.
//!
//! The Admin API, the CLI and the Admin Console all call these functions, so they cannot disagree.
//! Nothing here knows about HTTP; time comes from the `Clock`, never from the system directly.

pub mod actor;
pub mod admin_tokens;
pub mod cache;
pub mod clients;
pub mod clock;
pub mod console;
mod error;
pub mod events;
pub mod first_run;
pub mod groups;
pub mod keys;
pub mod maintenance;
pub mod metrics;
pub mod oidc;
pub mod orgs;
pub mod pagination;
pub mod users;
pub mod validate;
mod views;

use std::sync::Arc;

pub use actor::{Actor, Principal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CoreError, CoreResult};
pub use views::rfc3339;

use clavex_crypto::master_key::MasterKey;
use clavex_store::Store;

/// What the domain needs from configuration.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// The public URL without a trailing slash; an org's issuer is `{public_url}/{slug}`.
    pub public_url: String,
    pub access_token_ttl_seconds: i64,
    pub id_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub session_ttl_seconds: i64,
    /// How long audit events are kept; `None` keeps them forever.
    pub audit_retention_seconds: Option<i64>,
    /// Record every issued token as `token.issued`.
    pub audit_token_events: bool,
}

impl CoreSettings {
    /// How long a retired signing key stays published: until every token it signed has expired.
    pub fn key_retention_seconds(&self) -> i64 {
        self.access_token_ttl_seconds.max(self.id_token_ttl_seconds) + 60
    }
}

/// The domain services over one store. Cheap to clone; pass it explicitly, never as a global.
///
/// One shared allocation behind one reference count: every request clones it several times
/// (axum's state extractors, middleware, tasks), and with each part counted on its own those
/// clones and drops were eight contended atomic updates each, 3-4 % of the server's CPU on
/// userinfo (docs/performance.md).
#[derive(Clone)]
pub struct Core(Arc<CoreParts>);

/// What a [`Core`] holds; reached through it by `Deref` (`core.store`).
#[derive(Clone)]
pub struct CoreParts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub master_key: Arc<MasterKey>,
    pub settings: Arc<CoreSettings>,
    /// Parsed signing and verifying keys per org, refreshed from the store within a second.
    pub keyring: Arc<oidc::keyring::Keyring>,
    /// Orgs, clients and documents that protocol requests read, kept for a second.
    pub cache: Arc<cache::ConfigCache>,
    /// Bounds concurrent Argon2id work to the number of cores, so sign-ins queue instead of
    /// starving every other request of CPU.
    pub password_gate: Arc<tokio::sync::Semaphore>,
    pub metrics: Arc<metrics::Metrics>,
}

impl Core {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
        settings: CoreSettings,
    ) -> Self {
        let started_at = clock.now();
        Core(Arc::new(CoreParts {
            store,
            clock,
            master_key: Arc::new(master_key),
            settings: Arc::new(settings),
            keyring: Arc::new(oidc::keyring::Keyring::default()),
            cache: Arc::new(cache::ConfigCache::default()),
            password_gate: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            metrics: Arc::new(metrics::Metrics::new(
                metrics::MetricsOptions::default(),
                started_at,
            )),
        }))
    }

    /// Uses `metrics` (made from the settings, and perhaps shared with the store) instead of
    /// the default ones.
    pub fn with_metrics(mut self, metrics: Arc<metrics::Metrics>) -> Self {
        Arc::make_mut(&mut self.0).metrics = metrics;
        self
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn issuer(&self, slug: &str) -> String {
        format!("{}/{slug}", self.settings.public_url)
    }
}

impl std::ops::Deref for Core {
    type Target = CoreParts;

    fn deref(&self) -> &CoreParts {
        &self.0
    }
}

/// A fresh random identifier for rows (users' ids are their `sub`, so they must never repeat).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
