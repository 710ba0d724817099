//! [`CacheBuilder`]: the settings of a [`Cache`].

use core::hash::{BuildHasher, Hash};
use std::time::Duration;

use super::{Cache, DefaultHashBuilder, Shared, Weigher};
use crate::error::BuildError;
use crate::flight::Flights;
use crate::index::Index;
use crate::map::Table;
use crate::reclaim::{Domain, DEFAULT_RECLAIM_BATCH};
use crate::ring::Ring;
use crate::stats::Recorder;
use crate::sync::{Arc, AtomicU64};
use crate::time::{Clock, ManualClock, TimeSource};
use crate::Dependency;

/// Largest `max_entries` (slot indices are `u32`).
pub(crate) const MAX_CAPACITY: usize = u32::MAX as usize;
const DEFAULT_CAPACITY: usize = 10_000;

/// Settings of a [`Cache`], from [`Cache::builder`].
///
/// ```
/// use depcache::Cache;
/// use std::time::Duration;
///
/// let cache: Cache<String, Vec<u8>> = Cache::builder()
///     .max_entries(10_000)
///     .max_weight(64 << 20)
///     .weigher(|k: &String, v: &Vec<u8>| (k.len() + v.len()) as u64)
///     .ttl(Duration::from_secs(300))
///     .build()
///     .expect("valid settings");
/// assert!(cache.is_empty());
/// ```
pub struct CacheBuilder<K, V, D, S = DefaultHashBuilder> {
    max_entries: usize,
    max_weight: Option<u64>,
    weigher: Option<Weigher<K, V>>,
    ttl: Option<Duration>,
    time: Option<TimeSource>,
    reclaim_batch: usize,
    hasher: S,
    _dep: core::marker::PhantomData<fn() -> D>,
}

impl<K, V, D> CacheBuilder<K, V, D, DefaultHashBuilder> {
    pub(crate) fn new() -> Self {
        CacheBuilder {
            max_entries: DEFAULT_CAPACITY,
            max_weight: None,
            weigher: None,
            ttl: None,
            time: None,
            reclaim_batch: DEFAULT_RECLAIM_BATCH,
            hasher: DefaultHashBuilder::default(),
            _dep: core::marker::PhantomData,
        }
    }
}

impl<K, V, D, S> CacheBuilder<K, V, D, S> {
    /// The most entries the cache holds (default 10,000). Memory for this many
    /// slots (8 bytes each, and 4.4 to 8.4 more for the replacement policy's
    /// ghosts and probation queue) is allocated up front. A full cache evicts
    /// by S3-FIFO: an entry not hit within a tenth of the capacity's inserts
    /// goes first, so a scan of one-time keys does not flush the entries in
    /// use.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// A weight budget: the CLOCK hand evicts until the resident entries' total
    /// weight fits. Without a [`weigher`](CacheBuilder::weigher), every entry weighs 1.
    pub fn max_weight(mut self, w: u64) -> Self {
        self.max_weight = Some(w);
        self
    }

