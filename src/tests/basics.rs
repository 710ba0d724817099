use crate::{Cache, Dep, DepPath, InsertError, ManualClock};
use std::time::Duration;

fn p(s: &str) -> DepPath {
    DepPath::new(s)
}

fn path_cache(n: usize) -> Cache<String, String, DepPath> {
    Cache::new(n)
}

#[test]
fn insert_get_remove() {
    let c = path_cache(10);
    c.insert("k".into(), "v".into(), [p("a")]);
    assert_eq!(c.get("k").as_deref(), Some("v"));
    assert!(c.contains_key("k"));
    assert_eq!(c.len(), 1);
    assert_eq!(c.remove("k").as_deref(), Some("v"));
    assert_eq!(c.get("k"), None);
    assert_eq!(c.len(), 0);
    c.check_invariants().unwrap();
    assert_eq!(c.stats().index_nodes, 0, "nodes retire with their last entry");
}

#[test]
fn replace_keeps_index_exact() {
    let c = path_cache(10);
    c.insert("k".into(), "1".into(), [p("a")]);
    c.insert("k".into(), "2".into(), [p("b")]);
    assert_eq!(c.get("k").as_deref(), Some("2"));
    c.check_invariants().unwrap();
    assert_eq!(c.invalidate(p("a")), 0);
    assert_eq!(c.invalidate(p("b")), 1);
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_file_hits_subtree_of_ancestors_only() {
    let c = path_cache(100);
    c.insert("cat src/a.py".into(), "a".into(), [p("src/a.py")]);
    c.insert("cat src/b.py".into(), "b".into(), [p("src/b.py")]);
    c.insert("ls src".into(), "a b".into(), [Dep::subtree(p("src"))]);
    c.insert("stat src".into(), "dir".into(), [p("src")]);
    c.insert("grep -r x .".into(), "".into(), [Dep::subtree(DepPath::root())]);
    assert_eq!(c.invalidate(p("./src/a.py")), 3);
    assert_eq!(c.get("cat src/a.py"), None);
    assert_eq!(c.get("ls src"), None);
    assert_eq!(c.get("grep -r x ."), None);
    assert!(c.get("cat src/b.py").is_some());
    assert!(c.get("stat src").is_some(), "Exact dependents of an ancestor stay");
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_directory_hits_everything_below() {
    let c = path_cache(100);
    c.insert("a".into(), "".into(), [p("src/x/a.py")]);
    c.insert("b".into(), "".into(), [p("src/b.py")]);
    c.insert("c".into(), "".into(), [p("docs/c.md")]);
    c.insert("stat src".into(), "".into(), [p("src")]);
    assert_eq!(c.invalidate(p("src")), 3);
    assert!(c.get("c").is_some());
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_new_file_reaches_listing() {
    // A file nobody depends on yet: `ls src` must still go.
    let c = path_cache(100);
    c.insert("ls src".into(), "".into(), [Dep::subtree(p("src"))]);
    assert_eq!(c.invalidate(p("src/new/deep/file.rs")), 1);
    assert_eq!(c.get("ls src"), None);
    assert_eq!(c.invalidate(p("elsewhere/x")), 0);
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_many_counts_each_entry_once() {
    let c: Cache<u32, u32, &'static str> = Cache::new(100);
    c.insert(1, 1, ["a", "b"]);
    c.insert(2, 2, ["b"]);
    c.insert(3, 3, ["c"]);
    assert_eq!(c.invalidate_many(&["a", "b", "a"]), 2);
    assert_eq!(c.get(&3), Some(3));
    c.check_invariants().unwrap();
}

#[test]
fn mark_stale_is_lazy_and_not_counted_twice() {
    let c: Cache<u32, u32, &'static str> = Cache::new(100);
    for k in 0..10 {
        c.insert(k, k, ["a"]);
    }
    c.mark_stale("a");
    assert_eq!(c.get(&0), None);
    assert!(!c.contains_key(&1));
    // Already invisible: reclaimed, not counted.
    assert_eq!(c.invalidate("a"), 0);
    assert_eq!(c.len(), 0);
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_all_then_purge() {
    let c: Cache<u32, u32, &'static str> = Cache::new(100);
    for k in 0..10 {
        c.insert(k, k, ["a"]);
    }
    let t = c.ticket(["b"]);
    c.invalidate_all();
    assert_eq!(c.get(&3), None);
    assert!(matches!(c.insert_with_ticket(100, 1, t), Err(InsertError::Stale(1))));
    assert_eq!(c.purge(), 9); // 3 was reclaimed by its lookup
    assert_eq!(c.len(), 0);
    c.insert(3, 33, ["a"]);
    assert_eq!(c.get(&3), Some(33));
    c.check_invariants().unwrap();
}

/// `invalidate_all` against entries at each stage of their base (the ticket's
/// `G`, a `G` a lookup validated them at, one validated after other
/// invalidations moved `G`), and tickets taken before and after it.
#[test]
fn invalidate_all_against_every_kind_of_base() {
    let c: Cache<u32, u32, u32> = Cache::new(100);
    c.insert(1, 1, [1]); // never looked up: its base is its ticket's `G`
    c.insert(2, 2, [2]);
    assert_eq!(c.get(&2), Some(2)); // validated at the current `G`
    c.insert(3, 3, [3]);
    c.invalidate(99); // moves `G` (no node: returns early) ...
    c.mark_stale(2); // ... this one does
    c.insert(2, 22, [2]);
    assert_eq!(c.get(&3), Some(3)); // validated at a later `G`
    assert_eq!(c.get(&2), Some(22));
    let before = c.ticket([4]);
    c.invalidate_all();
    let after = c.ticket([4]);
    for k in 1..=3 {
        assert_eq!(c.get(&k), None, "entry {k} served after invalidate_all");
    }
    assert!(!before.is_valid());
    assert!(after.is_valid());
    assert!(matches!(c.insert_with_ticket(4, 4, before), Err(InsertError::Stale(4))));
    assert_eq!(c.insert_with_ticket(5, 5, after), Ok(()));
    assert_eq!(c.get(&5), Some(5));
    // A second flush, with an entry validated between the two.
    c.invalidate_all();
    assert_eq!(c.get(&5), None);
    c.insert(6, 6, [6]);
    assert_eq!(c.get(&6), Some(6));
    assert_eq!(c.len(), 1);
    c.check_invariants().unwrap();
}

#[test]
fn stale_set_is_rejected() {
    let c: Cache<&str, &str, &str> = Cache::new(10);
    let t = c.ticket(["a.py"]);
    assert_eq!(c.invalidate("a.py"), 0);
    assert_eq!(
        c.insert_with_ticket("cat a.py", "old", t),
        Err(InsertError::Stale("old"))
    );
    assert_eq!(c.get("cat a.py"), None);
    assert_eq!(c.stats().stale_inserts_rejected, 1);
    // Unrelated invalidation does not hurt a ticket.
    let t = c.ticket(["a.py"]);
    c.invalidate("b.py");
    assert!(t.is_valid());
    c.insert_with_ticket("cat a.py", "new", t).unwrap();
    assert_eq!(c.get("cat a.py"), Some("new"));
    c.check_invariants().unwrap();
}

#[test]
fn stale_set_through_ancestor() {
    let c = path_cache(10);
    let t = c.ticket([Dep::subtree(p("src"))]);
    c.invalidate(p("src/a.py"));
    assert!(c.insert_with_ticket("ls src".into(), "".into(), t).is_err());
    let t = c.ticket([p("src/a.py")]);
    c.invalidate(p("src"));
    assert!(c.insert_with_ticket("cat".into(), "".into(), t).is_err());
    c.check_invariants().unwrap();
}

#[test]
fn foreign_ticket() {
    let a: Cache<u32, u32, &str> = Cache::new(10);
    let b: Cache<u32, u32, &str> = Cache::new(10);
    let t = a.ticket(["x"]);
    assert_eq!(b.insert_with_ticket(1, 1, t), Err(InsertError::ForeignTicket(1)));
}

#[test]
fn capacity_is_bounded_and_clock_keeps_hot_entries() {
    let c: Cache<u32, u32, u32> = Cache::new(100);
    for k in 0..100 {
        c.insert(k, k, [k % 7]);
    }
    // Make 0..50 hot.
    for _ in 0..3 {
        for k in 0..50 {
            assert_eq!(c.get(&k), Some(k));
        }
    }
    for k in 100..150 {
        c.insert(k, k, [k % 7]);
        assert!(c.len() <= 100);
    }
    let hot = (0..50).filter(|k| c.get(k).is_some()).count();
    assert!(hot >= 45, "CLOCK kept only {hot} of 50 hot entries");
    assert_eq!(c.stats().evictions, 50);
    c.check_invariants().unwrap();
}

/// The weigher is asked again when an entry leaves (entries do not store
/// their weight): with a pure weigher the budget returns to zero; with one
/// that answers more the second time, it stops at zero instead of wrapping
/// to "always over" (which would make every insert evict everything).
#[test]
fn weight_is_asked_again_on_removal() {
    let c: Cache<u32, Vec<u8>, u32> = Cache::builder()
        .max_entries(100)
        .max_weight(1000)
        .weigher(|_, v: &Vec<u8>| v.len() as u64)
        .build()
        .unwrap();
    c.insert(1, vec![0; 10], [1]);
    c.insert(2, vec![0; 20], [2]);
    assert_eq!(c.stats().weight, 30);
    assert_eq!(c.invalidate(1), 1);
    assert_eq!(c.stats().weight, 20);
    c.remove(&2);
    assert_eq!(c.stats().weight, 0);
    c.check_invariants().unwrap();

    let calls = std::sync::Arc::new(crate::sync::AtomicU64::new(0));
    let counter = calls.clone();
    let c: Cache<u32, u32, u32> = Cache::builder()
        .max_entries(100)
        .max_weight(1000)
        // 1, then 2, 3, ...: more on removal than at insert. (Relaxed: one
        // thread calls it; the count orders nothing.)
        .weigher(move |_, _| counter.fetch_add(1, crate::sync::Ordering::Relaxed) + 1)
        .build()
        .unwrap();
    c.insert(1, 1, [1]);
    assert_eq!(c.stats().weight, 1);
    c.remove(&1);
    assert_eq!(c.stats().weight, 0, "the budget wrapped below zero");
    c.insert(2, 2, [2]);
    assert_eq!(c.get(&2), Some(2), "an insert after the drift evicted its own entry");
}

/// `len` is a sum of per-thread counts: entries inserted on one thread and
/// removed on another leave one count "negative" (wrapped) and another
/// positive, and only their sum is a count. (Summing with `Iterator::sum`
/// overflowed here in debug builds: Miri and the `ops_threads` fuzzer
/// caught it.)
#[test]
fn len_counts_entries_inserted_and_removed_on_different_threads() {
    let c: Cache<u32, u32, u32> = Cache::new(100);
    std::thread::scope(|s| {
        s.spawn(|| {
            for k in 0..10 {
                c.insert(k, k, [k]);
            }
        });
    });
    assert_eq!(c.len(), 10);
    for k in 0..4 {
        assert_eq!(c.remove(&k), Some(k));
    }
    assert_eq!(c.len(), 6);
    assert_eq!(c.stats().live_entries, 6);
    assert_eq!(c.stats().weight, 6, "without a weigher, weight is len");
    assert_eq!(c.invalidate(5), 1);
    assert_eq!(c.len(), 5);
    c.check_invariants().unwrap();
}

/// `reclaim_batch`: with batches of one object, a removed entry's memory (and
/// so its value) is released as soon as the removing call's guard is gone;
/// with the default, it waits for a full batch.
#[test]
fn reclaim_batch_sets_when_removed_values_are_released() {
    let value = std::sync::Arc::new(7u32);
    for (batch, released) in [(0, true), (1, true), (crate::DEFAULT_RECLAIM_BATCH, false)] {
        let c: Cache<u32, std::sync::Arc<u32>, u32> =
            Cache::builder().max_entries(10).reclaim_batch(batch).build().unwrap();
        c.insert(1, value.clone(), [1]);
        drop(c.remove(&1));
        assert_eq!(
            std::sync::Arc::strong_count(&value) == 1,
            released,
            "batch {batch}: {} counts",
            std::sync::Arc::strong_count(&value)
        );
        drop(c);
        assert_eq!(std::sync::Arc::strong_count(&value), 1, "batch {batch}: leaked");
    }
}

/// A weigher that panics at insert: the insert's lease (the stamps it pinned)
/// gives its pins back while unwinding, so the dependency's node leaves the
/// index and nothing else changed.
#[test]
fn a_weigher_panicking_at_insert_leaves_no_pinned_node() {
    let c: Cache<u32, u32, u32> = Cache::builder()
        .max_entries(10)
        .weigher(|k, _| if *k == 13 { panic!("weigher") } else { 1 })
        .build()
        .unwrap();
    c.insert(1, 1, [1]);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.insert(13, 13, [13, 1])));
    assert!(r.is_err());
    assert_eq!(c.get(&13), None);
    assert_eq!(c.get(&1), Some(1));
    assert!(
        !c.tracks(&13),
        "the panicking insert's dependency stayed pinned in the index"
    );
    let s = c.stats();
    assert_eq!((s.live_entries, s.weight, s.index_nodes), (1, 1, 1));
    c.check_invariants().unwrap();
}

/// `b` with a weigher of 1 per entry that panics the second time it weighs
/// key 0 (it answered at the insert: a weigher that is not a function of the
/// key and value).
fn weigher_panicking_on_key_0_again(b: crate::CacheBuilder<u32, u32, u32>) -> Cache<u32, u32, u32> {
    use crate::sync::{AtomicU64, Ordering};
    let weighed_zero = AtomicU64::new(0);
    b.weigher(move |k, _| {
        // Relaxed: a test counter on one thread.
        if *k == 0 && weighed_zero.fetch_add(1, Ordering::Relaxed) == 1 {
            panic!("weigher");
        }
        1
    })
    .build()
    .unwrap()
}

/// A weigher that panics when the hand's eviction weighs its victim (it
/// answered at the victim's insert: a weigher that is not a function of the
/// key and value): the evicting insert unwinds, its dependency's node gets
/// back the pin the new entry held (dropping an entry does not unpin), and
/// every CLOCK slot stays usable. Only the weight counter stays off, by the
/// victim's weight, which the weigher would not tell.
#[test]
fn a_weigher_panicking_at_eviction_gives_the_new_entrys_pins_back() {
    let c = weigher_panicking_on_key_0_again(Cache::builder().max_entries(4));
    for k in 0..4 {
        c.insert(k, k, [k]);
    }
    // The hand starts at slot 0, key 0's: the insert of 4 evicts it.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.insert(4, 4, [4])));
    assert!(r.is_err(), "the eviction did not weigh its victim");
    assert_eq!(c.get(&4), None);
    assert_eq!(c.get(&0), None, "the victim survived its eviction");
    assert!(!c.tracks(&4), "the unwound insert's dependency stayed pinned");
    // Every slot is still usable: the cache fills up again.
    for k in 10..20 {
        c.insert(k, k, [k]);
    }
    assert_eq!(c.len(), 4, "a slot was lost");
    assert_eq!(c.stats().index_nodes, 4);
}

/// The same with a weight budget: the eviction that makes weight room (the
/// hand, after the new entry has its slot) unwinds in the victim's weigher;
/// the victim's slot is freed all the same, not left to a dead entry until
/// the hand passes.
#[test]
fn a_weigher_panicking_while_making_weight_room_frees_the_victims_slot() {
    let c = weigher_panicking_on_key_0_again(Cache::builder().max_entries(100).max_weight(4));
    for k in 0..4 {
        c.insert(k, k, [k]);
    }
    // Slots are free, so 4 takes one; the weight room's hand starts at
    // slot 0, key 0's, and its removal weighs it again.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.insert(4, 4, [4])));
    assert!(r.is_err(), "making weight room did not weigh its victim");
    assert_eq!(c.get(&0), None, "the victim survived its eviction");
    // The checker reads every slot before the weight counter, which stays
    // off by the victim's weight (the weigher would not tell it).
    if let Err(e) = c.check_invariants() {
        assert!(!e.contains("slot"), "the dead victim still holds its slot: {e}");
    }
}

#[test]
fn weight_budget() {
    let c: Cache<u32, Vec<u8>, u32> = Cache::builder()
        .max_entries(1000)
        .max_weight(100)
        .weigher(|_, v: &Vec<u8>| v.len() as u64)
        .build()
        .unwrap();
    for k in 0..50 {
        c.insert(k, vec![0; 10], [k]);
        assert!(c.stats().weight <= 100);
    }
    assert_eq!(c.len(), 10);
    let err = c.ticket([1]);
    assert!(matches!(
        c.insert_with_ticket(999, vec![0; 101], err),
        Err(InsertError::TooHeavy {
            weight: 101,
            max_weight: 100,
            ..
        })
    ));
    c.check_invariants().unwrap();
}

#[test]
fn ttl_with_manual_clock() {
    let clock = ManualClock::new();
    let c: Cache<u32, u32, u32> = Cache::builder()
        .max_entries(10)
        .ttl(Duration::from_secs(10))
        .clock(&clock)
        .build()
        .unwrap();
    c.insert(1, 1, [1]);
    clock.advance(Duration::from_secs(5));
    c.insert(2, 2, [1]);
    assert_eq!(c.get(&1), Some(1));
    clock.advance(Duration::from_secs(6));
    assert_eq!(c.get(&1), None);
    assert_eq!(c.get(&2), Some(2));
    assert_eq!(c.stats().expirations, 1);
    // Expired entries are not counted by invalidation: an eager invalidation
    // that removes one counts it as an expiration, as the hand and lookups do
    // (each removal lands in exactly one counter).
    clock.advance(Duration::from_secs(10));
    assert_eq!(c.invalidate(1), 0);
    assert_eq!(c.len(), 0);
    let s = c.stats();
    assert_eq!(s.expirations, 2, "{s:?}");
    assert_eq!(s.entries_invalidated, 0, "{s:?}");
    c.check_invariants().unwrap();
}

#[test]
fn builder_rejects_bad_settings() {
    let r = Cache::<u32, u32, u32>::builder().max_entries(0).build();
    assert!(r.unwrap_err().to_string().contains("max_entries"));
    assert!(Cache::<u32, u32, u32>::builder().max_weight(0).build().is_err());
    assert!(Cache::<u32, u32, u32>::builder().ttl(Duration::ZERO).build().is_err());
    assert_eq!(Cache::<u32, u32, u32>::new(0).capacity(), 1);
}

#[test]
fn single_flight_runs_once() {
    let c: Cache<u32, u32, u32> = Cache::new(10);
    let runs = std::sync::Mutex::new(0);
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                barrier.wait();
                let v = c.get_or_insert_with(7, [1], || {
                    *runs.lock().unwrap() += 1;
                    std::thread::sleep(Duration::from_millis(50));
                    70
                });
                assert_eq!(v, 70);
            });
        }
    });
    assert_eq!(*runs.lock().unwrap(), 1);
    c.check_invariants().unwrap();
}

