//! [`Cache`]: the core engine.

mod builder;
#[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
mod check;
mod get_or_insert;
mod insert;
mod invalidate;

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

pub use builder::Builder;

use crate::flight::Flights;
use crate::index::{Dependent, Index, Node, Removed};
use crate::index::{Entry, LIVE};
use crate::map::{Bucket, Found, Table};
use crate::reclaim::{Domain, Guard};
use crate::ring::Ring;
use crate::stats::{Counter, Recorder, Stats};
use crate::sync::{fence, Arc, AtomicU64, Ordering};
use crate::time::{Clock, TimeSource};
use crate::Dependency;

/// The default hasher: foldhash, fast and seeded per cache. (SipHash made
/// papaya hits four times slower in our benchmarks.)
pub type DefaultHashBuilder = foldhash::fast::RandomState;

/// A weigher: the cost of one entry against `max_weight`.
pub type Weigher<K, V> = Box<dyn Fn(&K, &V) -> u64 + Send + Sync>;

/// A lock-free concurrent cache whose entries know what they depend on.
///
/// Every entry is inserted with the dependencies its value was computed from;
/// [`invalidate`](Cache::invalidate) drops exactly the entries that depend on
/// what changed. Lookups never take a lock and never write a shared cache line.
/// `Cache` is a cheap handle: clones share the same cache.
///
/// ```
/// use depcache::{Cache, Dep, DepPath};
///
/// let cache: Cache<String, String, DepPath> = Cache::new(1000);
/// cache.insert("cat src/a.py".into(), "print(1)".into(), [DepPath::new("src/a.py")]);
/// cache.insert("ls src".into(), "a.py".into(), [Dep::subtree(DepPath::new("src"))]);
/// cache.insert("cat README".into(), "hi".into(), [DepPath::new("README")]);
///
/// // Editing src/a.py drops the file's entry and the listing of src, nothing else.
/// assert_eq!(cache.invalidate(DepPath::new("./src/a.py")), 2);
/// assert_eq!(cache.get("cat src/a.py"), None);
/// assert_eq!(cache.get("ls src"), None);
/// assert_eq!(cache.get("cat README").as_deref(), Some("hi"));
/// ```
pub struct Cache<K, V, D = String, S = DefaultHashBuilder>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    shared: Arc<Shared<K, V, D, S>>,
}

pub(crate) struct Shared<K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// The reclamation domain of every map here (the index's too), held here
    /// as well so that pinning a guard is one pointer hop from the handle.
    pub(crate) domain: Domain,
    pub(crate) entries: Table<Entry<K, V, D>, S>,
    pub(crate) index: Arc<Index<K, V, D>>,
    pub(crate) ring: Ring<K, V, D>,
    pub(crate) flights: Flights<K, V>,
    /// Weight of resident entries, including ones being inserted. Kept only
    /// when there is a weigher or a weight budget ([`Shared::weighs`]);
    /// without them every entry weighs 1 and `stats().weight` is `len()`.
    pub(crate) weight: AtomicU64,
    pub(crate) max_weight: Option<u64>,
    pub(crate) weigher: Option<Weigher<K, V>>,
    pub(crate) ttl: Option<u64>,
    pub(crate) time: TimeSource,
    /// The real clock, for the invalidation latencies (whatever `time` is).
    pub(crate) clock: Clock,
    pub(crate) stats: Recorder,
}

impl<K, V, D, S> Clone for Cache<K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    fn clone(&self) -> Self {
        Cache {
            shared: self.shared.clone(),
        }
    }
}

impl<K, V, D> Cache<K, V, D, DefaultHashBuilder>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
{
    /// A cache of at most `max_entries` entries (clamped to `1..=u32::MAX`), with
    /// no weight budget and no TTL. See [`Cache::builder`] for the other settings.
    pub fn new(max_entries: usize) -> Self {
        let n = max_entries.clamp(1, builder::MAX_CAPACITY);
        match Builder::new().max_entries(n).build() {
            Ok(c) => c,
            // `n` is in range and nothing else is set, so `build` cannot fail.
            Err(e) => unreachable!("{e}"),
        }
    }

