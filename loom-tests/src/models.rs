//! The model bodies: each races two or three loom threads on one or two keys
//! of a tiny cache and asserts what would break if the protocol were wrong.
//! `tests/models.rs` runs them, `tests/broken.rs` runs some against the
//! deliberately broken variant, `tests/bugs.rs` runs the ones that find real
//! bugs. README.md says what each one checks.
//!
//! The "file system" values are computed from is a loom atomic version: an
//! editor stores a new version (Release) and then invalidates; a computation
//! takes its ticket, then reads the version (Acquire). A value holding version 0
//! is stale with respect to the edit, and the contract says:
//!
//! - no stale read: a `get` that starts after `invalidate` returned never
//!   returns it;
//! - no stale set: it never stays in the cache once both sides are done.
//!
//! The main thread of a model is one of its racing threads (fewer loom threads,
//! fewer interleavings); it checks the end state after joining the others.

use depcache::{Cache, Dep, DepPath, InsertError};
use loom::sync::atomic::{AtomicU32, Ordering::*};
use loom::sync::Arc;
use loom::thread;

use crate::assert_quiescent;

/// A cache with flat dependencies.
pub type Flat = Cache<&'static str, u32, &'static str>;
/// A cache with path dependencies.
pub type Tree = Cache<&'static str, u32, DepPath>;

fn flat(capacity: usize) -> Flat {
    Cache::builder().max_entries(capacity).build().unwrap()
}

fn tree(capacity: usize) -> Tree {
    Cache::builder().max_entries(capacity).build().unwrap()
}

fn p(s: &str) -> DepPath {
    DepPath::new(s)
}

/// A versioned file: version 0 before the edit, 1 after.
fn file() -> Arc<AtomicU32> {
    Arc::new(AtomicU32::new(0))
}

/// Takes a ticket on `dep`, reads the file, publishes what it read under `key`.
/// Returns the version read and whether the insert was accepted.
fn compute(c: &Flat, f: &AtomicU32, key: &'static str, dep: &'static str) -> (u32, bool) {
    let t = c.ticket([dep]);
    let v = f.load(Acquire);
    (v, c.insert_with_ticket(key, v, t).is_ok())
}

/// Model 1: `insert` ‖ `invalidate` of its dependency.
///
/// The outcome must be one of the two sequential ones: insert then invalidate
/// (the entry is gone) or invalidate then insert (the entry stays and the
/// invalidation counted nothing). An entry a `get` sees after `invalidate`
/// returned was not affected by it, so it must still be there at the end.
/// Structure: no dangling registration, no orphan entry (`check_invariants`),
/// no resident entry that is invisible.
pub fn m1_insert_vs_invalidate() {
    let c = flat(2);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.insert("k", 7, ["d"]))
    };
    let n = c.invalidate("d");
    let after = c.get(&"k");
    a.join().unwrap();

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    if after.is_some() {
        assert_eq!(fin, after, "a get after invalidate saw an entry that later vanished");
    }
    assert!(n <= 1);
    let s = c.stats();
    assert_eq!(s.inserts + s.stale_inserts_rejected, 1);
    assert_eq!(s.entries_invalidated, n as u64);
    assert_exact_count(n, fin.is_some(), s.inserts == 1);
}

/// Exact counts for one insert racing one invalidation of its dependency, with
/// nothing else that could remove the entry: if it survived, the invalidation
/// counted nothing; if an accepted insert ended gone, it was live before the
/// bumps and made invalid by this call, so the call counted it (also when it
/// registered between the call's two scans).
fn assert_exact_count(n: usize, survived: bool, accepted: bool) {
    if survived {
        assert_eq!(n, 0, "the entry survived, yet the invalidation counted it");
    } else if accepted {
        assert_eq!(n, 1, "an entry this invalidation removed was not counted");
    }
}

