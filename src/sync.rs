//! The one door to synchronization primitives.
//!
//! Every atomic, `Arc`, lock and spin loop of the crate goes through this module,
//! so that under `--cfg depcache_loom` the model checker sees all of them. Nothing
//! else in `src/` imports `std::sync::atomic` (CI greps for it).

#[cfg(not(depcache_loom))]
mod imp {
    pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
    /// One strong count and no weak one: 8 bytes less per entry and per node.
    pub(crate) use triomphe::Arc;

    /// A new `Arc` of `p`, leaving the count that `p` stands for where it is.
    ///
    /// # Safety
    /// `p` comes from `Arc::into_raw`, and a count of it is held elsewhere for
    /// the whole call (so the count is at least one while we add ours).
    // SAFETY: `unsafe` because nothing in the type of `p` says it is live and
    // counted; the contract above is what makes `from_raw` sound, and every
    // caller (the slot cell, the table's `Found`, a registration) states why
    // it holds.
    #[inline]
    pub(crate) unsafe fn arc_clone_raw<T>(p: *const T) -> Arc<T> {
        // SAFETY: the caller's count keeps the allocation alive; `ManuallyDrop`
        // leaves that count untouched, and the clone adds our own.
        let borrowed = core::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p) });
        Arc::clone(&borrowed)
    }

    /// One step of a spin loop (a retry after a lost race).
    #[inline]
    pub(crate) fn spin() {
        std::hint::spin_loop();
    }

    /// A longer wait in a spin loop: lets the OS run the thread we wait for.
    #[inline]
    pub(crate) fn yield_now() {
        std::thread::yield_now();
    }

    /// `core::cell::UnsafeCell` with loom's access API (`with_mut`), so that
    /// under loom the model checker sees every access to the data.
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(t: T) -> Self {
            UnsafeCell(core::cell::UnsafeCell::new(t))
        }

        /// Calls `f` with a pointer to the data; the caller rules out other
        /// accesses for the call (a lock).
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(depcache_loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{fence, Ordering};
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

    /// A new `Arc` of `p`, leaving the count that `p` stands for where it is.
    ///
    /// # Safety
    /// As the normal build's `arc_clone_raw`.
    // SAFETY: `unsafe` for the same reason as the normal build's: the caller
    // vouches that `p` is an `Arc::into_raw` pointer whose count it holds.
    #[inline]
    pub(crate) unsafe fn arc_clone_raw<T>(p: *const T) -> Arc<T> {
        // SAFETY: the caller holds a count of `p` for the whole call.
        unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        }
    }

    /// Loom's atomics, each with a *shadow* that every access touches first.
    ///
    /// Loom 0.7's DPOR remembers only the last access of an atomic. When thread A
    /// loads `x` and thread B then loads `x` and writes it (a lookup followed by
    /// an insert, a `kill`'s load and CAS, a `try_pin`), B's own load hides A's
    /// from B's write, and loom never runs B's write before A's load, even with
    /// no preemption bound (tokio-rs/loom#392; `loom-tests/README.md` shows a
    /// two-thread probe that explores one execution instead of two). Every access
    /// here first does a relaxed `fetch_add(0)` on the shadow: read-modify-writes
    /// are always dependent on each other, so every pair of accesses from two
    /// threads is a race loom reorders. The shadow carries no data and, relaxed,
    /// creates no happens-before edge; the accesses of `x` itself keep their
    /// orderings (loads may still return older stores).
    macro_rules! shadowed {
        ($name:ident, $int:ty) => {
            pub(crate) struct $name {
                v: loom::sync::atomic::$name,
                shadow: loom::sync::atomic::AtomicUsize,
            }

            #[allow(dead_code)]
            impl $name {
                pub(crate) fn new(v: $int) -> Self {
                    Self {
                        v: loom::sync::atomic::$name::new(v),
                        shadow: loom::sync::atomic::AtomicUsize::new(0),
                    }
                }

                #[inline]
                fn touch(&self) {
                    self.shadow.fetch_add(0, Ordering::Relaxed);
                }

                pub(crate) fn load(&self, o: Ordering) -> $int {
                    self.touch();
                    self.v.load(o)
                }

                pub(crate) fn store(&self, x: $int, o: Ordering) {
                    self.touch();
                    self.v.store(x, o)
                }

                pub(crate) fn swap(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.swap(x, o)
                }

                pub(crate) fn fetch_add(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.fetch_add(x, o)
                }

                pub(crate) fn fetch_sub(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.fetch_sub(x, o)
                }

                pub(crate) fn fetch_or(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.fetch_or(x, o)
                }

                pub(crate) fn fetch_and(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.fetch_and(x, o)
                }

                pub(crate) fn fetch_max(&self, x: $int, o: Ordering) -> $int {
                    self.touch();
                    self.v.fetch_max(x, o)
                }

                pub(crate) fn fetch_update(
                    &self,
                    set: Ordering,
                    fetch: Ordering,
                    f: impl FnMut($int) -> Option<$int>,
                ) -> Result<$int, $int> {
                    self.touch();
                    self.v.fetch_update(set, fetch, f)
                }

                pub(crate) fn compare_exchange(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.touch();
                    self.v.compare_exchange(current, new, success, failure)
                }

                pub(crate) fn compare_exchange_weak(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.touch();
                    self.v.compare_exchange_weak(current, new, success, failure)
                }
            }

            impl Default for $name {
                fn default() -> Self {
                    Self::new(0)
                }
            }

            impl core::fmt::Debug for $name {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(stringify!($name))
                }
            }
        };
    }

    shadowed!(AtomicU8, u8);
    shadowed!(AtomicU32, u32);
    shadowed!(AtomicU64, u64);
    shadowed!(AtomicUsize, usize);

    /// One step of a spin loop: under loom, a yield so the model makes progress.
    #[inline]
    pub(crate) fn spin() {
        loom::thread::yield_now();
    }

    /// A longer wait in a spin loop: a yield, as `spin`.
    #[inline]
    pub(crate) fn yield_now() {
        loom::thread::yield_now();
    }

    pub(crate) use loom::cell::UnsafeCell;
}

