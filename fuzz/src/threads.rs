//! `ops_threads`: the operations of `ops` split over two threads on one cache.
//!
//! Whatever the interleaving, each thread checks what its own history implies:
//! - a value read is one that was inserted under that key;
//! - no lookup returns a value of this thread that an invalidation, a
//!   `mark_stale`, an `invalidate_all` or a `remove` of this thread has since
//!   reached, nor one a successful `insert_with_ticket` of this thread replaced,
//!   nor one refused as stale;
//! - no lookup returns a value of this thread whose TTL surely ran out;
//! - a ticket that an invalidation of this thread reached is refused.
//!
//! At the end (quiescence): `check_invariants`, the statistics that count calls,
//! and a cache that can be emptied and still works.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

use arbitrary::Arbitrary;
use depcache::model::paths::reached;
use depcache::model::PathDep;
use depcache::{DepPath, InsertError, ManualClock, Ticket};

use crate::ops::{build, few, model_deps, Config, DepSpec, Op, TestCache, Val, KEYS};

/// Operations per thread (longer inputs are cut).
pub const MAX_OPS: usize = 96;

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub config: Config,
    pub a: Vec<Op>,
    pub b: Vec<Op>,
}

/// Bounds of the shared manual clock: `upper` moves before the clock, `lower` after.
struct ClockBounds {
    clock: ManualClock,
    upper: AtomicU64,
    lower: AtomicU64,
}

impl ClockBounds {
    fn advance(&self, nanos: u64) {
        self.upper.fetch_add(nanos, Ordering::SeqCst);
        self.clock.advance(std::time::Duration::from_nanos(nanos));
        self.lower.fetch_add(nanos, Ordering::SeqCst);
    }
}

struct Mine {
    key: u8,
    deps: Vec<PathDep>,
    /// The clock was at most this when the insert returned.
    inserted_by: u64,
}

struct LocalTicket {
    ticket: Ticket<u8, Val, DepPath>,
    deps: Vec<PathDep>,
    /// An invalidation of this thread reached it after it was taken.
    invalid: bool,
}

/// What one thread did, for the final counts.
#[derive(Default)]
struct Tally {
    gets: u64,
    invalidations: u64,
}

fn run_thread(who: u32, ops: &[Op], cache: &TestCache, time: &ClockBounds, ttl: Option<u64>, start: &Barrier) -> Tally {
    let mut tally = Tally::default();
    let mut mine: HashMap<u32, Mine> = HashMap::new();
    let mut dead: HashSet<u32> = HashSet::new();
    let mut tickets: [Option<LocalTicket>; 2] = [None, None];
    // `before`: `lower` read *before* the lookup started: the clock was at least
    // that during the lookup. (Reading it after the lookup returned was wrong: an
    // `advance` of the other thread in between made a fresh hit look expired.)
    let check_read = |v: &Val, k: u8, before: u64, mine: &HashMap<u32, Mine>, dead: &HashSet<u32>, what: &str| {
        assert_eq!(v.0, k, "thread {who}: {what}({k}) returned a value of key {}", v.0);
        assert!(
            v.1 >> 16 < 2,
            "thread {who}: {what}({k}) returned a value no thread inserted"
        );
        assert!(
            !dead.contains(&v.1),
            "thread {who}: {what}({k}) returned invalidated value {v:?}"
        );
        if let (Some(ttl), Some(m)) = (ttl, mine.get(&v.1)) {
            assert!(
                before < m.inserted_by.saturating_add(ttl),
                "thread {who}: {what}({k}) returned {v:?}, expired"
            );
        }
    };
    // Kills every value of this thread `f` selects.
    let kill = |mine: &HashMap<u32, Mine>, dead: &mut HashSet<u32>, f: &dyn Fn(&Mine) -> bool| {
        for (id, m) in mine {
            if f(m) {
                dead.insert(*id);
            }
        }
    };
    let invalidated = |tickets: &mut [Option<LocalTicket>; 2], targets: &[&str]| {
        for t in tickets.iter_mut().flatten() {
            if reached(targets, &t.deps) {
                t.invalid = true;
            }
        }
    };
    start.wait();
    for (step, op) in ops.iter().take(MAX_OPS).enumerate() {
        let id = (who << 16) | step as u32;
        match op {
            Op::Insert { key, weight, deps } => {
                let k = key % KEYS;
                cache.insert(k, (k, id, *weight), few(deps).iter().map(DepSpec::dep));
                mine.insert(
                    id,
                    Mine {
                        key: k,
                        deps: model_deps(deps),
                        inserted_by: time.upper.load(Ordering::SeqCst),
                    },
                );
            }
            Op::Get { key } => {
                let k = key % KEYS;
                tally.gets += 1;
                let before = time.lower.load(Ordering::SeqCst);
                if let Some(v) = cache.get(&k) {
                    check_read(&v, k, before, &mine, &dead, "get");
                }
            }
            Op::Contains { key } => {
                let _ = cache.contains_key(&(key % KEYS));
            }
            Op::Remove { key } => {
                let k = key % KEYS;
                let before = time.lower.load(Ordering::SeqCst);
                if let Some(v) = cache.remove(&k) {
                    check_read(&v, k, before, &mine, &dead, "remove");
                }
                kill(&mine, &mut dead, &|m| m.key == k);
            }
            Op::Invalidate { target } => {
                let t = target.path();
                tally.invalidations += 1;
                let n = cache.invalidate(DepPath::new(t));
                assert!(n <= cache.capacity(), "thread {who}: invalidate({t:?}) counted {n}");
                kill(&mine, &mut dead, &|m| reached(&[t], &m.deps));
                invalidated(&mut tickets, &[t]);
            }
            Op::InvalidateMany { targets } | Op::MarkStaleMany { targets } => {
                let ts: Vec<&str> = few(targets).iter().map(|t| t.path()).collect();
                let ds: Vec<DepPath> = ts.iter().map(DepPath::new).collect();
                tally.invalidations += 1;
                if matches!(op, Op::InvalidateMany { .. }) {
                    let n = cache.invalidate_many(&ds);
                    assert!(n <= cache.capacity(), "thread {who}: invalidate_many counted {n}");
                } else {
                    cache.mark_stale_many(&ds);
                }
                kill(&mine, &mut dead, &|m| reached(&ts, &m.deps));
                invalidated(&mut tickets, &ts);
            }
            Op::MarkStale { target } => {
                let t = target.path();
                tally.invalidations += 1;
                cache.mark_stale(DepPath::new(t));
                kill(&mine, &mut dead, &|m| reached(&[t], &m.deps));
                invalidated(&mut tickets, &[t]);
            }
            Op::InvalidateAll => {
                tally.invalidations += 1;
                cache.invalidate_all();
                kill(&mine, &mut dead, &|_| true);
                for t in tickets.iter_mut().flatten() {
                    t.invalid = true;
                }
            }
            Op::Ticket { slot, deps } => {
                let s = usize::from(*slot);
                tickets[s] = Some(LocalTicket {
                    ticket: cache.ticket(few(deps).iter().map(DepSpec::dep)),
                    deps: model_deps(deps),
                    invalid: false,
                });
            }
            Op::InsertWithTicket { slot, key, weight } => {
                let Some(t) = tickets[usize::from(*slot)].take() else {
                    continue;
                };
                if t.invalid {
                    assert!(!t.ticket.is_valid(), "thread {who}: reached ticket still valid");
                }
                let k = key % KEYS;
                let v = (k, id, *weight);
                let deps = t.deps.clone();
                match cache.insert_with_ticket(k, v, t.ticket) {
                    Ok(()) => {
                        assert!(
                            !t.invalid,
                            "thread {who}: a ticket an invalidation reached was accepted"
                        );
                        // The earlier values of the key were replaced (or this one
                        // was superseded right away by the other thread).
                        kill(&mine, &mut dead, &|m| m.key == k);
                        mine.insert(
                            id,
                            Mine {
                                key: k,
                                deps,
                                inserted_by: time.upper.load(Ordering::SeqCst),
                            },
                        );
                    }
                    Err(InsertError::Stale(back)) | Err(InsertError::TooHeavy { value: back, .. }) => {
                        assert_eq!(back, v, "thread {who}: insert_with_ticket handed back another value");
                        dead.insert(id);
                    }
                    Err(e) => panic!("thread {who}: insert_with_ticket: {e}"),
                }
            }
            Op::DropTicket { slot } => {
                tickets[usize::from(*slot)] = None;
            }
            Op::Advance { ms16 } => time.advance(u64::from(*ms16) * 16_000_000),
            Op::Purge => {
                let n = cache.purge();
                assert!(n <= cache.capacity(), "thread {who}: purge counted {n}");
            }
        }
        assert!(cache.len() <= cache.capacity(), "thread {who}: len over capacity");
    }
    tally
}

