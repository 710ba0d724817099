//! Several simulated agents share one cache over a synthetic repository.
//!
//! Each agent thread reads files (`cat`), lists directories (`ls`) and greps
//! subtrees through `get_or_insert_with`, and now and then edits a file and
//! invalidates it. Every cached value records the file versions it was computed
//! from; every hit is checked against the versions published before the lookup,
//! so a stale serve would be counted. Prints what the cache did.
//!
//! `cargo run --release --example agents [THREADS] [OPS_PER_THREAD]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use depcache::{Cache, Dep, DepPath};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const DIRS: usize = 8;
const FILES_PER_DIR: usize = 32;

/// A value: the output, and the (file, version) pairs it was computed from.
type Output = Arc<Vec<(usize, u64)>>;

struct Repo {
    /// Current version of each file.
    version: Vec<AtomicU64>,
    /// Highest version whose invalidation has completed.
    invalidated: Vec<AtomicU64>,
}

impl Repo {
    fn path(f: usize) -> DepPath {
        DepPath::new(format!("src/d{}/f{}.rs", f / FILES_PER_DIR, f % FILES_PER_DIR))
    }
    fn dir(d: usize) -> DepPath {
        DepPath::new(format!("src/d{d}"))
    }
    fn read(&self, files: impl Iterator<Item = usize>) -> Output {
        Arc::new(files.map(|f| (f, self.version[f].load(Ordering::SeqCst))).collect())
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let ops: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let n = DIRS * FILES_PER_DIR;
    let repo = Repo {
        version: (0..n).map(|_| AtomicU64::new(0)).collect(),
        invalidated: (0..n).map(|_| AtomicU64::new(0)).collect(),
    };
    let cache: Cache<String, Output, DepPath> = Cache::new(4096);
    let stale = AtomicU64::new(0);
    let edits = AtomicU64::new(0);
    let removed = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (repo, cache, stale, edits, removed) = (&repo, &cache, &stale, &edits, &removed);
            s.spawn(move || {
                let mut rng = SmallRng::seed_from_u64(t as u64);
                for _ in 0..ops {
                    // Popularity skew: a few hot files and directories.
                    let f = (rng.random::<f64>().powi(3) * n as f64) as usize % n;
                    let d = f / FILES_PER_DIR;
                    let roll = rng.random_range(0..100);
                    if roll < 3 {
                        // Edit: write, invalidate, then publish "invalidated up to".
                        let v = repo.version[f].fetch_add(1, Ordering::SeqCst) + 1;
                        removed.fetch_add(cache.invalidate(Repo::path(f)) as u64, Ordering::Relaxed);
                        repo.invalidated[f].fetch_max(v, Ordering::SeqCst);
                        edits.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let files: Vec<usize> = if roll < 70 {
                        vec![f]
                    } else {
                        (d * FILES_PER_DIR..(d + 1) * FILES_PER_DIR).collect()
                    };
                    // Versions that must be visible to this lookup.
                    let floor: Vec<u64> = files
                        .iter()
                        .map(|&f| repo.invalidated[f].load(Ordering::SeqCst))
                        .collect();
                    let out = if roll < 70 {
                        cache.get_or_insert_with(format!("cat {}", Repo::path(f)), [Repo::path(f)], || {
                            repo.read(files.iter().copied())
                        })
                    } else if roll < 85 {
                        cache.get_or_insert_with(format!("ls {}", Repo::dir(d)), [Dep::subtree(Repo::dir(d))], || {
                            repo.read(files.iter().copied())
                        })
                    } else {
                        cache.get_or_insert_with(
                            format!("grep -r x {}", Repo::dir(d)),
                            [Dep::subtree(Repo::dir(d))],
                            || repo.read(files.iter().copied()),
                        )
                    };
                    for (&(_, seen), &min) in out.iter().zip(&floor) {
                        if seen < min {
                            stale.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let s = cache.stats();
    let total = (threads * ops) as f64;
    println!("depcache agents example: {threads} threads x {ops} operations over {n} files in {DIRS} directories");
    println!(
        "  elapsed               {:>10.2?}  ({:.2} M ops/s)",
        elapsed,
        total / elapsed.as_secs_f64() / 1e6
    );
    println!(
        "  lookups               {:>10}  hits {} ({:.1}%)",
        s.hits + s.misses,
        s.hits,
        100.0 * s.hit_ratio()
    );
    println!(
        "  edits                 {:>10}  entries removed by them {}",
        edits.into_inner(),
        removed.into_inner()
    );
    println!(
        "  inserts               {:>10}  stale inserts refused {}",
        s.inserts, s.stale_inserts_rejected
    );
    println!("  evictions             {:>10}", s.evictions);
    println!(
        "  live entries          {:>10}  index nodes {}",
        s.live_entries, s.index_nodes
    );
    println!(
        "  invalidation latency  p50 {:?}  p99 {:?}  max {:?}",
        s.invalidation_latency.p50, s.invalidation_latency.p99, s.invalidation_latency.max
    );
    let stale = stale.into_inner();
    println!("  stale serves          {stale:>10}");
    if stale > 0 {
        eprintln!("error: {stale} stale values were served");
        std::process::exit(1);
    }
}
