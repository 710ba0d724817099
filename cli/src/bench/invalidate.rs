//! Invalidation by dependency: drop the 10 entries of one dependency among N.
//!
//! Entry k depends on `k / 10`. depcache follows its reverse index
//! (`invalidate(dep)`); the peers keep no dependencies, so their value is the
//! entry's dependency and they scan: moka registers an invalidation closure
//! (`invalidate_entries_if`) and is timed until `run_pending_tasks` has actually
//! removed the entries; quick_cache `retain`s. Each repetition re-inserts what it
//! removed, untimed. Repetitions are bounded by a time budget per cache and size
//! (at least `min_reps`), because the scans take milliseconds to seconds at 1e6.

use std::time::{Duration, Instant};

use depcache::Cache;

use super::measure::percentile;
use super::peers::Hasher;
use super::report::{InvalidateRun, Invalidation, DEPCACHE};
use super::BenchError;

/// Entries per dependency.
const PER_DEP: u64 = 10;

/// How many repetitions of one measurement.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub min_reps: usize,
    pub max_reps: usize,
    /// Wall time (timed and untimed parts) after which no repetition starts,
    /// once `min_reps` are done.
    pub secs: f64,
}

/// The dependencies visited: spread over the index by a stride.
struct Deps {
    next: u64,
    count: u64,
    stride: u64,
}

impl Deps {
    fn new(entries: u64) -> Self {
        let count = entries / PER_DEP;
        Deps {
            next: 0,
            count,
            stride: (7_919 % count).max(1),
        }
    }

    fn next(&mut self) -> u64 {
        self.next = (self.next + self.stride) % self.count;
        self.next
    }
}

/// Counts kept while repeating one measurement.
#[derive(Default)]
struct Tally {
    samples: Vec<Duration>,
    removed: u64,
    left_in_place: u64,
    wrong_len: u64,
}

impl Tally {
    fn finish(mut self, cache: &str, method: &str, wrong_count: Option<u64>) -> Invalidation {
        self.samples.sort_unstable();
        let reps = self.samples.len();
        Invalidation {
            cache: cache.to_string(),
            method: method.to_string(),
            reps,
            median_ns: percentile(&self.samples, 50.0).as_nanos() as u64,
            p99_ns: percentile(&self.samples, 99.0).as_nanos() as u64,
            expected_removed: reps as u64 * PER_DEP,
            removed: self.removed,
            left_in_place: self.left_in_place,
            wrong_len: self.wrong_len,
            wrong_count,
        }
    }
}

/// Repeats `rep(dep)` (which returns its timed part) within `budget`.
fn repeat(budget: Budget, entries: u64, mut rep: impl FnMut(u64) -> Duration) -> Vec<Duration> {
    let mut deps = Deps::new(entries);
    let started = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < budget.max_reps
        && (samples.len() < budget.min_reps || started.elapsed().as_secs_f64() < budget.secs)
    {
        samples.push(rep(deps.next()));
    }
    samples
}

fn keys_of(dep: u64) -> std::ops::Range<u64> {
    dep * PER_DEP..(dep + 1) * PER_DEP
}

fn depcache(n: u64, budget: Budget) -> Invalidation {
    let cache: Cache<u64, u64, u64> = Cache::new(n as usize);
    for k in 0..n {
        cache.insert(k, k / PER_DEP, [k / PER_DEP]);
    }
    let mut t = Tally::default();
    let mut wrong_count = 0;
    if cache.len() as u64 != n {
        t.wrong_len += 1;
    }
    let samples = repeat(budget, n, |d| {
        let start = Instant::now();
        let count = cache.invalidate(d);
        let took = start.elapsed();
        wrong_count += u64::from(count as u64 != PER_DEP);
        check(
            &mut t,
            n,
            cache.len() as u64,
            keys_of(d).map(|k| cache.contains_key(&k)),
        );
        for k in keys_of(d) {
            cache.insert(k, d, [d]);
        }
        took
    });
    t.samples = samples;
    t.finish(DEPCACHE, "invalidate(dep)", Some(wrong_count))
}