/// Runs an `ops_threads` input; panics on a violation.
pub fn check_threads(input: &Input) {
    let time = ClockBounds {
        clock: ManualClock::new(),
        upper: AtomicU64::new(0),
        lower: AtomicU64::new(0),
    };
    let cache = build(&input.config, &time.clock);
    let ttl = input.config.ttl_nanos();
    let start = Barrier::new(2);
    let (ta, tb) = std::thread::scope(|s| {
        let a = s.spawn(|| run_thread(0, &input.a, &cache, &time, ttl, &start));
        let b = s.spawn(|| run_thread(1, &input.b, &cache, &time, ttl, &start));
        (a.join(), b.join())
    });
    let (ta, tb) = match (ta, tb) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(p), _) | (_, Err(p)) => std::panic::resume_unwind(p),
    };
    if let Err(e) = cache.check_invariants() {
        panic!("after both threads: check_invariants: {e}");
    }
    let s = cache.stats();
    assert_eq!(s.hits + s.misses, ta.gets + tb.gets, "hits + misses != gets");
    assert_eq!(
        s.invalidation_calls,
        ta.invalidations + tb.invalidations,
        "invalidation_calls"
    );
    assert!(s.evictions <= s.inserts, "more evictions than inserts");
    // Each removal counts in one counter at most (tests/regressions.rs).
    assert!(
        s.entries_invalidated + s.evictions + s.expirations <= s.inserts,
        "more entries removed than inserted: {s:?}"
    );
    assert_eq!(s.live_entries as usize, cache.len());
    // Everything can still be dropped, and the index empties with it.
    cache.invalidate_all();
    let resident = cache.len();
    assert_eq!(cache.purge(), resident, "purge after invalidate_all");
    assert_eq!(cache.len(), 0);
    let s = cache.stats();
    assert_eq!((s.weight, s.index_nodes), (0, 0), "empty cache keeps weight or nodes");
    if let Err(e) = cache.check_invariants() {
        panic!("after emptying: check_invariants: {e}");
    }
    cache.insert(0, (0, u32::MAX, 0), [DepPath::new("a")]);
    assert_eq!(cache.get(&0), Some((0, u32::MAX, 0)), "the cache no longer works");
}
