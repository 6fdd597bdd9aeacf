//! `clavex-bench`: measures a running Clavex server (or a peer provider) from outside, over
//! HTTP, as clients would.
//!
//! - `signin`: the median wall time of one whole browser sign-in (authorize → sign-in form →
//!   code → token), run one after another.
//! - `load`: operations per second and latency percentiles of one workload at N connections.
//! - `suite`: every workload at every connection count, with the server's CPU and memory (its
//!   pid), written as JSON; `report` joins suites into a Markdown table and a JSON file.
//! - `argon2`: the machine's raw Argon2id hash rate at Clavex's parameters.
//! - `console`: render times and sizes of the Admin Console's users page for a large org.
//!
//! Against Clavex it seeds what it needs through the Admin API (orgs with random slugs; `console`
//! reuses the org `bench-console`), so it can run against any server it has a superadmin token
//! for. Against a peer (`--peer FILE`) it uses the clients and user that FILE names. Endpoints
//! come from discovery documents either way. Only loopback targets are intended; bench/run
//! starts the servers and runs the whole comparison.

mod argon2;
mod console;
mod flows;
mod load;
mod procfs;
mod raw;
mod report;
mod seed;
mod stats;
mod suite;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "clavex-bench",
    about = "Benchmarks a running Clavex server or a peer provider"
)]
struct Cli {
    /// Base URL of the server (its CLAVEX_PUBLIC_URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Address of one node of a cluster (repeat for each). Connections are spread over the
    /// nodes in turn; URLs under `--url` in redirects are sent to the connection's node. Default:
    /// `--url` itself.
    #[arg(long = "node")]
    nodes: Vec<String>,
    /// A superadmin API token (needed for Clavex, not with --peer).
    #[arg(long, env = "CLAVEX_BENCH_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Measure a peer provider instead of Clavex: FILE (written by bench/peer/server.mjs) names
    /// its issuer, clients and user. `--url` is then ignored.
    #[arg(long, value_name = "FILE")]
    peer: Option<PathBuf>,
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
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// The server's pid, to report its CPU time per operation and peak RSS.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Every workload at every connection count, with the server's CPU and memory; JSON out.
    Suite {
        /// Names the target in the report (e.g. clavex-sqlite, peer).
        #[arg(long)]
        label: String,
        /// What the target is, in words, for the report.
        #[arg(long, default_value = "")]
        description: String,
        /// The server's pid: idle RSS, CPU per operation and peak RSS come from /proc/<pid>.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Workloads, comma-separated (default: all, in the order of the report).
        #[arg(long, value_enum, value_delimiter = ',')]
        workloads: Vec<Workload>,
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        connections: Vec<usize>,
        /// Seconds per workload and connection count.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Where to write the JSON result.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The machine's raw Argon2id rate at Clavex's parameters, one thread per core.
    Argon2 {
        /// Threads hashing at once (default: the cores).
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Where to write the JSON result.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Joins suite results into `<out-dir>/<stamp>.md` and `.json` and prints the Markdown.
    Report {
        /// Names the files, e.g. 20261130T101500Z.
        #[arg(long)]
        stamp: String,
        /// The command that produced the results, quoted in the report.
        #[arg(long)]
        command: String,
        #[arg(long)]
        commit: Option<String>,
        /// /proc/loadavg's first three fields when the run began.
        #[arg(long)]
        load_before: Option<String>,
        /// The `argon2 --out` file.
        #[arg(long)]
        argon2: Option<PathBuf>,
        /// A line for the report's header (repeatable).
        #[arg(long = "note")]
        notes: Vec<String>,
        #[arg(long, default_value = "bench/results")]
        out_dir: PathBuf,
        /// Exit non-zero if any run had an error or no successful operation.
        #[arg(long)]
        fail_on_errors: bool,
        /// `suite --out` files.
        #[arg(required = true)]
        targets: Vec<PathBuf>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// GET the discovery document.
    Discovery,
    /// GET the JWKS.
    Jwks,
    /// client_credentials grants, JWT access tokens signed RS256.
    ClientCredentialsRs256,
    /// client_credentials grants, JWT access tokens signed ES256.
    ClientCredentialsEs256,
    /// GET userinfo with one access token.
    Userinfo,
    /// Refresh-token rotation, one token family per connection.
    Refresh,
    /// authorize with an SSO session (no form) → code → token exchange; the session cookie is
    /// obtained once per connection.
    CodeWithSession,
    /// Whole password sign-ins (Argon2id bound), each in a fresh browser.
    Signin,
}

impl Workload {
    /// Every workload, in the order suites run them and reports list them.
    pub fn all() -> &'static [Workload] {
        Workload::value_variants()
    }

    /// The command-line name, also used in results.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_else(|| format!("{self:?}"))
    }

    /// Where the peer cannot run this workload exactly as Clavex does.
    pub fn peer_note(self) -> Option<&'static str> {
        match self {
            Workload::Userinfo => Some(
                "the peer's userinfo accepts only opaque access tokens (issued without a resource \
                 indicator, client `app-ui`), looked up in memory; Clavex's are JWTs whose \
                 signature it checks and whose grant and user it reads from the database",
            ),
            Workload::Refresh | Workload::CodeWithSession => Some(
                "both sign an RS256 ID token and an RS256 JWT access token per token response; \
                 the peer keeps codes, grants and refresh tokens in memory, Clavex writes them \
                 to the database",
            ),
            Workload::Signin => Some(
                "the peer's flow has one more redirect (the interaction resumes at /auth/<uid>), \
                 so 5 HTTP requests against Clavex's 4; its Argon2id runs on libuv's 4 threads \
                 (npm `argon2`), Clavex's on its blocking pool behind a semaphore of one per core",
            ),
            _ => None,
        }
    }
}

