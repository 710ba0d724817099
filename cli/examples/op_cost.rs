//! The cost of one operation, in a loop on one long-lived thread: the probe
//! behind the A/B numbers in `benches/RESULTS.md`.
//!
//! Criterion spawns a thread per sample, which makes per-call guards noisy; this
//! runs one operation `ITERS` times on the main thread and prints nanoseconds per
//! operation. Run two builds interleaved for an A/B, or count instructions, which
//! noise does not change, as the difference between `ITERS` and `0` iterations
//! (the set-up is the same):
//!
//! ```text
//! cargo run --release -p depcache-cli --example op_cost -- get 20000000
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/op_cost get 200000
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/op_cost get 0
//! ```
//!
//! Operations: `get`, `pin` (`pin().get`), `ttl` (`get` in a cache with a
//! TTL: every hit reads the clock), `papaya_pin` (papaya pinned per
//! call), `papaya_guard` (papaya with one guard), `quick` (quick_cache) — hits
//! on 10k u64 entries in random order; `insert` into a full 10k cache (half the
//! keys replace, half evict); `evict` (new keys into a full 10k cache:
//! every insert evicts); `insert2` (the same from two threads, the slower
//! one's time per operation); `seed` (the Python scenario: 1000 String-keyed
//! entries over 100 files, invalidate one file of 10 entries and refill it);
//! `seed10` (ten files, 100 entries); `scale` (1e6 entries, 10 per dependency,
//! invalidate one); `scale1` (1e6 entries, each its own dependency, invalidate
//! one); `stale` (`mark_stale`). Invalidations time only the call.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use depcache::{Cache, DepPath};
use rand::{Rng, SeedableRng};

type Hasher = foldhash::fast::RandomState;

/// Entries in the lookup and insert loops.
const N: u64 = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "get".to_string());
    let iters: usize = match args.next().map(|s| s.parse()) {
        None => 10_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("op_cost: ITERS must be a number: {e}");
            std::process::exit(2);
        }
    };
    let per_op = match op.as_str() {
        "get" | "pin" | "ttl" | "papaya_pin" | "papaya_guard" | "quick" => lookups(&op, iters),
        "insert" => inserts(iters),
        "insert2" => inserts2(iters),
        "evict" => evictions(iters),
        "seed" => seed(iters, 1),
        "seed10" => seed(iters, 10),
        "scale" => scale(iters, 10),
        "scale1" => scale(iters, 1),
        "stale" => stale(iters),
        other => {
            eprintln!("op_cost: unknown operation {other:?} (see the file's documentation)");
            std::process::exit(2);
        }
    };
    println!("{op}: {:.1} ns/op", per_op.as_nanos() as f64 / iters.max(1) as f64);
}

/// 16k random keys in `0..N`, indexed with a mask.
fn random_keys(seed: u64) -> Vec<u64> {
    let mut r = rand::rngs::SmallRng::seed_from_u64(seed);
    (0..1 << 14).map(|_| r.random_range(0..N)).collect()
}

fn lookups(op: &str, iters: usize) -> Duration {
    let keys = random_keys(1);
    let m = keys.len() - 1;
    match op {
        "get" | "pin" | "ttl" => {
            let c: Cache<u64, u64, u64> = if op == "ttl" {
                let ttl = Duration::from_secs(3600);
                Cache::builder().max_entries(2 * N as usize).ttl(ttl).build().unwrap()
            } else {
                Cache::new(2 * N as usize)
            };
            for k in 0..N {
                c.insert(k, k, [k / 10]);
            }
            let start = Instant::now();
            if op != "pin" {
                for i in 0..iters {
                    black_box(c.get(&keys[i & m]));
                }
            } else {
                let p = c.pin();
                for i in 0..iters {
                    black_box(p.get(&keys[i & m]));
                }
            }
            start.elapsed()
        }
        "papaya_pin" | "papaya_guard" => {
            let map: papaya::HashMap<u64, u64, Hasher> = papaya::HashMap::with_hasher(Hasher::default());
            for k in 0..N {
                map.pin().insert(k, k);
            }
            let start = Instant::now();
            if op == "papaya_pin" {
                for i in 0..iters {
                    black_box(map.pin().get(&keys[i & m]).copied());
                }
            } else {
                let g = map.guard();
                for i in 0..iters {
                    black_box(map.get(&keys[i & m], &g).copied());
                }
            }
            start.elapsed()
        }
        _ => {
            let q: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(2 * N as usize);
            for k in 0..N {
                q.insert(k, k);
            }
            let start = Instant::now();
            for i in 0..iters {
                black_box(q.get(&keys[i & m]));
            }
            start.elapsed()
        }
    }
}

