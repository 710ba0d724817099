//! Lookups: [`Cache::get`], [`Cache::contains_key`], and [`CacheRef`], a
//! handle that reuses one guard. A lookup takes no lock and writes no shared
//! cache line.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use super::{Cache, Shared};
use crate::index::{Entry, LIVE};
use crate::map::{Bucket, Found};
use crate::reclaim::Guard;
use crate::stats::Counter;
use crate::sync::Arc;
use crate::Dependency;

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
}

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
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
}

/// What a lookup's slow check found: the value, or a miss (with the entry to
/// reclaim, if it was found invalid or expired).
type Checked<K, V, D> = Result<V, Option<Arc<Entry<K, V, D>>>>;
/// A pinned handle on a [`Cache`], from [`Cache::pin`]: lookups through it reuse
/// one guard. Not `Send`; keep it short-lived (it delays memory reclamation).
pub struct CacheRef<'c, K, V, D, S> {
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
