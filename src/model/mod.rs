//! The sequential reference model of a [`Cache`](crate::Cache) whose
//! dependencies are paths: what the unit tests (`src/tests/model.rs`) and the
//! fuzz targets (`fuzz/src/model.rs`) run every operation against and compare
//! the cache with, step by step.
//!
//! # What it holds
//!
//! - **Entries**: key → value, dependencies ([`PathDep`]: a path and its
//!   scope), weight, expiry, whether a lazy invalidation made it invisible
//!   (`stale`), and whether the model is sure it is still resident.
//! - **The clock** (`now`), in whatever unit the harness advances the cache's
//!   [`ManualClock`](crate::ManualClock) by; [`Limits::ttl`] is in that unit.
//! - **Outstanding tickets**, any number, each in a slot the harness names.
//! - **The counters** the cache's [`Stats`](crate::Stats) must show ([`Counts`]).
//!
//! # Semantics
//!
//! - An entry is **visible** (a lookup returns it) while it is not stale and
//!   the clock is before its expiry. Nothing makes it visible again.
//! - Invalidating a path reaches the dependencies [`paths::reaches`] says: on
//!   the path or below it, and `Subtree` dependencies on its ancestors. An
//!   **eager** invalidation removes every entry it reaches and returns the
//!   number of them that were visible; a **lazy** one (`mark_stale`) makes them
//!   stale; both invalidate the tickets they reach. `invalidate_all` makes
//!   every entry stale and every ticket invalid.
//! - A lookup returns a visible value (a hit); anything else is a miss, and
//!   the invisible entry it found is reclaimed. `remove` returns the value if
//!   visible and removes the entry either way. `purge` reclaims every
//!   invisible entry. Removing an expired entry (stale or not) counts an
//!   expiration, whoever removes it: a lookup, `purge`, the hand, an eager
//!   invalidation; only `remove` and a replacing insert count nothing.
//! - A value heavier than `max_weight` is not cached and changes nothing. A
//!   value published with an invalid ticket is refused as stale, before its
//!   weight is considered.
//! - The dependency index holds the dependencies of resident entries and of
//!   outstanding tickets, and all their ancestors ([`Model::nodes`]).
//!
//! # Eviction and what the model is sure of
//!
//! Which entry the CLOCK hand takes is the cache's choice. After a
//! publication that may have run the hand ([`Model::may_evict`]),
//! [`Model::reconcile`] reads what the cache shows: visible entries that are
//! gone must be explained by the evictions counter, and they leave the model.
//! Of the invisible entries, the hand may have reclaimed any: the model keeps
//! them all as *unsure* and only their number still resident, learned from
//! `len`. Later removals that may take unsure entries (a lookup, `remove`, an
//! eager invalidation) are told the cache's `len` afterwards and learn how
//! many went; once the number says which they are, they are sure again. While
//! some entry is unsure, [`Model::nodes`] and [`Model::weight`] are unknown,
//! and the expirations counter is a range ([`Model::expirations`]) until
//! [`Model::check_counts`] reads the cache's.
//!
//! # Contract
//!
//! The harness runs every operation on the cache and on the model, one at a
//! time and in the same order; names paths in normal form
//! ([`paths::is_normal`]; the model panics on another spelling); and after a
//! publication that may have evicted, or any publication while the model is
//! not [settled], calls [`Model::reconcile`] before anything else. Methods
//! that take an observation of the cache return `Err` with what disagrees; a
//! panic is a harness that broke the contract.
//!
//! [`PathDep`]: crate::model::PathDep
//! [`Limits::ttl`]: crate::model::Limits::ttl
//! [`Counts`]: crate::model::Counts
//! [`paths::reaches`]: crate::model::paths::reaches
//! [`paths::is_normal`]: crate::model::paths::is_normal
//! [`Model::nodes`]: crate::model::Model::nodes
//! [`Model::weight`]: crate::model::Model::weight
//! [`Model::may_evict`]: crate::model::Model::may_evict
//! [`Model::reconcile`]: crate::model::Model::reconcile
//! [`Model::expirations`]: crate::model::Model::expirations
//! [`Model::check_counts`]: crate::model::Model::check_counts
//! [settled]: crate::model::Model::is_settled

mod counts;
mod hand;
mod ops;
pub mod paths;

use core::fmt::Debug;
use std::collections::{BTreeMap, BTreeSet};

pub use counts::Counts;
pub use hand::Published;
pub use ops::Outcome;
pub use paths::PathDep;

/// The cache's settings that the model needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `max_entries`.
    pub capacity: usize,
    /// `max_weight`, if set.
    pub max_weight: Option<u64>,
    /// The time to live, in the clock's unit, if set.
    pub ttl: Option<u64>,
}