/// Model 1b: as model 1, with the dependency's node held, so the invalidation
/// always bumps: `insert` ‖ `invalidate` where the insert can register between
/// the invalidation's first scan of the reverse index and its bumps (one
/// preemption). Exact counts: an accepted insert that ends up gone was made
/// invalid by this call and must be counted by it. Guards the skipped second
/// scan (`Node::registrations`): a second scan wrongly skipped leaves exactly
/// this entry uncounted.
pub fn m1b_insert_registers_between_scans() {
    let c = flat(2);
    let hold = c.ticket(["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.insert("k", 7, ["d"]))
    };
    let n = c.invalidate("d");
    a.join().unwrap();
    drop(hold);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    let s = c.stats();
    assert_eq!(s.inserts + s.stale_inserts_rejected, 1);
    assert_eq!(s.entries_invalidated, n as u64);
    assert_exact_count(n, fin.is_some(), s.inserts == 1);
}

/// Model 2: ticket + compute ‖ edit + invalidate, the dependency's index node
/// already present (held by an outstanding ticket).
///
/// A value computed from the old version is rejected or removed in every
/// interleaving, and no `get` after `invalidate` returned sees it.
pub fn m2_ticket_compute_vs_invalidate() {
    let c = flat(2);
    let f = file();
    let hold = c.ticket(["d"]);
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || compute(&c, &f, "k", "d"))
    };
    f.store(1, Release);
    c.invalidate("d");
    assert_ne!(c.get(&"k"), Some(0), "stale read after invalidate returned");
    a.join().unwrap();
    drop(hold);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
    let s = c.stats();
    assert_eq!(s.inserts + s.stale_inserts_rejected, 1);
}

/// Model 2b: as model 2, but nothing holds the dependency's node: the ticket
/// may create it after the invalidation looked for it and found none.
pub fn m2b_ticket_compute_vs_invalidate_no_node() {
    let c = flat(2);
    let f = file();
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || compute(&c, &f, "k", "d"))
    };
    f.store(1, Release);
    c.invalidate("d");
    assert_ne!(c.get(&"k"), Some(0), "stale read after invalidate returned");
    a.join().unwrap();

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// Model 13: a computation (ticket, read, insert) ‖ an edit and `invalidate_all`.
///
/// `invalidate_all` is lazy: entries from before it stay resident until
/// something touches them, but no lookup that starts after it returned may
/// answer from one — not even from an entry a lookup already validated at the
/// current `G` (the `get` fast path, which `invalidate_all` must defeat by
/// moving `G`), and not from a value computed across it (refused, or resident
/// but invisible). End state: once every key was looked up, what is resident
/// is visible, and `k` is absent or holds the edit.
pub fn m13_ticket_compute_vs_invalidate_all() {
    compute_vs_lazy_invalidation("e", |c| c.invalidate_all(), "invalidate_all");
}

/// Model 14: a computation (ticket, read, insert of `k` on `d`) ‖ an edit and
/// `mark_stale(d)`, with `old` on `d` resident and already validated.
///
/// The lazy invalidation removes nothing, but its entries become invisible at
/// once: no lookup that starts after `mark_stale` returned answers from `old`
/// (its `live_at` holds the `G` before the bumps; the broken variant,
/// `set_lazy_leaves_g`, bumps the generations but not `G`, and loom finds
/// `old` served) or reads `k` = 0. End state as model 13.
pub fn m14_ticket_compute_vs_mark_stale() {
    compute_vs_lazy_invalidation("d", |c| c.mark_stale("d"), "mark_stale");
}

