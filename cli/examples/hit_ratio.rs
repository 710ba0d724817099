//! Hit ratio on the classic block traces: depcache's CLOCK beside LRU (the `lru`
//! crate), moka and quick_cache, all replayed in the same run.
//!
//! ```text
//! cargo run --release -p depcache-cli --example hit_ratio                # every trace, every size
//! cargo run --release -p depcache-cli --example hit_ratio -- --quick     # a subset, in seconds
//! cargo run --release -p depcache-cli --example hit_ratio -- cs loop     # only traces whose name contains "cs" or "loop"
//! DEPCACHE_HIT_RATIO_QUICK=1 cargo run --release -p depcache-cli --example hit_ratio
//! ```
//!
//! The traces live in `testdata/classic/` (sources, citations and licenses in
//! `testdata/README.md`). Each one is replayed single-threaded: a `get`, and on a
//! miss an insert of the block. Dependencies play no part in the hit ratio, so
//! depcache's entries get an arbitrary one (`block % 64`).
//!
//! Sizes: OLTP at the cache sizes of the ARC paper's table (Megiddo & Modha, FAST
//! 2003), so its LRU column can be checked against the published one; the LIRS
//! traces at fractions of their footprint (distinct blocks).
//!
//! The reader, the policies and the replay live in `depcache_cli::classic`
//! (`cli/src/classic.rs`), shared with `depcache bench` and `tests/hit_ratio.rs`.

use std::time::Instant;

use depcache_cli::classic::{classic_dir, footprint, load, policies, replay, sizes, HitRatio, SPECS};

pub fn main() {
    let mut quick = std::env::var_os("DEPCACHE_HIT_RATIO_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
    let mut filters = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!(
                    "usage: hit_ratio [--quick] [TRACE-NAME-SUBSTRING...]  (env DEPCACHE_HIT_RATIO_QUICK=1 = --quick)"
                );
                return;
            }
            _ => filters.push(arg),
        }
    }

    let dir = classic_dir();
    let names: Vec<&str> = ["depcache", "LRU", "moka", "quick_cache"].to_vec();
    println!(
        "{:<22} {:>7} {:>5} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>11} | {:>8}",
        "trace", "size", "%fp", "refs", "footprint", names[0], names[1], names[2], names[3], "dc-LRU"
    );
    println!("{}", "-".repeat(118));
    let started = Instant::now();
    for spec in SPECS {
        if !filters.is_empty() && !filters.iter().any(|f| spec.file.contains(f.as_str())) {
            continue;
        }
        let path = dir.join(spec.file);
        let keys = match load(&path, None) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
        };
        let fp = footprint(&keys);
        let trace = spec.file.trim_end_matches(".gz");
        for (size, rel) in sizes(if quick { &spec.quick_sizes } else { &spec.sizes }, fp) {
            let ratios: Vec<HitRatio> = policies(size).iter_mut().map(|p| replay(p.as_mut(), &keys)).collect();
            let p: Vec<f64> = ratios.iter().map(HitRatio::percent).collect();
            println!(
                "{:<22} {:>7} {:>5} {:>9} {:>9} | {:>9.2} {:>9.2} {:>9.2} {:>11.2} | {:>+8.2}",
                trace,
                size,
                rel,
                keys.len(),
                fp,
                p[0],
                p[1],
                p[2],
                p[3],
                p[0] - p[1]
            );
        }
    }
    println!("hit ratios in percent; done in {:.1?}", started.elapsed());
}
