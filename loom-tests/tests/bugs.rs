//! Models that find real bugs in the current protocol (README.md, "Bugs found").
//!
//! Each test passes while loom still finds the failing interleaving. When one
//! starts failing with "found no failure", the bug is fixed: un-ignore its
//! model in `tests/models.rs` and delete the test here.

use depcache_loom_tests::{expect_failure, models::*};

/// Bug A: a ticket that creates (or re-creates) a dependency's node races an
/// invalidation that found no node: nothing orders the editor's write before
/// the computation's read, so a stale value is published.
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

/// Bug D: an entry the CLOCK hand evicts while an invalidation of it runs is
/// counted twice: as an eviction, and by the invalidation, which claimed it
/// before its bumps.
#[test]
fn bug_d_evicted_and_invalidated() {
    let msg = expect_failure("m9_evict_vs_invalidate_count", m9_evict_vs_invalidate_count);
    assert!(msg.contains("accounted 2 times"), "{msg}");
}

/// Bug D through a re-insert of the key: the invalidation counts the old entry
/// (claimed while visible, then evicted and replaced) and the new one (live
/// before the bumps), two entries of one key.
#[test]
fn bug_d_one_key_counted_twice() {
    let msg = expect_failure("m9b_reinsert_vs_invalidate_count", m9b_reinsert_vs_invalidate_count);
    assert!(msg.contains("counted 2 entries of one key"), "{msg}");
}