/// Model 15: a first lookup (which validates an entry and caches the verdict
/// in its `live_at`) ‖ `invalidate_all`.
///
/// `old` is resident but not yet validated. The lookup may validate it at the
/// `G` that `invalidate_all` publishes only if it also sees the floor raised
/// with it: otherwise it stores that `G` in `live_at`, and the fast path
/// serves a flushed entry to every later lookup (the broken variant,
/// `set_floor_after_g`, raises the floor after publishing `G`, and loom finds
/// `old` served). Nothing the racing lookup returns is wrong (the flush is
/// concurrent); what it leaves behind must be.
pub fn m15_first_lookup_vs_invalidate_all() {
    let c = flat(2);
    c.insert("old", 0, ["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.get(&"old"))
    };
    c.invalidate_all();
    assert_eq!(
        c.get(&"old"),
        None,
        "an entry invalidate_all reached was served after it returned"
    );
    let raced = a.join().unwrap();
    assert!(raced.is_none() || raced == Some(0), "{raced:?}");
    assert_eq!(c.get(&"old"), None, "a flushed entry came back");
    assert_quiescent(&c, &["old"]);
}

/// Models 13 and 14: `old` on `old_dep`, validated by a lookup; a computation
/// of `k` on `d` ‖ the edit and `invalidate` (which must reach `old`; `what`
/// names it in the messages).
fn compute_vs_lazy_invalidation(old_dep: &'static str, invalidate: fn(&Flat), what: &str) {
    let c = flat(2);
    let f = file();
    c.insert("old", 0, [old_dep]);
    // Validated: its `live_at` now holds the current `G`.
    assert_eq!(c.get(&"old"), Some(0));
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || compute(&c, &f, "k", "d"))
    };
    f.store(1, Release);
    invalidate(&c);
    assert_ne!(c.get(&"k"), Some(0), "stale read after {what} returned");
    a.join().unwrap();
    // (After the join: a model that fails while a spawned thread is still
    // queued aborts instead of reporting.)
    assert_eq!(
        c.get(&"old"),
        None,
        "an entry {what} reached was served after it returned"
    );

    // Lazy: a lookup reclaims what the invalidation made invisible.
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
    assert_quiescent(&c, &["k", "old"]);
}

/// Model 3: eviction ‖ re-insert of the same key ‖ invalidate, capacity 1.
///
/// Both entries of `k` depend on `a`. The re-insert must evict the old entry
/// to get the only slot (unless the invalidation freed it first), and publishing
/// replaces it in the map. Cleanup of the old entry (by eviction, replacement or
/// invalidation, whichever wins) must never remove or unregister the new one:
/// `check_invariants` verifies the resident entry sits in its slot and is
/// registered on `a`'s node; the old value is never seen after `invalidate`
/// returned. (What the invalidation counts here is model 9b.)
pub fn m3_evict_reinsert_invalidate() {
    evict_reinsert_invalidate(false);
}

/// Model 9b: model 3, counting: the invalidation counts at most one entry of
/// the key (one key holds one visible value at a time).
pub fn m9b_reinsert_vs_invalidate_count() {
    evict_reinsert_invalidate(true);
}

fn evict_reinsert_invalidate(check_count: bool) {
    let c = flat(1);
    c.insert("k", 1, ["a"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.insert("k", 2, ["a"]))
    };
    let n = c.invalidate("a");
    let after = c.get(&"k");
    assert_ne!(after, Some(1), "the old entry survived its invalidation");
    a.join().unwrap();

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(2), "{fin:?}");
    if after.is_some() {
        assert_eq!(fin, after);
    }
    assert_eq!(c.stats().entries_invalidated, n as u64);
    if check_count {
        assert!(n <= 1, "one invalidation counted {n} entries of one key");
    }
}

/// Model 4: node retirement ‖ ticket on the same dependency.
///
/// `d`'s node is pinned only by the entry of `k`. The editor removes `k` (which
/// retires the node, unless the ticket pinned it first), edits, and
/// invalidates; the other thread takes a ticket on `d`, which either revives
/// the node or, once it is retired, makes a fresh one. The invalidation must
/// not be missed: a value computed from the old version never survives.
pub fn m4_retire_vs_ticket() {
    let c = flat(2);
    let f = file();
    c.insert("k", 0, ["d"]);
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || compute(&c, &f, "k2", "d"))
    };
    c.remove(&"k");
    f.store(1, Release);
    c.invalidate("d");
    assert_ne!(c.get(&"k2"), Some(0), "stale read after invalidate returned");
    a.join().unwrap();

    assert_quiescent(&c, &["k", "k2"]);
    let fin = c.get(&"k2");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// Model 5a: single-flight leader ‖ edit + invalidate + a late caller.
