//! Hit ratios of the replacement policies considered for depcache's ring
//! (sequential models: SIEVE, S3-FIFO, a two-bit CLOCK) beside depcache's
//! CLOCK, exact LRU, moka and quick_cache, on the classic traces and on a
//! Zipf stream, at the sizes `depcache bench` uses.
//!
//! ```sh
//! cargo run --release -p depcache-cli --example eviction
//! ```

use depcache_cli::classic::{self, load, replay, Depcache, Lru, Moka, Policy, QuickCache, SPECS};
use depcache_cli::eviction::{Clock2, S3Fifo, Sieve};

fn policies(capacity: usize) -> Vec<Box<dyn Policy>> {
    vec![
        Box::new(Lru::new(capacity)),
        Box::new(Depcache::new(capacity)),
        Box::new(Clock2::new(capacity)),
        Box::new(Sieve::new(capacity)),
        Box::new(S3Fifo::new(capacity)),
        Box::new(Moka::new(capacity)),
        Box::new(QuickCache::new(capacity)),
    ]
}

fn row(trace: &str, size: &str, keys: &[u64], capacity: usize) {
    let cells: Vec<String> = policies(capacity)
        .iter_mut()
        .map(|p| format!("{:>10.2}", replay(p.as_mut(), keys).percent()))
        .collect();
    println!("{trace:<14} {size:>8} {}", cells.join(" "));
}

fn main() {
    let names: Vec<&str> = policies(1).iter().map(|p| p.name()).collect();
    println!(
        "{:<14} {:>8} {}",
        "trace",
        "size",
        names.iter().map(|n| format!("{n:>10}")).collect::<Vec<_>>().join(" ")
    );
    for spec in SPECS {
        let path = classic::classic_dir().join(spec.file);
        let keys = match load(&path, None) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                continue;
            }
        };
        let footprint = classic::footprint(&keys);
        for (capacity, label) in classic::sizes(&spec.sizes, footprint) {
            let size = if label.is_empty() { capacity.to_string() } else { label };
            row(spec.file.trim_end_matches(".gz"), &size, &keys, capacity);
        }
    }
    // Zipf(1.0) over 100,000 keys, 10,000 entries: `depcache bench`'s mix.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let zipf = Zipf::new(100_000, 1.0);
    let keys: Vec<u64> = (0..1_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            zipf.sample((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect();
    row("zipf-1.0", "10000", &keys, 10_000);
}

/// Zipf over `1..=n` by inverting the cumulative distribution.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += 1.0 / (k as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn sample(&self, u: f64) -> u64 {
        self.cdf.partition_point(|&c| c < u) as u64
    }
}
