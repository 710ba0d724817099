//! The ring: a fixed array of slots, one per entry the cache may hold, the
//! replacement policy over it (S3-FIFO: a probation queue of slot numbers
//! ([`probation`]), a table of ghost fingerprints ([`ghost`]) and a CLOCK hand
//! for the rest), the set of slots freed by removals ([`free`]), and in front
//! of that set one freed slot per thread, which the thread that freed it takes
//! back first.
//!
//! A slot is owned by whoever moves it by CAS: from empty or from its old entry
//! to a new entry (an inserter), or from its entry to empty (the entry's cleaner,
//! who then puts the index in the free set). Exactly one of the racers wins,
//! so a slot never holds two entries and the cache never holds more entries than
//! slots. The policy only chooses which slot an inserter tries: it never owns
//! one.

mod cell;
mod free;
mod ghost;
mod probation;

pub(crate) use cell::{ArcCell, Peeked};
pub(crate) use free::FreeSlots;
#[cfg(depcache_loom)]
pub use free::Probe as FreeProbe;
pub(crate) use ghost::Ghost;
pub(crate) use probation::Probation;

use crate::index::Entry;
use crossbeam_utils::CachePadded;

use crate::reclaim::{thread_number, Guard};
use crate::sync::{Arc, AtomicUsize, Ordering};

/// Stashes per ring: two per core, rounded to a power of two (as the stats'
/// stripes), at most 64 (128 bytes each).
fn stashes() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .next_power_of_two()
        .saturating_mul(2)
        .min(64)
}

pub(crate) struct Ring<K, V, D> {
    slots: Box<[ArcCell<Entry<K, V, D>>]>,
    /// Slots never used yet: `fresh..len` (a bump allocator for the first fill).
    fresh: AtomicUsize,
    /// The CLOCK hand (unbounded; taken modulo the length).
    hand: AtomicUsize,
    free: FreeSlots,
    /// One freed slot (or [`NO_SLOT`]) per thread number below its length
    /// (see `reclaim::thread_number`): an insert that replaces a key frees the old
    /// entry's slot, and the same thread's next insert takes it back without
    /// touching the shared free set (whose count and summary words are lines
    /// every inserting thread writes; at 2 threads `FreeSlots::take` was 18%
    /// of an insert). A slot left here by a thread that stops inserting is
    /// still empty in the ring: the hand claims it when it comes by (which,
    /// in a full ring, is when a probation turn does not evict).
    stash: Box<[CachePadded<AtomicUsize>]>,
    /// S3-FIFO's small FIFO (see [`probation`]).
    pub(crate) probation: Probation,
    /// S3-FIFO's ghost FIFO (see [`ghost`]).
    pub(crate) ghost: Ghost,
}

/// An empty stash.
const NO_SLOT: usize = usize::MAX;

impl<K, V, D> Ring<K, V, D> {
    pub(crate) fn new(capacity: usize) -> Self {
        Ring {
            slots: (0..capacity).map(|_| ArcCell::empty()).collect(),
            fresh: AtomicUsize::new(0),
            hand: AtomicUsize::new(0),
            free: FreeSlots::new(capacity),
            stash: (0..stashes())
                .map(|_| CachePadded::new(AtomicUsize::new(NO_SLOT)))
                .collect(),
            probation: Probation::new(capacity),
            ghost: Ghost::new(if probation::positions(capacity) == 0 {
                0
            } else {
                capacity
            }),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// True if inserts into a full ring go on probation (two slots or more).
    #[inline]
    pub(crate) fn keeps_probation(&self) -> bool {
        self.slots.len() >= 2
    }

    /// This thread's stash, if its number has one.
    #[inline]
    fn stash(&self, guard: &Guard<'_>) -> Option<&AtomicUsize> {
        thread_number(guard).and_then(|t| self.stash.get(t)).map(|s| &**s)
    }

    /// A slot that was probably empty: never used, or freed by a removal. The
    /// caller still claims it by CAS from empty.
    pub(crate) fn probably_free(&self, guard: &Guard<'_>) -> Option<usize> {
        if let Some(s) = self.stash(guard) {
            // Relaxed load and store, not an RMW: this thread is the only
            // writer of its stash while it holds its number (as the stats'
            // owned counters, see `thread_number`); the slot CAS decides.
            let i = s.load(Ordering::Relaxed);
            if i != NO_SLOT {
                s.store(NO_SLOT, Ordering::Relaxed);
                return Some(i);
            }
        }
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
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn check_free(&self) -> Result<(), String> {
        self.free.check()
    }

    /// Empties `entry`'s slot if it still holds `entry`, and offers it for reuse.
    pub(crate) fn release(&self, i: usize, entry: &Entry<K, V, D>, guard: &Guard<'_>) {
        if let Some(taken) = self.release_take(i, entry, guard) {
            ArcCell::retire(taken, guard);
        }
    }

    /// [`release`](Ring::release), handing the slot's count of `entry` to the
    /// caller instead of the collector (see [`ArcCell::take`]).
    pub(crate) fn release_take(
        &self,
        i: usize,
        entry: &Entry<K, V, D>,
        guard: &Guard<'_>,
    ) -> Option<Arc<Entry<K, V, D>>> {
        let taken = self.slots[i].take(entry)?;
        self.offer(i, guard);
        Some(taken)
    }

    /// Offers the emptied slot `i`: to this thread's stash, else to the free set.
    fn offer(&self, i: usize, guard: &Guard<'_>) {
        if let Some(s) = self.stash(guard) {
            // Relaxed: see `probably_free`.
            if s.load(Ordering::Relaxed) == NO_SLOT {
                s.store(i, Ordering::Relaxed);
                return;
            }
        }
        self.free.put(i);
    }
}
