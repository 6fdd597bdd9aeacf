//! The real `clavex` binary, run as a process: administrative subcommands against a live server's
//! database, their failures and help, and `clavex serve` with its settings and signals.

mod admin_accounts;
mod commands;
mod config_check;
mod errors;
mod first_run;
mod healthcheck;
mod migrate_data;
mod serve;
pub mod support;
mod tls;