///
/// The leader takes its ticket and computes; the editor edits, invalidates,
/// and then asks for the key itself, possibly joining the leader's flight. A
/// caller that starts after `invalidate` returned must not receive a value
/// computed before it (the leader's value is refused, its waiters retry), must
/// not hang (loom reports a deadlock), and no flight is left behind.
pub fn m5a_single_flight_vs_invalidate() {
    let c = flat(2);
    let f = file();
    let hold = c.ticket(["d"]);
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || c.get_or_insert_with("k", ["d"], || f.load(Acquire)))
    };
    f.store(1, Release);
    c.invalidate("d");
    let late = c.get_or_insert_with("k", ["d"], || f.load(Acquire));
    assert_eq!(late, 1, "a caller that started after invalidate got a stale value");
    let va = a.join().unwrap();
    assert!(va <= 1);
    drop(hold);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// Model 5a, three threads: leader ‖ early waiter ‖ edit + invalidate + late
/// caller. Slow (minutes at preemption bound 2); `tests/models.rs` runs it only
/// with `DEPCACHE_LOOM_EXTENDED=1`.
pub fn m5a3_single_flight_waiters_vs_invalidate() {
    let c = flat(2);
    let f = file();
    let hold = c.ticket(["d"]);
    let spawn =
        |c: Flat, f: Arc<AtomicU32>| thread::spawn(move || c.get_or_insert_with("k", ["d"], || f.load(Acquire)));
    let a = spawn(c.clone(), f.clone());
    let b = spawn(c.clone(), f.clone());
    f.store(1, Release);
    c.invalidate("d");
    let late = c.get_or_insert_with("k", ["d"], || f.load(Acquire));
    assert_eq!(late, 1, "a caller that started after invalidate got a stale value");
    let (va, vb) = (a.join().unwrap(), b.join().unwrap());
    assert!(va <= 1 && vb <= 1);
    drop(hold);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// The payload of the panic model 5b plans.
pub struct PlannedPanic;

/// Model 5b: a single-flight leader that panics ‖ a second caller.
///
/// The second caller either joins the panicking leader's flight (and must be
/// woken to retry, not hang: loom reports a deadlock) or leads itself; it
/// returns its own value, the panic reaches only the leader, and nothing is
/// left in the flight table. Call [`quiet_planned_panics`] first.
pub fn m5b_single_flight_leader_panics() {
    let c = flat(2);
    let a = {
        let c = c.clone();
        thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                c.get_or_insert_with("k", ["d"], || -> u32 { std::panic::panic_any(PlannedPanic) })
            }))
            .ok()
        })
    };
    let vb = c.get_or_insert_with("k", ["d"], || 2);
    assert_eq!(vb, 2);
    let va = a.join().unwrap();
    // The first caller panicked (it led) or joined the second's flight.
    assert!(va.is_none() || va == Some(2), "{va:?}");

    assert_quiescent(&c, &["k"]);
    assert_eq!(c.get(&"k"), Some(2));
}

/// Silences the default panic message for [`PlannedPanic`] (loom runs model 5b
/// hundreds of times), keeping it for every other panic.
pub fn quiet_planned_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<PlannedPanic>().is_none() {
                default(info);
            }
        }));
    });
}

/// Model 6a: invalidate a directory ‖ insert of a file below it.
///
/// `cat src/a.rs` depends (Exact) on `src/a.rs`; invalidating `src` as a whole
/// bumps `src`'s generation, which is part of every stamp below it. (`src`'s
/// node is held by an outstanding ticket, so the invalidation always finds it.)
pub fn m6a_dir_invalidate_vs_insert_below() {
    let c = tree(2);
    let f = file();
    let hold = c.ticket([p("src")]);
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || {
            let t = c.ticket([p("src/a.rs")]);
            let v = f.load(Acquire);
            c.insert_with_ticket("cat src/a.rs", v, t).is_ok()
        })
    };
    f.store(1, Release);
    let n = c.invalidate(p("src"));
    assert_ne!(c.get(&"cat src/a.rs"), Some(0), "stale read after invalidate returned");
    let accepted = a.join().unwrap();
    drop(hold);

    assert_quiescent(&c, &["cat src/a.rs"]);
    let fin = c.get(&"cat src/a.rs");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
    // Exact counts (as in model 1), here through a child node that may be
    // created between the invalidation's two scans.
    assert_exact_count(n, fin.is_some(), accepted);
}

