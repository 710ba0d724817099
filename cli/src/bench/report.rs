//! What `depcache bench` measured: the data behind the table, the JSON and the
//! charts. Ratios compare depcache with each peer measured in the same run.

use std::collections::BTreeMap;

use serde::Serialize;

/// The name depcache's own results go by.
pub const DEPCACHE: &str = "depcache";

/// Everything one run measured.
#[derive(Serialize, Default)]
pub struct Report {
    pub machine: Machine,
    pub settings: Settings,
    /// Get-hit throughput, one entry per thread count.
    pub get_hit: Vec<ThroughputRun>,
    /// Zipf cache-aside mix, one entry per thread count.
    pub zipf: Vec<ThroughputRun>,
    /// Inserts into a full cache, one entry per thread count.
    pub insert: Vec<ThroughputRun>,
    /// Invalidation by dependency, one entry per cache size.
    pub invalidate: Vec<InvalidateRun>,
    /// Hit ratio on the classic traces, one entry per trace and size.
    pub classic: Vec<ClassicRun>,
}

/// Where it ran.
#[derive(Serialize, Default)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub os: String,
    /// `/proc/loadavg` (1, 5, 15 minutes) when the run started, if known.
    pub load_average: Option<[f64; 3]>,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_string(), |(_, v)| v.trim().to_string());
        let load_average = std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| {
            let v: Vec<f64> = s.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
            <[f64; 3]>::try_from(v).ok()
        });
        Machine {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            load_average,
        }
    }
}

/// The knobs of the run.
#[derive(Serialize, Default, Clone)]
pub struct Settings {
    pub quick: bool,
    pub threads: Vec<usize>,
    pub sizes: Vec<usize>,
    /// Seconds of each throughput measurement.
    pub secs: f64,
    /// Time budget of each invalidation measurement (one cache, one size).
    pub invalidate_budget_secs: f64,
    /// Entries preloaded for the get-hit comparison.
    pub get_hit_entries: u64,
    /// Zipf mix: keys drawn from this many, exponent `zipf_s`, into caches of `zipf_capacity`.
    pub zipf_keys: u64,
    pub zipf_s: f64,
    pub zipf_capacity: u64,
    /// Inserts: keys drawn uniformly from twice this capacity, into a full cache.
    pub insert_capacity: u64,
}

/// One cache's throughput (and, for the Zipf mix, hit ratio).
#[derive(Serialize, Clone)]
pub struct Throughput {
    pub cache: String,
    pub ops_per_sec: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
}

/// Every cache at one thread count.
#[derive(Serialize)]
pub struct ThroughputRun {
    pub threads: usize,
    pub results: Vec<Throughput>,
    /// depcache's throughput over each peer's (> 1: depcache is faster).
    pub ratios: BTreeMap<String, f64>,
    /// The same for depcache without dependencies, where it ran.
    pub no_dep_ratios: BTreeMap<String, f64>,
}

impl ThroughputRun {
    pub fn new(threads: usize, results: Vec<Throughput>) -> Self {
        let ratios = ratios_of(&results, DEPCACHE);
        let no_dep_ratios = ratios_of(&results, NO_DEP);
        ThroughputRun {
            threads,
            results,
            ratios,
            no_dep_ratios,
        }
    }
}

/// The name of depcache's results without dependencies (the insert comparison).
pub const NO_DEP: &str = "depcache, no dependency";

/// `ours`'s throughput over each peer's (> 1: `ours` is faster); empty if
/// `ours` did not run.
fn ratios_of(results: &[Throughput], ours: &str) -> BTreeMap<String, f64> {
    let Some(ours) = results.iter().find(|r| r.cache == ours).map(|r| r.ops_per_sec) else {
        return BTreeMap::new();
    };
    results
        .iter()
        .filter(|r| !r.cache.starts_with(DEPCACHE))
        .map(|r| (r.cache.clone(), ours / r.ops_per_sec))
        .filter(|(_, x)| x.is_finite())
        .collect()
}

/// One cache's invalidations at one size.
#[derive(Serialize, Clone)]
pub struct Invalidation {
    pub cache: String,
    /// How it drops the entries of one dependency.
    pub method: String,
    pub reps: usize,
    pub median_ns: u64,
    pub p99_ns: u64,
    /// Entries that had to go: 10 per repetition.
    pub expected_removed: u64,
    /// Of those, entries checked gone (not found by a lookup) right after the
    /// timed part.
    pub removed: u64,
    /// Entries still found after the timed part (removed by key, untimed).
    pub left_in_place: u64,
    /// Repetitions after which the cache did not hold exactly N - 10 entries.
    pub wrong_len: u64,
    /// depcache only: repetitions where `invalidate` did not return 10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrong_count: Option<u64>,
}

/// Every cache at one size.
#[derive(Serialize)]
pub struct InvalidateRun {
    pub entries: usize,
    pub results: Vec<Invalidation>,
    /// Each peer's median latency over depcache's (> 1: depcache is faster).
    pub ratios: BTreeMap<String, f64>,
}

impl InvalidateRun {
    pub fn new(entries: usize, results: Vec<Invalidation>) -> Self {
        let ours = results
            .iter()
            .find(|r| r.cache == DEPCACHE)
            .map(|r| r.median_ns.max(1) as f64);
        let ratios = results
            .iter()
            .filter(|r| r.cache != DEPCACHE)
            .filter_map(|r| Some((r.cache.clone(), r.median_ns.max(1) as f64 / ours?)))
            .collect();
        InvalidateRun {
            entries,
            results,
            ratios,
        }
    }
}

/// One classic trace at one cache size.
#[derive(Serialize)]
pub struct ClassicRun {
    pub trace: String,
    pub size: usize,
    /// The size as a fraction of the footprint (`25%`), or empty.
    pub of_footprint: String,
    pub refs: u64,
    pub footprint: usize,
    /// Hit ratio (0..=1) per cache.
    pub hit_ratio: BTreeMap<String, f64>,
    /// depcache's hit ratio minus each peer's, in percentage points.
    pub points_vs: BTreeMap<String, f64>,
}
