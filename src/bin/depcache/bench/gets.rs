//! Get-hit throughput: depcache (`get`, and `pin().get`) against moka,
//! quick_cache and a raw papaya map (the ceiling: the map depcache is built on,
//! with a reused guard), all with foldhash, at each thread count.

use std::time::{Duration, Instant};

use depcache::Cache;

use super::measure::{loop_until, run_for, Rng, Work, SEQ};
use super::report::{Throughput, ThroughputRun, DEPCACHE};
use super::BenchError;

type Hasher = foldhash::fast::RandomState;

/// Entries preloaded (into caches of twice that capacity, so nothing is evicted).
pub const ENTRIES: u64 = 10_000;

struct Peers {
    depcache: Cache<u64, u64, u64>,
    moka: moka::sync::Cache<u64, u64, Hasher>,
    // quick_cache's default hasher is foldhash too.
    quick: quick_cache::sync::Cache<u64, u64>,
    papaya: papaya::HashMap<u64, u64, Hasher>,
}

impl Peers {
    fn new() -> Result<Self, BenchError> {
        let capacity = 2 * ENTRIES;
        let p = Peers {
            depcache: Cache::new(capacity as usize),
            moka: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(Hasher::default()),
            quick: quick_cache::sync::Cache::new(capacity as usize),
            papaya: papaya::HashMap::builder().hasher(Hasher::default()).build(),
        };
        for k in 0..ENTRIES {
            p.depcache.insert(k, k, [k / 10]);
            p.moka.insert(k, k);
            p.quick.insert(k, k);
            p.papaya.pin().insert(k, k);
        }
        p.moka.run_pending_tasks();
        // Every lookup below must be a hit.
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
}

/// Measures every cache at each thread count, `secs` each (after a warm-up of a fifth of that).
pub fn run(threads: &[usize], secs: f64, mut progress: impl FnMut(&str)) -> Result<Vec<ThroughputRun>, BenchError> {
    let peers = Peers::new()?;
    let max_threads = threads.iter().copied().max().unwrap_or(1);
    let keys: Vec<Vec<u64>> = (0..max_threads)
        .map(|t| {
            let mut rng = Rng::new(t as u64 + 1);
            (0..SEQ).map(|_| rng.below(ENTRIES)).collect()
        })
        .collect();
    let window = Duration::from_secs_f64(secs);
    let warm = window / 5;
    let p = &peers;
    let keys = &keys;
    let mut runs = Vec::new();
    for &n in threads {
        progress(&format!("get hit, {n} thread(s)"));
        let measure = |cache: &str, f: &(dyn Fn(usize, Instant) -> Work + Sync)| {
            let r = run_for(n, warm, window, f);
            if r.work.hits != r.work.ops {
                return Err(BenchError::Sanity(format!(
                    "get hit: {cache} missed {} of {} lookups",
                    r.work.ops - r.work.hits,
                    r.work.ops
                )));
            }
            Ok(Throughput {
                cache: cache.to_string(),
                ops_per_sec: r.ops_per_sec,
                hit_ratio: None,
            })
        };
        let results = vec![
            measure(DEPCACHE, &|t, end| {
                loop_until(&keys[t], end, |k| p.depcache.get(&k).is_some())
            })?,
            measure("depcache pin()", &|t, end| {
                let pinned = p.depcache.pin();
                loop_until(&keys[t], end, |k| pinned.get(&k).is_some())
            })?,
            measure("moka", &|t, end| {
                loop_until(&keys[t], end, |k| p.moka.get(&k).is_some())
            })?,
            measure("quick_cache", &|t, end| {
                loop_until(&keys[t], end, |k| p.quick.get(&k).is_some())
            })?,
            measure("papaya", &|t, end| {
                let guard = p.papaya.guard();
                loop_until(&keys[t], end, |k| p.papaya.get(&k, &guard).is_some())
            })?,
        ];
        // moka buffers its reads; drain them so the log does not grow across runs.
        p.moka.run_pending_tasks();
        runs.push(ThroughputRun::new(n, results));
    }
    Ok(runs)
}
