//! The sequential reference model of the cache, and the `ops` check: every
//! operation runs on the cache and on the model, and every observation is
//! compared after every step.
//!
//! The model is a map key → entry (value, dependencies, expiry, weight, made
//! invisible by a lazy invalidation?) plus two ticket slots. Exact while nothing
//! can be evicted. An insert may evict when the slots are full or the weight
//! budget is exceeded; which entry the CLOCK hand takes is the cache's choice,
//! so after such an insert the model drops the visible keys the cache lost and
//! checks that the `evictions` counter explains them. Invisible entries the
//! hand may have reclaimed are counted through `len`; if some were, the model
//! no longer knows which, and resolves it with a `purge` (checked to reclaim
//! exactly the rest).

use std::collections::{BTreeMap, BTreeSet};

use depcache::{DepPath, InsertError, ManualClock, Stats, Ticket};

use crate::ops::{self, build, few, Config, DepSpec, Input, Op, TestCache, Val, DEP_PATHS, KEYS, TARGETS};

#[derive(Clone, Debug)]
struct MEntry {
    value: Val,
    deps: Vec<(&'static str, bool)>,
    expires_at: u64,
    weight: u64,
    /// Made invisible by `mark_stale` or `invalidate_all`.
    stale: bool,
}

#[derive(Clone, Debug)]
struct MTicket {
    deps: Vec<(&'static str, bool)>,
    /// Some invalidation reached a dependency, or `invalidate_all` ran.
    invalid: bool,
}

/// Counters the model predicts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    hits: u64,
    misses: u64,
    inserts: u64,
    stale_inserts_rejected: u64,
    evictions: u64,
    expirations: u64,
    invalidation_calls: u64,
    entries_invalidated: u64,
}

impl Counts {
    fn of(s: &Stats) -> Self {
        Counts {
            hits: s.hits,
            misses: s.misses,
            inserts: s.inserts,
            stale_inserts_rejected: s.stale_inserts_rejected,
            evictions: s.evictions,
            expirations: s.expirations,
            invalidation_calls: s.invalidation_calls,
            entries_invalidated: s.entries_invalidated,
        }
    }
}

pub struct Model {
    config: Config,
    now: u64,
    entries: BTreeMap<u8, MEntry>,
    tickets: [Option<MTicket>; 2],
    counts: Counts,
}

fn deps_of(specs: &[DepSpec]) -> Vec<(&'static str, bool)> {
    few(specs).iter().map(|d| (d.path(), d.subtree)).collect()
}

impl Model {
    pub fn new(config: Config) -> Self {
        Model {
            config,
            now: 0,
            entries: BTreeMap::new(),
            tickets: [None, None],
            counts: Counts::default(),
        }
    }

    fn visible(&self, e: &MEntry) -> bool {
        !e.stale && self.now < e.expires_at
    }

    fn expired(&self, e: &MEntry) -> bool {
        self.config.ttl_nanos().is_some() && self.now >= e.expires_at
    }

    fn reached(deps: &[(&str, bool)], targets: &[&str]) -> bool {
        deps.iter()
            .any(|&(d, sub)| targets.iter().any(|t| ops::reaches(t, d, sub)))
    }

    /// Eager (`eager`) or lazy invalidation of `targets`; returns the count.
    fn invalidate(&mut self, targets: &[&str], eager: bool) -> usize {
        self.counts.invalidation_calls += 1;
        for t in self.tickets.iter_mut().flatten() {
            if Self::reached(&t.deps, targets) {
                t.invalid = true;
            }
        }
        let hit: Vec<u8> = self
            .entries
            .iter()
            .filter(|(_, e)| Self::reached(&e.deps, targets))
            .map(|(k, _)| *k)
            .collect();
        let mut n = 0;
        for k in hit {
            if eager {
                let e = self.entries.remove(&k).expect("present");
                if self.visible(&e) {
                    n += 1;
                } else if self.expired(&e) {
                    // Removed expired: counted as an expiration, as a lookup
                    // or the hand would count it.
                    self.counts.expirations += 1;
                }
            } else if let Some(e) = self.entries.get_mut(&k) {
                e.stale = true;
            }
        }
        self.counts.entries_invalidated += n as u64;
        n
    }

    fn invalidate_all(&mut self) {
        self.counts.invalidation_calls += 1;
        for t in self.tickets.iter_mut().flatten() {
            t.invalid = true;
        }
        for e in self.entries.values_mut() {
            e.stale = true;
        }
    }

