//! The `ops` check on long operation sequences, and on the committed corpus.
//!
//! Inputs decoded from random bytes (`smoke.rs`) hold a couple of operations
//! at most (each element of an `arbitrary` list costs a coin flip), so they
//! seldom fill the cache, age an entry past its TTL or race a ticket against
//! an invalidation. These sequences are built operation by operation instead:
//! up to `MAX_OPS` of them on small caches, so the CLOCK hand runs.
//! More: `DEPCACHE_FUZZ_SMOKE=100000 cargo test --release`.

use arbitrary::{Arbitrary, Unstructured};
use depcache_fuzz::json::Rng;
use depcache_fuzz::model::{check_ops, MAX_OPS};
use depcache_fuzz::ops::{Config, DepSpec, Input, Op, Target, MAX_DEPS};

fn cases() -> u64 {
    std::env::var("DEPCACHE_FUZZ_SMOKE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

fn byte(r: &mut Rng) -> u8 {
    r.next_u64() as u8
}

fn coin(r: &mut Rng) -> bool {
    r.below(2) == 1
}

fn deps(r: &mut Rng) -> Vec<DepSpec> {
    let n = r.below(MAX_DEPS + 1);
    (0..n)
        .map(|_| DepSpec {
            path: byte(r),
            subtree: coin(r),
        })
        .collect()
}

fn targets(r: &mut Rng) -> Vec<Target> {
    let n = r.below(MAX_DEPS + 1);
    (0..n).map(|_| Target(byte(r))).collect()
}

/// One operation; inserts and lookups twice as likely as the rest, clock
/// steps short enough that entries expire over a few of them.
fn op(r: &mut Rng) -> Op {
    match r.below(16) {
        0..=2 => Op::Insert {
            key: byte(r),
            weight: byte(r),
            deps: deps(r),
        },
        3 | 4 => Op::Get { key: byte(r) },
        5 => Op::Contains { key: byte(r) },
        6 => Op::Remove { key: byte(r) },
        7 => Op::Invalidate {
            target: Target(byte(r)),
        },
        8 => Op::InvalidateMany { targets: targets(r) },
        9 => Op::MarkStale {
            target: Target(byte(r)),
        },
        10 => Op::MarkStaleMany { targets: targets(r) },
        11 => Op::Ticket {
            slot: coin(r),
            deps: deps(r),
        },
        12 => Op::InsertWithTicket {
            slot: coin(r),
            key: byte(r),
            weight: byte(r),
        },
        13 => match r.below(3) {
            0 => Op::InvalidateAll,
            1 => Op::DropTicket { slot: coin(r) },
            _ => Op::Purge,
        },
        _ => Op::Advance {
            ms16: r.below(64) as u8,
        },
    }
}

fn input(r: &mut Rng) -> Input {
    let config = Config {
        capacity: byte(r),
        max_weight: coin(r).then(|| byte(r)),
        weigher: coin(r),
        ttl: coin(r).then(|| byte(r)),
        reclaim_one: r.below(4) == 0,
    };
    let n = r.below(MAX_OPS) + 1;
    Input {
        config,
        ops: (0..n).map(|_| op(r)).collect(),
    }
}

#[test]
fn long_sequences() {
    for seed in 0..cases() {
        let input = input(&mut Rng::new((seed + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 7));
        if std::panic::catch_unwind(|| check_ops(&input)).is_err() {
            panic!("seed {seed}: {input:?}");
        }
    }
}

/// Every committed input of the `ops` target, as libFuzzer decodes it.
#[test]
fn committed_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/ops");
    for entry in std::fs::read_dir(dir).expect("corpus/ops") {
        let path = entry.expect("corpus entry").path();
        let bytes = std::fs::read(&path).expect("corpus input");
        if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(&bytes)) {
            check_ops(&input);
        }
    }
}
