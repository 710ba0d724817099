//! Get-hit throughput: depcache (`get`, and `pin().get`) against moka,
//! quick_cache and a raw papaya map (the ceiling: the map depcache is built on,
//! with a reused guard, which is what `pin().get` compares with; and pinned per
//! call, which is what `get` compares with), all with foldhash, at each thread
//! count.

use std::time::Duration;

use super::measure::{best_of, loop_until, Job, Rng, ROUNDS, SEQ};
use super::peers::Peers;
use super::report::{Throughput, ThroughputRun, DEPCACHE};
use super::BenchError;

/// Entries preloaded (into caches of twice that capacity, so nothing is evicted).
pub const ENTRIES: u64 = 10_000;

/// The peers, preloaded; every lookup of the comparison must hit.
fn preloaded() -> Result<Peers, BenchError> {
    let p = Peers::new(2 * ENTRIES, ENTRIES);
    for k in 0..ENTRIES {
        let found = [
            p.depcache.get(&k),
            p.moka.get(&k),
            p.quick.get(&k),
            p.papaya.pin().get(&k).copied(),
        ];
        if let Some(i) = found.iter().position(|v| *v != Some(k)) {
            return Err(BenchError::Sanity(format!(
                "get-hit: cache #{i} lost preloaded key {k}"
            )));
        }
    }
    Ok(p)
}

/// Measures every cache at each thread count: `secs` each, in [`ROUNDS`]
/// interleaved windows of which the best counts.
pub fn run(threads: &[usize], secs: f64, mut progress: impl FnMut(&str)) -> Result<Vec<ThroughputRun>, BenchError> {
    let peers = preloaded()?;
    let max_threads = threads.iter().copied().max().unwrap_or(1);
    let keys: Vec<Vec<u64>> = (0..max_threads)
        .map(|t| {
            let mut rng = Rng::new(t as u64 + 1);
            (0..SEQ).map(|_| rng.below(ENTRIES)).collect()
        })
        .collect();
    let window = Duration::from_secs_f64(secs / ROUNDS as f64);
    let p = &peers;
    let keys = &keys;
    let mut runs = Vec::new();
    for &n in threads {
        progress(&format!("get hit, {n} thread(s)"));
        let jobs: Vec<Job> = vec![
            (
                DEPCACHE,
                Box::new(|t, end| loop_until(&keys[t], end, |k| p.depcache.get(&k).is_some())),
            ),
            (
                "depcache pin()",
                Box::new(|t, end| {
                    let pinned = p.depcache.pin();
                    loop_until(&keys[t], end, |k| pinned.get(&k).is_some())
                }),
            ),
            (
                "moka",
                Box::new(|t, end| loop_until(&keys[t], end, |k| p.moka.get(&k).is_some())),
            ),
            (
                "quick_cache",
                Box::new(|t, end| loop_until(&keys[t], end, |k| p.quick.get(&k).is_some())),
            ),
            (
                "papaya",
                Box::new(|t, end| {
                    let guard = p.papaya.guard();
                    loop_until(&keys[t], end, |k| p.papaya.get(&k, &guard).is_some())
                }),
            ),
            (
                // The fair peer of depcache's `get`: papaya pinned per call.
                "papaya pin()/call",
                Box::new(|t, end| loop_until(&keys[t], end, |k| p.papaya.pin().get(&k).is_some())),
            ),
        ];
        let mut results = Vec::new();
        for ((cache, _), r) in jobs.iter().zip(best_of(n, ROUNDS, window, &jobs)) {
            if r.work.hits != r.work.ops {
                return Err(BenchError::Sanity(format!(
                    "get hit: {cache} missed {} of {} lookups",
                    r.work.ops - r.work.hits,
                    r.work.ops
                )));
            }
            results.push(Throughput {
                cache: cache.to_string(),
                ops_per_sec: r.ops_per_sec,
                hit_ratio: None,
            });
        }
        // moka buffers its reads; drain them so the log does not grow across runs.
        p.moka.run_pending_tasks();
        runs.push(ThroughputRun::new(n, results));
    }
    Ok(runs)
}