/// Model 6b: invalidate a file ‖ insert of a `Subtree` dependent of its directory.
///
/// Invalidating `src/a.rs` bumps the `tree_gen` of `src` (and of the root),
/// which a `Subtree` stamp on `src` includes. (`src/a.rs`'s node is held.)
pub fn m6b_file_invalidate_vs_subtree_insert() {
    let c = tree(2);
    let f = file();
    let hold = c.ticket([p("src/a.rs")]);
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || {
            let t = c.ticket([Dep::subtree(p("src"))]);
            let v = f.load(Acquire);
            c.insert_with_ticket("ls src", v, t).is_ok()
        })
    };
    f.store(1, Release);
    c.invalidate(p("src/a.rs"));
    assert_ne!(c.get(&"ls src"), Some(0), "stale read after invalidate returned");
    a.join().unwrap();
    drop(hold);

    assert_quiescent(&c, &["ls src"]);
    let fin = c.get(&"ls src");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// Model 7a: two invalidations of one dependency race on a visible entry.
///
/// "When invalidations race on one entry, exactly one of them removes it", and
/// each returns the visible entries it removed: the two counts sum to 1.
pub fn m7a_racing_invalidations_count() {
    let c = flat(2);
    c.insert("k", 1, ["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.invalidate("d"))
    };
    let n = c.invalidate("d");
    let m = a.join().unwrap();
    assert_quiescent(&c, &["k"]);
    assert_eq!(
        n + m,
        1,
        "a visible entry removed by racing invalidations was counted {} times",
        n + m
    );
}

/// Model 7b: an invalidation races a `get` of the entry it invalidates.
///
/// The entry is visible before the invalidation, so the invalidation counts it
/// whether or not the `get` (which reclaims an entry it finds invalid) gets to
/// it first.
pub fn m7b_invalidate_vs_reclaiming_get_count() {
    let c = flat(2);
    c.insert("k", 1, ["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.get(&"k"))
    };
    let n = c.invalidate("d");
    let _ = a.join().unwrap();
    assert_quiescent(&c, &["k"]);
    assert_eq!(n, 1, "the invalidation removed a visible entry but counted {n}");
}

/// Model 8: a value a `get` returned is never reported as not published.
///
/// `insert_with_ticket` publishes its entry in the map (state INIT) before its
/// final stamp check; if an invalidation lands in between, it reports `Stale`
/// ("not cached"). A `get` in that window must not return the value.
pub fn m8_get_vs_stale_insert() {
    let c = flat(2);
    let hold = c.ticket(["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || {
            let t = c.ticket(["d"]);
            c.insert_with_ticket("k", 5, t)
        })
    };
    let seen = c.get(&"k");
    let n = c.invalidate("d");
    let r = a.join().unwrap();
    drop(hold);
    assert_quiescent(&c, &["k"]);
    if seen == Some(5) {
        assert!(
            !matches!(r, Err(InsertError::Stale(_))),
            "a get returned a value whose insert then reported Stale (not cached)"
        );
        assert_eq!(
            n, 1,
            "the invalidation removed an entry a get had returned, but counted {n}"
        );
    }
}

/// Model 9: eviction ‖ invalidation of the evicted entry, capacity 1.
///
/// `k` on `a` fills the only slot; inserting `j` (on `b`) makes the CLOCK hand
/// evict `k` while `invalidate(a)` runs. `k` is removed exactly once, and
/// accounted exactly once: as an eviction (`stats().evictions`) if the hand
/// removed it while it was visible, or in the invalidation's count otherwise.
pub fn m9_evict_vs_invalidate_count() {
    let c = flat(1);
    c.insert("k", 1, ["a"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.insert("j", 2, ["b"]))
    };
    let n = c.invalidate("a");
    a.join().unwrap();
    assert_quiescent(&c, &["k", "j"]);
    assert_eq!(c.get(&"k"), None);
    let evicted = c.stats().evictions;
    assert_eq!(
        evicted + n as u64,
        1,
        "k accounted {} times ({evicted} eviction(s), invalidate counted {n})",
        evicted + n as u64
    );
}

/// Model 10: a refused insert ‖ an invalidation followed by a newer insert of
/// the same key (found by the `ops_threads` fuzzer).
///
/// `k` holds `X`. Thread A inserts `k` depending on `d`: it displaces `X` in
/// the map, then the invalidation of `d` refuses it, and A puts `X` back —
/// unless main's newer insert of `k` has replaced A's entry meanwhile; then `X`
/// is superseded and must be removed, not left live in its CLOCK slot with no
/// key pointing at it. At quiescence: no orphan (`check_invariants`), and the
/// key holds main's value or nothing.
pub fn m10_refused_insert_vs_newer_insert() {
    let c = flat(4);
    c.insert("k", 0, ["x"]);
    let hold = c.ticket(["d"]);
    let a = {
        let c = c.clone();
        thread::spawn(move || c.insert("k", 1, ["d"]))
    };
    c.invalidate("d");
    c.insert("k", 2, ["e"]);
    a.join().unwrap();
    drop(hold);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(2) || fin == Some(1), "{fin:?}");
}

