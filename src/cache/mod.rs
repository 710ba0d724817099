//! [`Cache`]: the core engine.

mod batch;
mod builder;
#[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
mod check;
mod cleanup;
mod get;
mod get_or_insert;
mod insert;
mod invalidate;
mod purge;
mod remove;

use core::hash::{BuildHasher, Hash};

pub use builder::CacheBuilder;
pub use get::CacheRef;

use crate::flight::Flights;
use crate::index::Entry;
use crate::index::Index;
use crate::map::Table;
use crate::reclaim::{Domain, Guard};
use crate::ring::Ring;
use crate::stats::{Counter, Recorder, Stats};
use crate::sync::{Arc, AtomicU64, Ordering};
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
pub struct Cache<K, V, D = String, S = DefaultHashBuilder> {
    shared: Arc<Shared<K, V, D, S>>,
}

pub(crate) struct Shared<K, V, D, S> {
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
        match CacheBuilder::new().max_entries(n).build() {
            Ok(c) => c,
            // `n` is in range and nothing else is set, so `build` cannot fail.
            Err(e) => unreachable!("{e}"),
        }
    }

    /// A builder for a cache with a weight budget, a TTL or a custom hasher.
    pub fn builder() -> CacheBuilder<K, V, D, DefaultHashBuilder> {
        CacheBuilder::new()
    }
}

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
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

    /// True if invalidating `dep` might reach a resident entry or an
    /// outstanding ticket: something depends on `dep` or below it, or depends
    /// on a directory above it as a `Subtree`. May say true when nothing
    /// would go; never false when something would. A watcher asks it to skip
    /// events that nothing covers.
    ///
    /// ```
    /// use depcache::{Cache, Dep, DepPath};
    ///
    /// let cache: Cache<&str, &str, DepPath> = Cache::new(100);
    /// cache.insert("cat src/a.py", "1", [DepPath::new("src/a.py")]);
    /// assert!(!cache.covers(&DepPath::new("target/x.o")));
    /// cache.insert("find .", "./src/a.py", [Dep::subtree(DepPath::new(""))]);
    /// assert!(cache.covers(&DepPath::new("target/x.o")));
    /// ```
    pub fn covers(&self, dep: &D) -> bool {
        let guard = self.shared.guard();
        self.shared.index.covers(dep, &guard)
    }

    /// True if some resident entry or outstanding ticket depends on `dep` or on
    /// something below it (its node is in the dependency index).
    pub fn tracks(&self, dep: &D) -> bool {
        let guard = self.shared.guard();
        self.shared.index.get(dep, &guard).is_some()
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
}

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
