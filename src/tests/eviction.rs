//! The replacement policy's behaviour (S3-FIFO over the ring, ARCHITECTURE §6):
//! what probation, promotion and ghosts keep and evict, single-threaded.

use crate::Cache;

/// A cache of `capacity` entries filled with keys `0..capacity`, each on its
/// own dependency.
fn full(capacity: u32) -> Cache<u32, u32, u32> {
    let c = Cache::new(capacity as usize);
    for k in 0..capacity {
        c.insert(k, k, [k]);
    }
    assert_eq!(c.len(), capacity as usize);
    c
}

/// A scan of one-time keys ten times the capacity passes through probation
/// and leaves the entries that were hit: each scan key is evicted by the
/// insert a tenth of the capacity later, so the hand, which would age the hot
/// entries, hardly runs. (CLOCK alone keeps none of them: the hand laps the
/// ring ten times.)
#[test]
fn a_scan_passes_through_probation_and_leaves_the_hot_entries() {
    let c = full(1000);
    for _ in 0..2 {
        for k in 0..400 {
            assert_eq!(c.get(&k), Some(k));
        }
    }
    for k in 10_000..20_000 {
        c.insert(k, k, [k]);
        assert!(c.len() <= 1000);
    }
    let hot = (0..400).filter(|k| c.contains_key(k)).count();
    assert!(hot >= 380, "the scan evicted {} of 400 hot entries", 400 - hot);
    let scan = (10_000..20_000).filter(|k| c.contains_key(k)).count();
    assert!(scan <= 700, "{scan} scan keys stayed");
    c.check_invariants().unwrap();
}

/// An entry hit while on probation stays when its turn comes (it is
/// promoted); one not hit is evicted by the insert one lap of the queue later.
#[test]
fn a_hit_on_probation_promotes() {
    let c = full(100); // 10 probation positions
    c.insert(1000, 0, [1000]);
    c.insert(1001, 0, [1001]);
    assert_eq!(c.get(&1000), Some(0));
    for k in 2000..2010 {
        c.insert(k, k, [k]);
    }
    assert!(c.contains_key(&1000), "the entry hit on probation was evicted");
    assert!(
        !c.contains_key(&1001),
        "the entry not hit outlived its lap of probation"
    );
    c.check_invariants().unwrap();
}

/// A key evicted from probation and inserted again while its ghost lives
/// skips probation: it outlives a key inserted beside it that did not.
#[test]
fn a_ghost_sends_its_key_past_probation() {
    let c = full(100);
    c.insert(1000, 0, [1000]);
    for k in 2000..2010 {
        c.insert(k, k, [k]);
    }
    assert!(!c.contains_key(&1000), "1000 was not evicted from probation");
    c.insert(1000, 1, [1000]); // has a ghost: straight to the hand's part
    c.insert(1001, 1, [1001]); // no ghost: on probation
    for k in 3000..3010 {
        c.insert(k, k, [k]);
    }
    assert_eq!(c.get(&1000), Some(1), "the key with a ghost was evicted from probation");
    assert!(!c.contains_key(&1001));
    assert!(c.stats().evictions >= 21);
    c.check_invariants().unwrap();
}

/// Invalidated entries are claimed before the policy evicts anything: an
/// insert into a full cache after an invalidation takes the freed slot.
#[test]
fn a_freed_slot_is_taken_before_anything_is_evicted() {
    let c = full(100);
    assert_eq!(c.invalidate(7), 1);
    c.insert(1000, 0, [1000]);
    assert_eq!(c.stats().evictions, 0);
    assert_eq!(c.len(), 100);
    assert!((0..100).filter(|k| *k != 7).all(|k| c.contains_key(&k)));
    c.check_invariants().unwrap();
}
