//! `clavex-scale`: does Clavex stay flat from a small to a large installation?
//!
//! - `seed`: writes orgs, clients and users straight into a database (migrated here), a million
//!   users in minutes rather than the hours the Admin API's Argon2id would take.
//! - `measure`: against a server on that database, whole sign-ins and token-endpoint throughput
//!   (through `clavex-bench`) and Admin API list pages of the seeded big org; JSON out.
//! - `report`: a small and a large `measure` result side by side, as a Markdown table.
//!
//! `bench/scale.sh` runs the three for a small and a large database in one command.

mod lists;
mod measure;
mod report;
mod seed;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "clavex-scale",
    about = "Seeds a large Clavex database and measures whether the server stays flat"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seeds a fresh database (migrating it first) with orgs, clients and users.
    Seed {
        /// `sqlite://PATH` or `postgres://...`, as CLAVEX_DATABASE_URL.
        #[arg(long, env = "CLAVEX_DATABASE_URL")]
        database_url: String,
        /// Base64 of 32 bytes; the server must run with the same CLAVEX_MASTER_KEY.
        #[arg(long, env = "CLAVEX_MASTER_KEY", hide_env_values = true)]
        master_key: String,
        #[arg(long, default_value_t = 10_000)]
        orgs: usize,
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        #[arg(long, default_value_t = 100_000)]
        clients: usize,
        /// Share of the users and clients that belong to the org `scale-big` (with one org, all
        /// of them).
        #[arg(long, default_value_t = 0.1)]
        big_share: f64,
        /// Where to write the summary as JSON.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measures sign-in, token throughput and list pages against a running server.
    Measure {
        /// Names the result (e.g. small, large).
        #[arg(long)]
        label: String,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, env = "CLAVEX_BENCH_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: String,
        /// The clavex-bench binary (default: beside this one).
        #[arg(long)]
        bench: Option<PathBuf>,
        /// The org whose users and clients are listed.
        #[arg(long, default_value = seed::BIG_ORG)]
        org: String,
        #[arg(long, default_value_t = 50)]
        signin_runs: usize,
        /// clavex-bench workloads for the token endpoint.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "client-credentials-rs256,client-credentials-es256,refresh"
        )]
        workloads: Vec<String>,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds per workload.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Timed fetches of each list page.
        #[arg(long, default_value_t = 50)]
        list_runs: usize,
        /// Rows per list page.
        #[arg(long, default_value_t = 50)]
        list_limit: u32,
        /// The server's pid, for its CPU time per operation.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The `seed --out` file of this database, carried into the result.
        #[arg(long)]
        seed: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prints `measure` results of a small and a large database as a Markdown table with ratios
    /// (several files per size: rounds, merged into their medians).
    Report {
        #[arg(long, num_args = 1.., required = true)]
        small: Vec<PathBuf>,
        #[arg(long, num_args = 1.., required = true)]
        large: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Seed {
            database_url,
            master_key,
            orgs,
            users,
            clients,
            big_share,
            out,
        } => {
            let seeded = seed::run(&seed::Options {
                database_url,
                master_key,
                orgs,
                users,
                clients,
                big_share,
            })
            .await?;
            println!("{seeded}");
            write_json(out.as_ref(), &seeded)?;
        }
        Command::Measure {
            label,
            url,
            admin_token,
            bench,
            org,
            signin_runs,
            workloads,
            connections,
            seconds,
            list_runs,
            list_limit,
            server_pid,
            seed,
            out,
        } => {
            anyhow::ensure!(
                seconds.is_finite() && seconds > 0.0,
                "--seconds must be a positive number"
            );
            anyhow::ensure!(
                (1..=200).contains(&list_limit),
                "--list-limit must be between 1 and 200"
            );
            anyhow::ensure!(
                signin_runs > 0 && list_runs > 0,
                "--signin-runs and --list-runs must be at least 1"
            );
            let bench = match bench {
                Some(b) => b,
                None => std::env::current_exe()
                    .context("locating this binary")?
                    .with_file_name("clavex-bench"),
            };
            let measured = measure::run(&measure::Options {
                label,
                url: url.trim_end_matches('/').to_string(),
                admin_token,
                bench,
                org,
                signin_runs,
                workloads,
                connections,
                seconds,
                list_runs,
                list_limit,
                server_pid,
                seed,
            })
            .await?;
            write_json(out.as_ref(), &measured)?;
        }
        Command::Report { small, large } => {
            let read = |files: &[PathBuf]| -> anyhow::Result<measure::Measured> {
                let rounds = files
                    .iter()
                    .map(|p| -> anyhow::Result<measure::Measured> {
                        let text = std::fs::read_to_string(p)
                            .with_context(|| format!("reading {}", p.display()))?;
                        serde_json::from_str(&text)
                            .with_context(|| format!("parsing {}", p.display()))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                report::merge(&rounds).context("no results to report")
            };
            print!("{}", report::markdown(&read(&small)?, &read(&large)?));
        }
    }
    Ok(())
}

fn write_json<T: serde::Serialize>(out: Option<&PathBuf>, value: &T) -> anyhow::Result<()> {
    if let Some(out) = out {
        std::fs::write(out, serde_json::to_vec_pretty(value)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
