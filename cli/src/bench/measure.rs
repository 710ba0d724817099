//! Shared measuring tools: a deterministic key generator, threads started
//! together and run for a fixed time, percentiles.

use std::sync::Barrier;
use std::time::{Duration, Instant};

/// SplitMix64: deterministic per seed, and cheap enough to precompute long
/// key sequences (the keys are drawn before the clock starts).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is negligible for small `n`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Length of each thread's precomputed key sequence (a power of two, cycled).
pub const SEQ: usize = 1 << 16;

/// What one thread did in its measured window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Work {
    pub ops: u64,
    /// Lookups that hit (the workloads that count them).
    pub hits: u64,
}

/// The threads' work added up, and its rate.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub work: Work,
    pub ops_per_sec: f64,
}

/// Runs `f(thread, deadline)` on `threads` threads started together: first a
/// warm-up of `warm` (its work is discarded), then, after all threads finished
/// warming up, the measured window of `secs`. Throughput is all threads'
/// operations over the longest thread's window.
pub fn run_for<F>(threads: usize, warm: Duration, secs: Duration, f: F) -> Rate
where
    F: Fn(usize, Instant) -> Work + Sync,
{
    let barrier = Barrier::new(threads);
    let per_thread: Vec<(Work, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (f, barrier) = (&f, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    f(t, Instant::now() + warm);
                    barrier.wait();
                    let start = Instant::now();
                    let work = f(t, start + secs);
                    (work, start.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut work = Work::default();
    let mut longest = Duration::ZERO;
    for (w, d) in per_thread {
        work.ops += w.ops;
        work.hits += w.hits;
        longest = longest.max(d);
    }
    Rate {
        work,
        ops_per_sec: work.ops as f64 / longest.as_secs_f64().max(1e-9),
    }
}

/// Interleaved windows per throughput measurement (the best one counts).
pub const ROUNDS: usize = 3;

/// One cache's workload for [`run_for`], by name.
pub type Job<'a> = (&'a str, Box<dyn Fn(usize, Instant) -> Work + Sync + 'a>);

/// Measures each job in `rounds` windows of `window`, interleaved (A, B, C, A,
/// B, C, ...) so that load from elsewhere on a shared machine hits every cache
/// alike; each job keeps its best window. Each window has its own warm-up of a
/// fifth of its length.
pub fn best_of(threads: usize, rounds: usize, window: Duration, jobs: &[Job]) -> Vec<Rate> {
    let mut best: Vec<Option<Rate>> = vec![None; jobs.len()];
    for _ in 0..rounds.max(1) {
        for (b, (_, f)) in best.iter_mut().zip(jobs) {
            let r = run_for(threads, window / 5, window, f);
            if b.is_none_or(|b| r.ops_per_sec > b.ops_per_sec) {
                *b = Some(r);
            }
        }
    }
    best.into_iter().flatten().collect()
}

/// Applies `op` to `keys` (cycled) until `deadline`, checking the clock every
/// 1024 operations; `op` returns whether it hit.
#[inline(always)]
pub fn loop_until(keys: &[u64], deadline: Instant, mut op: impl FnMut(u64) -> bool) -> Work {
    debug_assert!(keys.len().is_power_of_two());
    let mask = keys.len() - 1;
    let mut i = 0usize;
    let mut hits = 0u64;
    loop {
        for _ in 0..1024 {
            hits += u64::from(op(keys[i & mask]));
            i += 1;
        }
        if Instant::now() >= deadline {
            return Work { ops: i as u64, hits };
        }
    }
}

/// Nearest-rank percentile `p` (0..=100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_nanos).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_nanos(50));
        assert_eq!(percentile(&s, 99.0), Duration::from_nanos(99));
        assert_eq!(percentile(&s[..1], 99.0), Duration::from_nanos(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
            assert!(a.below(10) < 10);
            b.below(10);
        }
    }
}