/// A published value, as the model knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MEntry<V> {
    /// The value.
    pub value: V,
    /// Its dependencies.
    pub deps: Vec<PathDep>,
    /// Its weight.
    pub weight: u64,
    /// The clock reading at which it expires (`u64::MAX`: never).
    pub expires: u64,
    /// Made invisible by `mark_stale` or `invalidate_all`.
    pub stale: bool,
    /// Known to be resident. Visible entries always are; an invisible one is
    /// not once the CLOCK hand may have reclaimed it.
    pub sure: bool,
}

impl<V> MEntry<V> {
    /// True if it has expired at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires
    }

    /// True if a lookup at `now` returns it.
    pub fn visible(&self, now: u64) -> bool {
        !self.stale && !self.expired(now)
    }
}

/// An outstanding ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MTicket {
    /// Its dependencies.
    pub deps: Vec<PathDep>,
    /// No invalidation has reached it.
    pub valid: bool,
}

/// The model: see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Model<K, V> {
    limits: Limits,
    now: u64,
    entries: BTreeMap<K, MEntry<V>>,
    /// How many of the unsure entries are resident.
    unsure_resident: usize,
    /// False from a publication over an unsure entry (which may or may not
    /// have been resident) until [`Model::reconcile`] reads `len`.
    len_known: bool,
    tickets: BTreeMap<usize, MTicket>,
    /// `expirations` is the least the cache may have counted.
    counts: Counts,
    /// How many more expirations the cache may have counted.
    expirations_slack: u64,
}

impl<K, V> Model<K, V>
where
    K: Ord + Copy + Debug,
    V: Clone,
{
    /// An empty cache with these settings, its clock at 0.
    pub fn new(limits: Limits) -> Self {
        Model {
            limits,
            now: 0,
            entries: BTreeMap::new(),
            unsure_resident: 0,
            len_known: true,
            tickets: BTreeMap::new(),
            counts: Counts::default(),
            expirations_slack: 0,
        }
    }

    /// The settings.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The clock.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The clock moves forward by `by`.
    pub fn advance(&mut self, by: u64) {
        self.now = self.now.saturating_add(by);
    }

    /// The entry of `key`, if the model holds one (visible or not, resident or
    /// maybe not).
    pub fn entry(&self, key: K) -> Option<&MEntry<V>> {
        self.entries.get(&key)
    }

    /// The value a lookup of `key` returns (`contains_key` is `is_some`).
    pub fn value(&self, key: K) -> Option<V> {
        self.entries
            .get(&key)
            .filter(|e| e.visible(self.now))
            .map(|e| e.value.clone())
    }

    /// Resident entries, as `len` counts them.
    ///
    /// # Panics
    ///
    /// Between a publication over an unsure entry and [`Model::reconcile`].
    pub fn len(&self) -> usize {
        assert!(self.len_known, "len is unknown until `reconcile`");
        self.entries.values().filter(|e| e.sure).count() + self.unsure_resident
    }

    /// True if [`len`](Model::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Visible entries.
    pub fn visible_len(&self) -> usize {
        self.entries.values().filter(|e| e.visible(self.now)).count()
    }

    /// Resident entries that a lookup would not return.
    pub fn invisible_resident(&self) -> usize {
        self.len() - self.visible_len()
    }

    /// True if the model knows which entries are resident.
    pub fn is_settled(&self) -> bool {
        self.len_known && self.entries.values().all(|e| e.sure)
    }

    /// The ticket in `slot`, if one is outstanding.
    pub fn ticket(&self, slot: usize) -> Option<&MTicket> {
        self.tickets.get(&slot)
    }

    /// Whether the ticket in `slot` is valid, if one is outstanding.
    pub fn ticket_valid(&self, slot: usize) -> Option<bool> {
        self.ticket(slot).map(|t| t.valid)
    }

    /// The nodes the dependency index must hold, when the model is settled:
    /// the dependencies of the entries and of the outstanding tickets, and
    /// their ancestors.
    pub fn nodes(&self) -> Option<BTreeSet<&'static str>> {
        if !self.is_settled() {
            return None;
        }
        let entries = self.entries.values().flat_map(|e| &e.deps);
        let tickets = self.tickets.values().flat_map(|t| &t.deps);
        Some(entries.chain(tickets).flat_map(|&(d, _)| paths::ancestors(d)).collect())
    }

    /// The resident weight, when the model is settled.
    pub fn weight(&self) -> Option<u64> {
        self.is_settled().then(|| self.entries.values().map(|e| e.weight).sum())
    }

    /// True if a value of this weight is too heavy to cache.
    pub fn too_heavy(&self, weight: u64) -> bool {
        self.limits.max_weight.is_some_and(|m| weight > m)
    }

    /// True if publishing a value of this weight may run the CLOCK hand: the
    /// entries may fill every slot (a replacement takes its slot before the
    /// entry it replaces leaves, so that one counts), or the weight may go over
    /// the budget (that one's weight counts too).
    pub fn may_evict(&self, weight: u64) -> bool {
        let total: u64 = self.entries.values().map(|e| e.weight).sum();
        let full = self.entries.len() >= self.limits.capacity;
        full || self.limits.max_weight.is_some_and(|m| total + weight > m)
    }
}
