//! `depcache replay`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use depcache::tool::Policy;
use depcache::trace::{Sandbox, Trace};
use depcache_cli::real::{copy_tree, FsExecutor, RepoSessions};
use depcache_cli::replay::{replay, Executor, Mode, Options, Real, Report};
use depcache_cli::workload::{generate, Shape};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Trace files (JSON Lines, `.gz` too). None: the built-in workload.
    traces: Vec<PathBuf>,
    /// Worker threads (sessions run concurrently, one per worker).
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Cache capacity, in entries.
    #[arg(long, default_value_t = 10_000)]
    capacity: usize,
    /// Byte budget for cached outputs (keys and outputs weighed by length).
    #[arg(long)]
    max_bytes: Option<u64>,
    /// Time to live of cached results, in seconds.
    #[arg(long)]
    ttl: Option<f64>,
    /// A policy file (TOML, or JSON by extension) merged over the defaults.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Skip bad trace lines (and count them) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Run the calls for real against a copy of DIR (a fresh copy per mode),
    /// all sessions in one directory; every hit is checked against a fresh run.
    /// With the built-in workload, its synthetic repository is written into the
    /// copy. Sync mode (a watcher on the copy) and flush mode side by side.
    #[arg(long, value_name = "DIR", conflicts_with = "real_repos")]
    real: Option<PathBuf>,
    /// Run each session for real in a fresh copy of DIR/<session> (a
    /// repository at the version the session ran on), the trace's workspace
    /// mapped into it; every hit is checked against a fresh run. Sessions
    /// without a directory are skipped. See README "Replaying on real
    /// repositories".
    #[arg(long, value_name = "DIR")]
    real_repos: Option<PathBuf>,
    /// Real execution: longest a command may run, in seconds (its process
    /// group is killed then).
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Built-in workload: sessions.
    #[arg(long, default_value_t = 8)]
    sessions: usize,
    /// Built-in workload: calls per session.
    #[arg(long, default_value_t = 5_000)]
    calls: usize,
}

