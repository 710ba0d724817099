//! [`ArcCell`]: a shared, swappable `Option<Arc<T>>` (one CLOCK slot), whose
//! replaced values are released through the cache's reclamation domain.
//!
//! A normal build keeps a raw `AtomicPtr` that owns one strong count of the `Arc`
//! it points to. Readers load it under a guard of the domain and take their own
//! count; a writer that replaces a pointer hands the old count to the collector,
//! which drops it once every guard that could have loaded the pointer is gone.
//! So a reader's new count (`arc_clone_raw`) is always taken while the count is at least
//! one. Not `arc_swap::ArcSwapOption`: its debt bookkeeping measured about a
//! quarter of an insert and of an eager invalidation.
//!
//! Under loom it is a mutex around the `Option<Arc<T>>`: linearizable like the
//! real one, and visible to the model.

use crate::reclaim::Guard;
use crate::sync::Arc;

#[cfg(not(depcache_loom))]
pub(crate) use imp::ArcCell;

#[cfg(not(depcache_loom))]
mod imp {
    use core::ptr;

    use seize::{Collector, Guard as _};

    use super::{Arc, Guard};
    use crate::sync::{AtomicPtr, Ordering};

    pub(crate) struct ArcCell<T> {
        /// Null, or `Arc::into_raw` of an `Arc` whose one count this cell owns.
        ptr: AtomicPtr<T>,
    }

    // SAFETY: the cell hands out `Arc<T>` clones across threads, which is sound
    // exactly when `Arc<T>` is `Send + Sync`, i.e. when `T: Send + Sync`.
    unsafe impl<T: Send + Sync> Send for ArcCell<T> {}
    // SAFETY: through `&ArcCell` a thread can clone the `Arc<T>` out (`load`)
    // and move `Arc<T>`s in and out (`compare_and_swap`), which needs exactly
    // `Arc<T>: Send + Sync`, i.e. `T: Send + Sync`.
    unsafe impl<T: Send + Sync> Sync for ArcCell<T> {}

    /// Drops the count a cell owned. Runs when the collector has seen every guard
    /// that was active at the retirement end.
    ///
    /// # Safety
    /// `p` comes from `Arc::into_raw` and its count was owned by a cell that no
    /// longer points to it.
    // SAFETY: `unsafe` because seize's reclaimer type requires it; the contract
    // above is met by the two callers: `compare_and_swap`, which retires a
    // pointer only after its successful CAS took it out of the cell, and
    // `retire`, which retires a count `take` took out the same way.
    unsafe fn release<T>(p: *mut T, _collector: &Collector) {
        // SAFETY: the caller passes a pointer from `Arc::into_raw` whose count is
        // ours to drop (see `compare_and_swap`).
        drop(unsafe { Arc::from_raw(p) });
    }

    impl<T> ArcCell<T> {
        pub(crate) fn empty() -> Self {
            ArcCell {
                ptr: AtomicPtr::new(ptr::null_mut()),
            }
        }

        /// The current content.
        #[inline]
        pub(crate) fn load(&self, guard: &Guard<'_>) -> Option<Arc<T>> {
            // Acquire: pairs with the Release of the CAS that stored the pointer,
            // so the entry's fields written before it are visible. `protect` adds
            // what the collector needs to see this load before a retirement.
            let p = guard.protect(&self.ptr, Ordering::Acquire);
            if p.is_null() {
                return None;
            }
            // SAFETY: `p` came from `Arc::into_raw`. We loaded it under `guard`,
            // so the count the cell owned is dropped (by `release`) only after
            // `guard` ends: the count is at least one while we add ours.
            Some(unsafe { crate::sync::arc_clone_raw(p) })
        }

        /// The current content, borrowed for the guard's life: no count taken.
        /// The CLOCK hand passes most entries without keeping them, and a count
        /// is two locked instructions on the entry's line (taken and dropped),
        /// which also turn the hand's read of a cold entry into a write.
        #[inline]
        pub(crate) fn peek<'g>(&self, guard: &'g Guard<'_>) -> Option<super::Peeked<'g, T>> {
            // Acquire: as in `load`.
            let p = guard.protect(&self.ptr, Ordering::Acquire);
            // SAFETY: null or from `Arc::into_raw`, loaded under `guard`: the
            // count the cell owned is dropped (by `release`) only after every
            // guard that could have loaded it, `guard` included, has ended, so
            // the `T` outlives the borrow, which `'g` ties to `guard`.
            unsafe { p.cast_const().as_ref() }.map(super::Peeked)
        }