    /// A lookup: the value if visible; an invisible entry is reclaimed.
    fn get(&mut self, k: u8) -> Option<Val> {
        match self.entries.get(&k) {
            Some(e) if self.visible(e) => {
                self.counts.hits += 1;
                Some(e.value)
            }
            Some(e) => {
                self.counts.misses += 1;
                if self.expired(e) {
                    self.counts.expirations += 1;
                }
                self.entries.remove(&k);
                None
            }
            None => {
                self.counts.misses += 1;
                None
            }
        }
    }

    fn remove(&mut self, k: u8) -> Option<Val> {
        let e = self.entries.remove(&k)?;
        self.visible(&e).then_some(e.value)
    }

    fn purge(&mut self) -> usize {
        let before = self.entries.len();
        let now = self.now;
        // As a lookup: an expired entry is reclaimed as an expiration.
        let expired = self.entries.values().filter(|e| now >= e.expires_at).count();
        self.counts.expirations += expired as u64;
        self.entries.retain(|_, e| !e.stale && now < e.expires_at);
        before - self.entries.len()
    }

    /// Nodes the index must hold: the dependencies of resident entries and of
    /// outstanding tickets, and their ancestors.
    fn nodes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let deps = self
            .entries
            .values()
            .flat_map(|e| e.deps.iter())
            .chain(self.tickets.iter().flatten().flat_map(|t| t.deps.iter()));
        for &(d, _) in deps {
            let mut p = Some(d.to_string());
            while let Some(x) = p {
                p = ops::parent(&x);
                out.insert(x);
            }
        }
        out
    }

    fn weight(&self) -> u64 {
        self.entries.values().map(|e| e.weight).sum()
    }
}

/// Operations per input (longer inputs are cut: every step is checked in full,
/// so long inputs are slow, and short ones reach the same states).
pub const MAX_OPS: usize = 192;

