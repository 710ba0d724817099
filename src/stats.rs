//! Statistics: striped counters (no shared write on the hit path) and an
//! invalidation latency histogram.

use std::time::Duration;

use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram;

use crate::reclaim::{thread_number, Guard};
use crate::sync::{lock, AtomicU64, Mutex, Ordering};

/// What the counters count.
#[derive(Clone, Copy, Debug)]
#[repr(usize)]
pub(crate) enum Counter {
    Hits,
    Misses,
    Inserts,
    StaleInserts,
    Evictions,
    Expirations,
    InvalidationCalls,
    EntriesInvalidated,
    /// Published entries (state LIVE) not yet removed: +1 when one goes live,
    /// −1 (wrapping) when one is removed. Counted here, not in one shared
    /// atomic, so that an insert and the removal it causes write no shared
    /// line. The sum can be "below zero" for a moment: a removal
    /// on another thread may be counted before the insert that preceded it.
    Resident,
}
const COUNTERS: usize = 9;

struct Stripe {
    counts: [AtomicU64; COUNTERS],
    /// Allocated by the stripe's first eager invalidation: a histogram is
    /// ~28 KB, and a cache has a stripe per two cores (an empty cache on 2
    /// cores was 142 KB, on 64 cores it would have been 3.6 MB), while most
    /// caches see invalidations from few threads.
    latency: Mutex<Option<Box<Histogram<u64>>>>,
}

/// 1 ns .. 10 s at 2 significant digits (1% resolution).
fn histogram() -> Histogram<u64> {
    // These bounds are valid, so `new_with_bounds` cannot fail.
    Histogram::new_with_bounds(1, 10_000_000_000, 2).expect("valid histogram bounds")
}

/// Counters in two layers, chosen by the caller's [thread
/// number](crate::reclaim::thread_number) (read off the guard it already holds, so
/// no thread-local lookup). A thread whose number is below `owned.len()` is the
/// only writer of `owned[number]` and bumps it with a load and a store (no
/// read-modify-write on the hit path); any other thread adds to a shared stripe
/// with `fetch_add`. Readers sum both layers.
pub(crate) struct Recorder {
    owned: Box<[CachePadded<[AtomicU64; COUNTERS]>]>,
    stripes: Box<[CachePadded<Stripe>]>,
}

/// Threads with counters of their own, per cache (128 bytes each).
const OWNED: usize = 64;

/// Shared stripes per cache: twice the CPUs, a power of two, so that
/// threads mostly write stripes of their own.
fn stripe_count() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .next_power_of_two()
        * 2
}

/// Stripe `number`'s index among `len` stripes (a power of two).
#[inline]
fn stripe_index(number: Option<usize>, len: usize) -> usize {
    number.unwrap_or(0) & (len - 1)
}

impl Recorder {
    pub(crate) fn new() -> Self {
        let stripes = (0..stripe_count())
            .map(|_| {
                CachePadded::new(Stripe {
                    counts: Default::default(),
                    latency: Mutex::new(None),
                })
            })
            .collect();
        let owned = (0..OWNED).map(|_| CachePadded::new(Default::default())).collect();
        Recorder { owned, stripes }
    }

    /// The shared stripe of thread `number` (stripe 0 without one).
    #[inline]
    fn stripe(&self, number: Option<usize>) -> &Stripe {
        &self.stripes[stripe_index(number, self.stripes.len())]
    }