pub(crate) use imp::*;

/// Asks the CPU to start loading the cache line at `p`, so that several
/// independent misses overlap instead of queuing one behind another (an eager
/// invalidation touches a handful of cold entries, each behind a locked
/// instruction that would otherwise wait for its miss alone). A hint: any
/// address is fine, and nothing is read. A no-op under loom and off x86-64.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(all(target_arch = "x86_64", not(depcache_loom)))]
    // SAFETY: a prefetch never faults and changes no memory, whatever the
    // address (Intel SDM, PREFETCHh); SSE is part of the x86-64 baseline.
    unsafe {
        core::arch::x86_64::_mm_prefetch(p.cast::<i8>(), core::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(all(target_arch = "x86_64", not(depcache_loom))))]
    let _ = p;
}

/// Test-only switches that break the protocol on purpose, so that the loom models
/// can show they catch a broken variant (`loom-tests/tests/broken.rs`). Loom
/// builds only; each switch is per OS thread, and loom runs every thread of a
/// model on the thread that called `loom::model`, so a switch set around one
/// model does not leak into models that other test threads run meanwhile.
#[cfg(depcache_loom)]
pub mod fault {
    use std::cell::Cell;

    thread_local! {
        static SKIP_PUBLISH_RECHECK: Cell<bool> = const { Cell::new(false) };
        static REUSE_FIRST_SCAN: Cell<bool> = const { Cell::new(false) };
        static HOT_STARTS_VERIFIED: Cell<bool> = const { Cell::new(false) };
        static TABLE_LINKS_LATE: Cell<bool> = const { Cell::new(false) };
        static TABLE_CHECKS_UNLOCKED: Cell<bool> = const { Cell::new(false) };
        static FREE_SLOTS_RELAXED: Cell<bool> = const { Cell::new(false) };
        static FLUSH_LEAVES_G: Cell<bool> = const { Cell::new(false) };
        static LAZY_LEAVES_G: Cell<bool> = const { Cell::new(false) };
        static FLOOR_AFTER_G: Cell<bool> = const { Cell::new(false) };
        static RETIRE_WITHOUT_CAS: Cell<bool> = const { Cell::new(false) };
        static RETIRE_CAS_ONCE: Cell<bool> = const { Cell::new(false) };
        static REGISTER_UNCOUNTED: Cell<bool> = const { Cell::new(false) };
        static BATCH_UNPINS_ONE: Cell<bool> = const { Cell::new(false) };
        static PROBATION_RECHECKS_SLOT: Cell<bool> = const { Cell::new(false) };
    }

    /// While set, a probation turn that judged the entry in its slot claims
    /// the slot from whatever the slot holds *when it claims* (a second read),
    /// not from the entry it judged: if that entry left meanwhile and another
    /// took the slot, the other is displaced while live.
    pub fn set_probation_rechecks_slot(on: bool) {
        PROBATION_RECHECKS_SLOT.with(|c| c.set(on));
    }

    pub(crate) fn probation_rechecks_slot() -> bool {
        PROBATION_RECHECKS_SLOT.with(|c| c.get())
    }

    /// While set, an eager invalidation's batched cleanup drops one pin per
    /// node however many of its entries were on that node, so a node that
    /// lost every dependent keeps pins nobody holds and never retires.
    pub fn set_batch_unpins_one(on: bool) {
        BATCH_UNPINS_ONE.with(|c| c.set(on));
    }

    pub(crate) fn batch_unpins_one() -> bool {
        BATCH_UNPINS_ONE.with(|c| c.get())
    }

    /// While set, a registration releases its node's lock without counting
    /// itself, so an eager invalidation that saw the count unchanged trusts a
    /// first scan that missed it.
    pub fn set_register_uncounted(on: bool) {
        REGISTER_UNCOUNTED.with(|c| c.set(on));
    }

    pub(crate) fn register_uncounted() -> bool {
        REGISTER_UNCOUNTED.with(|c| c.get())
    }