    /// The weight of an entry. It is asked at insert and again when the entry
    /// leaves (entries do not store it), so it must be a function of the key
    /// and value: the same answer for the same pair, and no panic the second
    /// time. (A weigher that breaks this leaves `stats().weight` and the budget
    /// off, never below zero; nothing unsafe.)
    pub fn weigher(mut self, f: impl Fn(&K, &V) -> u64 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Box::new(f));
        self
    }

    /// Entries expire this long after their insert; checked on read, reclaimed
    /// when read or when the CLOCK hand passes.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Use a [`ManualClock`] for TTLs instead of the real clock (tests).
    pub fn clock(mut self, clock: &ManualClock) -> Self {
        self.time = Some(TimeSource::manual(clock));
        self
    }

    /// How many removed objects (entries, index nodes, replaced slots) a
    /// thread collects before it starts reclaiming them (default
    /// [`DEFAULT_RECLAIM_BATCH`], 128; seize's own default is 32).
    ///
    /// Each batch costs a heavy memory barrier (on Linux a `membarrier`
    /// system call, which interrupts every other CPU running a thread of this
    /// process) and a pass over the active threads, and the thread that
    /// frees a batch pays for all of it at once. Larger batches amortize the
    /// barrier: on a 2-vCPU VM, 512 made an insert from two threads ~20%
    /// faster than 128, but the 99th percentile of an eager invalidation grew
    /// from ~5 µs to 9–15 µs. Values below
    /// 1 count as 1.
    ///
    /// ```
    /// use depcache::Cache;
    ///
    /// // Insert-heavy, many threads, tail latency not a concern:
    /// let cache: Cache<u64, u64, u64> = Cache::builder().max_entries(1000).reclaim_batch(512).build().unwrap();
    /// cache.insert(1, 1, [1]);
    /// assert_eq!(cache.get(&1), Some(1));
    /// ```
    pub fn reclaim_batch(mut self, n: usize) -> Self {
        self.reclaim_batch = n.max(1);
        self
    }

    /// Hash keys with `hasher` instead of the default (foldhash).
    pub fn hasher<S2>(self, hasher: S2) -> CacheBuilder<K, V, D, S2> {
        CacheBuilder {
            max_entries: self.max_entries,
            max_weight: self.max_weight,
            weigher: self.weigher,
            ttl: self.ttl,
            time: self.time,
            reclaim_batch: self.reclaim_batch,
            hasher,
            _dep: core::marker::PhantomData,
        }
    }

    /// Checks the settings and builds the cache.
    pub fn build(self) -> Result<Cache<K, V, D, S>, BuildError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        D: Dependency,
        S: BuildHasher + Send + Sync + 'static,
    {
        if self.max_entries == 0 || self.max_entries > MAX_CAPACITY {
            return Err(BuildError::Capacity {
                got: self.max_entries,
                max: MAX_CAPACITY,
            });
        }
        if self.max_weight == Some(0) {
            return Err(BuildError::ZeroWeight);
        }
        if self.ttl == Some(Duration::ZERO) {
            return Err(BuildError::ZeroTtl);
        }
        let domain = Domain::new(self.reclaim_batch);
        let clock = Clock::new();
        let shared = Shared {
            entries: Table::new(self.max_entries, self.hasher),
            flights: Flights::new(&domain),
            index: Arc::new(Index::new(domain.clone(), index_heads(self.max_entries))),
            domain,
            ring: Ring::new(self.max_entries),
            weight: AtomicU64::new(0),
            max_weight: self.max_weight,
            weigher: self.weigher,
            ttl: self.ttl.map(|t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)),
            time: self.time.unwrap_or_else(|| TimeSource::real(&clock)),
            clock,
            stats: Recorder::new(),
        };
        Ok(Cache {
            shared: Arc::new(shared),
        })
    }
}

/// Bucket heads of the dependency index for a cache of `max_entries`.
///
/// One per four entries of capacity: where entries share dependencies the
/// nodes are few, and a head array they leave mostly empty costs a miss on
/// every lookup at scale (criterion at 1e6, 10 per dependency: `mark_stale`
/// of spread dependencies 182 → 47 ns, an invalidation 2.15 → 1.88 µs
/// against a head per entry); a dependency per entry makes chains of about
/// three, which measured level (op_cost `scale1`).
#[cfg(not(depcache_loom))]
fn index_heads(max_entries: usize) -> usize {
    max_entries / 4
}

/// Under loom, a head per entry, as the entries table: a model's handful of
/// nodes then mostly sit in buckets of their own, and the table's chains
/// (checked on their own by models t1–t4) do not multiply every model's
/// interleavings (m10: 753k executions with one head, 278k with two).
#[cfg(depcache_loom)]
fn index_heads(max_entries: usize) -> usize {
    max_entries
}
