//! The storage conformance suite (`clavex_store::conformance`) run against the SQL backend: on
//! SQLite by default, on PostgreSQL with `CLAVEX_TEST_BACKEND=postgres`.

mod conformance;
