//! `depcache`: replay agent traces through the cache, and benchmark it.

mod real;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
