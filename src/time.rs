//! Time for TTLs: the real monotonic clock, or a manual one for tests.

use std::time::Duration;
#[cfg(miri)]
use std::time::Instant;

use crate::sync::{Arc, AtomicU64, Ordering};

/// A clock that only moves when told to, for testing TTLs deterministically.
///
/// ```
/// use depcache::{Cache, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let cache: Cache<&str, u32> = Cache::builder()
///     .max_entries(10)
///     .ttl(Duration::from_secs(5))
///     .clock(&clock)
///     .build()
///     .unwrap();
/// cache.insert("k", 1, ["dep".to_string()]);
/// clock.advance(Duration::from_secs(6));
/// assert_eq!(cache.get("k"), None);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        ManualClock(Arc::new(AtomicU64::new(0)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // Relaxed: a TTL check needs the clock's value, not an order with other data.
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The real clock, in nanoseconds since it was made: the CPU's time-stamp
/// counter through `quanta` where that counter is invariant (11 ns a read on
/// the 2-core EPYC guest of `benches/RESULTS.md`, against 28 ns for
/// `std::time::Instant::now`; a TTL cache reads it on every hit, and each
/// eager invalidation twice for its latency histogram), the OS clock
/// otherwise, and under Miri (which runs no `rdtsc`).
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    #[cfg(not(miri))]
    tsc: quanta::Clock,
    #[cfg(not(miri))]
    start: u64,
    #[cfg(miri)]
    start: Instant,
}

impl Clock {
    /// A clock at zero. The first one in a process calibrates the counter
    /// against the OS clock (about 0.6 ms here); later ones reuse that.
    pub(crate) fn new() -> Self {
        #[cfg(not(miri))]
        {
            let tsc = quanta::Clock::new();
            let start = tsc.raw();
            Clock { tsc, start }
        }
        #[cfg(miri)]
        Clock { start: Instant::now() }
    }

    /// Nanoseconds since [`new`](Clock::new) (never decreasing: `quanta`
    /// reports 0 for a reading below the start).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        #[cfg(not(miri))]
        {
            self.tsc.delta_as_nanos(self.start, self.tsc.raw())
        }
        #[cfg(miri)]
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

#[derive(Clone, Debug)]
pub(crate) enum TimeSource {
    Real(Clock),
    Manual(Arc<AtomicU64>),
}

impl TimeSource {
    pub(crate) fn real(clock: &Clock) -> Self {
        TimeSource::Real(clock.clone())
    }

    pub(crate) fn manual(c: &ManualClock) -> Self {
        TimeSource::Manual(c.0.clone())
    }

    /// Nanoseconds since the cache was built.
    pub(crate) fn now(&self) -> u64 {
        match self {
            TimeSource::Real(clock) => clock.now(),
            // Relaxed: see `ManualClock::advance`.
            TimeSource::Manual(n) => n.load(Ordering::Relaxed),
        }
    }
}
