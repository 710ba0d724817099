//! Memory reclamation: one domain per cache, the guards that pin a thread in
//! it, and the thread numbers the statistics and the ring stripe by.
//!
//! Every lock-free structure of a cache (the entries table, the dependency
//! index, the single-flight map, the ring's slots) retires into one seize
//! collector, so one guard covers a whole operation. Under `--cfg depcache_loom`
//! nothing is reclaimed: the domain and its guards are tokens, and retired
//! objects are freed when their structure drops.

/// The number of retired objects a thread collects before it tries to free
/// them (seize's own default is 32).
///
/// Measured with `op_cost`: from 32 to 128, a seed invalidation went from 1784
/// to 1643 ns and an insert from 277 to 272 ns. From 128 to 512, an insert from
/// two threads went from 454 to 367 ns (a batch's `membarrier` interrupts the
/// other CPU: 13% of such an insert in perf at 128) while one thread stayed
/// level, but an eager invalidation's p99 went from about 5 to 9–15 µs: the
/// thread that frees a batch frees all of it at once.
pub const DEFAULT_RECLAIM_BATCH: usize = 128;

#[cfg(not(depcache_loom))]
pub(crate) use seized::{thread_number, Domain, Guard};
#[cfg(depcache_loom)]
pub(crate) use tokens::{thread_number, Domain, Guard};

#[cfg(not(depcache_loom))]
mod seized {
    /// The reclamation domain shared by every map of one cache: one collector, so one
    /// guard serves all maps (papaya checks that a guard belongs to the map's collector).
    #[derive(Clone)]
    pub(crate) struct Domain(std::sync::Arc<seize::Collector>);

    /// A pinned guard of a [`Domain`].
    pub(crate) type Guard<'a> = seize::LocalGuard<'a>;

    impl Domain {
        /// A collector that reclaims in batches of `batch` retired objects
        /// ([`DEFAULT_RECLAIM_BATCH`](super::DEFAULT_RECLAIM_BATCH) unless the
        /// builder says otherwise).
        pub(crate) fn new(batch: usize) -> Self {
            Domain(std::sync::Arc::new(seize::Collector::new().batch_size(batch)))
        }

        /// The collector, for the maps that share it (papaya checks that a guard
        /// belongs to the map's collector).
        pub(crate) fn collector(&self) -> &std::sync::Arc<seize::Collector> {
            &self.0
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
}

#[cfg(depcache_loom)]
mod tokens {
    /// No reclamation domain is needed under loom.
    #[derive(Clone)]
    pub(crate) struct Domain;

    /// No guard is needed under loom (a non-`Copy` token, like a real guard).
    pub(crate) struct Guard<'a>(core::marker::PhantomData<&'a ()>);

    impl Domain {
        /// No collector under loom: `batch` has nothing to configure.
        pub(crate) fn new(_batch: usize) -> Self {
            Domain
        }

        pub(crate) fn guard(&self) -> Guard<'_> {
            Guard(core::marker::PhantomData)
        }
    }

    /// No thread numbers under loom: its threads run on one OS thread, and the
    /// statistics fall back to their shared stripes.
    #[inline]
    pub(crate) fn thread_number(_guard: &Guard<'_>) -> Option<usize> {
        None
    }
}