/// Runs an `ops` input; panics on the first disagreement.
pub fn check_ops(input: &Input) {
    let clock = ManualClock::new();
    let cache = build(&input.config, &clock);
    let mut model = Model::new(input.config);
    let mut tickets: [Option<Ticket<u8, Val, DepPath>>; 2] = [None, None];
    for (step, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        let id = step as u32;
        let before = Counts::of(&cache.stats());
        match op {
            Op::Insert { key, weight, deps } => {
                let k = key % KEYS;
                let v = (k, id, *weight);
                let dd = deps_of(deps);
                let room = may_evict(&model, &cache, input.config.weight_of(*weight));
                cache.insert(k, v, few(deps).iter().map(DepSpec::dep));
                model_insert(&mut model, &cache, k, v, dd, Ok(()), room, before, step);
            }
            Op::Get { key } => {
                let k = key % KEYS;
                let got = cache.get(&k);
                let want = model.get(k);
                assert_eq!(got, want, "step {step}: get({k})");
            }
            Op::Contains { key } => {
                let k = key % KEYS;
                let want = model.entries.get(&k).is_some_and(|e| model.visible(e));
                assert_eq!(cache.contains_key(&k), want, "step {step}: contains_key({k})");
            }
            Op::Remove { key } => {
                let k = key % KEYS;
                assert_eq!(cache.remove(&k), model.remove(k), "step {step}: remove({k})");
            }
            Op::Invalidate { target } => {
                let t = target.path();
                let got = cache.invalidate(DepPath::new(t));
                let want = model.invalidate(&[t], true);
                assert_eq!(got, want, "step {step}: invalidate({t:?})");
            }
            Op::InvalidateMany { targets } => {
                let ts: Vec<&str> = few(targets).iter().map(|t| t.path()).collect();
                let ds: Vec<DepPath> = ts.iter().map(DepPath::new).collect();
                let got = cache.invalidate_many(&ds);
                let want = model.invalidate(&ts, true);
                assert_eq!(got, want, "step {step}: invalidate_many({ts:?})");
            }
            Op::MarkStale { target } => {
                let t = target.path();
                cache.mark_stale(DepPath::new(t));
                model.invalidate(&[t], false);
            }
            Op::MarkStaleMany { targets } => {
                let ts: Vec<&str> = few(targets).iter().map(|t| t.path()).collect();
                let ds: Vec<DepPath> = ts.iter().map(DepPath::new).collect();
                cache.mark_stale_many(&ds);
                model.invalidate(&ts, false);
            }
            Op::InvalidateAll => {
                cache.invalidate_all();
                model.invalidate_all();
            }
            Op::Ticket { slot, deps } => {
                let s = usize::from(*slot);
                // Replacing a ticket drops the old one first.
                tickets[s] = None;
                tickets[s] = Some(cache.ticket(few(deps).iter().map(DepSpec::dep)));
                model.tickets[s] = Some(MTicket {
                    deps: deps_of(deps),
                    invalid: false,
                });
                assert_eq!(
                    tickets[s].as_ref().map(Ticket::is_valid),
                    Some(true),
                    "step {step}: fresh ticket"
                );
            }
            Op::InsertWithTicket { slot, key, weight } => {
                let s = usize::from(*slot);
                let (Some(t), Some(mt)) = (tickets[s].take(), model.tickets[s].take()) else {
                    continue;
                };
                assert_eq!(t.is_valid(), !mt.invalid, "step {step}: ticket validity");
                let k = key % KEYS;
                let v = (k, id, *weight);
                let w = input.config.weight_of(*weight);
                let room = may_evict(&model, &cache, w);
                let got = cache.insert_with_ticket(k, v, t);
                let too_heavy = input.config.max_weight().is_some_and(|m| w > m);
                // Stale before too heavy (`insert_with_ticket` checks the ticket
                // first, so `TooHeavy` says the value was valid).
                let want = if mt.invalid {
                    Err("stale")
                } else if too_heavy {
                    Err("too heavy")
                } else {
                    Ok(())
                };
                let got_kind = match &got {
                    Ok(()) => Ok(()),
                    Err(InsertError::TooHeavy { value, .. }) if *value == v => Err("too heavy"),
                    Err(InsertError::Stale(value)) if *value == v => Err("stale"),
                    Err(_) => Err("other"),
                };
                assert_eq!(got_kind, want, "step {step}: insert_with_ticket({k})");
                model_insert(&mut model, &cache, k, v, mt.deps, want, room, before, step);
            }
            Op::DropTicket { slot } => {
                let s = usize::from(*slot);
                tickets[s] = None;
                model.tickets[s] = None;
            }
            Op::Advance { ms16 } => {
                let d = u64::from(*ms16) * 16_000_000;
                clock.advance(std::time::Duration::from_nanos(d));
                model.now += d;
            }
            Op::Purge => {
                assert_eq!(cache.purge(), model.purge(), "step {step}: purge");
            }
        }
        for (s, t) in tickets.iter().enumerate() {
            let want = model.tickets[s].as_ref().map(|t| !t.invalid);
            assert_eq!(
                t.as_ref().map(Ticket::is_valid),
                want,
                "step {step}: ticket {s} validity"
            );
        }
        compare(&model, &cache, step, tickets.iter().all(Option::is_none));
    }
}

/// True if inserting `k` with weight `w` may make the CLOCK hand run: all the
/// slots are taken (the new entry takes its slot before the old entry of its key
/// leaves), or the weight budget will be exceeded.
fn may_evict(model: &Model, cache: &TestCache, w: u64) -> bool {
    let full = model.entries.len() >= cache.capacity();
    // The new entry's weight counts before the old entry of its key leaves.
    let heavy = model.config.max_weight().is_some_and(|m| model.weight() + w > m);
    full || heavy
}

