//! `depcache`: replay agent traces through the cache, and benchmark it.

mod bench;
mod replay_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What would this cache do for my agent, and can I trust it?
#[derive(Parser)]
#[command(name = "depcache", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay depcache-trace/1 files (or, with none, the built-in workload) and
    /// report hits, stale serves, invalidations and latency, side by side with
    /// no cache and naive policies.
    Replay(replay_cmd::Args),
    /// Compare depcache with moka, quick_cache, papaya and LRU in one process:
    /// get-hit and Zipf-mix throughput, invalidation by dependency at 1e3..1e6
    /// entries, hit ratio on the classic traces; printed as ratios.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay_cmd::run(args),
        Command::Bench(args) => bench::run(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