/// Model 16: an eager invalidation that removes two entries of one node in one
/// batch ‖ a re-insert of one of them on the same dependency.
///
/// `k` and `j` depend on `d`. The invalidation kills both and cleans them up
/// together: one lock of `d`'s node for both registrations, one decrement for
/// both pins (`Shared::cleanup_many`). The re-insert pins the node, or finds
/// it retired and makes a new one, and registers there, while the batch runs.
/// Counts: `j` is always the call's, and mostly one entry of `k` (the old one,
/// or the new one if it replaced the old before the scan); both entries of `k`
/// only if the new one went live before the bumps and the invalidation killed
/// the old one before the re-insert could; neither if the re-insert had
/// displaced the old one from the map (a lookup then misses) and killed it
/// as replaced, and went live after the bumps. At quiescence the checker
/// counts every node's pins against what holds them (the broken variant,
/// `set_batch_unpins_one`, leaves a pin behind).
pub fn m16_batched_cleanup_vs_reinsert() {
    batched_cleanup_vs_reinsert("d", &["d"]);
}

/// Model 16b: model 16 with `j` on a second dependency `e`, both invalidated
/// in one call (`invalidate_many([d, e])`): the batch spans two nodes, which
/// the cleanup groups (under loom in first-appearance order, so that loom's
/// re-runs of a schedule take the nodes' locks in the same order).
pub fn m16b_batched_cleanup_two_nodes() {
    batched_cleanup_vs_reinsert("e", &["d", "e"]);
}

