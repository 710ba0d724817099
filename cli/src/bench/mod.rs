//! `depcache bench`: the headline comparisons with moka, quick_cache, papaya and
//! LRU in one process, printed as ratios measured in the same run.

mod gets;
mod inserts;
mod invalidate;
mod measure;
mod peers;
mod plot;
mod report;
mod table;
mod traces;
mod zipf;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use report::{Machine, Report, Settings};

/// The comparisons `--only` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// Get-hit throughput.
    Gets,
    /// Zipf get / insert-on-miss throughput and hit ratio.
    Zipf,
    /// Insert throughput in a full cache, with and without a dependency.
    Inserts,
    /// Invalidation by dependency at each `--sizes`.
    Invalidate,
    /// Hit ratio on the classic traces.
    Classic,
}

#[derive(clap::Args)]
pub struct Args {
    /// Thread counts of the throughput comparisons, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_threads, default_value = "1,2")]
    threads: Vec<usize>,
    /// Cache sizes of the invalidation comparison, comma-separated: multiples of 10
    /// from 100 to 1e7, written 100000 or 1e5 [default: 1e3,1e4,1e5,1e6; --quick: 1e3,1e4].
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    sizes: Option<Vec<usize>>,
    /// Seconds of each throughput measurement (3 interleaved windows, the best
    /// counts); each invalidation measurement gets twice that as its budget
    /// [default: 1; --quick: 0.1].
    #[arg(long, value_parser = parse_secs)]
    secs: Option<f64>,
    /// Small sizes, short measurements and fewer trace sizes (a few seconds).
    #[arg(long)]
    quick: bool,
    /// Run only these comparisons, comma-separated.
    #[arg(long, value_delimiter = ',', value_enum)]
    only: Vec<Section>,
    /// Directory holding the classic traces [default: the repository's testdata/classic].
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
    /// Print the results as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write SVG charts into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
}

/// Why a benchmark run stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("classic trace {path}: {source}", path = path.display())]
    Trace { path: PathBuf, source: std::io::Error },
    #[error(
        "no classic trace {file} in {dir}: pass --traces DIR (the repository's testdata/classic)",
        dir = dir.display()
    )]
    TracesMissing { dir: PathBuf, file: &'static str },
    #[error("--plot: {path}: {message}", path = path.display())]
    Plot { path: PathBuf, message: String },
    /// A cache did not behave as the measurement assumes (a bug, not bad input).
    #[error("sanity check failed: {0}")]
    Sanity(String),
    #[error("cannot print JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        Ok(n) => Err(format!("{n} threads: must be from 1 to 256")),
        Err(_) => Err(format!("{s:?} is not a thread count")),
    }
}

/// A cache size: an integer or `1eN`, a multiple of 10 from 100 to 1e7.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let n = match t.split_once(['e', 'E']) {
        Some((m, e)) => match (m.parse::<u64>(), e.parse::<u32>()) {
            (Ok(m), Ok(e)) if e <= 12 => m.checked_mul(10u64.pow(e)),
            _ => None,
        },
        None => t.parse::<u64>().ok(),
    }
    .ok_or_else(|| format!("{s:?} is not a number of entries (e.g. 10000 or 1e4)"))?;
    if !(100..=10_000_000).contains(&n) || n % 10 != 0 {
        return Err(format!("{n} entries: must be a multiple of 10 from 100 to 1e7"));
    }
    Ok(n as usize)
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.001..=600.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?}: must be a number of seconds from 0.001 to 600")),
    }
}

/// A spinner on stderr once the run has taken more than a second.
struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    fn step(&self, msg: &str) {
        if self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
        self.bar.set_message(msg.to_string());
    }
}

pub fn run(args: Args) -> Result<ExitCode, BenchError> {
    if let Some(dir) = &args.plot {
        plot::prepare(dir)?;
    }
    let wants = |s: Section| args.only.is_empty() || args.only.contains(&s);
    let secs = args.secs.unwrap_or(if args.quick { 0.1 } else { 1.0 });
    let sizes = args.sizes.clone().unwrap_or_else(|| {
        if args.quick {
            vec![1_000, 10_000]
        } else {
            vec![1_000, 10_000, 100_000, 1_000_000]
        }
    });
    let mut threads: Vec<usize> = Vec::new();
    for &t in &args.threads {
        if !threads.contains(&t) {
            threads.push(t);
        }
    }
    let budget = invalidate::Budget {
        min_reps: if args.quick { 2 } else { 3 },
        max_reps: 2_000,
        secs: 2.0 * secs,
    };
    let mut report = Report {
        machine: Machine::detect(),
        settings: Settings {
            quick: args.quick,
            threads: threads.clone(),
            sizes: sizes.clone(),
            secs,
            invalidate_budget_secs: budget.secs,
            get_hit_entries: gets::ENTRIES,
            zipf_keys: zipf::KEYS,
            zipf_s: zipf::S,
            zipf_capacity: zipf::CAPACITY,
            insert_capacity: inserts::CAPACITY,
        },
        ..Report::default()
    };
    let progress = Progress::new();
    let step = |m: &str| progress.step(m);
    if wants(Section::Gets) {
        report.get_hit = gets::run(&threads, secs, step)?;
    }
    if wants(Section::Zipf) {
        report.zipf = zipf::run(&threads, secs, step)?;
    }
    if wants(Section::Inserts) {
        report.insert = inserts::run(&threads, secs, step)?;
    }
    if wants(Section::Invalidate) {
        report.invalidate = invalidate::run(&sizes, budget, step)?;
    }
    if wants(Section::Classic) {
        let dir = args.traces.clone().unwrap_or_else(depcache_cli::classic::classic_dir);
        report.classic = traces::run(&dir, args.quick, step)?;
    }
    progress.bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table::render(&report));
    }
    if let Some(dir) = &args.plot {
        for path in plot::write(&report, dir)? {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_are_checked() {
        assert_eq!(parse_size("1e3"), Ok(1000));
        assert_eq!(parse_size("100000"), Ok(100_000));
        assert_eq!(parse_size("1E6"), Ok(1_000_000));
        assert!(parse_size("abc").unwrap_err().contains("not a number of entries"));
        assert!(parse_size("1e99").is_err());
        assert!(parse_size("55").unwrap_err().contains("multiple of 10"));
        assert!(parse_size("1005").is_err());
        assert!(parse_size("1e8").is_err());
    }

    #[test]
    fn threads_and_secs_are_checked() {
        assert_eq!(parse_threads("2"), Ok(2));
        assert!(parse_threads("0").unwrap_err().contains("from 1 to 256"));
        assert!(parse_threads("x").is_err());
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("nan").is_err());
        assert!(parse_secs("inf").is_err());
        assert_eq!(parse_secs("0.05"), Ok(0.05));
    }
}
