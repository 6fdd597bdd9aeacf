//! `clavex-bench`: measures a running Clavex server from outside, over HTTP, as clients would.
//!
//! - `signin`: the median wall time of one whole browser sign-in (authorize → sign-in form →
//!   code → token → userinfo), run one after another.
//! - `load`: requests per second and latency percentiles of one workload at N connections.
//! - `console`: render times and sizes of the Admin Console's users page for a large org.
//!
//! It seeds what it needs through the Admin API (orgs with random slugs; `console` reuses the
//! org `bench-console`), so it can run against any server it has a superadmin token for. Only
//! loopback targets are intended.

mod console;
mod flows;
mod load;
mod seed;
mod stats;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "clavex-bench", about = "Benchmarks a running Clavex server")]
struct Cli {
    /// Base URL of the server (its CLAVEX_PUBLIC_URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Address of one node of a cluster (repeat for each). Connections are spread over the
    /// nodes in turn; URLs under `--url` in redirects are sent to the connection's node. Default:
    /// `--url` itself.
    #[arg(long = "node")]
    nodes: Vec<String>,
    /// A superadmin API token.
    #[arg(long, env = "CLAVEX_BENCH_ADMIN_TOKEN")]
    admin_token: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Median wall time of whole sign-ins, one after another.
    Signin {
        #[arg(long, default_value_t = 100)]
        runs: usize,
    },
    /// Throughput and latency of one workload.
    Load {
        #[arg(long, value_enum)]
        workload: Workload,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Admin Console users page: median and p95 render times and page sizes at N users.
    Console {
        /// Users to seed in org `bench-console` (skipped when they are already there).
        #[arg(long, default_value_t = 100_000)]
        seed_users: usize,
        /// Concurrent Admin API requests while seeding.
        #[arg(long, default_value_t = 32)]
        seed_concurrency: usize,
        /// Timed requests per case.
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// "Next" links followed to reach the deep page.
        #[arg(long, default_value_t = 20)]
        deep_pages: usize,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Workload {
    Discovery,
    Jwks,
    ClientCredentialsRs256,
    ClientCredentialsEs256,
    Userinfo,
    Refresh,
    /// Whole password sign-ins (Argon2id bound), each in a fresh browser.
    Signin,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let target = std::sync::Arc::new(seed::Target::new(&cli.url, &cli.nodes, &cli.admin_token)?);
    match cli.command {
        Command::Signin { runs } => {
            let fixture = seed::signin_fixture(&target, "RS256").await?;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                times.push(flows::whole_signin(&target, &fixture).await?);
            }
            let summary = stats::Summary::of(&mut times);
            println!(
                "signin: {runs} runs, median {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
                ms(summary.p50),
                ms(summary.p90),
                ms(summary.min),
                ms(summary.max)
            );
        }
        Command::Load {
            workload,
            connections,
            seconds,
        } => {
            let report = load::run(
                target.clone(),
                workload,
                connections,
                Duration::from_secs(seconds),
            )
            .await?;
            println!("{report}");
        }
        Command::Console {
            seed_users,
            seed_concurrency,
            runs,
            deep_pages,
        } => {
            let options = console::Options {
                seed_users,
                seed_concurrency,
                runs,
                deep_pages,
            };
            console::run(&target, &options).await?;
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
