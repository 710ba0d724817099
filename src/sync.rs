//! The one door to synchronization primitives.
//!
//! Every atomic, `Arc`, lock and spin loop of the crate goes through this module,
//! so that under `--cfg depcache_loom` the model checker sees all of them. Nothing
//! else in `src/` imports `std::sync::atomic` (CI greps for it).

#[cfg(not(depcache_loom))]
mod imp {
    pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    /// One step of a spin loop (a retry after a lost race).
    #[inline]
    pub(crate) fn spin() {
        std::hint::spin_loop();
    }

    /// A shared, swappable `Option<Arc<T>>` (one CLOCK slot).
    pub(crate) struct ArcCell<T>(arc_swap::ArcSwapOption<T>);

    impl<T> ArcCell<T> {
        pub(crate) fn empty() -> Self {
            Self(arc_swap::ArcSwapOption::const_empty())
        }

        /// The current content.
        pub(crate) fn load(&self) -> Option<Arc<T>> {
            self.0.load_full()
        }

        /// Replaces `current` (compared by pointer) with `new`; true on success.
        pub(crate) fn compare_and_swap(&self, current: Option<&Arc<T>>, new: Option<Arc<T>>) -> bool {
            let cur_ptr = current.map_or(std::ptr::null(), Arc::as_ptr);
            let prev = self.0.compare_and_swap(&current.cloned(), new);
            let prev_ptr = prev.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
            prev_ptr == cur_ptr
        }
    }
}

#[cfg(depcache_loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

    /// One step of a spin loop: under loom, a yield so the model makes progress.
    #[inline]
    pub(crate) fn spin() {
        loom::thread::yield_now();
    }

    /// A shared, swappable `Option<Arc<T>>`; under loom a mutex-protected cell, which
    /// is linearizable like `ArcSwapOption` and visible to the model.
    pub(crate) struct ArcCell<T>(loom::sync::Mutex<Option<Arc<T>>>);

    impl<T> ArcCell<T> {
        pub(crate) fn empty() -> Self {
            Self(loom::sync::Mutex::new(None))
        }

        pub(crate) fn load(&self) -> Option<Arc<T>> {
            self.0.lock().unwrap().clone()
        }

        pub(crate) fn compare_and_swap(&self, current: Option<&Arc<T>>, new: Option<Arc<T>>) -> bool {
            let mut slot = self.0.lock().unwrap();
            let same = match (slot.as_ref(), current) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
            if same {
                *slot = new;
            }
            same
        }
    }
}

pub(crate) use imp::*;

/// Locks a mutex, ignoring poisoning: every critical section of this crate leaves
/// its data consistent before anything that can panic, so a poisoned lock holds
/// valid data (a panicking single-flight leader must not poison its waiters).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
