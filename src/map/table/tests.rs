//! The table on its own: lookups, replacement, removal by identity, and
//! readers racing writers in the same buckets (run under Miri too:
//! `cargo +nightly miri test --lib --no-default-features map::table`).

use super::probe::{item, Item};
use super::Table;
use crate::reclaim::Domain;
use crate::sync::Arc;

/// Two heads: every chain holds several keys.
fn table(capacity: usize) -> Table<Item, foldhash::fast::RandomState> {
    Table::new(capacity, Default::default())
}

#[test]
fn insert_get_replace_remove() {
    let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
    let t = table(2);
    let guard = domain.guard();
    for k in 0..10 {
        assert!(t.insert(item(k, k), &guard).is_none());
    }
    for k in 0..10 {
        assert_eq!(t.get(&k, &guard).map(|f| f.value), Some(k));
    }
    assert!(t.get(&10, &guard).is_none());
    let old = t.insert(item(3, 33), &guard).expect("replaced");
    assert_eq!(old.value, 3);
    assert_eq!(t.get(&3, &guard).map(|f| f.value), Some(33));
    // Removal is by identity: the replaced item is no longer linked.
    assert!(!t.remove(&old, &guard));
    let cur = t.get(&3, &guard).unwrap().to_arc();
    assert!(t.remove(&cur, &guard));
    assert!(t.get(&3, &guard).is_none());
    // Replace links the new item only in the place of the current one.
    let five = t.get(&5, &guard).unwrap().to_arc();
    assert!(t.replace(&five, item(5, 55), &guard));
    assert!(!t.replace(&five, item(5, 555), &guard));
    assert_eq!(t.get(&5, &guard).map(|f| f.value), Some(55));
    let mut seen = Vec::new();
    t.for_each(&guard, |f| seen.push(f.key));
    seen.sort();
    assert_eq!(seen, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn every_count_is_dropped_once() {
    let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
    let t = table(4);
    let kept: Vec<Arc<Item>> = (0..8).map(|k| item(k, k)).collect();
    {
        let guard = domain.guard();
        for it in &kept {
            t.insert(it.clone(), &guard);
        }
        // Replace half, remove a quarter, put one back by `replace`.
        for it in &kept[..4] {
            t.insert(item(it.key, 100), &guard);
        }
        for k in 4..6 {
            assert!(t.remove(&kept[k as usize], &guard));
        }
        let cur = t.get(&0, &guard).unwrap().to_arc();
        assert!(t.replace(&cur, kept[0].clone(), &guard));
    }
    drop(t);
    drop(domain);
    for it in &kept {
        assert_eq!(Arc::strong_count(it), 1, "item {} leaked or was over-released", it.key);
    }
}

#[test]
fn readers_always_find_keys_that_stay_while_writers_churn_the_same_buckets() {
    let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
    // Four heads for 64 keys: long chains, every write beside a stable key.
    let t = table(4);
    let stable: Vec<u32> = (0..16).map(|k| k * 4).collect();
    {
        let guard = domain.guard();
        for &k in &stable {
            t.insert(item(k, k), &guard);
        }
    }
    let rounds = if cfg!(miri) { 30 } else { 20_000 };
    std::thread::scope(|s| {
        for w in 0..2u32 {
            let (t, domain, stable) = (&t, &domain, &stable);
            s.spawn(move || {
                for i in 0..rounds {
                    let guard = domain.guard();
                    // Churn keys that are not stable: insert, replace, remove.
                    let k = 1 + 4 * (i % 16) + w;
                    t.insert(item(k, i), &guard);
                    if let Some(f) = t.get(&k, &guard) {
                        let a = f.to_arc();
                        if i % 2 == 0 {
                            t.remove(&a, &guard);
                        } else {
                            t.replace(&a, item(k, i + 1), &guard);
                        }
                    }
                    // Replace a stable key with an equal value now and then.
                    if i % 7 == 0 {
                        let k = stable[(i as usize / 7) % stable.len()];
                        t.insert(item(k, k), &guard);
                    }
                }
            });
        }
        for _ in 0..2 {
            let (t, domain, stable) = (&t, &domain, &stable);
            s.spawn(move || {
                for i in 0..rounds {
                    let guard = domain.guard();
                    let k = stable[i as usize % stable.len()];
                    assert_eq!(t.get(&k, &guard).map(|f| f.value), Some(k), "stable key {k} missed");
                }
            });
        }
    });
}

#[test]
fn prefetching_paths_reads_long_chains_and_unlinked_items_without_changing_the_table() {
    let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
    // One head: a chain of 40, longer than the rounds `prefetch_paths` walks.
    let t = table(1);
    let guard = domain.guard();
    let all: Vec<Arc<Item>> = (0..40).map(|k| item(k, k)).collect();
    for it in &all {
        t.insert(it.clone(), &guard);
    }
    // Unlink some: a path to an unlinked item ends at the chain's end.
    for it in all.iter().step_by(3) {
        assert!(t.remove(it, &guard));
    }
    let buckets = t.prefetch_paths(&all, &guard);
    assert_eq!(buckets.len(), all.len());
    assert!(t.prefetch_paths::<Arc<Item>>(&[], &guard).is_empty());
    for it in &all {
        let linked = it.key % 3 != 0;
        assert_eq!(t.get(&it.key, &guard).is_some(), linked, "key {}", it.key);
    }
    // The buckets it returns are the items' own: removing in them works.
    for (it, &b) in all.iter().zip(&buckets) {
        assert_eq!(t.remove_in(b, it, &guard), it.key % 3 != 0, "key {}", it.key);
    }
    assert!(all.iter().all(|it| t.get(&it.key, &guard).is_none()));
}
