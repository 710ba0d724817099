//! The real maps: papaya, all in one shared `seize` collector.

use core::borrow::Borrow;
use core::hash::Hash;

use super::{ConcurrentMap, MapHasher, MapKey};

/// The reclamation domain shared by every map of one cache: one collector, so one
/// guard serves all maps (papaya checks that a guard belongs to the map's collector).
#[derive(Clone)]
pub(crate) struct Domain(std::sync::Arc<seize::Collector>);

/// A pinned guard of a [`Domain`].
pub(crate) type Guard<'a> = seize::LocalGuard<'a>;

impl Domain {
    /// A collector that reclaims in batches of `batch` retired objects
    /// (`Builder::reclaim_batch`; the cache's default is 128, seize's 32).
    /// Measured with op_cost (session 8): 32 → 128, seed invalidation 1784 →
    /// 1643 ns and insert 277 → 272; 128 → 512, an insert from two threads
    /// 454 → 367 ns (a batch's `membarrier` interrupts the other CPU: 13% of
    /// such an insert in perf at 128), one thread level, but an eager
    /// invalidation's p99 ~5 → 9–15 µs (`depcache bench`): the thread that
    /// frees a batch frees it all at once.
    pub(crate) fn new(batch: usize) -> Self {
        Domain(std::sync::Arc::new(seize::Collector::new().batch_size(batch)))
    }

    /// Pins the current thread; references read under the guard stay valid while it lives.
    #[inline]
    pub(crate) fn guard(&self) -> Guard<'_> {
        self.0.enter()
    }
}

/// The pinned thread's number in the domain's collector: distinct among live
/// threads, the smallest free one when the thread first pinned, and handed on
/// to a later thread only after this one exited. seize itself relies on that
/// hand-over being synchronized (by its id allocator's lock): a thread's
/// reservation slots, indexed by this number, are written without atomics.
#[inline]
pub(crate) fn thread_number(guard: &Guard<'_>) -> Option<usize> {
    use seize::Guard as _;
    Some(guard.thread_id())
}

/// A papaya map in a shared domain.
pub(crate) struct PapayaMap<K, V, S>(papaya::HashMap<K, V, S>);

impl<K, V, S> ConcurrentMap<K, V, S> for PapayaMap<K, V, S>
where
    K: MapKey,
    V: Clone + Send + Sync + 'static,
    S: MapHasher,
{
    fn with_hasher_in(domain: &Domain, hasher: S) -> Self {
        PapayaMap(
            papaya::HashMap::builder()
                .hasher(hasher)
                .shared_collector(domain.0.clone())
                .build(),
        )
    }

    fn try_insert(&self, key: K, value: V, guard: &Guard<'_>) -> Result<(), V> {
        match self.0.try_insert(key, value, guard) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.current.clone()),
        }
    }

    fn remove_if<Q>(&self, key: &Q, guard: &Guard<'_>, mut pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        matches!(self.0.remove_if(key, |_, v| pred(v), guard), Ok(Some(_)))
    }

    #[cfg(any(test, fuzzing, feature = "invariants"))]
    fn len(&self) -> usize {
        self.0.len()
    }
}
