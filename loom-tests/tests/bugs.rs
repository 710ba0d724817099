//! Models that find real bugs in the current protocol (README.md, "Bugs found").
//!
//! Each test passes while loom still finds the failing interleaving. When one
//! starts failing with "found no failure", the bug is fixed: move its model to
//! `tests/models.rs` (and un-ignore model 4 there for bug A).

use depcache_loom_tests::{expect_failure, models::*};

/// Bug A: a ticket that creates (or re-creates) a dependency's node races an
/// invalidation that found no node (or the retiring one): nothing orders the
/// editor's write before the computation's read, so a stale value is published.
#[test]
fn bug_a_no_node() {
    let msg = expect_failure(
        "m2b_ticket_compute_vs_invalidate_no_node",
        m2b_ticket_compute_vs_invalidate_no_node,
    );
    assert!(msg.contains("stale"), "{msg}");
}

/// Bug A through node retirement (the model 4).
#[test]
fn bug_a_retire() {
    let msg = expect_failure("m4_retire_vs_ticket", m4_retire_vs_ticket);
    assert!(msg.contains("stale"), "{msg}");
}

/// Bug B: two racing invalidations of one dependency can both count 0 for the
/// visible entry they remove.
#[test]
fn bug_b_racing_invalidations() {
    let msg = expect_failure("m7a_racing_invalidations_count", m7a_racing_invalidations_count);
    assert!(msg.contains("counted 0 times"), "{msg}");
}

/// Bug B': a `get` that reclaims an entry the invalidation just made invalid
/// leaves the invalidation counting 0.
#[test]
fn bug_b_reclaiming_get() {
    let msg = expect_failure(
        "m7b_invalidate_vs_reclaiming_get_count",
        m7b_invalidate_vs_reclaiming_get_count,
    );
    assert!(msg.contains("counted 0"), "{msg}");
}

/// Bug C: a `get` returns the value of an entry still being inserted (INIT),
/// whose insert then reports `Stale` (not cached), and the invalidation that
/// removed it counts 0.
#[test]
fn bug_c_init_visible() {
    let msg = expect_failure("m8_get_vs_stale_insert", m8_get_vs_stale_insert);
    assert!(msg.contains("Stale") || msg.contains("counted"), "{msg}");
}
