//! Model-based tests: random sequences of operations run against the cache and
//! against the reference model ([`crate::model`]), compared after every step.
//!
//! Two configurations:
//! - **exact**: more slots than keys and no weight budget, so nothing is ever
//!   evicted and every observation (returned values and counts, `len`, `purge`,
//!   the statistics, the number of index nodes, the weight) must match exactly;
//! - **evicting**: 2–4 slots and maybe a weight budget. Which entry the CLOCK
//!   hand evicts is implementation-defined, so after each insert the model
//!   drops the visible keys the cache lost, which must be explained by the
//!   `evictions` counter, and treats invisible (stale or expired) entries as
//!   possibly reclaimed by the hand, keeping only their exact number (learned
//!   from `len`; [`Model::reconcile`]). Values must still never be wrong or
//!   stale.
//!
//! After every step: `len`, every key's visibility (in half the cases), and
//! `check_invariants()` (unless a ticket is outstanding, which the checker
//! does not allow); every few steps, every counter of the statistics, and the
//! index nodes and the weight whenever the model knows the resident entries.
//!
//! More cases: `DEPCACHE_MODEL_CASES=10000 cargo test --lib model`.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::Duration;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::TestCaseError;

use crate::model::{Counts, Limits, Model, Outcome, PathDep, Published};
use crate::{Cache, Dep, DepPath, InsertError, ManualClock, Scope, Ticket};

type R = Result<(), TestCaseError>;
type Deps = Vec<PathDep>;

/// The small path tree. Entries depend on the first seven; invalidations also
/// name a path below a file nobody depends on and one beside everything.
const SMALL: [&str; 9] = ["", "a", "a/b", "a/b/c", "a/d", "e", "e/f", "a/b/x", "z"];
/// A wide tree (twenty siblings), so that one `invalidate_many` can plan more
/// bumps than `BumpSet` scans linearly.
const WIDE: [&str; 27] = [
    "", "a", "a/b", "w", "w/0", "w/1", "w/2", "w/3", "w/4", "w/5", "w/6", "w/7", "w/8", "w/9", "w/10", "w/11", "w/12",
    "w/13", "w/14", "w/15", "w/16", "w/17", "w/18", "w/19", "w/20", "w/3/x", "z",
];

/// Which paths operations name, and how many at once.
#[derive(Clone, Copy, Debug)]
struct Tree {
    /// Dependencies of entries and tickets.
    deps: &'static [&'static str],
    /// Invalidation targets (the dependencies and two more).
    targets: &'static [&'static str],
    /// Dependencies per entry: `min_deps..max_deps`.
    min_deps: usize,
    max_deps: usize,
    /// Weights of plain inserts and of each `*_many` call among the simple
    /// operations (the others sum to 15).
    inserts: u32,
    many: u32,
    max_many: usize,
}

const SMALL_TREE: Tree = Tree {
    deps: SMALL.split_at(7).0,
    targets: &SMALL,
    min_deps: 0,
    max_deps: 4,
    inserts: 6,
    many: 1,
    max_many: 4,
};

const WIDE_TREE: Tree = Tree {
    deps: WIDE.split_at(25).0,
    targets: &WIDE,
    min_deps: 6,
    max_deps: 16,
    inserts: 24,
    many: 5,
    max_many: 24,
};

const KEYS: u32 = 6;
/// Compare the statistics every this many steps.
const STATS_EVERY: u64 = 4;