    /// While set, the last unpin of a node tries its CAS to RETIRED once,
    /// from the word its decrement left, and gives up if the word moved (as
    /// before the lock moved into the word): a lock bit flipped meanwhile by
    /// an invalidation scanning the node leaves it in the index with no pins
    /// and nothing registered, never retired.
    pub fn set_retire_cas_once(on: bool) {
        RETIRE_CAS_ONCE.with(|c| c.set(on));
    }

    pub(crate) fn retire_cas_once() -> bool {
        RETIRE_CAS_ONCE.with(|c| c.get())
    }

    /// While set, the last unpin of a node marks it retired with a plain store
    /// instead of a CAS from "no pins", so a `try_pin` that revived the node
    /// between the decrement and the store keeps a pin on a node that leaves
    /// the index (and that no later invalidation will find).
    pub fn set_retire_without_cas(on: bool) {
        RETIRE_WITHOUT_CAS.with(|c| c.set(on));
    }

    pub(crate) fn retire_without_cas() -> bool {
        RETIRE_WITHOUT_CAS.with(|c| c.get())
    }

    /// While set, `invalidate_all` raises its floor *after* publishing the new
    /// `G`, so a lookup that acquires that `G` can still read the old floor,
    /// validate a flushed entry and cache the verdict for the fast path.
    pub fn set_floor_after_g(on: bool) {
        FLOOR_AFTER_G.with(|c| c.set(on));
    }

    pub(crate) fn floor_after_g() -> bool {
        FLOOR_AFTER_G.with(|c| c.get())
    }

    /// While set, a lazy invalidation (`mark_stale`) bumps the generations but
    /// not `G`, so a lookup's fast path still answers from an entry it reached.
    pub fn set_lazy_leaves_g(on: bool) {
        LAZY_LEAVES_G.with(|c| c.set(on));
    }

    pub(crate) fn lazy_leaves_g() -> bool {
        LAZY_LEAVES_G.with(|c| c.get())
    }

    /// While set, `invalidate_all` raises its floor but not `G`, so a lookup's
    /// fast path (`live_at == G`) still answers from an entry it flushed.
    pub fn set_flush_leaves_g(on: bool) {
        FLUSH_LEAVES_G.with(|c| c.set(on));
    }

    pub(crate) fn flush_leaves_g() -> bool {
        FLUSH_LEAVES_G.with(|c| c.get())
    }

    /// While set, the free-slot set's summary RMWs are Relaxed (not Release on
    /// a put, Acquire on a clear), so a taker that empties a word can clear the
    /// summary bit of a slot put meanwhile and lose it.
    pub fn set_free_slots_relaxed(on: bool) {
        FREE_SLOTS_RELAXED.with(|c| c.set(on));
    }

    pub(crate) fn free_slots_relaxed() -> bool {
        FREE_SLOTS_RELAXED.with(|c| c.get())
    }

    /// While set, the entries table publishes a new item (a new first item of
    /// its bucket, or an item that replaces another) *before* setting the item's
    /// own link, so a lookup can stand on it and see the end of the chain.
    pub fn set_table_links_late(on: bool) {
        TABLE_LINKS_LATE.with(|c| c.set(on));
    }

    pub(crate) fn table_links_late() -> bool {
        TABLE_LINKS_LATE.with(|c| c.get())
    }

    /// While set, the table's `try_insert` looks for the key with a lock-free
    /// lookup before it takes the bucket's lock, and links under the lock
    /// without looking again: two inserters of one key can both link theirs.
    pub fn set_table_checks_unlocked(on: bool) {
        TABLE_CHECKS_UNLOCKED.with(|c| c.set(on));
    }

    pub(crate) fn table_checks_unlocked() -> bool {
        TABLE_CHECKS_UNLOCKED.with(|c| c.get())
    }

    /// While set, a new entry's `live_at` starts at the
    /// ticket's `G` instead of unverified, so a lookup can answer from an entry
    /// that is still INIT (and may yet be refused) without checking its state.
    pub fn set_hot_starts_verified(on: bool) {
        HOT_STARTS_VERIFIED.with(|c| c.set(on));
    }

    pub(crate) fn hot_starts_verified() -> bool {
        HOT_STARTS_VERIFIED.with(|c| c.get())
    }

    /// While set, an eager invalidation never scans the reverse index a second
    /// time after its bumps (it trusts its first scan even when something
    /// registered in between).
    pub fn set_reuse_first_scan(on: bool) {
        REUSE_FIRST_SCAN.with(|c| c.set(on));
    }

    pub(crate) fn reuse_first_scan() -> bool {
        REUSE_FIRST_SCAN.with(|c| c.get())
    }

    /// While set, `insert_with_ticket` does not re-check the stamps after
    /// publishing (it trusts the ticket check made before registering).
    pub fn set_skip_publish_recheck(on: bool) {
        SKIP_PUBLISH_RECHECK.with(|c| c.set(on));
    }

    pub(crate) fn skip_publish_recheck() -> bool {
        SKIP_PUBLISH_RECHECK.with(|c| c.get())
    }
}

/// Locks a mutex, ignoring poisoning: every critical section of this crate leaves
/// its data consistent before anything that can panic, so a poisoned lock holds
/// valid data (a panicking single-flight leader must not poison its waiters).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