/// The model's side of an insert (`result` is what the cache must have done),
/// then the reconciliation of evictions.
#[allow(clippy::too_many_arguments)]
fn model_insert(
    model: &mut Model,
    cache: &TestCache,
    k: u8,
    v: Val,
    deps: Vec<(&'static str, bool)>,
    result: Result<(), &str>,
    may_evict: bool,
    before: Counts,
    step: usize,
) {
    match result {
        Err("stale") => {
            model.counts.stale_inserts_rejected += 1;
            return;
        }
        Err(_) => return,
        Ok(()) => {}
    }
    let w = model.config.weight_of(v.2);
    if model.config.max_weight().is_some_and(|m| w > m) {
        // `insert` drops a value too heavy to cache, and changes nothing.
        return;
    }
    let old = model.entries.remove(&k);
    let old_visible = old.as_ref().is_some_and(|e| model.visible(e));
    let old_expired = old.as_ref().is_some_and(|e| model.expired(e));
    let expires_at = model
        .config
        .ttl_nanos()
        .map_or(u64::MAX, |t| model.now.saturating_add(t));
    model.entries.insert(
        k,
        MEntry {
            value: v,
            deps,
            expires_at,
            weight: w,
            stale: false,
        },
    );
    model.counts.inserts += 1;
    let after = Counts::of(&cache.stats());
    let evicted = after.evictions - before.evictions;
    let expired = after.expirations - before.expirations;
    if !may_evict {
        assert_eq!(evicted, 0, "step {step}: eviction with free slots and weight to spare");
        assert_eq!(expired, 0, "step {step}: the hand ran with free slots");
        return;
    }
    // Visible entries the hand took.
    let lost: Vec<u8> = model
        .entries
        .iter()
        .filter(|(key, e)| **key != k && model.visible(e) && !cache.contains_key(*key))
        .map(|(key, _)| *key)
        .collect();
    let lost_n = lost.len() as u64;
    let slack = u64::from(old_visible);
    assert!(
        lost_n <= evicted && evicted <= lost_n + slack,
        "step {step}: {lost_n} visible entries vanished ({lost:?}), but evictions rose by {evicted}"
    );
    for key in &lost {
        model.entries.remove(key);
    }
    model.counts.evictions += evicted;
    // Invisible entries the hand may have reclaimed: only their number is known.
    let visible = model.entries.values().filter(|e| model.visible(e)).count();
    let invisible: Vec<u8> = model
        .entries
        .iter()
        .filter(|(_, e)| !model.visible(e))
        .map(|(k, _)| *k)
        .collect();
    let expired_max = invisible
        .iter()
        .filter(|key| model.expired(&model.entries[key]))
        .count() as u64
        + u64::from(old_expired && !old_visible);
    assert!(
        expired <= expired_max,
        "step {step}: expirations rose by {expired}, only {expired_max} expired entries"
    );
    model.counts.expirations += expired;
    let len = cache.len();
    assert!(
        len >= visible && len - visible <= invisible.len(),
        "step {step}: len {len} with {visible} visible and at most {} invisible entries",
        invisible.len()
    );
    if len - visible < invisible.len() {
        // Some were reclaimed, we do not know which: reclaim the rest. `purge`
        // counts the expired ones it reclaims as expirations; which they are
        // is as unknown, so adopt its count within the possible.
        let before_purge = cache.stats().expirations;
        let purged = cache.purge();
        assert_eq!(purged, len - visible, "step {step}: purge after the hand reclaimed");
        let purge_expired = cache.stats().expirations - before_purge;
        let expired_left = invisible
            .iter()
            .filter(|key| model.expired(&model.entries[key]))
            .count() as u64;
        assert!(
            purge_expired <= expired_left.min(purged as u64),
            "step {step}: purge counted {purge_expired} expirations of {purged} entries, {expired_left} expired"
        );
        model.counts.expirations += purge_expired;
        for key in invisible {
            model.entries.remove(&key);
        }
    }
}

/// Compares every observation that has no side effect.
fn compare(model: &Model, cache: &TestCache, step: usize, quiescent: bool) {
    for k in 0..KEYS {
        let want = model.entries.get(&k).is_some_and(|e| model.visible(e));
        assert_eq!(
            cache.contains_key(&k),
            want,
            "step {step}: contains_key({k}) after the step"
        );
    }
    let s = cache.stats();
    assert_eq!(Counts::of(&s), model.counts, "step {step}: statistics");
    assert_eq!(cache.len(), model.entries.len(), "step {step}: len");
    assert_eq!(
        s.live_entries,
        model.entries.len() as u64,
        "step {step}: stats.live_entries"
    );
    assert_eq!(s.weight, model.weight(), "step {step}: stats.weight");
    let nodes = model.nodes();
    assert_eq!(
        s.index_nodes,
        nodes.len() as u64,
        "step {step}: index nodes, want {nodes:?}"
    );
    for p in TARGETS.iter().chain(DEP_PATHS.iter()) {
        assert_eq!(
            cache.tracks(&DepPath::new(p)),
            nodes.contains(*p),
            "step {step}: tracks({p:?})"
        );
    }
    assert!(cache.len() <= cache.capacity(), "step {step}: len over capacity");
    if let Some(m) = model.config.max_weight() {
        assert!(s.weight <= m, "step {step}: weight {} over {m}", s.weight);
    }
    if quiescent {
        if let Err(e) = cache.check_invariants() {
            panic!("step {step}: check_invariants: {e}");
        }
    }
}
