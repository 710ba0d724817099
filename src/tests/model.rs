//! Model-based tests: random sequences of operations run against the cache and
//! against a sequential reference model, compared after every step.
//!
//! The model is a map key → (value, dependencies, expiry, lazily stale?), plus
//! the outstanding ticket. Invalidating path `p` reaches a dependency `(d, scope)`
//! when `p` is `d` or an ancestor of it, or when `scope` is `Subtree` and `d` is
//! an ancestor of `p`.
//!
//! Two configurations:
//! - **exact**: more slots than keys and no weight budget, so nothing is ever
//!   evicted and every observation (returned values and counts, `len`, `purge`,
//!   the statistics, the number of index nodes, the weight) must match exactly;
//! - **evicting**: 2–4 slots and maybe a weight budget. Which entry the CLOCK
//!   hand evicts is implementation-defined, so after each insert the model drops
//!   the visible keys the cache lost, which must be explained by the `evictions`
//!   counter, and treats invisible (stale or expired) entries as possibly
//!   reclaimed by the hand, keeping only their exact number (learned from
//!   `len`). Values must still never be wrong or stale.
//!
//! After every step: `len`, the statistics, and `check_invariants()` (unless a
//! ticket is outstanding, which the checker does not allow).
//!
//! More cases: `DEPCACHE_MODEL_CASES=10000 cargo test --lib model`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::TestCaseError;

use crate::{Cache, Dep, DepPath, InsertError, ManualClock, Scope, Ticket};

type R = Result<(), TestCaseError>;
type Deps = Vec<(&'static str, Scope)>;

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

/// `anc` is `p` or one of its ancestors (`""` is the root).
fn within(anc: &str, p: &str) -> bool {
    anc.is_empty() || p == anc || (p.starts_with(anc) && p.as_bytes().get(anc.len()) == Some(&b'/'))
}

/// Does invalidating `p` reach a dependency on `dep` with `scope`?
fn affects(p: &str, dep: &str, scope: Scope) -> bool {
    within(p, dep) || (scope == Scope::Subtree && within(dep, p))
}

/// `p` and its ancestors up to the root.
fn chain(p: &str) -> Vec<&str> {
    let mut out = vec![p];
    let mut cur = p;
    while !cur.is_empty() {
        cur = cur.rfind('/').map_or("", |i| &cur[..i]);
        out.push(cur);
    }
    out
}

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

#[derive(Clone, Debug)]
struct MEntry {
    value: u64,
    deps: Deps,
    weight: u64,
    /// Seconds on the manual clock (`u64::MAX`: no TTL).
    expires: u64,
    /// Made invisible by `mark_stale` or `invalidate_all`, not yet reclaimed.
    stale: bool,
    /// Known to be resident. Visible entries always are; an invisible one stops
    /// being sure when an insert's CLOCK hand may have reclaimed it.
    sure: bool,
}

#[derive(Default)]
struct Model {
    entries: BTreeMap<u32, MEntry>,
    now: u64,
    /// How many of the unsure entries are still resident.
    unsure_resident: usize,
    /// The outstanding ticket's dependencies, and whether it is still valid.
    ticket: Option<(Deps, bool)>,
}

impl Model {
    fn visible(&self, e: &MEntry) -> bool {
        !e.stale && self.now < e.expires
    }

    fn value(&self, k: u32) -> Option<u64> {
        self.entries.get(&k).filter(|e| self.visible(e)).map(|e| e.value)
    }

    fn visible_count(&self) -> usize {
        self.entries.values().filter(|e| self.visible(e)).count()
    }

    /// Resident entries, as `len()` counts them.
    fn len(&self) -> usize {
        self.entries.values().filter(|e| e.sure).count() + self.unsure_resident
    }

    /// Resident entries that a lookup would not return.
    fn invisible_resident(&self) -> usize {
        self.len() - self.visible_count()
    }

    /// Keys whose entry an invalidation of `paths` reaches.
    fn hit(&self, paths: &[&str]) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|(_, e)| e.deps.iter().any(|&(d, s)| paths.iter().any(|p| affects(p, d, s))))
            .map(|(k, _)| *k)
            .collect()
    }

    fn spoil_ticket(&mut self, paths: &[&str]) {
        if let Some((deps, valid)) = &mut self.ticket {
            if deps.iter().any(|&(d, s)| paths.iter().any(|p| affects(p, d, s))) {
                *valid = false;
            }
        }
    }

    /// Resolves unsure entries when their count says which they are.
    fn normalize(&mut self) {
        let unsure = self.entries.values().filter(|e| !e.sure).count();
        if self.unsure_resident == 0 {
            self.entries.retain(|_, e| e.sure);
        } else if self.unsure_resident == unsure {
            self.entries.values_mut().for_each(|e| e.sure = true);
            self.unsure_resident = 0;
        }
    }

    /// Index nodes and weight the cache must hold, when the resident set is known.
    fn footprint(&self) -> Option<(usize, u64)> {
        if self.entries.values().any(|e| !e.sure) {
            return None;
        }
        let mut nodes = BTreeSet::new();
        let mut weight = 0;
        for e in self.entries.values() {
            weight += e.weight;
            for &(d, _) in &e.deps {
                nodes.extend(chain(d));
            }
        }
        if let Some((deps, _)) = &self.ticket {
            for &(d, _) in deps {
                nodes.extend(chain(d));
            }
        }
        Some((nodes.len(), weight))
    }
}

