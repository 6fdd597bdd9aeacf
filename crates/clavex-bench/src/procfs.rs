//! CPU time and memory of a process (the server under load, or the load generator itself), read
//! from Linux's /proc. CPU is `utime + stime` of /proc/<pid>/stat, which counts every thread the
//! process has had, including blocking-pool threads that have since exited.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, bail};

#[derive(Debug, Clone)]
pub struct Process {
    /// `self` or a pid.
    dir: String,
    ticks_per_second: f64,
}

impl Process {
    pub fn pid(pid: u32) -> anyhow::Result<Process> {
        let p = Process {
            dir: format!("/proc/{pid}"),
            ticks_per_second: ticks_per_second(),
        };
        p.cpu_ms()
            .with_context(|| format!("process {pid} cannot be measured (is it running?)"))?;
        Ok(p)
    }

    pub fn current() -> Process {
        Process {
            dir: "/proc/self".into(),
            ticks_per_second: ticks_per_second(),
        }
    }

    /// User plus system CPU time so far, in milliseconds.
    pub fn cpu_ms(&self) -> anyhow::Result<f64> {
        let path = format!("{}/stat", self.dir);
        let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .with_context(|| format!("{path}: no ')'"))?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        let tick = |i: usize| -> anyhow::Result<f64> {
            Ok(fields
                .get(i)
                .with_context(|| format!("{path}: too few fields"))?
                .parse::<u64>()
                .with_context(|| format!("{path}: field {} is not a number", i + 3))?
                as f64)
        };
        Ok((tick(11)? + tick(12)?) * 1000.0 / self.ticks_per_second)
    }

    /// Resident set size now (`VmRSS`), KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmRSS")
    }

    /// Peak resident set size since start (`VmHWM`), KiB.
    pub fn hwm_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmHWM")
    }

    fn status_kib(&self, key: &str) -> anyhow::Result<u64> {
        let path = format!("{}/status", self.dir);
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        for line in status.lines() {
            if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
                let kib = rest.trim().trim_end_matches("kB").trim();
                return kib
                    .parse()
                    .with_context(|| format!("{path}: {key} is not a number"));
            }
        }
        bail!("{path} has no {key}")
    }
}

/// USER_HZ: `getconf CLK_TCK`, which is 100 on every Linux this runs on (the fallback).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Samples a process's RSS every 10 ms until stopped; `stop` returns the largest seen (KiB).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(process: Process) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(process.rss_kib().unwrap_or(0)));
        let task = tokio::spawn({
            let (stop, max) = (stop.clone(), max.clone());
            async move {
                let mut tick = tokio::time::interval(Duration::from_millis(10));
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    if let Ok(rss) = process.rss_kib() {
                        max.fetch_max(rss, Ordering::Relaxed);
                    }
                }
            }
        });
        RssSampler { stop, max, task }
    }

    pub async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.max.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_and_memory() {
        let me = Process::current();
        let before = me.cpu_ms().expect("cpu");
        // Burn CPU until the counter moves (one tick is 10 ms); give up after 10 s.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        let mut after = before;
        while after <= before && start.elapsed() < Duration::from_secs(10) {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            after = me.cpu_ms().expect("cpu");
        }
        assert!(x != 7);
        assert!(after > before, "utime + stime never moved");
        let rss = me.rss_kib().expect("rss");
        assert!(rss > 0 && me.hwm_kib().expect("hwm") >= rss);
        assert!(Process::pid(u32::MAX).is_err());
    }
}