fn to_deps(deps: &Deps) -> Vec<Dep<DepPath>> {
    deps.iter()
        .map(|&(p, scope)| Dep {
            dep: DepPath::new(p),
            scope,
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        key: u32,
        deps: Deps,
        w: u8,
    },
    Get(u32),
    Contains(u32),
    Remove(u32),
    Invalidate(&'static str),
    InvalidateMany(Vec<&'static str>),
    MarkStale(&'static str),
    MarkStaleMany(Vec<&'static str>),
    InvalidateAll,
    Purge,
    Advance(u64),
    /// `ticket(deps)`, then `between`, then `insert_with_ticket` (or drop the ticket).
    Ticketed {
        key: u32,
        deps: Deps,
        w: u8,
        between: Vec<Op>,
        publish: bool,
    },
    /// `get_or_insert_with`, whose computation maybe invalidates a path.
    GetOrInsert {
        key: u32,
        deps: Deps,
        w: u8,
        invalidate: Option<&'static str>,
    },
}

fn key() -> impl Strategy<Value = u32> {
    0..KEYS
}

fn path(t: Tree) -> impl Strategy<Value = &'static str> {
    select(t.targets)
}

/// Targets of one `invalidate_many`: any list (repeats included), or distinct
/// paths, often many of them.
fn paths(t: Tree) -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        vec(path(t), 0..t.max_many),
        subsequence(t.targets, t.targets.len() / 2..=t.targets.len()),
    ]
}

fn deps(t: Tree) -> impl Strategy<Value = Deps> {
    let scope = prop_oneof![Just(Scope::Exact), Just(Scope::Subtree)];
    vec((select(t.deps), scope), t.min_deps..t.max_deps)
}

/// Weight of a value (used only by the evicting configuration's weigher).
fn weight() -> impl Strategy<Value = u8> {
    0u8..=6
}

fn simple_op(t: Tree) -> impl Strategy<Value = Op> {
    prop_oneof![
        t.inserts => (key(), deps(t), weight()).prop_map(|(key, deps, w)| Op::Insert { key, deps, w }),
        5 => key().prop_map(Op::Get),
        1 => key().prop_map(Op::Contains),
        1 => key().prop_map(Op::Remove),
        3 => path(t).prop_map(Op::Invalidate),
        t.many => paths(t).prop_map(Op::InvalidateMany),
        2 => path(t).prop_map(Op::MarkStale),
        t.many => paths(t).prop_map(Op::MarkStaleMany),
        1 => Just(Op::InvalidateAll),
        1 => Just(Op::Purge),
        1 => (0u64..8).prop_map(Op::Advance),
    ]
}

fn op(t: Tree) -> impl Strategy<Value = Op> {
    let ticketed = (
        key(),
        deps(t),
        weight(),
        vec(simple_op(t), 0..3),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(key, deps, w, between, publish)| Op::Ticketed {
            key,
            deps,
            w,
            between,
            publish,
        });
    let goiw = (key(), deps(t), weight(), option::weighted(0.4, path(t))).prop_map(|(key, deps, w, invalidate)| {
        Op::GetOrInsert {
            key,
            deps,
            w,
            invalidate,
        }
    });
    prop_oneof![
        12 => simple_op(t),
        2 => ticketed,
        2 => goiw,
    ]
}

#[derive(Clone, Debug)]
struct Setup {
    /// No eviction possible: every observation must be exact.
    exact: bool,
    capacity: usize,
    max_weight: Option<u64>,
    ttl_secs: Option<u64>,
    /// Compare every key's presence (and, when exact, value) after each step.
    /// Off in half the cases, as those lookups refresh the entries' validation
    /// fast path and could hide a bug that needs an entry verified long ago.
    sweep: bool,
    tree: Tree,
}

fn tree() -> impl Strategy<Value = Tree> {
    prop_oneof![2 => Just(SMALL_TREE), 1 => Just(WIDE_TREE)]
}

/// A configuration and the operations to run on it.
fn case(exact: bool) -> impl Strategy<Value = (Setup, Vec<Op>)> {
    // KEYS + 1 is the least that never evicts: a replacement holds a second slot
    // until the old entry goes.
    let capacity = if exact {
        prop_oneof![Just(KEYS as usize + 1), Just(4 * KEYS as usize)].boxed()
    } else {
        (2usize..=4).boxed()
    };
    let max_weight = if exact {
        Just(None).boxed()
    } else {
        option::of(3u64..=8).boxed()
    };
    (capacity, max_weight, option::of(5u64..30), any::<bool>(), tree())
        .prop_map(move |(capacity, max_weight, ttl_secs, sweep, tree)| Setup {
            exact,
            capacity,
            max_weight,
            ttl_secs,
            sweep,
            tree,
        })
        .prop_flat_map(|setup| {
            let ops = vec(op(setup.tree), 1..80);
            (Just(setup), ops)
        })
}

/// The model's ticket slot of a `Ticketed` operation.
const TICKETED: usize = 0;
/// The model's ticket slot of a `get_or_insert_with` computation.
const COMPUTING: usize = 1;

fn fail(e: String) -> TestCaseError {
    TestCaseError::fail(e)
}

struct Harness {
    cache: Cache<u32, u64, DepPath>,
    clock: ManualClock,
    setup: Setup,
    m: Model<u32, u64>,
    next: u64,
    /// Steps checked so far.
    checks: u64,
}

impl Harness {
    fn new(setup: Setup) -> Self {
        let clock = ManualClock::new();
        let mut b = Cache::builder().max_entries(setup.capacity).clock(&clock);
        if let Some(t) = setup.ttl_secs {
            b = b.ttl(Duration::from_secs(t));
        }
        if !setup.exact {
            b = b.weigher(|_: &u32, v: &u64| v & 0xff);
        }
        if let Some(w) = setup.max_weight {
            b = b.max_weight(w);
        }
        let cache = b.build().expect("valid settings");
        // The model's clock counts seconds.
        let m = Model::new(Limits {
            capacity: setup.capacity,
            max_weight: setup.max_weight,
            ttl: setup.ttl_secs,
        });
        Harness {
            cache,
            clock,
            setup,
            m,
            next: 0,
            checks: 0,
        }
    }

    /// A value never used before, carrying its weight in its low byte.
    fn value(&mut self, w: u8) -> u64 {
        self.next += 1;
        (self.next << 8) | u64::from(w)
    }

    fn weight_of(&self, v: u64) -> u64 {
        if self.setup.exact {
            1
        } else {
            v & 0xff
        }
    }

    fn run(&mut self, op: &Op) -> R {
        self.step(op)?;
        self.check(false)
    }

    fn step(&mut self, op: &Op) -> R {
        match op {
            &Op::Insert { key, ref deps, w } => {
                let v = self.value(w);
                self.cache.insert(key, v, to_deps(deps));
                match self.m.insert(key, v, deps.clone(), self.weight_of(v)) {
                    Outcome::Published(p) => self.published(&p)?,
                    Outcome::TooHeavy => {}
                    Outcome::Stale => prop_assert!(false, "a plain insert refused as stale"),
                }
            }
            &Op::Get(k) => {
                let got = self.cache.get(&k);
                let want = self.m.get(k, self.cache.len()).map_err(fail)?;
                prop_assert_eq!(got, want, "get({})", k);
            }
            &Op::Contains(k) => {
                prop_assert_eq!(
                    self.cache.contains_key(&k),
                    self.m.value(k).is_some(),
                    "contains_key({})",
                    k
                );
            }
            &Op::Remove(k) => {
                let got = self.cache.remove(&k);
                let want = self.m.remove(k, self.cache.len()).map_err(fail)?;
                prop_assert_eq!(got, want, "remove({})", k);
            }
            &Op::Invalidate(p) => {
                let n = self.cache.invalidate(DepPath::new(p));
                let want = self.m.invalidate(&[p], self.cache.len()).map_err(fail)?;
                prop_assert_eq!(n, want, "invalidate({:?}) count", p);
            }
            Op::InvalidateMany(ps) => {
                let dps: Vec<DepPath> = ps.iter().map(DepPath::new).collect();
                let n = self.cache.invalidate_many(&dps);
                let want = self.m.invalidate(ps, self.cache.len()).map_err(fail)?;
                prop_assert_eq!(n, want, "invalidate_many({:?}) count", ps);
            }
            &Op::MarkStale(p) => {
                self.cache.mark_stale(DepPath::new(p));
                self.m.mark_stale(&[p]);
            }
            Op::MarkStaleMany(ps) => {
                let dps: Vec<DepPath> = ps.iter().map(DepPath::new).collect();
                self.cache.mark_stale_many(&dps);
                self.m.mark_stale(ps);
            }
            Op::InvalidateAll => {
                self.cache.invalidate_all();
                self.m.invalidate_all();
            }
            Op::Purge => {
                let n = self.cache.purge();
                prop_assert_eq!(n, self.m.purge(), "purge()");
            }
            &Op::Advance(s) => {
                self.clock.advance(Duration::from_secs(s));
                self.m.advance(s);
            }
            &Op::Ticketed {
                key,
                ref deps,
                w,
                ref between,
                publish,
            } => self.ticketed(key, deps, w, between, publish)?,
            &Op::GetOrInsert {
                key,
                ref deps,
                w,
                invalidate,
            } => self.get_or_insert(key, deps, w, invalidate)?,
        }
        Ok(())
    }

    fn ticketed(&mut self, key: u32, deps: &Deps, w: u8, between: &[Op], publish: bool) -> R {
        let t: Ticket<u32, u64, DepPath> = self.cache.ticket(to_deps(deps));
        let distinct = deps.iter().map(|d| d.0).collect::<BTreeSet<_>>().len();
        prop_assert_eq!(t.len(), distinct, "ticket({:?}).len()", deps);
        prop_assert!(t.is_valid(), "a fresh ticket is valid");
        self.m.new_ticket(TICKETED, deps.clone());
        for op in between {
            self.step(op)?;
            self.check(true)?;
            let valid = self.m.ticket_valid(TICKETED);
            prop_assert_eq!(
                Some(t.is_valid()),
                valid,
                "ticket({:?}).is_valid() after {:?}",
                deps,
                op
            );
        }
        if !publish {
            drop(t);
            self.m.drop_ticket(TICKETED);
            return Ok(());
        }
        let v = self.value(w);
        let r = self.cache.insert_with_ticket(key, v, t);
        match (r, self.m.insert_with_ticket(TICKETED, key, v, self.weight_of(v))) {
            (Ok(()), Outcome::Published(p)) => self.published(&p)?,
            (Err(InsertError::Stale(x)), Outcome::Stale) => prop_assert_eq!(x, v),
            (
                Err(InsertError::TooHeavy {
                    value,
                    weight,
                    max_weight,
                }),
                Outcome::TooHeavy,
            ) => {
                prop_assert_eq!(value, v);
                prop_assert_eq!(weight, self.weight_of(v));
                prop_assert_eq!(Some(max_weight), self.setup.max_weight);
            }
            (r, want) => prop_assert!(false, "insert_with_ticket: {:?}, the model says {:?}", r, want),
        }
        Ok(())
    }

    fn get_or_insert(&mut self, key: u32, deps: &Deps, w: u8, invalidate: Option<&'static str>) -> R {
        let v = self.value(w);
        let hit = self.m.value(key).is_some();
        // What the computation saw: `len` when it started (after the miss
        // reclaimed an invisible entry), and its invalidation's count and `len`.
        type Seen = (usize, Option<(usize, usize)>);
        let seen: Cell<Option<Seen>> = Cell::new(None);
        let cache = &self.cache;
        let got = cache.get_or_insert_with(key, to_deps(deps), || {
            let at_start = cache.len();
            let inv = invalidate.map(|p| (cache.invalidate(DepPath::new(p)), cache.len()));
            seen.set(Some((at_start, inv)));
            v
        });
        if hit {
            let want = self.m.get(key, self.cache.len()).map_err(fail)?;
            prop_assert_eq!(Some(got), want, "get_or_insert_with({}) on a hit", key);
            prop_assert!(seen.get().is_none(), "computed on a hit");
            return Ok(());
        }
        prop_assert_eq!(got, v, "get_or_insert_with({}) returns the computed value", key);
        let Some((at_start, inv)) = seen.get() else {
            return Err(TestCaseError::fail("no computation on a miss"));
        };
        prop_assert_eq!(self.m.get(key, at_start).map_err(fail)?, None);
        // The computation runs under a ticket on `deps`.
        self.m.new_ticket(COMPUTING, deps.clone());
        if let (Some(p), Some((n, len_after))) = (invalidate, inv) {
            let want = self.m.invalidate(&[p], len_after).map_err(fail)?;
            prop_assert_eq!(n, want, "invalidate({:?}) count, computing {}", p, key);
        }
        // The value is returned whatever becomes of it: `TooHeavy` and `Stale`
        // show only in the statistics.
        if let Outcome::Published(p) = self.m.insert_with_ticket(COMPUTING, key, v, self.weight_of(v)) {
            self.published(&p)?;
        }
        Ok(())
    }

    /// The cache published what the model did (`p`): the key is visible, and
    /// in the evicting configuration, what the CLOCK hand did is explained.
    fn published(&mut self, p: &Published<u32>) -> R {
        prop_assert!(
            self.cache.contains_key(&p.key),
            "key {} missing right after its insert",
            p.key
        );
        if self.setup.exact {
            // `check_stats` asserts that the evictions counter stays at zero.
            return Ok(());
        }
        let observed = Counts::of(&self.cache.stats());
        let cache = &self.cache;
        self.m
            .reconcile(p, &observed, cache.len(), |k| cache.contains_key(k))
            .map_err(fail)?;
        Ok(())
    }

    fn check(&mut self, ticket_out: bool) -> R {
        let len = self.cache.len();
        prop_assert_eq!(len, self.m.len(), "len()");
        prop_assert_eq!(self.cache.is_empty(), len == 0);
        // `stats()` costs two hundred kilobytes of histogram per call: the
        // counters are totals, so checking them every few steps (and at the end)
        // still catches any drift, and shrinking localizes it.
        self.checks += 1;
        if self.checks.is_multiple_of(STATS_EVERY) || ticket_out {
            self.check_stats()?;
        }
        if self.setup.sweep {
            for k in 0..KEYS {
                let want = self.m.value(k);
                prop_assert_eq!(self.cache.contains_key(&k), want.is_some(), "contains_key({})", k);
                if self.setup.exact && want.is_some() {
                    let got = self.cache.get(&k);
                    prop_assert_eq!(got, self.m.get(k, self.cache.len()).map_err(fail)?, "get({})", k);
                }
            }
        }
        if !ticket_out {
            if let Err(e) = self.cache.check_invariants() {
                return Err(TestCaseError::fail(format!("check_invariants: {e}")));
            }
        }
        Ok(())
    }

    fn check_stats(&mut self) -> R {
        let s = self.cache.stats();
        prop_assert_eq!(s.live_entries, self.cache.len() as u64);
        self.m
            .check_counts(&Counts::of(&s))
            .map_err(|e| fail(format!("stats(): {e}")))?;
        if let (Some(nodes), Some(weight)) = (self.m.nodes(), self.m.weight()) {
            prop_assert_eq!(
                s.index_nodes,
                nodes.len() as u64,
                "stats().index_nodes, want {:?}",
                nodes
            );
            prop_assert_eq!(s.weight, weight, "stats().weight");
        }
        Ok(())
    }
}

fn run(setup: Setup, ops: &[Op]) -> R {
    let mut h = Harness::new(setup);
    h.check(false)?;
    for op in ops {
        h.run(op)?;
    }
    // Reclaim everything lazily invalidated, then drop the rest.
    h.run(&Op::Purge)?;
    h.run(&Op::InvalidateAll)?;
    h.run(&Op::Purge)?;
    prop_assert_eq!(h.cache.len(), 0);
    h.check_stats()?;
    prop_assert_eq!(h.cache.stats().index_nodes, 0, "index nodes left after the last entry");
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("DEPCACHE_MODEL_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // The minimal failing sequence is printed; do not write regression files
        // into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_exact((setup, ops) in case(true)) {
        run(setup, &ops)?;
    }

    #[test]
    fn model_evicting((setup, ops) in case(false)) {
        run(setup, &ops)?;
    }
}
