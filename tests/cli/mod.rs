//! The real `clavex` binary, run as a process: administrative subcommands against a live server's
//! database, their failures and help, and `clavex serve` with its settings and signals.

mod admin_accounts;
mod commands;
mod errors;
mod first_run;
mod migrate_data;
mod serve;
mod support;