    /// Adds `n` to counter `c`, as the thread pinned by `guard`.
    #[inline]
    pub(crate) fn add(&self, c: Counter, n: u64, guard: &Guard<'_>) {
        let number = thread_number(guard);
        if let Some(own) = number.and_then(|t| self.owned.get(t)) {
            let a = &own[c as usize];
            // Relaxed load and store, not an RMW: this thread is the only writer
            // of its own counters (a number is held by one live thread at a
            // time, and its hand-over to a later thread is synchronized, see
            // `thread_number`). Readers may see the old or the new sum.
            a.store(a.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
            return;
        }
        // Relaxed: a statistic orders nothing; readers sum the stripes.
        self.stripe(number).counts[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` from counter `c` (a wrapping add: the sums wrap back).
    #[inline]
    pub(crate) fn sub(&self, c: Counter, n: u64, guard: &Guard<'_>) {
        self.add(c, n.wrapping_neg(), guard);
    }

    /// Records one eager invalidation's wall time, as the thread pinned by `guard`.
    pub(crate) fn record_latency(&self, nanos: u64, guard: &Guard<'_>) {
        let nanos = nanos.max(1);
        lock(&self.stripe(thread_number(guard)).latency)
            .get_or_insert_with(|| Box::new(histogram()))
            .saturating_record(nanos);
    }

    pub(crate) fn sum(&self, c: Counter) -> u64 {
        // Relaxed: see `add`.
        // Wrapping: `Resident` adds −1 as 2^64 − 1, so a thread's own count
        // and any partial sum may be "negative"; only the total is a count
        // (`Iterator::sum` panics on that in debug builds: the fuzzers and
        // Miri found it).
        let owned = self.owned.iter().map(|o| o[c as usize].load(Ordering::Relaxed));
        let striped = self
            .stripes
            .iter()
            .map(|s| s.counts[c as usize].load(Ordering::Relaxed));
        owned.chain(striped).fold(0, u64::wrapping_add)
    }

    pub(crate) fn latency(&self) -> Latency {
        let mut all = histogram();
        for s in self.stripes.iter() {
            if let Some(h) = &*lock(&s.latency) {
                // Same bounds on both sides, so `add` cannot fail.
                let _ = all.add(&**h);
            }
        }
        if all.is_empty() {
            return Latency::default();
        }
        Latency::from_histogram(&all)
    }
}

impl Latency {
    /// The percentiles of a histogram of nanoseconds.
    pub(crate) fn from_histogram(h: &Histogram<u64>) -> Self {
        Latency {
            samples: h.len(),
            p50: Duration::from_nanos(h.value_at_quantile(0.5)),
            p99: Duration::from_nanos(h.value_at_quantile(0.99)),
            max: Duration::from_nanos(h.max()),
        }
    }
}

/// Percentiles of a wall time: of eager invalidation calls (`Stats`), of a
/// watcher's syncs (`WatchStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Latency {
    /// Number of calls measured.
    pub samples: u64,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

/// A snapshot of a cache's counters, from [`Cache::stats`](crate::Cache::stats).
///
/// Counters are summed from per-thread stripes, so a snapshot taken while other
/// threads work is a consistent view of each counter, not of all of them at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// `get`s (and single-flight lookups) that returned a value.
    pub hits: u64,
    /// `get`s that returned nothing.
    pub misses: u64,
    /// Values published.
    pub inserts: u64,
    /// Values not published because a dependency was invalidated after their ticket.
    pub stale_inserts_rejected: u64,
    /// Entries removed by the CLOCK hand to make room.
    pub evictions: u64,
    /// Entries removed because their TTL ran out.
    pub expirations: u64,
    /// Calls of `invalidate`, `invalidate_many`, `mark_stale`, `mark_stale_many`, `invalidate_all`.
    pub invalidation_calls: u64,
    /// Entries the eager invalidations removed (each once).
    pub entries_invalidated: u64,
    /// Entries resident now (see [`Cache::len`](crate::Cache::len)).
    pub live_entries: u64,
    /// Total weight of the resident entries.
    pub weight: u64,
    /// Nodes in the dependency index.
    pub index_nodes: u64,
    /// Wall time of eager invalidation calls.
    pub invalidation_latency: Latency,
}

impl Stats {
    /// `hits / (hits + misses)`, or 0 with no lookups.
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

/// One count in the stripes of [`Recorder`]'s second layer, for a structure
/// that counts outside the cache's recorder (the dependency index: a node is
/// created or removed inside an insert or a removal, and one shared counter
/// would be a line two inserting threads pass back and forth).
pub(crate) struct Striped(Box<[CachePadded<AtomicU64>]>);

impl Striped {
    pub(crate) fn new() -> Self {
        Striped(
            (0..stripe_count())
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        )
    }

    /// Adds `n` (wrapping: `u64::MAX` subtracts one) to the stripe of the
    /// thread pinned by `guard`.
    #[inline]
    pub(crate) fn add(&self, n: u64, guard: &Guard<'_>) {
        // Relaxed: a count; it orders nothing, readers sum the stripes.
        self.0[stripe_index(thread_number(guard), self.0.len())].fetch_add(n, Ordering::Relaxed);
    }

    /// The sum, exact when no thread is adding; a removal counted before the
    /// creation it undoes (on another stripe) reads as 0, not as a wrapped
    /// "negative" sum.
    pub(crate) fn sum(&self) -> u64 {
        // Relaxed: as `add`.
        let n = self
            .0
            .iter()
            .fold(0u64, |a, c| a.wrapping_add(c.load(Ordering::Relaxed)));
        if n > u64::MAX / 2 {
            0
        } else {
            n
        }
    }
}
