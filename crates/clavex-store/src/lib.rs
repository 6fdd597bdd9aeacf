//! The storage contract of Clavex and its SQL backend.
//!
//! `records` holds plain rows, `Store` (in `contract`) describes every operation, `StoreError` what can
//! go wrong, `conformance` is the suite every backend must pass, and `sql` implements the contract on
//! SQLite and PostgreSQL through one portable code path. Nothing here knows about HTTP or validation:
//! callers hand in rows that are already valid.

pub mod conformance;
mod contract;
mod error;
mod grant_records;
mod observe;
mod page;
mod records;
mod sql;

pub use contract::{
    AdminTokenStore, ClientStore, ConsoleStore, EventStore, GrantStore, GroupStore, KeyStore,
    MaintenanceStore, OrgStore, SignInStore, Store, UserStore,
};
pub use error::StoreError;
pub use grant_records::*;
pub use observe::{PoolStatus, QueryObserver};
pub use page::{Page, PageRequest};
pub use records::*;
pub use sql::{Backend, SqlStore};
