//! Test kit: a real Clavex server on 127.0.0.1:0 over a fresh database, with a clock the test moves
//! and an HTTP client ready to call it.
//!
//! The backend comes from `CLAVEX_TEST_BACKEND` (`sqlite`, the default, or `postgres`). PostgreSQL
//! tests each get their own database on `CLAVEX_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends. A PostgreSQL that
//! cannot be reached fails the test: it never silently skips.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit reports set-up failures by panicking the test"
)]

mod database;
pub mod log_capture;
mod server;

pub use database::{Backend, TestDatabase};
pub use server::{TestResponse, TestServer};