/// Records, after the timed part, which of the dependency's entries are gone
/// and whether the cache holds N - 10 entries.
fn check(t: &mut Tally, n: u64, len: u64, present: impl Iterator<Item = bool>) {
    for p in present {
        if p {
            t.left_in_place += 1;
        } else {
            t.removed += 1;
        }
    }
    t.wrong_len += u64::from(len != n - PER_DEP);
}

fn moka(n: u64, budget: Budget) -> Result<Invalidation, BenchError> {
    let cache: moka::sync::Cache<u64, u64, Hasher> = moka::sync::Cache::builder()
        .max_capacity(2 * n)
        .support_invalidation_closures()
        .build_with_hasher(Hasher::default());
    for k in 0..n {
        cache.insert(k, k / PER_DEP);
    }
    cache.run_pending_tasks();
    // Each `run_pending_tasks` scans one batch (a few hundred entries) of the
    // write-order queue for the registered closures.
    let scan_rounds = n / 384 + 3;
    let mut t = Tally::default();
    let mut error = None;
    let samples = repeat(budget, n, |d| {
        let start = Instant::now();
        if let Err(e) = cache.invalidate_entries_if(move |_, v| *v == d) {
            error.get_or_insert(e.to_string());
        }
        // Timed until the entries are actually removed.
        let mut rounds = 0;
        while cache.entry_count() != n - PER_DEP && rounds < 2 * scan_rounds {
            cache.run_pending_tasks();
            rounds += 1;
        }
        let took = start.elapsed();
        check(
            &mut t,
            n,
            cache.entry_count(),
            keys_of(d).map(|k| cache.contains_key(&k)),
        );
        // Untimed: let the scan finish so that the closure is retired before the
        // next one is registered, and remove by key whatever it left.
        for _ in 0..scan_rounds {
            cache.run_pending_tasks();
        }
        for k in keys_of(d) {
            cache.invalidate(&k);
            cache.insert(k, d);
        }
        cache.run_pending_tasks();
        took
    });
    if let Some(e) = error {
        return Err(BenchError::Sanity(format!("moka invalidate_entries_if: {e}")));
    }
    t.samples = samples;
    Ok(t.finish("moka", "invalidate_entries_if + run_pending_tasks", None))
}

fn quick_cache(n: u64, budget: Budget) -> Invalidation {
    let cache: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(2 * n as usize);
    for k in 0..n {
        cache.insert(k, k / PER_DEP);
    }
    let mut t = Tally::default();
    if cache.len() as u64 != n {
        t.wrong_len += 1;
    }
    let samples = repeat(budget, n, |d| {
        let start = Instant::now();
        cache.retain(|_, v| *v != d);
        let took = start.elapsed();
        check(
            &mut t,
            n,
            cache.len() as u64,
            keys_of(d).map(|k| cache.contains_key(&k)),
        );
        for k in keys_of(d) {
            cache.insert(k, d);
        }
        took
    });
    t.samples = samples;
    t.finish("quick_cache", "retain", None)
}

/// Measures every cache at each size.
pub fn run(sizes: &[usize], budget: Budget, mut progress: impl FnMut(&str)) -> Result<Vec<InvalidateRun>, BenchError> {
    let mut runs = Vec::new();
    for &n in sizes {
        let n64 = n as u64;
        progress(&format!("invalidate, depcache, N = {n}"));
        let ours = depcache(n64, budget);
        progress(&format!("invalidate, moka, N = {n}"));
        let moka = moka(n64, budget)?;
        progress(&format!("invalidate, quick_cache, N = {n}"));
        let quick = quick_cache(n64, budget);
        runs.push(InvalidateRun::new(n, vec![ours, moka, quick]));
    }
    Ok(runs)
}