    /// A builder for a cache with a weight budget, a TTL or a custom hasher.
    pub fn builder() -> Builder<K, V, D, DefaultHashBuilder> {
        Builder::new()
    }
}

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// The value of `key`, if present and valid.
    ///
    /// Lock-free: one map probe, one load of the global invalidation counter (and
    /// a walk of the entry's dependency stamps only after some invalidation), and
    /// a relaxed store to the entry's CLOCK counter only if it changes.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        // Start the bucket head's miss before pinning: the guard's set-up then
        // overlaps it (interleaved A/B in `examples/op_cost`: ~2 ns a hit).
        let bucket = self.shared.entries.bucket(key);
        bucket.prefetch();
        let guard = self.shared.guard();
        self.shared.get_in(bucket, key, &guard)
    }

    /// True if `get(key)` would return a value (without counting a hit or miss).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let guard = self.shared.guard();
        self.shared.contains(key, &guard)
    }

    /// A handle that reuses one memory-reclamation guard across lookups, for
    /// loops of many `get`s on one thread (saves the per-call pin).
    ///
    /// ```
    /// let cache: depcache::Cache<u32, u32> = depcache::Cache::new(10);
    /// cache.insert(1, 10, ["a".to_string()]);
    /// let pinned = cache.pin();
    /// assert_eq!(pinned.get(&1), Some(10));
    /// ```
    pub fn pin(&self) -> CacheRef<'_, K, V, D, S> {
        CacheRef {
            cache: self,
            guard: self.shared.guard(),
        }
    }

    /// Removes `key`; returns its value if it was present and valid.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let guard = self.shared.guard();
        let sh = &*self.shared;
        let g = sh.index.g();
        // Read in place (the guard keeps it): no count taken.
        let e = sh.entries.get(key, &guard)?;
        let value = e.value.clone();
        let visible = sh.usable(&e, g);
        if sh.kill(&e, &guard) == Some(LIVE) && visible {
            Some(value)
        } else {
            None
        }
    }

    /// Entries resident in the cache: published and not yet removed.
    ///
    /// Eager removals (`remove`, `invalidate`, eviction) show at once. Entries made
    /// invisible lazily (`mark_stale`, `invalidate_all`, an expired TTL) count
    /// until reclaimed, on their next lookup or when the CLOCK hand passes; call
    /// [`purge`](Cache::purge) to reclaim them all now.
    ///
    /// A sum over per-thread counters (inserts and removals write no shared
    /// counter): some 70 cache lines, a statistic rather than a loop condition.
    pub fn len(&self) -> usize {
        self.shared.resident()
    }

    /// True if [`len`](Cache::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> usize {
        self.shared.ring.capacity()
    }

    /// True if some resident entry or outstanding ticket depends on `dep` or on
    /// something below it (its node is in the dependency index).
    pub fn tracks(&self, dep: &D) -> bool {
        let guard = self.shared.guard();
        self.shared.index.get(dep, &guard).is_some()
    }

    /// Reclaims every resident entry that is invalid or expired. O(capacity).
    pub fn purge(&self) -> usize {
        let guard = self.shared.guard();
        let sh = &*self.shared;
        let g = sh.index.g();
        let mut n = 0;
        for i in 0..sh.ring.capacity() {
            if let Some(e) = sh.ring.load(i, &guard) {
                if e.state() == LIVE && !sh.usable(&e, g) {
                    let was_live = e.state() == LIVE;
                    sh.reclaim(&e, &guard);
                    if was_live && e.state() >= crate::index::DEAD {
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let sh = &*self.shared;
        let r = &sh.stats;
        Stats {
            hits: r.sum(Counter::Hits),
            misses: r.sum(Counter::Misses),
            inserts: r.sum(Counter::Inserts),
            stale_inserts_rejected: r.sum(Counter::StaleInserts),
            evictions: r.sum(Counter::Evictions),
            expirations: r.sum(Counter::Expirations),
            invalidation_calls: r.sum(Counter::InvalidationCalls),
            entries_invalidated: r.sum(Counter::EntriesInvalidated),
            live_entries: self.len() as u64,
            weight: if sh.weighs() {
                // Relaxed: a statistic.
                sh.weight.load(Ordering::Relaxed)
            } else {
                self.len() as u64
            },
            index_nodes: sh.index.len() as u64,
            invalidation_latency: r.latency(),
        }
    }
}

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// Entries resident (LIVE): the sum of the threads' counts, within the
    /// bounds the true count keeps (see [`resident`]).
    pub(crate) fn resident(&self) -> usize {
        resident(self.stats.sum(Counter::Resident) as usize, self.ring.capacity())
    }
}

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Pins the current thread in the cache's reclamation domain.
    #[inline]
    pub(crate) fn guard(&self) -> Guard<'_> {
        self.domain.guard()
    }

    /// The lookup behind `get`, under a caller's guard. Always inlined, and so
    /// is the closure it hands the map, which holds only the hit's fast path:
    /// when the whole check sat in the closure, the compiler called it out of
    /// line (push/pop of four registers and a call on every hit).
    #[inline(always)]
    pub(crate) fn get<Q>(&self, key: &Q, guard: &Guard<'_>) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.get_in(self.entries.bucket(key), key, guard)
    }

    /// [`get`](Shared::get) in `key`'s bucket, found (and prefetched) before.
    #[inline(always)]
    pub(crate) fn get_in<Q>(&self, bucket: Bucket<'_, Entry<K, V, D>>, key: &Q, guard: &Guard<'_>) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        // Load `G` before anything of the entry: see `Entry::is_valid`.
        let g = self.index.g();
        let found = self.entries.get_in(bucket, key, guard).map(|e| {
            // Fast path: a lookup at this `G` already found the entry live and
            // valid (`live_at`). A TTL cache takes the slow path, which checks
            // the expiry.
            if self.ttl.is_none() && e.live_at(g) {
                e.touch();
                Ok(e.value.clone())
            } else {
                self.check_slow(e, g)
            }
        });
        match found {
            Some(Ok(v)) => {
                self.stats.add(Counter::Hits, 1, guard);
                Some(v)
            }
            Some(Err(dead)) => self.miss(dead, guard),
            None => self.miss(None, guard),
        }
    }

    /// The rest of a lookup's check: state, expiry, and the stamps (`Err` with
    /// the entry if it must be reclaimed).
    #[inline(never)]
    fn check_slow(&self, e: Found<'_, Entry<K, V, D>>, g: u64) -> Checked<K, V, D> {
        if e.state() != LIVE {
            // Being inserted (its insert may yet be refused) or removed: a miss.
            return Err(None);
        }
        // `usable` marks the entry live at `g` (stored only on a change: a hit
        // writes no shared line it need not). With a TTL the mark only says
        // "live and valid at `g`"; the fast path is not taken, so the expiry is
        // checked on every hit.
        if self.usable(&e, g) {
            e.touch();
            Ok(e.value.clone())
        } else {
            Err(Some(e.to_arc()))
        }
    }

    /// A lookup that found nothing usable: counts the miss and reclaims `dead`.
    #[inline(never)]
    fn miss(&self, dead: Option<Arc<Entry<K, V, D>>>, guard: &Guard<'_>) -> Option<V> {
        self.stats.add(Counter::Misses, 1, guard);
        if let Some(dead) = dead {
            self.reclaim(&dead, guard);
        }
        None
    }

    /// True if `get(key)` would return a value; counts nothing.
    pub(crate) fn contains<Q>(&self, key: &Q, guard: &Guard<'_>) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        // Load `G` before anything of the entry: see `Entry::is_valid`.
        let g = self.index.g();
        self.entries
            .get(key, guard)
            .is_some_and(|e| e.state() == LIVE && self.usable(&e, g))
    }

    /// Valid and not expired.
    #[inline]
    pub(crate) fn usable(&self, e: &Entry<K, V, D>, g: u64) -> bool {
        if let Some(_ttl) = self.ttl {
            if e.expired(self.time.now()) {
                return false;
            }
        }
        e.is_valid(g, || self.index.floor())
    }

    /// True if the cache keeps a weight counter: it has a weigher or a weight
    /// budget. Without either, every entry weighs 1, and the counter would
    /// only repeat `len` at the price of two read-modify-writes of one shared
    /// line per insert and per removal.
    #[inline]
    pub(crate) fn weighs(&self) -> bool {
        self.weigher.is_some() || self.max_weight.is_some()
    }

    /// An entry's weight: the weigher asked again (an entry does not keep it:
    /// 8 bytes per entry, and it is a function of the key and value), or 1.
    #[inline]
    pub(crate) fn weight_of(&self, e: &Entry<K, V, D>) -> u64 {
        self.weigh(&e.key, &e.value)
    }

    /// The weigher's verdict on a key and value, or 1 without a weigher.
    #[inline]
    pub(crate) fn weigh(&self, key: &K, value: &V) -> u64 {
        self.weigher.as_ref().map_or(1, |w| w(key, value))
    }

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
    fn cleanup_in(
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

/// The sum of the `Resident` counters as a count of at most `capacity`.
///
/// The sum is not a snapshot: the threads' counters are read one after
/// another while their threads go on. Two ways it strays from the true count,
/// both for a moment only, and both clamped here to the bound the true count
/// keeps:
///
/// * below zero: an inserter adds its entry after the entry went live, so a
///   thread that removes it at once may subtract first; the sum wraps to near
///   `usize::MAX` (seen by the stress test as `len() = 18446744073709551615`)
///   and reads as 0, the count of the order in which the removal follows the
///   insert;
/// * above the capacity: a remover subtracts before it frees the entry's
///   CLOCK slot, and an inserter that takes that slot adds after; but a reader
///   may read the remover's counter before its −1 and the inserter's after
///   its +1 (found by the `ops_threads` fuzzer: "len over capacity"). No more
///   entries than slots are ever resident, so the reading is the capacity.
#[inline]
fn resident(counter: usize, capacity: usize) -> usize {
    if counter > isize::MAX as usize {
        0
    } else {
        counter.min(capacity)
    }
}

/// What a lookup's slow check found: the value, or a miss (with the entry to
/// reclaim, if it was found invalid or expired).
type Checked<K, V, D> = Result<V, Option<Arc<Entry<K, V, D>>>>;

/// A pinned handle on a [`Cache`], from [`Cache::pin`]: lookups through it reuse
/// one guard. Not `Send`; keep it short-lived (it delays memory reclamation).
pub struct CacheRef<'c, K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    cache: &'c Cache<K, V, D, S>,
    guard: Guard<'c>,
}

impl<K, V, D, S> CacheRef<'_, K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// As [`Cache::get`].
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.cache.shared.get(key, &self.guard)
    }
}

impl<K, V, D, S> core::fmt::Debug for Cache<K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cache")
            .field("len", &self.shared.resident())
            .field("capacity", &self.shared.ring.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::resident;

    #[test]
    fn a_sum_read_out_of_step_stays_between_zero_and_the_capacity() {
        assert_eq!(resident(0usize.wrapping_sub(1), 64), 0);
        assert_eq!(resident(0usize.wrapping_sub(8), 64), 0);
        assert_eq!(resident(0, 64), 0);
        assert_eq!(resident(48, 64), 48);
        // Above the capacity for a moment (a remover's −1 read late, an
        // inserter's +1 on the freed slot read early): the capacity.
        assert_eq!(resident(65, 64), 64);
    }
}
