//! [`Dependent`]: an entry's registration on an index node, one pointer wide.
//!
//! The entry's address is the `Arc`'s own pointer, and the subtree flag fits
//! in that pointer's low bit (an `Entry` is aligned to at least 8), so a
//! registration is the pointer alone: 8 bytes, where an `(address,
//! Arc<Entry>, subtree)` triple takes 24 (38 per entry for a node of ten
//! dependents, with a vector's growth).

use core::marker::PhantomData;
use core::ptr::NonNull;

use super::Entry;
use crate::reclaim::Guard;
use crate::sync::Arc;

/// The `Subtree` flag in the pointer's low bit.
const SUBTREE: usize = 1;

/// An entry's registration on a node: owns one strong count of the entry's
/// `Arc`, and says whether the entry depends on the node's whole subtree.
pub(crate) struct Dependent<K, V, D> {
    /// `Arc::into_raw` of the entry, with [`SUBTREE`] or'ed in.
    tagged: NonNull<Entry<K, V, D>>,
    _owns: PhantomData<Arc<Entry<K, V, D>>>,
}

// SAFETY: a `Dependent` is an `Arc<Entry>` in another shape (it owns one count and
// hands out clones), so it may cross threads exactly when that `Arc` may.
unsafe impl<K, V, D> Send for Dependent<K, V, D> where Arc<Entry<K, V, D>>: Send {}
// SAFETY: as for `Send`: through `&Dependent` a thread only reads the entry and clones
// the `Arc`, which `Arc<Entry>: Sync` allows.
unsafe impl<K, V, D> Sync for Dependent<K, V, D> where Arc<Entry<K, V, D>>: Sync {}

impl<K, V, D> Dependent<K, V, D> {
    pub(crate) fn new(entry: Arc<Entry<K, V, D>>, subtree: bool) -> Self {
        const { assert!(core::mem::align_of::<Entry<K, V, D>>() > SUBTREE) };
        let raw = Arc::into_raw(entry).cast_mut();
        let tagged = raw.map_addr(|a| a | if subtree { SUBTREE } else { 0 });
        Dependent {
            // `into_raw` never returns null, and or-ing a bit keeps it non-null.
            tagged: NonNull::new(tagged).expect("Arc::into_raw is never null"),
            _owns: PhantomData,
        }
    }

    /// The entry's address, as `Arc::as_ptr` gives it.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const Entry<K, V, D> {
        self.tagged.as_ptr().map_addr(|a| a & !SUBTREE).cast_const()
    }

    /// True if the entry depends on the node's whole subtree.
    #[inline]
    pub(crate) fn subtree(&self) -> bool {
        self.tagged.as_ptr().addr() & SUBTREE != 0
    }

    /// True if this registers `e` (by identity).
    #[inline]
    pub(crate) fn is(&self, e: &Entry<K, V, D>) -> bool {
        core::ptr::eq(self.as_ptr(), e)
    }

    /// The entry, borrowed for as long as `guard` lives, without a count of
    /// its own (an invalidation's scan: a count per entry was two locked
    /// instructions, 6–7% of the call).
    ///
    /// The caller found this registration in its node's set, under `guard`.
    /// Sound because whoever removes a registration (`Shared::cleanup_many`,
    /// the only place) then hands some count of the same entry to the
    /// collector — the map's, by unlinking the entry; the slot's; or, if it
    /// holds neither, the registration's own — and the collector drops that
    /// count only after every guard alive at the removal, `guard` among them,
    /// is gone. So the entry outlives `guard`.
    #[inline]
    pub(crate) fn entry_in<'g>(&self, _guard: &'g Guard<'_>) -> &'g Entry<K, V, D> {
        // SAFETY: `as_ptr` is a live entry while this registration's count is
        // held, and some count of it outlives `guard` (see above).
        unsafe { &*self.as_ptr() }
    }

    /// The count this registration owns, as the `Arc` it came from.
    pub(crate) fn into_arc(self) -> Arc<Entry<K, V, D>> {
        let p = self.as_ptr();
        core::mem::forget(self);
        // SAFETY: `p` is the pointer `Arc::into_raw` gave in `new`; forgetting
        // `self` moves its count here, so it is not dropped twice.
        unsafe { Arc::from_raw(p) }
    }

    /// A new handle on the entry.
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn entry(&self) -> Arc<Entry<K, V, D>> {
        let p = self.as_ptr();
        // SAFETY: `p` came from `Arc::into_raw` and this registration owns one
        // count of it until it is dropped, so the count is at least one while
        // we add ours.
        unsafe { crate::sync::arc_clone_raw(p) }
    }
}

impl<K, V, D> Drop for Dependent<K, V, D> {
    fn drop(&mut self) {
        // SAFETY: `as_ptr` is the pointer `Arc::into_raw` gave in `new`, and the
        // count it stands for is this registration's to drop, once.
        drop(unsafe { Arc::from_raw(self.as_ptr()) });
    }
}