#[test]
fn single_flight_leader_panic_does_not_hang() {
    let c: Cache<u32, u32, u32> = Cache::new(10);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.get_or_insert_with(1, [1], || panic!("boom"))
    }));
    assert!(r.is_err());
    assert_eq!(c.get_or_insert_with(1, [1], || 5), 5);
    let e: Result<u32, &str> = c.try_get_or_insert_with(2, [1], || Err("no"));
    assert_eq!(e, Err("no"));
    assert_eq!(c.get(&2), None);
    c.check_invariants().unwrap();
}

#[test]
fn single_flight_rejects_compute_across_invalidation() {
    let c: Cache<u32, u32, u32> = Cache::new(10);
    let v = c.get_or_insert_with(1, [9], || {
        c.invalidate(9);
        1
    });
    assert_eq!(v, 1, "the caller still gets its value");
    assert_eq!(c.get(&1), None, "but it is not cached");
    c.check_invariants().unwrap();
}

#[test]
fn python_seed_scenario() {
    // 1000 entries over 100 files: invalidate one file (10 dependents), then ten.
    let c: Cache<u32, u32, String> = Cache::new(2000);
    for k in 0..1000u32 {
        c.insert(k, k, [format!("f{}", k % 100)]);
    }
    // No eager invalidation yet: no histogram was allocated, and none is reported.
    assert_eq!(c.stats().invalidation_latency, crate::Latency::default());
    assert_eq!(c.invalidate("f3".to_string()), 10);
    let ten: Vec<String> = (10..20).map(|i| format!("f{i}")).collect();
    assert_eq!(c.invalidate_many(&ten), 100);
    assert_eq!(c.len(), 890);
    let s = c.stats();
    assert_eq!(s.entries_invalidated, 110);
    assert_eq!(s.index_nodes, 89);
    assert_eq!(s.invalidation_latency.samples, 2);
    // From another thread (possibly another stripe): both stripes are summed.
    std::thread::scope(|t| {
        t.spawn(|| assert_eq!(c.invalidate("f4".to_string()), 10));
    });
    assert_eq!(c.stats().invalidation_latency.samples, 3);
    c.check_invariants().unwrap();
}

#[test]
fn invalidate_many_large_sets_count_exactly() {
    // More dependencies than the bump set scans linearly, with shared ancestors.
    let c = path_cache(1000);
    for d in 0..10 {
        for f in 0..10 {
            c.insert(format!("cat {d}/{f}"), String::new(), [p(&format!("src/{d}/{f}.rs"))]);
        }
        c.insert(format!("ls {d}"), String::new(), [Dep::subtree(p(&format!("src/{d}")))]);
    }
    c.mark_stale(p("src/0/0.rs"));
    let deps: Vec<DepPath> = (0..5)
        .flat_map(|d| (0..10).map(move |f| p(&format!("src/{d}/{f}.rs"))))
        .collect();
    // 50 files and 5 listings, minus the file and listing already hidden by mark_stale.
    assert_eq!(c.invalidate_many(&deps), 53);
    assert_eq!(c.len(), 55);
    c.check_invariants().unwrap();
}
