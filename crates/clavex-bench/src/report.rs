//! `report`: joins the suites' JSON files and the Argon2id rate into one Markdown table and one
//! JSON file, prints the Markdown, and (with `--fail-on-errors`) fails when any run had an error
//! or no successful operation.

use std::{fmt::Write as _, path::PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::{Workload, argon2::Argon2Result, load::RunResult, suite::TargetResult};

#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub stamp: String,
    pub command: String,
    pub commit: Option<String>,
    pub machine: Machine,
    pub argon2: Option<Argon2Result>,
    pub targets: Vec<TargetResult>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub load_before: Option<String>,
    pub load_after: Option<String>,
}

pub struct Options {
    pub stamp: String,
    pub command: String,
    pub commit: Option<String>,
    pub load_before: Option<String>,
    pub argon2: Option<PathBuf>,
    pub notes: Vec<String>,
    pub targets: Vec<PathBuf>,
    pub out_dir: PathBuf,
    pub fail_on_errors: bool,
}

pub fn run(opts: Options) -> anyhow::Result<()> {
    let read = |p: &PathBuf| -> anyhow::Result<String> {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let mut targets = Vec::new();
    for p in &opts.targets {
        let t: TargetResult = serde_json::from_str(&read(p)?)
            .with_context(|| format!("{} is not a suite result", p.display()))?;
        targets.push(t);
    }
    let argon2 = match &opts.argon2 {
        Some(p) => Some(
            serde_json::from_str::<Argon2Result>(&read(p)?)
                .with_context(|| format!("{} is not an argon2 result", p.display()))?,
        ),
        None => None,
    };
    let report = Report {
        stamp: opts.stamp.clone(),
        command: opts.command.clone(),
        commit: opts.commit.clone(),
        machine: machine(opts.load_before.clone()),
        argon2,
        targets,
        notes: opts.notes.clone(),
    };
    let md = markdown(&report);
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("creating {}", opts.out_dir.display()))?;
    let base = opts.out_dir.join(&opts.stamp);
    let (md_path, json_path) = (base.with_extension("md"), base.with_extension("json"));
    std::fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    println!("{md}");
    println!("Written: {} and {}", md_path.display(), json_path.display());
    if opts.fail_on_errors {
        let failed: Vec<String> = report
            .targets
            .iter()
            .flat_map(|t| t.runs.iter().map(move |r| (t, r)))
            .filter(|(_, r)| r.errors > 0 || r.ops == 0)
            .map(|(t, r)| {
                format!(
                    "{} {} at {}: {} errors, {} ops{}",
                    t.label,
                    r.workload,
                    r.connections,
                    r.errors,
                    r.ops,
                    r.first_error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        if report.targets.is_empty() {
            bail!("no target was measured");
        }
        if !failed.is_empty() {
            bail!("{} run(s) failed:\n  {}", failed.len(), failed.join("\n  "));
        }
    }
    Ok(())
}

fn machine(load_before: Option<String>) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let load_after = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_gib: mem_kib / 1024.0 / 1024.0,
        load_before,
        load_after,
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn num(x: f64) -> String {
    if x >= 100.0 {
        // Thousands separated, as the docs write figures.
        let s = format!("{x:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The peer's run of the same workload at the same connection count.
fn peer_run<'a>(report: &'a Report, run: &RunResult) -> Option<&'a RunResult> {
    report
        .targets
        .iter()
        .filter(|t| t.kind == "peer")
        .flat_map(|t| t.runs.iter())
        .find(|r| r.workload == run.workload && r.connections == run.connections)
}

pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(md, "# Load benchmark {}\n", report.stamp);
    let _ = writeln!(
        md,
        "- Machine: {}, {} cores, {:.0} GiB; load average (1, 5, 15 min) before {}, after {}",
        m.cpu,
        m.cores,
        m.memory_gib,
        m.load_before.as_deref().unwrap_or("–"),
        m.load_after.as_deref().unwrap_or("–")
    );
    let _ = writeln!(md, "- Command: `{}`", report.command);
    if let Some(c) = &report.commit {
        let _ = writeln!(md, "- Commit: {c}");
    }
    for t in &report.targets {
        let _ = writeln!(md, "- `{}`: {}", t.label, t.description);
    }
    if let Some(a) = &report.argon2 {
        let _ = writeln!(
            md,
            "- Raw Argon2id (m={} KiB, t={}, p={}): **{:.1} hashes/s** on {} threads ({:.1} per thread), {:.1} CPU ms per hash",
            a.m_cost_kib,
            a.t_cost,
            a.p_cost,
            a.hashes_per_s,
            a.threads,
            a.hashes_per_s / a.threads as f64,
            a.cpu_ms_per_hash
        );
    }
    for n in &report.notes {
        let _ = writeln!(md, "- {n}");
    }

    let has_peer = report.targets.iter().any(|t| t.kind == "peer");
    let _ = writeln!(md, "\n## Throughput and latency\n");
    let _ = writeln!(
        md,
        "| workload | conns | target | ops/s | HTTP/op | p50 ms | p99 ms | errors | server CPU ms/op | bench CPU ms/op | peak RSS MiB |{}",
        if has_peer { " ×peer |" } else { "" }
    );
    let _ = writeln!(
        md,
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|{}",
        if has_peer { "---:|" } else { "" }
    );
    // Rows grouped by workload, then connections, then target, in the order measured.
    let mut keys: Vec<(String, usize)> = Vec::new();
    for t in &report.targets {
        for r in &t.runs {
            let k = (r.workload.clone(), r.connections);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let order = |w: &str| Workload::all().iter().position(|x| x.name() == w);
    keys.sort_by_key(|(w, c)| (order(w), *c));
    for (w, c) in &keys {
        for t in &report.targets {
            let Some(r) = t
                .runs
                .iter()
                .find(|r| &r.workload == w && r.connections == *c)
            else {
                continue;
            };
            let ratio = if t.kind == "peer" {
                "–".to_string()
            } else {
                match peer_run(report, r) {
                    Some(p) if p.ops_per_s > 0.0 && p.errors == 0 => {
                        format!("{:.2}", r.ops_per_s / p.ops_per_s)
                    }
                    _ => "n/a".to_string(),
                }
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {:.3} | {} |{}",
                w,
                c,
                t.label,
                num(r.ops_per_s),
                r.http_per_op,
                num(r.p50_ms),
                num(r.p99_ms),
                r.errors,
                r.server_cpu_ms_per_op
                    .map_or("–".into(), |x| format!("{x:.3}")),
                r.client_cpu_ms_per_op,
                mib(r.peak_rss_kib),
                if has_peer {
                    format!(" {ratio} |")
                } else {
                    String::new()
                }
            );
        }
    }

    let _ = writeln!(md, "\n## Memory\n");
    let _ = writeln!(md, "| target | idle RSS MiB | peak RSS MiB (VmHWM) |");
    let _ = writeln!(md, "|---|---:|---:|");
    for t in &report.targets {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            t.label,
            mib(t.idle_rss_kib),
            mib(t.peak_rss_kib)
        );
    }

    if let Some(a) = &report.argon2 {
        let _ = writeln!(md, "\n## Sign-ins against the raw Argon2id rate\n");
        let _ = writeln!(
            md,
            "One sign-in costs one Argon2id verification. The raw rate is {:.1} hashes/s on {} threads, \
             {:.1} CPU ms per hash. The CPU column compares what the server spent per sign-in with \
             one hash: on a machine shared with other work it moves less than the rate does.\n",
            a.hashes_per_s, a.threads, a.cpu_ms_per_hash
        );
        let _ = writeln!(
            md,
            "| target | conns | sign-ins/s | of the raw rate | server CPU ms/sign-in | of which one hash |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
        for t in &report.targets {
            for r in t
                .runs
                .iter()
                .filter(|r| r.workload == Workload::Signin.name())
            {
                let cpu = r.server_cpu_ms_per_op;
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.0} % | {} | {} |",
                    t.label,
                    r.connections,
                    num(r.ops_per_s),
                    100.0 * r.ops_per_s / a.hashes_per_s,
                    cpu.map_or("–".into(), |c| format!("{c:.1}")),
                    cpu.filter(|c| *c > 0.0).map_or("–".into(), |c| format!(
                        "{:.0} %",
                        100.0 * a.cpu_ms_per_hash / c
                    ))
                );
            }
        }
    }

    if has_peer {
        let _ = writeln!(md, "\n## Where the peer differs\n");
        for w in Workload::all() {
            if let Some(note) = w.peer_note() {
                let _ = writeln!(md, "- `{}`: {note}", w.name());
            }
        }
    }

    let failed: Vec<String> = report
        .targets
        .iter()
        .flat_map(|t| t.runs.iter().map(move |r| (t, r)))
        .filter_map(|(t, r)| {
            r.first_error.as_ref().map(|e| {
                format!(
                    "- {} {} at {}: {} errors; first: {e}",
                    t.label, r.workload, r.connections, r.errors
                )
            })
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(md, "\n## Errors\n\n{}", failed.join("\n"));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(workload: &str, connections: usize, ops_per_s: f64, errors: u64) -> RunResult {
        RunResult {
            workload: workload.into(),
            connections,
            seconds: 1.0,
            ops: ops_per_s as u64,
            errors,
            first_error: (errors > 0).then(|| "boom".to_string()),
            ops_per_s,
            http_per_op: 1.0,
            p50_ms: 1.0,
            p99_ms: 2.0,
            server_cpu_ms_per_op: Some(0.5),
            client_cpu_ms_per_op: 0.1,
            peak_rss_kib: Some(20480),
        }
    }

    fn target(label: &str, kind: &str, runs: Vec<RunResult>) -> TargetResult {
        TargetResult {
            label: label.into(),
            kind: kind.into(),
            description: "d".into(),
            server_pid: Some(1),
            idle_rss_kib: Some(10240),
            peak_rss_kib: Some(30720),
            runs,
        }
    }

    #[test]
    fn the_table_shows_ratios_to_the_peer_and_the_errors() {
        let report = Report {
            stamp: "s".into(),
            command: "bench/run".into(),
            commit: None,
            machine: machine(None),
            argon2: Some(Argon2Result {
                threads: 2,
                seconds: 1.0,
                hashes: 100,
                hashes_per_s: 100.0,
                cpu_ms_per_hash: 0.4,
                m_cost_kib: 19456,
                t_cost: 2,
                p_cost: 1,
            }),
            targets: vec![
                target(
                    "clavex-sqlite",
                    "clavex",
                    vec![run("signin", 1, 90.0, 0), run("discovery", 1, 30000.0, 3)],
                ),
                target(
                    "peer",
                    "peer",
                    vec![run("discovery", 1, 10000.0, 0), run("signin", 1, 45.0, 0)],
                ),
            ],
            notes: vec![],
        };
        let md = markdown(&report);
        // Discovery comes before sign-in whatever the order measured.
        let d = md
            .find("| discovery | 1 | clavex-sqlite | 30,000 |")
            .expect("row");
        assert!(d < md.find("| signin | 1 | clavex-sqlite |").expect("row"));
        assert!(md.contains("| 3 | 0.500 | 0.100 | 20.0 | 3.00 |"), "{md}");
        assert!(
            md.contains(
                "| signin | 1 | clavex-sqlite | 90.0 | 1.0 | 1.00 | 2.00 | 0 | 0.500 | 0.100 | 20.0 | 2.00 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| clavex-sqlite | 1 | 90.0 | 90 % | 0.5 | 80 % |"),
            "{md}"
        );
        assert!(md.contains("| peer | 10.0 | 30.0 |"), "{md}");
        assert!(
            md.contains("clavex-sqlite discovery at 1: 3 errors; first: boom"),
            "{md}"
        );
    }

    #[test]
    fn big_numbers_get_thousands_separators() {
        assert_eq!(num(1234567.4), "1,234,567");
        assert_eq!(num(999.6), "1,000");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(1.234), "1.23");
    }
}
