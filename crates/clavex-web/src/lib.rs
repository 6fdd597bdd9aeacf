//! HTTP for Clavex: the route table (`router`), the Admin API handlers (`api`), the OpenAPI
//! document, health endpoints and the server loop. Handlers are thin: they parse, authenticate,
//! call one `clavex_core` function and map its result.

pub mod api;
pub mod boot;
pub mod client_addr;
mod console;
mod error;
mod extract;
mod health;
pub mod metrics;
pub mod oidc;
pub mod openapi;
mod pages;
mod request_log;
mod router;
mod server;
pub mod tls;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use clavex_config::TrustedProxies;
use clavex_core::Core;

pub use error::ApiError;
pub use router::router;
pub use server::{serve, serve_tls};

/// Everything a handler can reach. Passed explicitly; there is no global state.
///
/// One reference count to clone, like [`Core`]: axum clones the state for every extractor and
/// middleware of every request.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// What an [`AppState`] holds; reached through it by `Deref` (`state.core`).
#[derive(Clone)]
pub struct AppParts {
    pub core: Core,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed (see `client_addr`); empty by default.
    pub trusted_proxies: Arc<TrustedProxies>,
    draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(core: Core, max_body_bytes: usize) -> Self {
        AppState(Arc::new(AppParts {
            core,
            max_body_bytes,
            trusted_proxies: Arc::default(),
            draining: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// Believes `X-Forwarded-For` from these peers (`CLAVEX_TRUSTED_PROXIES`).
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        Arc::make_mut(&mut self.0).trusted_proxies = Arc::new(proxies);
        self
    }

    /// From now on `/readyz` answers 503 so that load balancers stop sending traffic.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}
