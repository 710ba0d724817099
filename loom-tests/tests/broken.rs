//! The models can fail: run them against a deliberately broken protocol and
//! expect loom to find the interleaving that breaks it.
//!
//! Each switch (`depcache::loom_fault`, loom builds only) breaks one step of
//! the protocol; its documentation says which. The first, for example, makes
//! `insert_with_ticket` skip its stamp re-check after publishing: it trusts
//! the ticket check it made *before* registering in the reverse index, so an
//! invalidation that bumps the generation in between, and scans the reverse
//! index before the registration lands, leaves a stale entry in the cache.

use depcache::loom_fault;
use depcache_loom_tests::{expect_failure, models::*};

/// Turns a fault switch on for this test thread (loom runs every model thread
/// on the thread that calls it) and off again when dropped.
struct Fault(fn(bool));

impl Fault {
    fn on(switch: fn(bool)) -> Self {
        switch(true);
        Fault(switch)
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        (self.0)(false);
    }
}

#[test]
fn broken_m1_insert_vs_invalidate() {
    let _fault = Fault::on(loom_fault::set_skip_publish_recheck);
    let msg = expect_failure("broken/m1_insert_vs_invalidate", m1_insert_vs_invalidate);
    // A stale insert accepted: it survives invisible, or a lookup reclaims it
    // and the exact-count check sees an accepted entry gone that nobody counted.
    assert!(
        msg.contains("stale entry survived") || msg.contains("not counted"),
        "{msg}"
    );
}

#[test]
fn broken_m2_ticket_compute_vs_invalidate() {
    let _fault = Fault::on(loom_fault::set_skip_publish_recheck);
    let msg = expect_failure(
        "broken/m2_ticket_compute_vs_invalidate",
        m2_ticket_compute_vs_invalidate,
    );
    assert!(msg.contains("stale"), "{msg}");
}

#[test]
fn broken_m6a_dir_invalidate_vs_insert_below() {
    let _fault = Fault::on(loom_fault::set_skip_publish_recheck);
    let msg = expect_failure(
        "broken/m6a_dir_invalidate_vs_insert_below",
        m6a_dir_invalidate_vs_insert_below,
    );
    assert!(msg.contains("stale") || msg.contains("not counted"), "{msg}");
}

/// The switch is off by default: the same model passes.
#[test]
fn unbroken_m2_passes() {
    depcache_loom_tests::check("m2_ticket_compute_vs_invalidate", m2_ticket_compute_vs_invalidate);
}

/// The second switch: an eager invalidation trusts its first scan of the
/// reverse index and never rescans, even when an entry registered between that
/// scan and its bumps. The entry is still invisible (its stamps moved), but it
/// stays resident and uncounted, and model 1b must say so.
#[test]
fn broken_rescan_m1b_insert_registers_between_scans() {
    let _fault = Fault::on(loom_fault::set_reuse_first_scan);
    let msg = expect_failure(
        "broken-rescan/m1b_insert_registers_between_scans",
        m1b_insert_registers_between_scans,
    );
    // The entry stays resident though invisible, or a lookup reclaims it
    // uncounted: either way the model must notice.
    assert!(
        msg.contains("not counted") || msg.contains("stale entry survived"),
        "{msg}"
    );
}

#[test]
fn broken_hot_m11_lookup_vs_refused_insert() {
    let _fault = Fault::on(loom_fault::set_hot_starts_verified);
    let msg = expect_failure("broken/m11_lookup_vs_refused_insert", m11_lookup_vs_refused_insert);
    assert!(msg.contains("then refused"), "{msg}");
}

#[test]
fn broken_table_t1_links_late() {
    let _fault = Fault::on(loom_fault::set_table_links_late);
    let msg = expect_failure(
        "broken/t1_table_lookup_vs_insert_in_front",
        t1_table_lookup_vs_insert_in_front,
    );
    assert!(msg.contains("was missed"), "{msg}");
}

#[test]
fn broken_table_t4_checks_unlocked() {
    let _fault = Fault::on(loom_fault::set_table_checks_unlocked);
    let msg = expect_failure("broken/t4_table_try_insert_races", t4_table_try_insert_races);
    assert!(msg.contains("both linked") || msg.contains("left linked"), "{msg}");
}

