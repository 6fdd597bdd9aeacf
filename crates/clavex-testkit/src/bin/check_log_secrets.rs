//! `check-log-secrets DIR [--min-secrets N]`: fails when any log a test run captured in DIR
//! (see `clavex_testkit::log_capture`) contains any secret the run used. It also fails when the
//! folder holds too few secrets or no log at all, so that a run that captured nothing cannot pass.

use std::{path::PathBuf, process::ExitCode};

use clavex_testkit::log_capture;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: check-log-secrets DIR [--min-secrets N]");
        return ExitCode::from(2);
    };
    let min_secrets = match (args.next().as_deref(), args.next()) {
        (Some("--min-secrets"), Some(n)) => match n.parse::<usize>() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("--min-secrets {n}: {e}");
                return ExitCode::from(2);
            }
        },
        (None, _) => 1000,
        _ => {
            eprintln!("usage: check-log-secrets DIR [--min-secrets N]");
            return ExitCode::from(2);
        }
    };
    let findings = match log_capture::search(&dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "searched {} log files ({} MB) for {} secrets the tests used",
        findings.log_files,
        findings.log_bytes / 1_000_000,
        findings.secrets
    );
    if findings.secrets < min_secrets || findings.log_files == 0 || findings.log_bytes == 0 {
        eprintln!(
            "too little captured to prove anything (want at least {min_secrets} secrets and some logs)"
        );
        return ExitCode::FAILURE;
    }
    if findings.leaks.is_empty() {
        println!("no secret appears in any log");
        return ExitCode::SUCCESS;
    }
    eprintln!("{} secret(s) found in logs:", findings.leaks.len());
    for (file, secret, line) in findings.leaks.iter().take(50) {
        eprintln!("  {file}: {secret}\n    {line}");
    }
    ExitCode::FAILURE
}