        /// Replaces `current` (compared by pointer) with `new`; true on success.
        ///
        /// No ABA: the caller holds `current` (a count of its `Arc`, or a
        /// reference loaded under a guard of this domain, such as `guard`), so
        /// its allocation cannot be freed and reused for another `T` while this
        /// runs.
        pub(crate) fn compare_and_swap(&self, current: Option<&T>, new: Option<Arc<T>>, guard: &Guard<'_>) -> bool {
            let cur = current.map_or(ptr::null_mut(), |a| ptr::from_ref(a).cast_mut());
            let new = new.map_or(ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
            // AcqRel on success: Release publishes the new entry to `load`ers;
            // Acquire orders our later use of the old one after its publication.
            // Acquire on failure: the caller may go on to read the current content.
            match self.ptr.compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(old) => {
                    if !old.is_null() {
                        // SAFETY: `old` is unreachable through this cell from now
                        // on, came from `Arc::into_raw`, and its count was the
                        // cell's; readers that loaded it hold guards, which the
                        // collector waits for before calling `release`.
                        unsafe { guard.defer_retire(old, release::<T>) };
                    }
                    true
                }
                Err(_) => {
                    if !new.is_null() {
                        // SAFETY: `new` was never published; its count is ours.
                        drop(unsafe { Arc::from_raw(new) });
                    }
                    false
                }
            }
        }

        /// Empties the cell if it holds `current` (compared by pointer) and
        /// hands the cell's count to the caller, who must not drop it while a
        /// reader that loaded the pointer under a guard may still use it:
        /// either retire it ([`retire`](ArcCell::retire)), or drop it only
        /// when another count of the entry is known to outlive every such
        /// reader (see `Shared::cleanup_many`). No ABA, as for
        /// [`compare_and_swap`](ArcCell::compare_and_swap).
        pub(crate) fn take(&self, current: &T) -> Option<Arc<T>> {
            let cur = ptr::from_ref(current).cast_mut();
            // AcqRel on success: as `compare_and_swap`. Relaxed on failure:
            // nothing is read through the value.
            match self
                .ptr
                .compare_exchange(cur, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed)
            {
                // SAFETY: `old` is `cur`, which came from `Arc::into_raw`; the
                // cell owned its count and no longer points to it.
                Ok(old) => Some(unsafe { Arc::from_raw(old) }),
                Err(_) => None,
            }
        }

        /// Hands a count [`take`](ArcCell::take) returned to the collector,
        /// as a swap does with the value it replaces.
        pub(crate) fn retire(taken: Arc<T>, guard: &Guard<'_>) {
            let p = Arc::into_raw(taken).cast_mut();
            // SAFETY: `p` came from `Arc::into_raw` and its count was a cell's,
            // which no longer points to it; readers that loaded it hold
            // guards, which the collector waits for before calling `release`.
            unsafe { guard.defer_retire(p, release::<T>) };
        }
    }

    impl<T> Drop for ArcCell<T> {
        fn drop(&mut self) {
            let p = *self.ptr.get_mut();
            if !p.is_null() {
                // SAFETY: `&mut self`: no guard can be reading this cell, and the
                // count is the cell's.
                drop(unsafe { Arc::from_raw(p) });
            }
        }
    }
}

/// Under loom: a mutex-protected cell, linearizable like the atomic one.
#[cfg(depcache_loom)]
pub(crate) struct ArcCell<T>(crate::sync::Mutex<Option<Arc<T>>>);

/// What `peek` returns: a borrow valid for the guard's life.
#[cfg(not(depcache_loom))]
pub(crate) struct Peeked<'g, T>(&'g T);

#[cfg(not(depcache_loom))]
impl<T> core::ops::Deref for Peeked<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        self.0
    }
}

/// What `peek` returns under loom: a count, standing in for the borrow.
#[cfg(depcache_loom)]
pub(crate) struct Peeked<'g, T>(Arc<T>, core::marker::PhantomData<&'g T>);

#[cfg(depcache_loom)]
impl<T> core::ops::Deref for Peeked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(depcache_loom)]
impl<T> ArcCell<T> {
    pub(crate) fn empty() -> Self {
        Self(crate::sync::Mutex::new(None))
    }

    pub(crate) fn load(&self, _guard: &Guard<'_>) -> Option<Arc<T>> {
        crate::sync::lock(&self.0).clone()
    }

    /// As the atomic cell's `peek`; here a clone held for the guard's life.
    pub(crate) fn peek<'g>(&self, _guard: &'g Guard<'_>) -> Option<Peeked<'g, T>> {
        self.load(_guard).map(|a| Peeked(a, core::marker::PhantomData))
    }

