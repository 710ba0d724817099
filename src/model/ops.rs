//! The cache's operations, applied to the model.

use core::fmt::Debug;

use super::paths::{self, PathDep};
use super::{MEntry, MTicket, Model, Published};

/// What a publication did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Outcome<K> {
    /// The value is cached; [`Model::reconcile`] takes this when the CLOCK
    /// hand may have run.
    Published(Published<K>),
    /// Refused: the ticket was invalid.
    Stale,
    /// Not cached: heavier than `max_weight`.
    TooHeavy,
}

fn assert_normal<'a>(spellings: impl IntoIterator<Item = &'a str>) {
    for p in spellings {
        assert!(paths::is_normal(p), "{p:?} is not a path in normal form");
    }
}

impl<K, V> Model<K, V>
where
    K: Ord + Copy + Debug,
    V: Clone,
{
    /// `insert(key, value, deps)` of a value of this weight.
    pub fn insert(&mut self, key: K, value: V, deps: Vec<PathDep>, weight: u64) -> Outcome<K> {
        self.publish(key, value, deps, weight)
    }

    /// A ticket on `deps` is taken, in `slot` (replacing the one there).
    pub fn new_ticket(&mut self, slot: usize, deps: Vec<PathDep>) {
        assert_normal(deps.iter().map(|d| d.0));
        self.tickets.insert(slot, MTicket { deps, valid: true });
    }

    /// The ticket in `slot` is dropped unused.
    pub fn drop_ticket(&mut self, slot: usize) -> Option<MTicket> {
        self.tickets.remove(&slot)
    }

    /// `insert_with_ticket` of a value of this weight, with the ticket in
    /// `slot`: refused as stale if the ticket is invalid, before its weight
    /// is considered.
    ///
    /// # Panics
    ///
    /// If no ticket is in `slot`.
    pub fn insert_with_ticket(&mut self, slot: usize, key: K, value: V, weight: u64) -> Outcome<K> {
        let ticket = self.tickets.remove(&slot);
        let ticket = ticket.unwrap_or_else(|| panic!("no ticket in slot {slot}"));
        if !ticket.valid {
            self.counts.stale_inserts_rejected += 1;
            return Outcome::Stale;
        }
        self.publish(key, value, ticket.deps, weight)
    }

    fn publish(&mut self, key: K, value: V, deps: Vec<PathDep>, weight: u64) -> Outcome<K> {
        assert_normal(deps.iter().map(|d| d.0));
        if self.too_heavy(weight) {
            return Outcome::TooHeavy;
        }
        let invisible_before = self.invisible_resident();
        let now = self.now;
        let old = self.entries.remove(&key);
        if old.as_ref().is_some_and(|e| !e.sure) {
            self.len_known = false;
        }
        let expires = self.limits.ttl.map_or(u64::MAX, |t| now.saturating_add(t));
        let entry = MEntry {
            value,
            deps,
            weight,
            expires,
            stale: false,
            sure: true,
        };
        self.entries.insert(key, entry);
        self.counts.inserts += 1;
        Outcome::Published(Published {
            key,
            replaced_visible: old.as_ref().is_some_and(|e| e.visible(now)),
            replaced_expired: old.is_some_and(|e| !e.visible(now) && e.expired(now)),
            invisible_before,
        })
    }

    /// `get(key)`, after which the cache's `len` was `len_after`: the visible
    /// value (a hit), or a miss that reclaims the invisible entry.
    pub fn get(&mut self, key: K, len_after: usize) -> Result<Option<V>, String> {
        if let Some(v) = self.value(key) {
            self.counts.hits += 1;
            return Ok(Some(v));
        }
        self.counts.misses += 1;
        self.drop_entry(key, len_after, true)?;
        Ok(None)
    }

    /// `remove(key)`, after which the cache's `len` was `len_after`: the value
    /// if it was visible; the entry goes either way.
    pub fn remove(&mut self, key: K, len_after: usize) -> Result<Option<V>, String> {
        let value = self.value(key);
        self.drop_entry(key, len_after, false)?;
        Ok(value)
    }

    /// `key`'s entry leaves, if resident (`reclaim`: found invisible by a
    /// lookup, which counts an expired one; else `remove`, which counts
    /// nothing), and `len` went to `len_after`.
    fn drop_entry(&mut self, key: K, len_after: usize, reclaim: bool) -> Result<(), String> {
        let len_before = self.len();
        let gone = len_before.checked_sub(len_after);
        let now = self.now;
        let Some(e) = self.entries.remove(&key) else {
            if len_after != len_before {
                return Err(format!("len {len_before} -> {len_after} dropping absent key {key:?}"));
            }
            return Ok(());
        };
        let went = if e.sure {
            if gone != Some(1) {
                return Err(format!("len {len_before} -> {len_after} dropping key {key:?}"));
            }
            true
        } else {
            let Some(d) = gone.filter(|&d| d <= 1 && d <= self.unsure_resident) else {
                return Err(format!(
                    "len {len_before} -> {len_after} dropping maybe-reclaimed key {key:?}"
                ));
            };
            self.unsure_resident -= d;
            d == 1
        };
        if went && reclaim && e.expired(now) {
            self.counts.expirations += 1;
        }
        self.normalize();
        Ok(())
    }

    /// Keys of the entries an invalidation of `targets` reaches.
    fn reached(&self, targets: &[&str]) -> Vec<K> {
        assert_normal(targets.iter().copied());
        (self.entries.iter())
            .filter(|(_, e)| paths::reached(targets, &e.deps))
            .map(|(k, _)| *k)
            .collect()
    }

    fn invalidate_tickets(&mut self, targets: &[&str]) {
        for t in self.tickets.values_mut() {
            if paths::reached(targets, &t.deps) {
                t.valid = false;
            }
        }
    }

    /// `invalidate_many(targets)` (or `invalidate` of one), after which the
    /// cache's `len` was `len_after`: the number of visible entries it removes.
    pub fn invalidate(&mut self, targets: &[&str], len_after: usize) -> Result<usize, String> {
        self.counts.invalidation_calls += 1;
        self.invalidate_tickets(targets);
        let len_before = self.len();
        let now = self.now;
        let hit = self.reached(targets);
        let (mut visible, mut sure, mut sure_expired, mut unsure, mut unsure_expired) = (0, 0, 0, 0, 0);
        for k in &hit {
            let e = &self.entries[k];
            if e.visible(now) {
                visible += 1;
            } else if e.sure {
                sure += 1;
                sure_expired += usize::from(e.expired(now));
            } else {
                unsure += 1;
                unsure_expired += usize::from(e.expired(now));
            }
        }
        // How many of the unsure entries reached were resident.
        let removed = len_before
            .checked_sub(len_after)
            .and_then(|r| r.checked_sub(visible + sure));
        let Some(x) = removed.filter(|&x| x <= unsure && x <= self.unsure_resident) else {
            return Err(format!(
                "invalidate({targets:?}): len {len_before} -> {len_after}, {visible} visible, \
                 {sure} invisible, {unsure} maybe-reclaimed entries reached"
            ));
        };
        for k in hit {
            self.entries.remove(&k);
        }
        self.unsure_resident -= x;
        self.counts.entries_invalidated += visible as u64;
        self.counts.expirations += sure_expired as u64;
        self.expect_expirations(x.saturating_sub(unsure - unsure_expired), x.min(unsure_expired));
        self.normalize();
        assert_eq!(self.len(), len_after, "the model's len after invalidate({targets:?})");
        Ok(visible)
    }

    /// `mark_stale_many(targets)` (or `mark_stale` of one).
    pub fn mark_stale(&mut self, targets: &[&str]) {
        self.counts.invalidation_calls += 1;
        self.invalidate_tickets(targets);
        for k in self.reached(targets) {
            if let Some(e) = self.entries.get_mut(&k) {
                e.stale = true;
            }
        }
    }

    /// `invalidate_all()`.
    pub fn invalidate_all(&mut self) {
        self.counts.invalidation_calls += 1;
        self.tickets.values_mut().for_each(|t| t.valid = false);
        self.entries.values_mut().for_each(|e| e.stale = true);
    }

    /// `purge()`: the number of entries it reclaims (every invisible resident
    /// one).
    pub fn purge(&mut self) -> usize {
        let n = self.invisible_resident();
        let now = self.now;
        let expired = |sure: bool| {
            let mine = self.entries.values().filter(|e| e.sure == sure);
            (mine.clone().count(), mine.filter(|e| e.expired(now)).count())
        };
        let (_, sure_expired) = expired(true);
        let (unsure, unsure_expired) = expired(false);
        // `unsure_resident` of the unsure entries go, which ones is unknown.
        let r = self.unsure_resident;
        self.counts.expirations += sure_expired as u64;
        self.expect_expirations(r.saturating_sub(unsure - unsure_expired), r.min(unsure_expired));
        self.entries.retain(|_, e| e.visible(now));
        self.unsure_resident = 0;
        n
    }
}
