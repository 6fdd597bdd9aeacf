//! The one integration test binary. Folders mirror the URL tree (`api/` is `/api/v1/...`); `cli/`
//! runs the real `clavex` binary; `store/` runs the storage conformance suite. Every test starts
//! its own server over its own database (SQLite, or PostgreSQL with CLAVEX_TEST_BACKEND=postgres).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod api;
mod cli;
mod console;
mod docs;
mod health;
mod metrics;
mod nodes;
mod oidc;
mod store;
