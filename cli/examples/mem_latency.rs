//! The latency of one dependent cache miss on this machine: a pointer chase
//! through a random cyclic permutation of `MB` megabytes (each load's address
//! is the previous load's value, so no two misses overlap).
//!
//! ```sh
//! cargo run --release -p depcache-cli --example mem_latency -- [MB ...]  # default: 8 256 1024
//! ```
//!
//! An eager invalidation in a large cache is a chain of such misses (the
//! index lookup, the node, its registry, the entries, their buckets): this is
//! the floor under `scaling/invalidate_10_dependents/1000000`.

use std::hint::black_box;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Loads timed per size.
const HOPS: usize = 20_000_000;

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![8, 256, 1024] } else { sizes };
    for mb in sizes {
        let n = (mb << 20) / std::mem::size_of::<usize>();
        if n < 2 {
            eprintln!("mem_latency: {mb} MB is too small");
            continue;
        }
        // One cycle through every slot, in random order.
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand::rngs::SmallRng::seed_from_u64(1));
        let mut next = vec![0usize; n];
        for w in 0..n {
            next[order[w]] = order[(w + 1) % n];
        }
        let mut at = order[0];
        let start = Instant::now();
        for _ in 0..HOPS {
            at = next[at];
        }
        let ns = start.elapsed().as_nanos() as f64 / HOPS as f64;
        println!("{mb:>6} MB: {ns:6.1} ns per dependent load");
        black_box(at);
    }
}
