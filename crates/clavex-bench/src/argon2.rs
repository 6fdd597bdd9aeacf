//! `argon2`: the machine's raw Argon2id rate at Clavex's parameters (m=19456 KiB, t=2, p=1), one
//! thread per core hashing back to back through clavex-crypto, as the server's blocking pool would.
//! A sign-in costs one verification, which costs what one hash does, so sign-ins/s divided by this
//! rate says how close the whole flow comes to the hashing limit.

use std::{
    thread,
    time::{Duration, Instant},
};

use anyhow::Context;
use clavex_crypto::password;
use serde::{Deserialize, Serialize};

use crate::procfs::Process;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Argon2Result {
    pub threads: usize,
    pub seconds: f64,
    pub hashes: u64,
    pub hashes_per_s: f64,
    /// CPU time per hash: unlike the rate, barely moved by other work on the machine.
    pub cpu_ms_per_hash: f64,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl std::fmt::Display for Argon2Result {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "argon2id m={} t={} p={}: {} hashes on {} threads in {:.1} s: {:.1} hashes/s ({:.1} per thread), {:.1} CPU ms per hash",
            self.m_cost_kib,
            self.t_cost,
            self.p_cost,
            self.hashes,
            self.threads,
            self.seconds,
            self.hashes_per_s,
            self.hashes_per_s / self.threads as f64,
            self.cpu_ms_per_hash
        )
    }
}

/// Hashes on `threads` threads (default: the cores) for `duration`.
pub fn measure(threads: Option<usize>, duration: Duration) -> anyhow::Result<Argon2Result> {
    let threads = match threads {
        Some(n) => n,
        None => thread::available_parallelism()
            .context("counting the cores")?
            .get(),
    };
    anyhow::ensure!(threads > 0, "--threads must be at least 1");
    let me = Process::current();
    let cpu_before = me.cpu_ms()?;
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            thread::spawn(move || -> anyhow::Result<u64> {
                let mut n = 0;
                while Instant::now() < deadline {
                    password::hash_password(&format!("bench-password-{i}-{n}"))?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut hashes = 0;
    for w in workers {
        hashes += w
            .join()
            .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu = me.cpu_ms()? - cpu_before;
    Ok(Argon2Result {
        threads,
        seconds,
        hashes,
        hashes_per_s: hashes as f64 / seconds,
        cpu_ms_per_hash: if hashes == 0 {
            0.0
        } else {
            cpu / hashes as f64
        },
        m_cost_kib: password::M_COST_KIB,
        t_cost: password::T_COST,
        p_cost: password::P_COST,
    })
}
