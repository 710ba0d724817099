//! Insert throughput in a full cache: depcache with one dependency per entry
//! and with none (apples to apples with the peers, whose entries carry no
//! dependency), against moka and quick_cache, all with foldhash. Keys are
//! drawn uniformly from twice the capacity, so inserts both replace keys and
//! evict. papaya is not in this one: it never evicts.

use std::time::Duration;

use depcache::Cache;

use super::measure::{best_of, loop_until, Job, Rng, ROUNDS, SEQ};
use super::peers::Hasher;
use super::report::{Throughput, ThroughputRun, DEPCACHE, NO_DEP};
use super::BenchError;

/// Cache capacity, in entries (preloaded full).
pub const CAPACITY: u64 = 10_000;

/// Measures every cache at each thread count: `secs` each, in [`ROUNDS`]
/// interleaved windows of which the best counts.
pub fn run(threads: &[usize], secs: f64, mut progress: impl FnMut(&str)) -> Result<Vec<ThroughputRun>, BenchError> {
    let max_threads = threads.iter().copied().max().unwrap_or(1);
    let keys: Vec<Vec<u64>> = (0..max_threads)
        .map(|t| {
            let mut rng = Rng::new(200 + t as u64);
            (0..SEQ).map(|_| rng.below(2 * CAPACITY)).collect()
        })
        .collect();
    let keys = &keys;
    let window = Duration::from_secs_f64(secs / ROUNDS as f64);
    let mut runs = Vec::new();
    for &n in threads {
        progress(&format!("insert, {n} thread(s)"));
        let dc: Cache<u64, u64, u64> = Cache::new(CAPACITY as usize);
        let bare: Cache<u64, u64, u64> = Cache::new(CAPACITY as usize);
        let moka: moka::sync::Cache<u64, u64, Hasher> = moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .build_with_hasher(Hasher::default());
        let quick: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(CAPACITY as usize);
        for k in 0..CAPACITY {
            dc.insert(k, k, [k / 10]);
            bare.insert(k, k, [0u64; 0]);
            moka.insert(k, k);
            quick.insert(k, k);
        }
        moka.run_pending_tasks();
        let jobs: Vec<Job> = vec![
            (
                DEPCACHE,
                Box::new(|t, end| {
                    loop_until(&keys[t], end, |k| {
                        dc.insert(k, k, [k / 10]);
                        true
                    })
                }),
            ),
            (
                NO_DEP,
                Box::new(|t, end| {
                    loop_until(&keys[t], end, |k| {
                        bare.insert(k, k, [0u64; 0]);
                        true
                    })
                }),
            ),
            (
                "moka",
                Box::new(|t, end| {
                    loop_until(&keys[t], end, |k| {
                        moka.insert(k, k);
                        true
                    })
                }),
            ),
            (
                "quick_cache",
                Box::new(|t, end| {
                    loop_until(&keys[t], end, |k| {
                        quick.insert(k, k);
                        true
                    })
                }),
            ),
        ];
        let results = jobs
            .iter()
            .zip(best_of(n, ROUNDS, window, &jobs))
            .map(|((cache, _), r)| Throughput {
                cache: cache.to_string(),
                ops_per_sec: r.ops_per_sec,
                hit_ratio: None,
            })
            .collect();
        drop(jobs);
        moka.run_pending_tasks();
        let held = [
            dc.len() as u64,
            bare.len() as u64,
            moka.entry_count(),
            quick.len() as u64,
        ];
        if let Some(over) = held.iter().find(|&&h| h > CAPACITY + CAPACITY / 10) {
            return Err(BenchError::Sanity(format!(
                "insert: a cache of capacity {CAPACITY} holds {over} entries"
            )));
        }
        if dc.is_empty() || bare.is_empty() {
            return Err(BenchError::Sanity(
                "insert: depcache holds nothing after inserting".into(),
            ));
        }
        runs.push(ThroughputRun::new(n, results));
    }
    Ok(runs)
}