    pub(crate) fn take(&self, current: &T) -> Option<Arc<T>> {
        let mut slot = crate::sync::lock(&self.0);
        match slot.as_ref() {
            Some(a) if core::ptr::eq(Arc::as_ptr(a), current) => slot.take(),
            _ => None,
        }
    }

    /// Under loom a count is dropped at once (nothing reads through a raw
    /// pointer here: `peek` holds a count).
    pub(crate) fn retire(taken: Arc<T>, _guard: &Guard<'_>) {
        drop(taken);
    }

    pub(crate) fn compare_and_swap(&self, current: Option<&T>, new: Option<Arc<T>>, _guard: &Guard<'_>) -> bool {
        let mut slot = crate::sync::lock(&self.0);
        let same = match (slot.as_ref(), current) {
            (None, None) => true,
            (Some(a), Some(b)) => core::ptr::eq(Arc::as_ptr(a), b),
            _ => false,
        };
        if same {
            *slot = new;
        }
        same
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    //! The raw cell's memory safety, checked under Miri in CI-independent runs
    //! (`cargo +nightly miri test --lib --no-default-features map::cell`): loads
    //! racing swaps that retire the old value through the collector.

    use super::ArcCell;
    use crate::reclaim::Domain;
    use crate::sync::Arc;

    #[test]
    fn loads_race_swaps_and_every_value_is_dropped_once() {
        let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
        let cell: ArcCell<String> = ArcCell::empty();
        let values: Vec<Arc<String>> = (0..4).map(|i| Arc::new(format!("v{i}"))).collect();
        std::thread::scope(|s| {
            for t in 0..2 {
                let (cell, domain, values) = (&cell, &domain, &values);
                s.spawn(move || {
                    for i in 0..if cfg!(miri) { 20 } else { 2000 } {
                        let guard = domain.guard();
                        let cur = cell.load(&guard);
                        if let Some(v) = &cur {
                            assert!(v.starts_with('v'));
                        }
                        let next = values[(i + t) % values.len()].clone();
                        let _ = cell.compare_and_swap(cur.as_deref(), Some(next), &guard);
                        if i % 3 == 0 {
                            let cur = cell.load(&guard);
                            let _ = cell.compare_and_swap(cur.as_deref(), None, &guard);
                        }
                    }
                });
            }
        });
        // The cell and the collector hold counts until dropped; afterwards only
        // ours remain.
        drop(cell);
        drop(domain);
        for v in &values {
            assert_eq!(Arc::strong_count(v), 1, "{v} leaked or was over-released");
        }
    }

    /// `peek` borrows without a count: while one thread reads the borrowed
    /// value, the other replaces it with fresh values, whose predecessors are
    /// only retired (under Miri, a free before the reader's guard ends is a
    /// use-after-free report).
    #[test]
    fn peeks_race_swaps_of_fresh_values() {
        let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
        let cell: ArcCell<String> = ArcCell::empty();
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        std::thread::scope(|s| {
            let (cell, domain) = (&cell, &domain);
            s.spawn(move || {
                for i in 0..rounds {
                    let guard = domain.guard();
                    let cur = cell.peek(&guard);
                    let _ = cell.compare_and_swap(cur.as_deref(), Some(Arc::new(format!("v{i}"))), &guard);
                }
            });
            s.spawn(move || {
                for _ in 0..rounds {
                    let guard = domain.guard();
                    if let Some(v) = cell.peek(&guard) {
                        std::thread::yield_now();
                        assert!(v.starts_with('v'), "{}", &*v);
                    }
                }
            });
        });
        let guard = domain.guard();
        let last = cell.load(&guard).expect("the writer left a value");
        assert_eq!(cell.peek(&guard).as_deref().map(String::as_str), Some(last.as_str()));
        drop(guard);
        drop(cell);
        drop(domain);
        assert_eq!(Arc::strong_count(&last), 1);
    }

    #[test]
    fn a_failed_swap_gives_the_new_value_back() {
        let domain = Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH);
        let cell: ArcCell<u32> = ArcCell::empty();
        let a = Arc::new(1);
        let b = Arc::new(2);
        let guard = domain.guard();
        assert!(cell.compare_and_swap(None, Some(a.clone()), &guard));
        assert!(!cell.compare_and_swap(Some(&b), Some(b.clone()), &guard));
        assert_eq!(Arc::strong_count(&b), 1);
        assert_eq!(cell.load(&guard).as_deref(), Some(&1));
        drop(guard);
        drop(cell);
        drop(domain);
        assert_eq!(Arc::strong_count(&a), 1);
    }
}
