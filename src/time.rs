//! Time for TTLs: the real monotonic clock, or a manual one for tests.

use std::time::{Duration, Instant};

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

#[derive(Clone, Debug)]
pub(crate) enum TimeSource {
    Real(Instant),
    Manual(Arc<AtomicU64>),
}

impl TimeSource {
    pub(crate) fn real() -> Self {
        TimeSource::Real(Instant::now())
    }

    pub(crate) fn manual(c: &ManualClock) -> Self {
        TimeSource::Manual(c.0.clone())
    }

    /// Nanoseconds since the cache was built.
    pub(crate) fn now(&self) -> u64 {
        match self {
            TimeSource::Real(start) => u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            // Relaxed: see `ManualClock::advance`.
            TimeSource::Manual(n) => n.load(Ordering::Relaxed),
        }
    }
}
