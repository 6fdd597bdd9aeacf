//! `suite`: every workload at every connection count against one target, with the server's
//! idle RSS (read first, before anything is seeded) and its CPU and memory during each run.
//! Writes one JSON file per target; `report` joins them.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{Workload, load, load::RunResult, procfs::Process, seed::Target};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetResult {
    /// e.g. `clavex-sqlite`, `clavex-postgres`, `peer`.
    pub label: String,
    /// `clavex` or `peer`.
    pub kind: String,
    /// What the target is, in words (version, storage).
    pub description: String,
    pub server_pid: Option<u32>,
    /// RSS after start-up, before seeding and load.
    pub idle_rss_kib: Option<u64>,
    /// `VmHWM` after the last run: the largest RSS the process ever had.
    pub peak_rss_kib: Option<u64>,
    pub runs: Vec<RunResult>,
}

pub struct Options {
    pub label: String,
    pub description: String,
    pub server_pid: Option<u32>,
    pub workloads: Vec<Workload>,
    pub connections: Vec<usize>,
    pub seconds: f64,
    pub out: Option<PathBuf>,
}

pub async fn run(target: Arc<Target>, opts: Options) -> anyhow::Result<TargetResult> {
    anyhow::ensure!(opts.seconds > 0.0, "--seconds must be more than 0");
    let server = opts.server_pid.map(Process::pid).transpose()?;
    let idle_rss_kib = server.as_ref().map(Process::rss_kib).transpose()?;
    let mut runs = Vec::new();
    for &workload in &opts.workloads {
        for &connections in &opts.connections {
            let result = load::run(
                target.clone(),
                workload,
                connections,
                Duration::from_secs_f64(opts.seconds),
                server.as_ref(),
            )
            .await;
            // A workload that cannot even be prepared is recorded as a failed run, so the
            // report shows it and the other workloads still run.
            let result = result.unwrap_or_else(|e| RunResult {
                workload: workload.name(),
                connections,
                seconds: 0.0,
                ops: 0,
                errors: 1,
                first_error: Some(format!("{e:#}")),
                ops_per_s: 0.0,
                http_per_op: 0.0,
                p50_ms: 0.0,
                p99_ms: 0.0,
                server_cpu_ms_per_op: None,
                client_cpu_ms_per_op: 0.0,
                peak_rss_kib: None,
            });
            eprintln!("[{}] {result}", opts.label);
            runs.push(result);
        }
    }
    let peak_rss_kib = server.as_ref().map(Process::hwm_kib).transpose()?;
    let result = TargetResult {
        label: opts.label,
        kind: if target.peer.is_some() {
            "peer"
        } else {
            "clavex"
        }
        .into(),
        description: opts.description,
        server_pid: opts.server_pid,
        idle_rss_kib,
        peak_rss_kib,
        runs,
    };
    if let Some(out) = &opts.out {
        std::fs::write(out, serde_json::to_vec_pretty(&result)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(result)
}
