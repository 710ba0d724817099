//! Cleanup: how a dead entry leaves the cache. Whoever kills an entry (a
//! remove, an invalidation, eviction, a lookup that finds it invalid or
//! expired) owns its cleanup: unregister it from its dependencies' nodes,
//! release its CLOCK slot, unlink it from the entries table, in that order.

use core::hash::{BuildHasher, Hash};

use super::Shared;
use crate::index::{Dependent, Entry, Node, Removed, LIVE};
use crate::map::Bucket;
use crate::reclaim::Guard;
use crate::stats::Counter;
use crate::sync::{fence, Arc, Ordering};
use crate::Dependency;

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Removes an entry found invalid or expired (by a lookup or the hand).
    pub(crate) fn reclaim(&self, e: &Entry<K, V, D>, guard: &Guard<'_>) {
        self.reclaim_in(self.entries.bucket(&e.key), e, guard);
    }

    /// [`reclaim`](Shared::reclaim) in `e`'s bucket, found by the caller (also
    /// the kill of an eager invalidation). One counter per removal, whoever
    /// removes it: an entry an eager invalidation claimed (it was visible when
    /// that call scanned, before its bumps) is killed as stale and counted by
    /// that call, even if it has expired since (regression
    /// `bug_expiry_after_the_bumps_loses_a_count`); an unclaimed expired one
    /// is an expiration; any other is stale and uncounted (a lazy invalidation
    /// hid it). An INIT entry is killed as stale whatever its expiry, so that
    /// its insert is refused (`REFUSED`).
    pub(crate) fn reclaim_in(&self, bucket: Bucket<'_, Entry<K, V, D>>, e: &Entry<K, V, D>, guard: &Guard<'_>) {
        if self.kill_unusable(e, guard) {
            self.cleanup_in(bucket, e, true, guard);
        }
    }

    /// The kill of [`reclaim_in`](Shared::reclaim_in), counted by its rule,
    /// without the cleanup: true if `e` was live, and the caller must now
    /// clean it up (an eager invalidation cleans up its kills together, see
    /// [`cleanup_many`](Shared::cleanup_many)).
    pub(crate) fn kill_unusable(&self, e: &Entry<K, V, D>, guard: &Guard<'_>) -> bool {
        let expired = e.state() == LIVE && self.counts_as_expired(e);
        let was = if expired { e.kill() } else { e.kill_stale() };
        if was != Some(LIVE) {
            return false;
        }
        self.stats.sub(Counter::Resident, 1, guard);
        if expired {
            self.stats.add(Counter::Expirations, 1, guard);
        }
        true
    }

    /// True if removing `e`, found unusable, counts as an expiration: it has
    /// expired and no eager invalidation claimed it (a claimed entry was
    /// visible when that call scanned, and that call counts it). The one rule
    /// for every remover: lookups, `purge`, the hand, the eager kill.
    pub(crate) fn counts_as_expired(&self, e: &Entry<K, V, D>) -> bool {
        self.ttl.is_some() && !e.is_claimed() && e.expired(self.time.now())
    }

    /// Kills `e` and, if it was published, cleans it up (map, reverse index, pins,
    /// slot). An INIT entry is left to its inserter. Returns the state it had, or
    /// `None` if someone else killed it first.
    pub(crate) fn kill(&self, e: &Entry<K, V, D>, guard: &Guard<'_>) -> Option<u8> {
        let was = e.kill()?;
        self.finish_kill(was, self.entries.bucket(&e.key), e, guard)
    }

    fn finish_kill(
        &self,
        was: u8,
        bucket: Bucket<'_, Entry<K, V, D>>,
        e: &Entry<K, V, D>,
        guard: &Guard<'_>,
    ) -> Option<u8> {
        if was == LIVE {
            self.stats.sub(Counter::Resident, 1, guard);
            self.cleanup_in(bucket, e, true, guard);
        }
        Some(was)
    }

    /// Undoes everything the insert of a dead entry did. Every removal checks
    /// the entry's identity, so it never touches a newer entry of the same key.
    /// `e` is held by the caller: a count of its `Arc`, or a reference found
    /// under `guard` (the table retires its count, never drops it).
    pub(crate) fn cleanup(&self, e: &Entry<K, V, D>, release_slot: bool, guard: &Guard<'_>) {
        self.cleanup_in(self.entries.bucket(&e.key), e, release_slot, guard)
    }

    /// [`cleanup`](Shared::cleanup) with `e`'s bucket, found by the caller.
    pub(crate) fn cleanup_in(
        &self,
        bucket: Bucket<'_, Entry<K, V, D>>,
        e: &Entry<K, V, D>,
        release_slot: bool,
        guard: &Guard<'_>,
    ) {
        self.cleanup_many(&[(bucket, e)], release_slot, guard);
    }

    /// [`cleanup_in`](Shared::cleanup_in) for several dead entries at once,
    /// each with its bucket: what cleaning them up one after another does,
    /// with the steps the entries share done once — one fence, and for each
    /// index node one lock for all their registrations and one decrement for
    /// all their pins (an invalidation's entries mostly share their nodes).
    ///
    /// Each entry leaves the index, then its CLOCK slot, then the map, and
    /// the counts those held are let go so that the entry outlives every
    /// guard that may have reached it through any of them:
    ///
    /// * A reader that loaded the entry from the slot did so under a guard
    ///   that began before the slot was emptied, hence before the map
    ///   removal that follows, and the map's count, retired by that removal,
    ///   outlives every such guard. So when *this* removal unlinked the
    ///   entry, the slot's count is only a decrement now, not a second
    ///   retirement (half the collector's work per removed entry); when
    ///   someone else had unlinked it (a replacing insert, possibly before
    ///   such a reader began), the slot's count is retired.
    /// * An invalidation that found the entry in a node's registrations
    ///   borrows it without a count (`Dependent::entry_in`), under a guard that
    ///   began before the registration was removed here. The index goes
    ///   first so that the retirement of the map's or the slot's count comes
    ///   after; the registrations' counts are then plain decrements. An
    ///   entry whose map and slot counts this call did not hold (unlinked by
    ///   a replacing insert, its slot taken by the hand) has its
    ///   registrations' counts retired instead.
    pub(crate) fn cleanup_many(&self, dead: &[Dead<'_, K, V, D>], release_slot: bool, guard: &Guard<'_>) {
        if dead.is_empty() {
            return;
        }
        // SeqCst fence: pairs with the one in `restore` — the killer's state store
        // and map removal against the restorer's map write and state load: one of
        // the two sees the other, so a dead entry is never left in the map. One
        // fence serves every entry here: each was killed before it, and leaves
        // the map after it.
        fence(Ordering::SeqCst);
        if let [_] = dead {
            // One entry (a replaced or evicted one, a lookup's reclaim): its
            // few registrations inline (16 of them cost an insert 4%).
            self.leave(dead, smallvec::SmallVec::<[_; 2]>::new(), release_slot, guard);
        } else {
            self.leave(dead, Removed::new(), release_slot, guard);
        }
        if !self.weighs() {
            return;
        }
        // Last, so that a weigher that panics here (it did not at insert) only
        // leaves the budget off. Saturating: a weigher that answers less than it
        // did at insert must not wrap the budget to "always over".
        let w = dead
            .iter()
            .fold(0u64, |sum, &(_, e)| sum.saturating_add(self.weight_of(e)));
        // Relaxed: a budget counter; eviction re-reads it in a loop.
        let _ = self
            .weight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_sub(w)));
    }

    /// The three removals of `cleanup_many`, in its order: the index (the
    /// registrations collected in `regs`), the slot, the map; then the
    /// registrations' counts let go.
    #[inline(always)]
    fn leave<A>(
        &self,
        dead: &[Dead<'_, K, V, D>],
        mut regs: smallvec::SmallVec<A>,
        release_slot: bool,
        guard: &Guard<'_>,
    ) where
        A: smallvec::Array<Item = Dependent<K, V, D>>,
    {
        self.unregister(dead, &mut regs, guard);
        // Entries none of whose counts this call retires (rare, see above).
        let mut exposed: smallvec::SmallVec<[&Entry<K, V, D>; 2]> = smallvec::SmallVec::new();
        for &(bucket, e) in dead {
            let slot_count = if release_slot {
                self.ring.release_take(e.slot(), e, guard)
            } else {
                None
            };
            let unlinked = self.entries.remove_in(bucket, e, guard);
            match slot_count {
                // The map's count, retired just now, outlives every reader
                // of the slot and of the registrations (see above).
                Some(count) if unlinked => drop(count),
                Some(count) => self.entries.retire_count(count, guard),
                None if unlinked => {}
                None => exposed.push(e),
            }
        }
        if !exposed.is_empty() {
            for reg in regs.drain(..) {
                if exposed.iter().any(|e| reg.is(e)) {
                    self.entries.retire_count(reg.into_arc(), guard);
                }
            }
        }
        // The other registrations' counts are plain decrements, here.
        drop(regs);
    }

    /// Takes the dead entries' registrations off their nodes and drops their
    /// pins, node by node: one lock and one decrement per node. Adds the
    /// registrations to `regs`, whose counts the caller lets go (see
    /// `cleanup_many`).
    fn unregister<A>(&self, dead: &[Dead<'_, K, V, D>], regs: &mut smallvec::SmallVec<A>, guard: &Guard<'_>)
    where
        A: smallvec::Array<Item = Dependent<K, V, D>>,
    {
        if let [(_, e)] = dead {
            // One entry (a replaced or evicted one, a lookup's reclaim): no
            // grouping to do (through it, an insert took 8% longer).
            let id = e.id();
            for s in e.stamps.iter() {
                if let Some(reg) = s.node.dependents().remove_if(&id, guard, |r| r.is(e)) {
                    regs.push(reg);
                }
                self.index.unpin(&s.node, guard);
            }
            return;
        }
        // One pair per stamp (an entry pins every node it has a stamp on, and
        // is registered on those of its own dependencies), grouped by node.
        let mut pins: smallvec::SmallVec<[NodePin<'_, K, V, D>; 16]> = dead
            .iter()
            .flat_map(|&(_, e)| e.stamps.iter().map(move |s| (&s.node, e)))
            .collect();
        group_by_node(&mut pins);
        for run in pins.chunk_by(|a, b| Arc::ptr_eq(a.0, b.0)) {
            let node = run[0].0;
            node.dependents().remove_each(
                run.iter()
                    .map(|&(_, e)| (e.id(), move |r: &Dependent<K, V, D>| r.is(e))),
                guard,
                regs,
            );
            // A run is at most the entries' stamps, far fewer than u32::MAX.
            let n = run.len() as u32;
            // Loom builds only: the deliberately broken variant (one pin per node).
            #[cfg(depcache_loom)]
            let n = if crate::sync::fault::batch_unpins_one() { 1 } else { n };
            self.index.unpin_n(node, n, guard);
        }
    }
}

/// Reorders `pins` so that the pins of one node are next to each other.
#[cfg(not(depcache_loom))]
fn group_by_node<K, V, D>(pins: &mut [NodePin<'_, K, V, D>]) {
    if pins.len() > 1 {
        pins.sort_unstable_by_key(|&(n, _)| Arc::as_ptr(n).addr());
    }
}

/// Under loom: the same grouping, in the order of each node's first pin.
/// Loom replays a schedule by re-running the model, and addresses differ
/// between runs, so no order may depend on them (loom-tests/README.md,
/// "Determinism"); quadratic, for a model's handful of pins.
#[cfg(depcache_loom)]
fn group_by_node<K, V, D>(pins: &mut [NodePin<'_, K, V, D>]) {
    let mut i = 0;
    while i < pins.len() {
        let node = pins[i].0;
        let mut end = i + 1;
        for k in i + 1..pins.len() {
            if Arc::ptr_eq(pins[k].0, node) {
                pins.swap(end, k);
                end += 1;
            }
        }
        i = end;
    }
}

/// A dead entry to clean up, with its bucket (see [`Shared::cleanup_many`]).
pub(crate) type Dead<'a, K, V, D> = (Bucket<'a, Entry<K, V, D>>, &'a Entry<K, V, D>);

/// One of a dead entry's pins: the node and the entry (see `Shared::unregister`).
type NodePin<'a, K, V, D> = (&'a Arc<Node<K, V, D>>, &'a Entry<K, V, D>);