struct Harness {
    cache: Cache<u32, u64, DepPath>,
    clock: ManualClock,
    setup: Setup,
    m: Model,
    next: u64,
    /// Steps checked so far.
    checks: u64,
    // Expected totals of the statistics.
    inserts: u64,
    stale_rejected: u64,
    invalidated: u64,
    calls: u64,
    evictions: u64,
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
        Harness {
            cache,
            clock,
            setup,
            m: Model::default(),
            next: 0,
            checks: 0,
            inserts: 0,
            stale_rejected: 0,
            invalidated: 0,
            calls: 0,
            evictions: 0,
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

    fn too_heavy(&self, v: u64) -> bool {
        self.setup.max_weight.is_some_and(|m| self.weight_of(v) > m)
    }

    fn run(&mut self, op: &Op) -> R {
        self.step(op)?;
        self.check(false)
    }

    fn step(&mut self, op: &Op) -> R {
        match op {
            &Op::Insert { key, ref deps, w } => {
                let v = self.value(w);
                let before = self.m.invisible_resident();
                self.cache.insert(key, v, to_deps(deps));
                if !self.too_heavy(v) {
                    self.publish(key, v, deps, before)?;
                }
            }
            &Op::Get(k) => {
                let len_before = self.m.len();
                let got = self.cache.get(&k);
                let want = self.m.value(k);
                prop_assert_eq!(got, want, "get({})", k);
                if want.is_none() {
                    // A miss reclaims an invisible entry.
                    self.drop_entry(k, len_before, self.cache.len())?;
                }
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
                let len_before = self.m.len();
                let got = self.cache.remove(&k);
                prop_assert_eq!(got, self.m.value(k), "remove({})", k);
                self.drop_entry(k, len_before, self.cache.len())?;
            }
            &Op::Invalidate(p) => {
                let n = self.cache.invalidate(DepPath::new(p));
                self.invalidated_model(&[p], n, self.cache.len())?;
            }
            Op::InvalidateMany(ps) => {
                let dps: Vec<DepPath> = ps.iter().map(DepPath::new).collect();
                let n = self.cache.invalidate_many(&dps);
                self.invalidated_model(ps, n, self.cache.len())?;
            }
            &Op::MarkStale(p) => {
                self.cache.mark_stale(DepPath::new(p));
                self.marked_model(&[p]);
            }
            Op::MarkStaleMany(ps) => {
                let dps: Vec<DepPath> = ps.iter().map(DepPath::new).collect();
                self.cache.mark_stale_many(&dps);
                self.marked_model(ps);
            }
            Op::InvalidateAll => {
                self.cache.invalidate_all();
                self.calls += 1;
                self.m.entries.values_mut().for_each(|e| e.stale = true);
                if let Some((_, valid)) = &mut self.m.ticket {
                    *valid = false;
                }
            }
            Op::Purge => {
                let n = self.cache.purge();
                prop_assert_eq!(n, self.m.invisible_resident(), "purge()");
                let now = self.m.now;
                self.m.entries.retain(|_, e| !e.stale && now < e.expires);
                self.m.unsure_resident = 0;
            }
            &Op::Advance(s) => {
                self.clock.advance(Duration::from_secs(s));
                self.m.now += s;
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
        self.m.ticket = Some((deps.clone(), true));
        for op in between {
            self.step(op)?;
            self.check(true)?;
            let valid = self.m.ticket.as_ref().is_some_and(|t| t.1);
            prop_assert_eq!(t.is_valid(), valid, "ticket({:?}).is_valid() after {:?}", deps, op);
        }
        let valid = self.m.ticket.as_ref().is_some_and(|t| t.1);
        if !publish {
            drop(t);
            self.m.ticket = None;
            return Ok(());
        }
        let v = self.value(w);
        let before = self.m.invisible_resident();
        let heavy = self.too_heavy(v);
        let r = self.cache.insert_with_ticket(key, v, t);
        self.m.ticket = None;
        match r {
            Ok(()) => {
                prop_assert!(
                    valid && !heavy,
                    "insert_with_ticket accepted a stale ticket or a heavy value"
                );
                self.publish(key, v, deps, before)?;
            }
            Err(InsertError::Stale(x)) => {
                prop_assert!(!valid, "insert_with_ticket refused a valid ticket");
                prop_assert_eq!(x, v);
                self.stale_rejected += 1;
            }
            Err(InsertError::TooHeavy {
                value,
                weight,
                max_weight,
            }) => {
                prop_assert!(heavy, "TooHeavy for a value that fits");
                prop_assert_eq!(value, v);
                prop_assert_eq!(weight, self.weight_of(v));
                prop_assert_eq!(Some(max_weight), self.setup.max_weight);
            }
            Err(e) => prop_assert!(false, "insert_with_ticket: {:?}", e),
        }
        Ok(())
    }

    fn get_or_insert(&mut self, key: u32, deps: &Deps, w: u8, invalidate: Option<&'static str>) -> R {
        let v = self.value(w);
        let len_before = self.m.len();
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
        if let Some(old) = self.m.value(key) {
            prop_assert_eq!(got, old, "get_or_insert_with({}) on a hit", key);
            prop_assert!(seen.get().is_none(), "computed on a hit");
            return Ok(());
        }
        prop_assert_eq!(got, v, "get_or_insert_with({}) returns the computed value", key);
        let Some((at_start, inv)) = seen.get() else {
            return Err(TestCaseError::fail("no computation on a miss"));
        };
        self.drop_entry(key, len_before, at_start)?;
        let mut valid = true;
        if let (Some(p), Some((n, len_after))) = (invalidate, inv) {
            self.invalidated_model(&[p], n, len_after)?;
            valid = !deps.iter().any(|&(d, s)| affects(p, d, s));
        }
        let heavy = self.too_heavy(v);
        if heavy && !valid {
            // Which refusal wins is not specified: take the counter as it is.
            let now = self.cache.stats().stale_inserts_rejected;
            prop_assert!(now == self.stale_rejected || now == self.stale_rejected + 1);
            self.stale_rejected = now;
        } else if !valid {
            self.stale_rejected += 1;
        } else if !heavy {
            let before = self.m.invisible_resident();
            self.publish(key, v, deps, before)?;
        }
        Ok(())
    }

    /// `k`'s entry is gone from the cache (if it was resident); `len` went from
    /// `len_before` (the model's) to `len_after` (observed).
    fn drop_entry(&mut self, k: u32, len_before: usize, len_after: usize) -> R {
        let gone = len_before.checked_sub(len_after);
        match self.m.entries.remove(&k) {
            None => prop_assert_eq!(len_after, len_before, "len changed by dropping absent key {}", k),
            Some(e) if e.sure => prop_assert_eq!(gone, Some(1), "len after dropping key {}", k),
            Some(_) => {
                let d = gone.filter(|&d| d <= 1 && d <= self.m.unsure_resident);
                let Some(d) = d else {
                    return Err(TestCaseError::fail(format!(
                        "len {len_before} -> {len_after} dropping maybe-reclaimed key {k}"
                    )));
                };
                self.m.unsure_resident -= d;
                self.m.normalize();
            }
        }
        Ok(())
    }

    /// An eager invalidation of `paths` returned `n`, leaving `len_after`.
    fn invalidated_model(&mut self, paths: &[&str], n: usize, len_after: usize) -> R {
        self.calls += 1;
        let len_before = self.m.len();
        let hit = self.m.hit(paths);
        let (mut visible, mut sure, mut unsure) = (0, 0, 0);
        for k in &hit {
            let e = &self.m.entries[k];
            if self.m.visible(e) {
                visible += 1;
            } else if e.sure {
                sure += 1;
            } else {
                unsure += 1;
            }
        }
        prop_assert_eq!(n, visible, "invalidate_many({:?}) count", paths);
        self.invalidated += n as u64;
        let removed = len_before
            .checked_sub(len_after)
            .and_then(|r| r.checked_sub(visible + sure));
        let Some(x) = removed.filter(|&x| x <= unsure && x <= self.m.unsure_resident) else {
            return Err(TestCaseError::fail(format!(
                "invalidate_many({paths:?}): len {len_before} -> {len_after}, {visible} visible, {sure} invisible, {unsure} maybe-reclaimed entries hit"
            )));
        };
        for k in hit {
            self.m.entries.remove(&k);
        }
        self.m.unsure_resident -= x;
        self.m.spoil_ticket(paths);
        self.m.normalize();
        prop_assert_eq!(self.m.len(), len_after);
        Ok(())
    }

    fn marked_model(&mut self, paths: &[&str]) {
        self.calls += 1;
        for k in self.m.hit(paths) {
            if let Some(e) = self.m.entries.get_mut(&k) {
                e.stale = true;
            }
        }
        self.m.spoil_ticket(paths);
    }

    /// `key` was published with `v`; `before` invisible entries were resident.
    fn publish(&mut self, key: u32, v: u64, deps: &Deps, before: usize) -> R {
        let old = self.m.entries.remove(&key);
        let replaced_visible = old.is_some_and(|e| self.m.visible(&e));
        let expires = self.setup.ttl_secs.map_or(u64::MAX, |t| self.m.now + t);
        self.m.entries.insert(
            key,
            MEntry {
                value: v,
                deps: deps.clone(),
                weight: self.weight_of(v),
                expires,
                stale: false,
                sure: true,
            },
        );
        self.inserts += 1;
        prop_assert!(
            self.cache.contains_key(&key),
            "key {} missing right after its insert",
            key
        );
        if self.setup.exact {
            // `check` asserts that the evictions counter stays at zero.
            return Ok(());
        }
        let evictions = self.cache.stats().evictions;
        let delta = evictions - self.evictions;
        // Visible entries the hand evicted.
        let missing: Vec<u32> = (self.m.entries.iter())
            .filter(|(k, e)| **k != key && self.m.visible(e) && !self.cache.contains_key(k))
            .map(|(k, _)| *k)
            .collect();
        let lost = missing.len() as u64;
        prop_assert!(
            lost <= delta && delta <= lost + u64::from(replaced_visible),
            "keys {:?} vanished, but evictions grew by {}",
            missing,
            delta
        );
        self.evictions = evictions;
        for k in missing {
            self.m.entries.remove(&k);
        }
        // Invisible entries the hand may have reclaimed: only their number is known.
        let vis = self.m.visible_count();
        let len = self.cache.len();
        let inv = self.m.entries.len() - vis;
        let res = len.checked_sub(vis).filter(|&r| r <= inv && r <= before);
        let Some(res) = res else {
            return Err(TestCaseError::fail(format!(
                "len {len} after insert: {vis} visible, {inv} invisible entries, {before} were resident"
            )));
        };
        let now = self.m.now;
        for e in self.m.entries.values_mut() {
            if e.stale || now >= e.expires {
                e.sure = false;
            }
        }
        self.m.unsure_resident = res;
        self.m.normalize();
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
                    prop_assert_eq!(self.cache.get(&k), want, "get({})", k);
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

    fn check_stats(&self) -> R {
        let s = self.cache.stats();
        prop_assert_eq!(s.live_entries, self.cache.len() as u64);
        prop_assert_eq!(s.inserts, self.inserts, "stats().inserts");
        prop_assert_eq!(
            s.stale_inserts_rejected,
            self.stale_rejected,
            "stats().stale_inserts_rejected"
        );
        prop_assert_eq!(s.entries_invalidated, self.invalidated, "stats().entries_invalidated");
        prop_assert_eq!(s.invalidation_calls, self.calls, "stats().invalidation_calls");
        prop_assert_eq!(s.evictions, self.evictions, "stats().evictions outside an insert");
        if let Some((nodes, weight)) = self.m.footprint() {
            prop_assert_eq!(s.index_nodes, nodes as u64, "stats().index_nodes");
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
