//! Several `clavex serve` processes on one database: what one node writes, every other node
//! honours, and races between nodes are decided by the database.

mod config_cache;
mod faults;
mod flows;
mod keys;
mod log_secrets;
mod pg_instance;
mod races;
mod revocation;
mod startup;
mod support;
