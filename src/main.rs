//! `clavex`: the OpenID Connect provider binary. `serve` runs the server; every other subcommand
//! works on the same database through the same core functions, for scripts and first set-up.

mod cli;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // The blocking pool runs CPU work (Argon2id, at most one per core; RSA signatures) and a
    // little file I/O. Tokio's default of up to 512 threads let bursts of signatures start a
    // thread each, and every thread kept its stack and malloc arena: 50 threads and 15 MiB more
    // resident under load. Four per core keeps the cores busy and the memory flat.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads((cores * 4).max(8))
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