/// Models 16 and 16b: `k` on `d` and `j` on `j_dep`; a re-insert of `k` on
/// `d` ‖ `invalidate_many(deps)`, which reaches both.
fn batched_cleanup_vs_reinsert(j_dep: &'static str, deps: &'static [&'static str]) {
    let c = flat(4);
    c.insert("k", 0, ["d"]);
    c.insert("j", 0, [j_dep]);
    let a = {
        let c = c.clone();
        thread::spawn(move || {
            let t = c.ticket(["d"]);
            c.insert_with_ticket("k", 1, t).is_ok()
        })
    };
    let n = c.invalidate_many(deps);
    let accepted = a.join().unwrap();
    assert_quiescent(&c, &["k", "j"]);
    assert_eq!(c.get(&"j"), None, "j survived the invalidation of its dependency");
    let survived = c.get(&"k") == Some(1);
    assert!(!survived || accepted, "a refused insert is resident");
    assert!(
        n == 2 || (n == 3 && accepted && !survived) || (n == 1 && accepted && survived),
        "counted {n}, accepted {accepted}, survived {survived}"
    );
}

/// Model 11: a lookup ‖ an insert that an invalidation refuses.
///
/// A lookup may answer from an entry only once its insert went live: an INIT
/// entry is already in the map (so that a newer insert or a `remove` can
/// supersede it) but may still be refused. Thread A computes `k` from file `f`
/// and inserts it; main looks `k` up, then edits `f` and invalidates `d`. If a
/// lookup returned A's value, A's insert must have been accepted. (The map's
/// copy of `verified_at`, which the hit fast path trusts, starts unverified
/// for this reason; the broken variant starts it at the ticket's `G`.)
pub fn m11_lookup_vs_refused_insert() {
    let c = flat(2);
    let f = file();
    let a = {
        let c = c.clone();
        let f = f.clone();
        thread::spawn(move || compute(&c, &f, "k", "d"))
    };
    let seen = c.get(&"k");
    f.store(1, Release);
    c.invalidate("d");
    let (v, accepted) = a.join().unwrap();
    if seen.is_some() {
        assert!(
            accepted,
            "a lookup returned the value of an insert that was then refused"
        );
        assert_eq!(seen, Some(v));
    }
    assert_quiescent(&c, &["k"]);
    if let Some(fin) = c.get(&"k") {
        assert_eq!(fin, 1, "stale entry survived the invalidation");
    }
}

/// Model 12: a single-flight leader that finds the key cached right after
/// registering its flight ‖ an insert, an edit, an invalidation and a late
/// caller.
///
/// Thread A calls `get_or_insert_with`; main inserts the key (computed from
/// version 0 under a ticket), edits the file, invalidates, then calls
/// `get_or_insert_with` itself. A can miss, register its flight, and then find
/// main's entry; main's late call, which started after `invalidate` returned,
/// can join A's flight. It must not receive version 0: a leader hands its
/// waiters a value only if it was valid after they joined (the leader
/// withdraws its flight before that look; the broken variant looks first, the
/// bug the stress test found).
pub fn m12_flight_hit_after_register_vs_invalidate() {
    let c = flat(2);
    let f = file();
    let a = {
        let (c, f) = (c.clone(), f.clone());
        thread::spawn(move || c.get_or_insert_with("k", ["d"], || f.load(Acquire)))
    };
    let _ = compute(&c, &f, "k", "d");
    f.store(1, Release);
    c.invalidate("d");
    let late = c.get_or_insert_with("k", ["d"], || f.load(Acquire));
    assert_eq!(late, 1, "a caller that started after invalidate got a stale value");
    let va = a.join().unwrap();
    assert!(va <= 1);

    assert_quiescent(&c, &["k"]);
    let fin = c.get(&"k");
    assert!(fin.is_none() || fin == Some(1), "stale set survived: {fin:?}");
}

/// t1: a lookup of a key that stays (1) races an insert of a new key (2) into
/// the same bucket, which links 2 in front of 1. The lookup must find 1: the
/// new item leads on into the chain before it is published (the broken variant
/// publishes it first).
pub fn t1_table_lookup_vs_insert_in_front() {
    let t = Arc::new(depcache::LoomTableProbe::new(1));
    t.insert(1, 10);
    let w = {
        let t = t.clone();
        thread::spawn(move || t.insert(2, 20))
    };
    assert_eq!(t.get(1), Some(10), "a key that stayed was missed beside an insert");
    let two = t.get(2);
    assert!(two.is_none() || two == Some(20), "{two:?}");
    assert_eq!(w.join().unwrap(), None);
    assert_eq!((t.get(1), t.get(2)), (Some(10), Some(20)));
}

/// t2: a lookup of a key that stays (1, last in its chain) races a
/// replacement and then a removal of the key in front of it (2). The lookup
/// must find 1 whatever item of 2 it stands on, and sees 2 as one of its
/// values or absent.
pub fn t2_table_lookup_vs_replace_and_remove() {
    let t = Arc::new(depcache::LoomTableProbe::new(1));
    t.insert(1, 10);
    t.insert(2, 20);
    let w = {
        let t = t.clone();
        thread::spawn(move || {
            assert_eq!(t.insert(2, 21), Some(20));
            assert!(t.remove(2));
        })
    };
    let two = t.get(2);
    assert!(two.is_none() || two == Some(20) || two == Some(21), "{two:?}");
    assert_eq!(t.get(1), Some(10), "a key that stayed was missed beside a replace");
    w.join().unwrap();
    assert_eq!((t.get(1), t.get(2)), (Some(10), None));
}

/// t3: two writers in one bucket (the lock): each inserts its key and removes
/// the other's if it finds it. Nothing is lost or duplicated: at the end each
/// key is present exactly when its remover did not find it.
pub fn t3_table_writers_in_one_bucket() {
    let t = Arc::new(depcache::LoomTableProbe::new(1));
    t.insert(0, 0);
    let w = {
        let t = t.clone();
        thread::spawn(move || {
            t.insert(1, 1);
            t.remove(2)
        })
    };
    t.insert(2, 2);
    let removed_one = t.remove(1);
    let removed_two = w.join().unwrap();
    assert_eq!(t.get(0), Some(0), "a key no one touched was lost");
    assert_eq!(t.get(1).is_some(), !removed_one);
    assert_eq!(t.get(2).is_some(), !removed_two);
    assert!(removed_one || removed_two, "each missed the other's insert");
}

/// t4: two inserters of one key with `try_insert` (how the index creates a
/// dependency's node), beside a lookup: exactly one links its item, and
/// every lookup sees either nothing or the winner's (the broken variant looks
/// for the key before taking the bucket's lock, and both link).
pub fn t4_table_try_insert_races() {
    let t = Arc::new(depcache::LoomTableProbe::new(1));
    let w = {
        let t = t.clone();
        thread::spawn(move || t.try_insert(1, 10))
    };
    let mine = t.try_insert(1, 20);
    let theirs = w.join().unwrap();
    assert!(
        mine != theirs,
        "two inserts of one key both linked (or neither): {mine} {theirs}"
    );
    let want = if mine { 20 } else { 10 };
    assert_eq!(t.get(1), Some(want));
    assert!(t.remove(1));
    assert_eq!(t.get(1), None, "a second item of the key was left linked");
}

/// f1: the CLOCK ring's free-slot set. A taker empties a word (slot 0) and so
/// clears the word's summary bit, while a releaser puts slots 1 and 2 in that
/// word (the second put finds the word non-empty and leaves the summary to the
/// first). Both must stay findable: the set's invariants hold at the end and
/// the later takes return them (the broken variant, with Relaxed summary RMWs,
/// loses them).
pub fn f1_free_slot_put_vs_take() {
    let f = Arc::new(depcache::LoomFreeProbe::new(64));
    f.put(0);
    let w = {
        let f = f.clone();
        thread::spawn(move || {
            f.put(1);
            f.put(2);
        })
    };
    let first = f.take();
    w.join().unwrap();
    assert!(first.is_some(), "the set had slot 0 at least");
    if let Err(e) = f.check() {
        panic!("free slot was lost: {e}");
    }
    let mut all: std::collections::BTreeSet<usize> = first.into_iter().collect();
    while let Some(i) = f.take() {
        assert!(all.insert(i), "slot {i} handed out twice");
    }
    assert_eq!(all, [0, 1, 2].into(), "free slot was lost: took {all:?}");
}

/// Model 17: a probation turn ‖ the invalidation of the entry it judges and
/// an insert that reuses that entry's slot, capacity 2.
///
/// The cache is full and `c` is on probation in slot 0 (its insert evicted
/// `a`). Inserting `d` takes the next turn, which judges `c`: not hit, so it is
/// evicted and `d` takes its slot. Meanwhile the main thread invalidates `c`
/// (its cleanup frees slot 0) and inserts `e`, which takes the freed slot. The
/// turn must claim slot 0 only from the entry it judged: never displace `e`
/// (at quiescence every resident entry sits in its slot), and `c` is gone and
/// removed once: as an eviction or in the invalidation's count.
pub fn m17_probation_turn_vs_invalidate_reinsert() {
    let c = flat(2);
    c.insert("a", 1, ["x"]);
    c.insert("b", 2, ["y"]);
    c.insert("c", 3, ["z"]);
    let evicted_before = c.stats().evictions;
    let t = {
        let c = c.clone();
        thread::spawn(move || c.insert("d", 4, ["w"]))
    };
    let n = c.invalidate("z");
    c.insert("e", 5, ["v"]);
    t.join().unwrap();
    assert_quiescent(&c, &["a", "b", "c", "d", "e"]);
    assert_eq!(c.get(&"c"), None, "c survived its invalidation");
    assert!(n <= 1, "one invalidation of z counted {n} entries");
    let s = c.stats();
    // Every insert is accounted for: resident, evicted, or invalidated.
    assert_eq!(
        s.inserts,
        c.len() as u64 + s.evictions + s.entries_invalidated,
        "inserts {} != resident {} + evicted {} + invalidated {} (evicted {evicted_before} before the race)",
        s.inserts,
        c.len(),
        s.evictions,
        s.entries_invalidated
    );
}