/// A full cache of `N` entries and keys of which half are in it (the odd
/// ones below `N`, so half the inserts replace and half evict).
fn full_cache() -> (Cache<u64, u64, u64>, Vec<u64>) {
    let keys: Vec<u64> = random_keys(1).iter().map(|k| k * 2 + (k & 1)).collect();
    let c: Cache<u64, u64, u64> = Cache::new(N as usize);
    for k in 0..N {
        c.insert(k, k, [k / 10]);
    }
    (c, keys)
}

fn inserts(iters: usize) -> Duration {
    let (c, keys) = full_cache();
    let m = keys.len() - 1;
    let start = Instant::now();
    for i in 0..iters {
        let k = keys[i & m];
        c.insert(k, k, [k / 10]);
    }
    start.elapsed()
}

/// New keys into a full cache: every insert evicts one entry (the CLOCK
/// hand's path), with a dependency of its own per ten keys, as `inserts`.
fn evictions(iters: usize) -> Duration {
    let (c, _) = full_cache();
    let start = Instant::now();
    for k in N..N + iters as u64 {
        c.insert(k, k, [k / 10]);
    }
    start.elapsed()
}

/// `inserts` from two threads at once, each on its own half of the keys
/// (odd and even): the wall time of the slower thread per operation of one
/// thread, i.e. the latency while the other thread inserts too.
fn inserts2(iters: usize) -> Duration {
    let (c, keys) = full_cache();
    let m = keys.len() - 1;
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let run = |t: usize| {
            let (c, keys, barrier) = (&c, &keys, &barrier);
            move || {
                barrier.wait();
                let start = Instant::now();
                for i in 0..iters {
                    let k = keys[(i * 2 + t) & m];
                    c.insert(k, k, [k / 10]);
                }
                start.elapsed()
            }
        };
        let a = s.spawn(run(0));
        let b = s.spawn(run(1));
        a.join().unwrap().max(b.join().unwrap())
    })
}

/// The Python original's scenario: invalidate `files` files of 10 entries each.
fn seed(iters: usize, files: usize) -> Duration {
    let c: Cache<String, Arc<str>, DepPath> = Cache::new(2000);
    let paths: Vec<DepPath> = (0..100)
        .map(|f| DepPath::new(format!("src/pkg{}/mod{}.py", f / 10, f % 10)))
        .collect();
    let value: Arc<str> = "x".repeat(200).into();
    let fill = |f: usize| {
        for j in 0..10 {
            c.insert(format!("entry{}", f + 100 * j), value.clone(), [paths[f].clone()]);
        }
    };
    (0..100).for_each(fill);
    let mut total = Duration::ZERO;
    for i in 0..iters {
        let first = (i * files) % 100;
        let these = &paths[first..first + files];
        let start = Instant::now();
        let n = c.invalidate_many(these);
        total += start.elapsed();
        assert_eq!(n, 10 * files, "every entry of the invalidated files");
        (first..first + files).for_each(fill);
    }
    total
}

fn scale(iters: usize, per_dep: u64) -> Duration {
    let n: u64 = 1_000_000;
    let c: Cache<u64, u64, u64> = Cache::new(2 * n as usize);
    for k in 0..n {
        c.insert(k, k, [k / per_dep]);
    }
    let mut r = rand::rngs::SmallRng::seed_from_u64(7);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let d = r.random_range(0..n / per_dep);
        let start = Instant::now();
        let got = c.invalidate(d);
        total += start.elapsed();
        assert_eq!(got, per_dep as usize, "the entries of dependency {d}");
        for k in d * per_dep..(d + 1) * per_dep {
            c.insert(k, k, [d]);
        }
    }
    total
}

fn stale(iters: usize) -> Duration {
    let c: Cache<u64, u64, u64> = Cache::new(2 * N as usize);
    for k in 0..N {
        c.insert(k, k, [k / 10]);
    }
    let start = Instant::now();
    for _ in 0..iters {
        c.mark_stale(black_box(7u64));
    }
    start.elapsed()
}
