//! The CLOCK ring: a fixed array of slots, one per entry the cache may hold, a
//! shared hand, and the set of slots freed by removals ([`free`]).
//!
//! A slot is owned by whoever moves it by CAS: from empty or from its old entry
//! to a new entry (an inserter), or from its entry to empty (the entry's cleaner,
//! who then puts the index in the free set). Exactly one of the racers wins,
//! so a slot never holds two entries and the cache never holds more entries than
//! slots.

mod free;

pub(crate) use free::FreeSlots;
#[cfg(depcache_loom)]
pub use free::Probe as FreeProbe;

use crate::entry::Entry;
use crate::map::{ArcCell, Guard, Peeked};
use crate::sync::{Arc, AtomicUsize, Ordering};

pub(crate) struct Ring<K, V, D> {
    slots: Box<[ArcCell<Entry<K, V, D>>]>,
    /// Slots never used yet: `fresh..len` (a bump allocator for the first fill).
    fresh: AtomicUsize,
    /// The CLOCK hand (unbounded; taken modulo the length).
    hand: AtomicUsize,
    free: FreeSlots,
}

impl<K, V, D> Ring<K, V, D> {
    pub(crate) fn new(capacity: usize) -> Self {
        Ring {
            slots: (0..capacity).map(|_| ArcCell::empty()).collect(),
            fresh: AtomicUsize::new(0),
            hand: AtomicUsize::new(0),
            free: FreeSlots::new(capacity),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// A slot that was probably empty: never used, or freed by a removal. The
    /// caller still claims it by CAS from empty.
    pub(crate) fn probably_free(&self) -> Option<usize> {
        // Relaxed: a hint; the slot CAS decides.
        if self.fresh.load(Ordering::Relaxed) < self.slots.len() {
            // Relaxed: the counter only hands out distinct indices.
            let i = self.fresh.fetch_add(1, Ordering::Relaxed);
            if i < self.slots.len() {
                return Some(i);
            }
        }
        self.free.take()
    }

    /// Starts loading what releasing slot `i` touches: the slot and its word of
    /// the free set (see `sync::prefetch`).
    #[inline]
    pub(crate) fn prefetch(&self, i: usize) {
        if let Some(slot) = self.slots.get(i) {
            crate::sync::prefetch(slot);
        }
        self.free.prefetch(i);
    }

    /// The next slot under the hand.
    pub(crate) fn advance(&self) -> usize {
        // Relaxed: the hand only spreads inserters over the slots; the slot CAS
        // orders everything that matters.
        self.hand.fetch_add(1, Ordering::Relaxed) % self.slots.len()
    }

    pub(crate) fn load(&self, i: usize, guard: &Guard<'_>) -> Option<Arc<Entry<K, V, D>>> {
        self.slots[i].load(guard)
    }

    /// Slot `i`'s entry, borrowed for the guard's life (the hand's read).
    #[inline]
    pub(crate) fn peek<'g>(&self, i: usize, guard: &'g Guard<'_>) -> Option<Peeked<'g, Entry<K, V, D>>> {
        self.slots[i].peek(guard)
    }

    pub(crate) fn claim(
        &self,
        i: usize,
        current: Option<&Entry<K, V, D>>,
        new: &Arc<Entry<K, V, D>>,
        guard: &Guard<'_>,
    ) -> bool {
        if !self.slots[i].compare_and_swap(current, Some(new.clone()), guard) {
            return false;
        }
        true
    }

    /// The free set's invariants (at quiescence; see [`FreeSlots::check`]).
    #[cfg(any(test, fuzzing, feature = "invariants"))]
    pub(crate) fn check_free(&self) -> Result<(), String> {
        self.free.check()
    }

    /// Empties `entry`'s slot if it still holds `entry`, and offers it for reuse.
    pub(crate) fn release(&self, i: usize, entry: &Entry<K, V, D>, guard: &Guard<'_>) {
        if self.slots[i].compare_and_swap(Some(entry), None, guard) {
            self.free.put(i);
        }
    }
}