#[test]
fn broken_table_t2_links_late() {
    let _fault = Fault::on(loom_fault::set_table_links_late);
    let msg = expect_failure(
        "broken/t2_table_lookup_vs_replace_and_remove",
        t2_table_lookup_vs_replace_and_remove,
    );
    assert!(msg.contains("was missed"), "{msg}");
}

#[test]
fn broken_f1_free_slots_relaxed() {
    let _fault = Fault::on(loom_fault::set_free_slots_relaxed);
    let msg = expect_failure("broken/f1_free_slot_put_vs_take", f1_free_slot_put_vs_take);
    assert!(msg.contains("free slot was lost"), "{msg}");
}

#[test]
fn broken_m13_flush_leaves_g() {
    let _fault = Fault::on(loom_fault::set_flush_leaves_g);
    let msg = expect_failure(
        "broken/m13_ticket_compute_vs_invalidate_all",
        m13_ticket_compute_vs_invalidate_all,
    );
    assert!(msg.contains("served after it returned"), "{msg}");
}

#[test]
fn broken_m15_floor_after_g() {
    let _fault = Fault::on(loom_fault::set_floor_after_g);
    let msg = expect_failure(
        "broken/m15_first_lookup_vs_invalidate_all",
        m15_first_lookup_vs_invalidate_all,
    );
    assert!(msg.contains("served after it returned"), "{msg}");
}

#[test]
fn broken_m14_lazy_leaves_g() {
    let _fault = Fault::on(loom_fault::set_lazy_leaves_g);
    let msg = expect_failure(
        "broken/m14_ticket_compute_vs_mark_stale",
        m14_ticket_compute_vs_mark_stale,
    );
    assert!(msg.contains("served after it returned"), "{msg}");
}

#[test]
fn broken_m4_retire_without_cas() {
    let _fault = Fault::on(loom_fault::set_retire_without_cas);
    let msg = expect_failure("broken/m4_retire_vs_ticket", m4_retire_vs_ticket);
    // The ticket's node left the index while pinned: the entry published
    // with it hangs off a node no invalidation can find (the checker at
    // quiescence), or the invalidation found none and the old value stayed.
    assert!(msg.contains("left the index") || msg.contains("stale"), "{msg}");
}

#[test]
fn broken_m7a_retire_cas_once() {
    let _fault = Fault::on(loom_fault::set_retire_cas_once);
    let msg = expect_failure("broken/m7a_racing_invalidations_count", m7a_racing_invalidations_count);
    // One invalidation's cleanup drops the node's last pin while the other
    // holds the node's lock for its scan: one CAS that gives up on the moved
    // lock bit leaves the node in the index with nothing on it.
    assert!(msg.contains("no dependents and no children"), "{msg}");
}

#[test]
fn broken_m1b_register_uncounted() {
    let _fault = Fault::on(loom_fault::set_register_uncounted);
    let msg = expect_failure(
        "broken-count/m1b_insert_registers_between_scans",
        m1b_insert_registers_between_scans,
    );
    // The registration the count did not show is missed by the reused first
    // scan: the entry stays resident though invisible, or goes uncounted.
    assert!(
        msg.contains("not counted") || msg.contains("stale entry survived"),
        "{msg}"
    );
}

#[test]
fn broken_m16_batch_unpins_one() {
    let _fault = Fault::on(loom_fault::set_batch_unpins_one);
    let msg = expect_failure(
        "broken/m16_batched_cleanup_vs_reinsert",
        m16_batched_cleanup_vs_reinsert,
    );
    // Two entries of `d`'s node cleaned up in one batch, one pin dropped:
    // the checker counts a pin that nothing holds.
    assert!(msg.contains("pins, expected"), "{msg}");
}

#[test]
fn broken_m17_probation_rechecks_slot() {
    let _fault = Fault::on(loom_fault::set_probation_rechecks_slot);
    let msg = expect_failure(
        "broken/m17_probation_turn_vs_invalidate_reinsert",
        m17_probation_turn_vs_invalidate_reinsert,
    );
    assert!(msg.contains("is not in its slot"), "{msg}");
}
