//! Invalidation: eager (`invalidate`), lazy (`mark_stale`), and total.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use super::{Cache, Shared};
use crate::index::{unchanged, BumpSet, Scanned};
use crate::index::{Entry, DEAD_STALE, LIVE};
use crate::reclaim::Guard;
use crate::stats::Counter;
use crate::sync::{fence, Ordering};
use crate::Dependency;

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Invalidates `dep` and removes the affected entries now; returns how many
    /// visible entries it removed.
    ///
    /// Affected: entries that depend on `dep` (either scope), entries with a
    /// `Subtree` dependency on an ancestor of `dep`, and entries that depend on
    /// anything below `dep`. When this returns, no lookup returns any of them.
    ///
    /// Cost: O(depth) atomic increments, then O(k) in the entries removed,
    /// independent of the cache size.
    pub fn invalidate(&self, dep: impl Borrow<D>) -> usize {
        self.invalidate_many([dep.borrow()])
    }

    /// [`invalidate`](Cache::invalidate) for several dependencies at once; an
    /// entry that several of them reach is counted once.
    pub fn invalidate_many<'d, I>(&self, deps: I) -> usize
    where
        I: IntoIterator<Item = &'d D>,
    {
        let guard = self.shared.guard();
        let start = self.shared.clock.now();
        let n = self.shared.invalidate(deps, true, &guard);
        let took = self.shared.clock.now().saturating_sub(start);
        self.shared.stats.record_latency(took, &guard);
        n
    }

    /// Invalidates `dep` lazily: O(depth) atomic increments. The affected entries
    /// are invisible when this returns, and are reclaimed when next looked up or
    /// when the CLOCK hand passes (until then they count in [`len`](Cache::len)).
    pub fn mark_stale(&self, dep: impl Borrow<D>) {
        self.shared.invalidate([dep.borrow()], false, &self.shared.guard());
    }

    /// [`mark_stale`](Cache::mark_stale) for several dependencies.
    pub fn mark_stale_many<'d, I>(&self, deps: I)
    where
        I: IntoIterator<Item = &'d D>,
    {
        self.shared.invalidate(deps, false, &self.shared.guard());
    }

    /// Invalidates every entry and every outstanding ticket, in O(1). Entries are
    /// reclaimed lazily, as after [`mark_stale`](Cache::mark_stale).
    pub fn invalidate_all(&self) {
        self.shared
            .stats
            .add(Counter::InvalidationCalls, 1, &self.shared.guard());
        self.shared.index.flush_all();
    }
}

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    fn invalidate<'d>(&self, deps: impl IntoIterator<Item = &'d D>, eager: bool, guard: &Guard<'_>) -> usize {
        self.stats.add(Counter::InvalidationCalls, 1, guard);
        // SeqCst fence: pairs with the one at the end of `ticket`. The caller's
        // write (the edit this invalidation announces) is ordered before our
        // lookups; if we find no node and return early, a ticket that creates
        // the node afterwards reads the data after the write.
        fence(Ordering::SeqCst);
        let set = self.index.plan(deps, guard);
        if set.is_empty() {
            // No node on any chain: no entry and no ticket depends on these.
            return 0;
        }
        if !eager {
            // The linearization point: the generation bumps. `G` follows them.
            set.apply();
            // Loom builds only: the deliberately broken variant (`G` left alone).
            #[cfg(depcache_loom)]
            if crate::sync::fault::lazy_leaves_g() {
                return 0;
            }
            self.index.publish_invalidation();
            return 0;
        }
        // Counting, exactly once per entry even when invalidations, lookups,
        // the CLOCK hand or the TTL race: before bumping, claim every entry that
        // is visible now. A claim is a CAS on the entry, so one call owns it; the
        // owner counts it however the entry is later removed.
        let now = self.ttl.map(|_| self.time.now());
        let floor = self.index.floor();
        let mut scanned = Scanned::new();
        let affected = self.index.affected_counted(&set, guard, Some(&mut scanned));
        // Ours to count: positions in `affected` (kept to the end), and
        // entries only the second scan found.
        let mut ours: smallvec::SmallVec<[u32; 16]> = smallvec::SmallVec::new();
        let mut ours_late = Vec::new();
        // Start the misses of every entry's cleanup (its bucket's head and
        // its CLOCK slot) now: they arrive while this call claims and bumps,
        // instead of after (op_cost scale: the heads' wait was 16% of the
        // call). Only the entries' lines, already on their way, are needed.
        let heads = self.entries.prefetch_heads(&affected);
        for e in &affected {
            self.ring.prefetch(e.slot());
        }
        for (i, e) in affected.iter().enumerate() {
            let visible = e.state() == LIVE && now.is_none_or(|t| !e.expired(t)) && e.stamps_valid(floor);
            if visible && e.claim() {
                // `affected` holds registrations, far fewer than u32::MAX.
                ours.push(i as u32);
            }
        }
        // The linearization point: the generation bumps. `G` follows them.
        set.apply();
        self.index.publish_invalidation();
        #[cfg(test)]
        crate::hooks::run_after_bumps();
        let floor = self.index.floor();
        // The second scan finds what registered since the first. If no scanned
        // node counted a registration since (read after `publish_invalidation`'s
        // fence: a registration we miss here is followed by a re-check that sees
        // our bumps), the first scan's list is complete.
        let reuse = unchanged(&scanned);
        // Loom builds only: the deliberately broken variant (never rescan).
        #[cfg(depcache_loom)]
        let reuse = reuse || crate::sync::fault::reuse_first_scan();
        let rescanned;
        let (second, buckets) = if reuse {
            // The entries in front of each in its bucket, which the unlink
            // walks under the bucket's lock (a cold miss each in a large cache).
            self.entries.prefetch_chains(&affected, &heads, guard);
            (&affected, heads)
        } else {
            rescanned = self.index.affected(&set, guard);
            for e in &rescanned {
                self.ring.prefetch(e.slot());
            }
            (&rescanned, self.entries.prefetch_paths(&rescanned, guard))
        };
        // The entries killed here, cleaned up together after the loop.
        let mut dead: smallvec::SmallVec<[_; 16]> = smallvec::SmallVec::new();
        for (e, &bucket) in second.iter().zip(&buckets) {
            // A registration made after our bumps belongs to a fresh entry.
            if e.stamps_valid(floor) {
                continue;
            }
            // An entry that was not live at our first scan but whose stamps were
            // valid just before our bumps: if it goes (or went) live, it was
            // visible until them, so ours to count. Claim it even while INIT: if
            // it is still INIT when killed, its insert is refused (REFUSED, never
            // counted); if it went live first, it ends DEAD_STALE and counts.
            let expired = self.ttl.is_some() && e.expired(self.time.now());
            let unclaimed_but_ours =
                e.state() <= LIVE && !e.is_claimed() && !expired && was_visible(e, &set, floor) && e.claim();
            // Removed as a lookup or the hand removes it: an expired entry
            // counts as an expiration, any other as stale.
            if self.kill_unusable(e, guard) {
                dead.push((bucket, *e));
            }
            if unclaimed_but_ours {
                ours_late.push(*e);
            }
        }
        self.cleanup_many(&dead, true, guard);
        // A claimed entry counts if it was removed as stale — by us, a racing
        // invalidation, a lookup or the CLOCK hand. One evicted while still
        // usable (before our bumps) or expired is counted there instead.
        let removed = ours
            .iter()
            .map(|&i| affected[i as usize])
            .chain(ours_late.iter().copied())
            .filter(|e| e.state() == DEAD_STALE)
            .count();
        self.stats.add(Counter::EntriesInvalidated, removed as u64, guard);
        removed
    }
}

/// Was `e` valid just before the bumps of `set`? (Not if an earlier lazy
/// invalidation had already made it invisible: it is reclaimed, not counted.)
fn was_visible<K, V, D>(e: &Entry<K, V, D>, set: &BumpSet<'_, K, V, D>, floor: u64) -> bool
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    e.valid_before(set, floor)
}
