//! A mixed workload with popularity skew: each thread looks keys up in a Zipf
//! distribution over a key space ten times the capacity, and inserts on a miss
//! (cache-aside). Throughput and hit ratio per cache, per thread count. papaya is
//! not in this one: it never evicts, so it is no cache. An exact LRU behind a
//! mutex (the `lru` crate) is there for its hit ratio: the baseline a CLOCK cache
//! should match.

use std::time::{Duration, Instant};

use depcache::Cache;

use super::measure::{best_of, loop_until, Job, Rng, Work, ROUNDS};
use super::peers::Hasher;
use super::report::{Throughput, ThroughputRun, DEPCACHE};
use super::BenchError;

/// Distinct keys.
pub const KEYS: u64 = 100_000;
/// Cache capacity, in entries.
pub const CAPACITY: u64 = 10_000;
/// Zipf exponent.
pub const S: f64 = 1.0;

/// Length of each thread's key sequence (cycled): long enough that a key's
/// next draw is almost never its draw one cycle later. A cycle of 65,536 draws
/// made the stream a loop over its rarer keys, which frequency-aware caches
/// exploit: quick_cache's hit ratio was 87% there against 78% on an unending
/// stream (`--example eviction`). 8 MB per thread.
const SEQ: usize = 1 << 20;

/// Samples ranks `0..n` with probability proportional to `1 / (rank + 1)^s`,
/// by binary search in the cumulative distribution.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Self {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (0..n)
            .map(|r| {
                acc += 1.0 / ((r + 1) as f64).powf(s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        (self.cdf.partition_point(|&c| c <= u) as u64).min(self.cdf.len() as u64 - 1)
    }
}

/// The workload of one cache: `get`, and `insert` on a miss.
fn cache_aside<'a>(
    keys: &'a [Vec<u64>],
    get: impl Fn(u64) -> bool + Sync + 'a,
    insert: impl Fn(u64) + Sync + 'a,
) -> Box<dyn Fn(usize, Instant) -> Work + Sync + 'a> {
    Box::new(move |t, end| {
        loop_until(&keys[t], end, |k| {
            let hit = get(k);
            if !hit {
                insert(k);
            }
            hit
        })
    })
}

/// Measures every cache at each thread count: `secs` each, in [`ROUNDS`]
/// interleaved windows (each with an uncounted warm-up) of which the best counts;
/// the caches start empty and stay warm from one window to the next.
pub fn run(threads: &[usize], secs: f64, mut progress: impl FnMut(&str)) -> Result<Vec<ThroughputRun>, BenchError> {
    let zipf = Zipf::new(KEYS, S);
    let max_threads = threads.iter().copied().max().unwrap_or(1);
    let keys: Vec<Vec<u64>> = (0..max_threads)
        .map(|t| {
            let mut rng = Rng::new(100 + t as u64);
            (0..SEQ).map(|_| zipf.sample(&mut rng)).collect()
        })
        .collect();
    let keys = &keys;
    let window = Duration::from_secs_f64(secs / ROUNDS as f64);
    let mut runs = Vec::new();
    for &n in threads {
        progress(&format!("zipf mix, {n} thread(s)"));
        let dc: Cache<u64, u64, u64> = Cache::new(CAPACITY as usize);
        let moka: moka::sync::Cache<u64, u64, Hasher> = moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .build_with_hasher(Hasher::default());
        let quick: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(CAPACITY as usize);
        let lru = std::sync::Mutex::new(lru::LruCache::with_hasher(
            std::num::NonZeroUsize::new(CAPACITY as usize).expect("CAPACITY > 0"),
            Hasher::default(),
        ));
        let lru_op = |f: &dyn Fn(&mut lru::LruCache<u64, u64, Hasher>) -> bool| {
            // A panic elsewhere cannot leave the LRU inconsistent; keep measuring.
            f(&mut lru.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
        };
        let jobs: Vec<Job> = vec![
            (
                DEPCACHE,
                cache_aside(keys, |k| dc.get(&k).is_some(), |k| dc.insert(k, k, [k / 10])),
            ),
            (
                "moka",
                cache_aside(keys, |k| moka.get(&k).is_some(), |k| moka.insert(k, k)),
            ),
            (
                "quick_cache",
                cache_aside(keys, |k| quick.get(&k).is_some(), |k| quick.insert(k, k)),
            ),
            (
                "LRU (mutex)",
                cache_aside(
                    keys,
                    |k| lru_op(&|c| c.get(&k).is_some()),
                    |k| {
                        lru_op(&|c| c.put(k, k).is_some());
                    },
                ),
            ),
        ];
        let results = jobs
            .iter()
            .zip(best_of(n, ROUNDS, window, &jobs))
            .map(|((cache, _), r)| Throughput {
                cache: cache.to_string(),
                ops_per_sec: r.ops_per_sec,
                hit_ratio: Some(r.work.hits as f64 / r.work.ops.max(1) as f64),
            })
            .collect();
        drop(jobs);
        moka.run_pending_tasks();
        let lru_len = lru.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() as u64;
        let held = [dc.len() as u64, moka.entry_count(), quick.len() as u64, lru_len];
        if let Some(over) = held.iter().find(|&&h| h > CAPACITY + CAPACITY / 10) {
            return Err(BenchError::Sanity(format!(
                "zipf mix: a cache of capacity {CAPACITY} holds {over} entries"
            )));
        }
        runs.push(ThroughputRun::new(n, results));
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_favours_low_ranks_and_stays_in_range() {
        let z = Zipf::new(1000, 1.0);
        let mut rng = Rng::new(1);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        // P(rank 0) = 1 / H(1000) ≈ 13.4%; P(rank 1) is half of that.
        assert!((12_000..15_000).contains(&counts[0]), "{}", counts[0]);
        assert!(counts[0] > counts[1] && counts[1] > counts[9]);
    }
}
