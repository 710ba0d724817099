//! Why `src/sync.rs` gives every loom atomic a *shadow* (see its docs): loom
//! 0.7's DPOR misses a write that follows the writer's own read of the same
//! atomic (tokio-rs/loom#392). If this test fails, loom has fixed it and the
//! shadows could go.

use std::collections::BTreeSet;
use std::sync::{Arc as StdArc, Mutex as StdMutex};

use loom::sync::atomic::{AtomicUsize, Ordering::*};
use loom::sync::Arc;

/// Thread B loads `x` then increments it; the main thread reads `x` once.
/// Returns every value the main thread saw, over all explored executions.
fn outcomes(main_reads_by_rmw: bool) -> BTreeSet<usize> {
    let seen = StdArc::new(StdMutex::new(BTreeSet::new()));
    let s = seen.clone();
    let mut b = depcache_loom_tests::builder();
    b.preemption_bound = None;
    depcache_loom_tests::check_with("loom_dpor_gap", &b, move || {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = loom::thread::spawn(move || {
            let _ = x2.load(Acquire);
            x2.fetch_add(1, AcqRel);
        });
        let v = if main_reads_by_rmw {
            x.fetch_add(0, Acquire)
        } else {
            x.load(Acquire)
        };
        t.join().unwrap();
        s.lock().unwrap().insert(v);
    });
    let r = seen.lock().unwrap().clone();
    r
}

#[test]
fn plain_load_misses_the_other_order() {
    // Both 0 and 1 are possible; loom only ever shows 0.
    assert_eq!(outcomes(false), BTreeSet::from([0]));
    // Reading by read-modify-write (what the shadow adds) restores the order.
    assert_eq!(outcomes(true), BTreeSet::from([0, 1]));
}