fn open(path: &Path, lenient: bool) -> Result<Trace, String> {
    let origin = path.display().to_string();
    let file = File::open(path).map_err(|e| format!("{origin}: cannot open: {e}"))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    Trace::parse(reader, &origin, lenient).map_err(|e| e.to_string())
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let shape = Shape {
        sessions: args.sessions,
        calls_per_session: args.calls,
        ..Shape::default()
    };
    for (flag, dir) in [("--real", &args.real), ("--real-repos", &args.real_repos)] {
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(format!("{flag} {}: not a directory", dir.display()));
            }
        }
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(format!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        ));
    }
    if args.real_repos.is_some() && args.traces.is_empty() {
        return Err("--real-repos needs a trace whose sessions name the directories".into());
    }
    let traces: Vec<Trace> = if args.traces.is_empty() {
        vec![generate(&shape)]
    } else {
        args.traces
            .iter()
            .map(|p| open(p, args.lenient))
            .collect::<Result<_, _>>()?
    };
    let skipped: usize = traces.iter().map(|t| t.skipped).sum();
    let mut policy = Policy::defaults();
    if let Some(p) = &args.policy {
        policy = policy.merged(Policy::load(p).map_err(|e| e.to_string())?);
    }
    if args.threads == 0 || args.capacity == 0 {
        return Err("--threads and --capacity must be at least 1".into());
    }
    let ttl = match args.ttl {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(format!("--ttl must be a positive number of seconds, got {t}"))
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    let total_calls: usize = traces.iter().map(|t| t.calls.len()).sum();
    let real = args.real.is_some() || args.real_repos.is_some();
    let modes: &[Mode] = if real { &Mode::REAL } else { &Mode::ALL };
    let timeout = Duration::from_secs_f64(args.timeout);
    let bar = ProgressBar::with_draw_target(Some((total_calls * modes.len()) as u64), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:18} [{bar:40}] {pos}/{len} calls ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut reports = Vec::new();
    for (i, &mode) in modes.iter().enumerate() {
        bar.set_message(mode.name());
        let opts = Options {
            threads: args.threads,
            capacity: args.capacity,
            max_bytes: args.max_bytes,
            ttl,
            policy: policy.clone(),
            mode,
            // Trace files: as their headers say. The built-in workload: agents sharing one repository.
            sandbox: args.traces.is_empty().then_some(Sandbox::Shared),
            real: None,
        };
        let workspace = PathBuf::from(&traces[0].header.workspace);
        // Real mode: a fresh copy of the directory for each mode.
        let copy = match &args.real {
            Some(dir) => {
                let copy = copy_tree(dir)?;
                if args.traces.is_empty() {
                    depcache_cli::workload::materialize(&shape, copy.path()).map_err(|e| e.to_string())?;
                }
                Some(copy)
            }
            None => None,
        };
        let real = match (&copy, &args.real_repos) {
            (Some(c), _) => Some(Real::Shared(Arc::new(FsExecutor::new(
                std::fs::canonicalize(c.path()).unwrap_or_else(|_| c.path().to_path_buf()),
                workspace,
                timeout,
            )) as Arc<dyn Executor>)),
            (None, Some(dir)) => Some(Real::PerSession(Arc::new(RepoSessions {
                dir: dir.clone(),
                workspace,
                timeout,
            }))),
            (None, None) => None,
        };
        let opts = Options { real, ..opts };
        let base = (i * total_calls) as u64;
        let progress = |n: usize| {
            if bar.is_hidden() && started.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.set_position(base + n as u64);
        };
        reports.push(replay(&traces, &opts, &progress));
    }
    bar.finish_and_clear();
    if args.json {
        let out = serde_json::json!({
            "traces": traces.iter().map(|t| t.header.source.clone().unwrap_or_default()).collect::<Vec<_>>(),
            "skipped_lines": skipped,
            "threads": args.threads,
            "capacity": args.capacity,
            "results": reports,
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else {
        print_table(&traces, &reports, skipped, &args);
    }
    let ours: u64 = reports
        .iter()
        .filter(|r| modes.iter().any(|m| m.is_depcache() && m.name() == r.mode))
        .map(|r| r.stale_serves)
        .sum();
    if ours > 0 {
        eprintln!("error: depcache served {ours} stale results");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(traces: &[Trace], reports: &[Report], skipped: usize, args: &Args) {
    let calls: usize = traces.iter().map(|t| t.calls.len()).sum();
    let sources: Vec<String> = traces
        .iter()
        .map(|t| t.header.source.clone().unwrap_or_else(|| "?".into()))
        .collect();
    println!(
        "depcache replay: {calls} calls from {} trace(s), {} threads, capacity {}",
        traces.len(),
        args.threads,
        args.capacity
    );
    for s in sources {
        println!("  {s}");
    }
    if skipped > 0 {
        println!("  {skipped} bad lines skipped (--lenient)");
    }
    println!();
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>11}",
        "policy",
        "calls",
        "lookups",
        "hits",
        "views",
        "ceiling",
        "reach",
        "hit%",
        "stale",
        "policy",
        "inval",
        "removed",
        "p50",
        "p99",
        "calls/s"
    );
    for r in reports {
        println!(
            "{:<20} {:>8} {:>8} {:>8} {:>6} {:>7} {:>7} {:>6.1}% {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>11.0}",
            r.mode,
            r.calls,
            r.lookups,
            r.hits,
            r.views,
            r.ceiling,
            r.reachable,
            100.0 * r.hit_ratio(),
            r.stale_serves,
            r.policy_reliant_hits,
            r.invalidations,
            r.entries_invalidated,
            ns(r.latency_ns[0]),
            ns(r.latency_ns[1]),
            r.calls_per_sec
        );
    }
    println!();
    println!("views = hits answered from file content seen before (part of hits); ceiling = cacheable");
    println!("calls whose recorded output equals the same call's previous one in its workspace;");
    println!("reach = those that no write or opaque call separates (servable without a watcher).");
    if args.real.is_some() || args.real_repos.is_some() {
        println!("stale = hits whose output differs from a fresh run of the call made right after");
        println!("(twice, to exclude output that varies by itself).");
    }
    println!("Replayed: stale = hits whose output differs from the recorded output (or, without recorded");
    println!("outputs, from a simulated file system that versions every path the built-in policy");
    println!("says a call writes); policy = hits stale by that model only through calls that the");
    println!("replayed policy alone declares harmless (they rely on the policy being right).");
    if args.real.is_some() || args.real_repos.is_some() {
        println!();
        for r in reports {
            println!(
                "{}: {} sessions ({} watched, {} without a directory); {} hits varied by themselves \
                 (not stale); {} network calls skipped, {} timed out; tools ran {:.1} s, hits saved {:.1} s",
                r.mode,
                sessions(traces),
                r.sessions_watched,
                r.sessions_missing,
                r.varying,
                r.skipped_network,
                r.timeouts,
                r.tool_seconds,
                r.saved_seconds
            );
        }
    } else if reports.iter().any(|r| r.saved_seconds > 0.0) {
        println!();
        for r in reports.iter().filter(|r| r.saved_seconds > 0.0) {
            println!(
                "{}: tools ran {:.1} s (durations recorded in the trace), hits saved {:.1} s",
                r.mode, r.tool_seconds, r.saved_seconds
            );
        }
    }
    for r in reports.iter().filter(|r| !r.stale_examples.is_empty()) {
        let ex: Vec<String> = r
            .stale_examples
            .iter()
            .map(|(s, l, t)| format!("{s}:{l} {t}"))
            .collect();
        println!("  {}: e.g. {}", r.mode, ex.join(", "));
    }
}

/// Distinct sessions over the traces.
fn sessions(traces: &[Trace]) -> usize {
    traces
        .iter()
        .map(|t| {
            t.calls
                .iter()
                .map(|c| c.session.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
        })
        .sum()
}

fn ns(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}ms", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.1}µs", n as f64 / 1e3)
    } else {
        format!("{n}ns")
    }
}
