//! `clavex-scale measure`: the figures that must stay flat from a small to a large database,
//! against a running server: whole sign-ins and token-endpoint throughput (through the
//! `clavex-bench` binary, which seeds its own small org through the Admin API) and Admin API list
//! pages of the seeded big org (here, see `lists`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::lists::{ListTiming, Lister};

#[derive(Debug, Clone)]
pub struct Options {
    pub label: String,
    pub url: String,
    pub admin_token: String,
    /// The `clavex-bench` binary.
    pub bench: PathBuf,
    /// The org whose users and clients are listed.
    pub org: String,
    pub signin_runs: usize,
    pub workloads: Vec<String>,
    pub connections: usize,
    pub seconds: f64,
    pub list_runs: usize,
    pub list_limit: u32,
    pub server_pid: Option<u32>,
    /// The `seed` summary of this database, carried into the result.
    pub seed: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadFigure {
    pub workload: String,
    pub connections: usize,
    pub ops_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub server_cpu_ms_per_op: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub label: String,
    /// /proc/loadavg's first three fields before the measurement.
    pub load_before: String,
    pub seed: Option<serde_json::Value>,
    /// How many rounds this result stands for (1 unless merged by `report`).
    #[serde(default = "one")]
    pub rounds: usize,
    pub signin_runs: usize,
    pub signin_median_ms: f64,
    pub signin_p90_ms: f64,
    pub load: Vec<LoadFigure>,
    pub lists: Vec<ListTiming>,
}

pub async fn run(opts: &Options) -> anyhow::Result<Measured> {
    let load_before = load_average();
    let seed = opts
        .seed
        .as_deref()
        .map(|p| -> anyhow::Result<serde_json::Value> {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the seed summary {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("parsing the seed summary {}", p.display()))
        })
        .transpose()?;

    // Lists first: they read the seeded org, before the workloads add rows elsewhere.
    let lister = Lister {
        http: reqwest::Client::builder()
            .build()
            .context("building the HTTP client")?,
        url: opts.url.clone(),
        admin_token: opts.admin_token.clone(),
        limit: opts.list_limit,
        runs: opts.list_runs,
    };
    eprintln!("[{}] list pages of {}", opts.label, opts.org);
    let lists = lister.measure(&opts.org).await?;

    eprintln!("[{}] sign-in, {} runs", opts.label, opts.signin_runs);
    let out = bench(opts, &["signin", "--runs", &opts.signin_runs.to_string()])?;
    let signin_median_ms = number_after(&out, "median ")?;
    let signin_p90_ms = number_after(&out, "p90 ")?;

    let mut load = Vec::new();
    for workload in &opts.workloads {
        eprintln!("[{}] {workload}", opts.label);
        let connections = opts.connections.to_string();
        let seconds = opts.seconds.to_string();
        let pid = opts.server_pid.map(|p| p.to_string());
        let mut args = vec![
            "load",
            "--workload",
            workload,
            "--connections",
            &connections,
            "--seconds",
            &seconds,
        ];
        if let Some(pid) = &pid {
            args.extend(["--server-pid", pid]);
        }
        let out = bench(opts, &args)?;
        load.push(LoadFigure {
            workload: workload.clone(),
            connections: opts.connections,
            ops_per_s: number_before(&out, " ops/s")?,
            p50_ms: number_after(&out, "p50 ")?,
            p99_ms: number_after(&out, "p99 ")?,
            errors: number_after(&out, "errors ")? as u64,
            server_cpu_ms_per_op: number_after(&out, "server CPU ").ok(),
        });
    }
    Ok(Measured {
        label: opts.label.clone(),
        load_before,
        seed,
        rounds: 1,
        signin_runs: opts.signin_runs,
        signin_median_ms,
        signin_p90_ms,
        load,
        lists,
    })
}

/// Runs `clavex-bench` with `args` against the server and returns what it printed. The token
/// goes through the environment, not the command line.
fn bench(opts: &Options, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(&opts.bench)
        .arg("--url")
        .arg(&opts.url)
        .args(args)
        .env("CLAVEX_BENCH_ADMIN_TOKEN", &opts.admin_token)
        .output()
        .with_context(|| format!("running {}", opts.bench.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "clavex-bench {} failed ({}): {}{}",
            args.join(" "),
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    eprintln!("  {}", stdout.trim());
    Ok(stdout)
}

/// The number right after `key` in `text` (e.g. `p50 ` in `p50 1.23 ms`).
fn number_after(text: &str, key: &str) -> anyhow::Result<f64> {
    let start = text
        .find(key)
        .with_context(|| format!("no {key:?} in clavex-bench's output: {text}"))?
        + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits
        .parse()
        .with_context(|| format!("no number after {key:?} in clavex-bench's output: {text}"))
}

/// The number right before `key` in `text` (e.g. ` ops/s` in `1234 ops/s`).
fn number_before(text: &str, key: &str) -> anyhow::Result<f64> {
    let end = text
        .find(key)
        .with_context(|| format!("no {key:?} in clavex-bench's output: {text}"))?;
    let start = text[..end].rfind(' ').map_or(0, |i| i + 1);
    text[start..end]
        .parse()
        .with_context(|| format!("no number before {key:?} in clavex-bench's output: {text}"))
}

fn one() -> usize {
    1
}

fn load_average() -> String {
    std::fs::read_to_string(Path::new("/proc/loadavg"))
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clavex_bench_lines() -> anyhow::Result<()> {
        let signin = "signin: 20 runs, median 35.3 ms, p90 43.7 ms, min 30.1 ms, max 50.0 ms\n";
        assert_eq!(number_after(signin, "median ")?, 35.3);
        assert_eq!(number_after(signin, "p90 ")?, 43.7);
        let load = "refresh at 16 connections for 5.0 s: 9000 ops, 1800 ops/s, 1.0 HTTP/op, \
                    p50 8.10 ms, p99 20.50 ms, errors 0, server CPU 0.400 ms/op\n";
        assert_eq!(number_before(load, " ops/s")?, 1800.0);
        assert_eq!(number_after(load, "p50 ")?, 8.1);
        assert_eq!(number_after(load, "p99 ")?, 20.5);
        assert_eq!(number_after(load, "errors ")?, 0.0);
        assert_eq!(number_after(load, "server CPU ")?, 0.4);
        assert!(number_after("nothing", "p50 ").is_err());
        Ok(())
    }
}