fn target(cli: &Cli) -> anyhow::Result<Arc<seed::Target>> {
    let peer = cli
        .peer
        .as_deref()
        .map(seed::PeerFixture::load)
        .transpose()?;
    Ok(Arc::new(seed::Target::new(
        &cli.url,
        &cli.nodes,
        cli.admin_token.as_deref(),
        peer,
    )?))
}

fn seconds(s: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        s.is_finite() && s > 0.0,
        "--seconds must be a positive number"
    );
    Ok(Duration::from_secs_f64(s))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Signin { runs } => {
            let target = target(&cli)?;
            let fixture = target.signin_fixture().await?;
            let mut times = Vec::with_capacity(*runs);
            for _ in 0..*runs {
                times.push(flows::timed_sign_in(&target, &fixture).await?);
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
            seconds: s,
            server_pid,
        } => {
            let server = server_pid.map(procfs::Process::pid).transpose()?;
            let result = load::run(
                target(&cli)?,
                *workload,
                *connections,
                seconds(*s)?,
                server.as_ref(),
            )
            .await?;
            println!("{result}");
        }
        Command::Suite {
            label,
            description,
            server_pid,
            workloads,
            connections,
            seconds: s,
            out,
        } => {
            seconds(*s)?;
            anyhow::ensure!(
                !connections.is_empty() && !connections.contains(&0),
                "--connections must list counts of at least 1"
            );
            let opts = suite::Options {
                label: label.clone(),
                description: description.clone(),
                server_pid: *server_pid,
                workloads: if workloads.is_empty() {
                    Workload::all().to_vec()
                } else {
                    workloads.clone()
                },
                connections: connections.clone(),
                seconds: *s,
                out: out.clone(),
            };
            suite::run(target(&cli)?, opts).await?;
        }
        Command::Argon2 {
            threads,
            seconds: s,
            out,
        } => {
            let duration = seconds(*s)?;
            let threads = *threads;
            let result = tokio::task::spawn_blocking(move || argon2::measure(threads, duration))
                .await
                .context("the argon2 measurement panicked")??;
            println!("{result}");
            if let Some(out) = out {
                std::fs::write(out, serde_json::to_vec_pretty(&result)?)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
        }
        Command::Report {
            stamp,
            command,
            commit,
            load_before,
            argon2,
            notes,
            out_dir,
            fail_on_errors,
            targets,
        } => report::run(report::Options {
            stamp: stamp.clone(),
            command: command.clone(),
            commit: commit.clone(),
            load_before: load_before.clone(),
            argon2: argon2.clone(),
            notes: notes.clone(),
            targets: targets.clone(),
            out_dir: out_dir.clone(),
            fail_on_errors: *fail_on_errors,
        })?,
        Command::Console {
            seed_users,
            seed_concurrency,
            runs,
            deep_pages,
        } => {
            let options = console::Options {
                seed_users: *seed_users,
                seed_concurrency: *seed_concurrency,
                runs: *runs,
                deep_pages: *deep_pages,
            };
            let target = target(&cli)?;
            anyhow::ensure!(
                target.peer.is_none(),
                "console measures Clavex only, not --peer"
            );
            console::run(&target, &options).await?;
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
