//! [`Probation`]: the small FIFO of S3-FIFO, as a queue of slot numbers.
//!
//! An entry inserted into a full cache, whose key has no ghost, goes on
//! probation: its insert takes the next position of this queue, and the slot
//! recorded there (the entry that went on probation one lap of the queue
//! earlier) is judged first: if that entry has not been hit since, it is
//! evicted and the new entry takes its slot; if it has, it stays where it is,
//! now under the CLOCK hand only, and the new entry gets a slot from the hand.
//! A one-hit wonder thus leaves after a tenth of the capacity's inserts, where
//! under CLOCK alone it holds its slot for a whole lap of the hand.
//!
//! The queue is a hint, like the free set: a position holds a slot number, not
//! the entry, so the slot may hold another entry by the time it is judged (its
//! entry was invalidated, or the hand evicted it, and the slot was reused).
//! That other entry is then judged instead: evicted if it was not hit, kept
//! with its counter cleared if it was. That changes which entry goes, never
//! what the cache serves: every eviction still goes through the entry's state
//! CAS and the slot's CAS, so no schedule of the queue can evict an entry
//! twice or leave a dead entry resident. (A slot a thread freed into its own
//! stash and never took back is found only by the hand, which runs when a
//! turn keeps its entry or finds nothing: while every turn evicts, such a
//! slot, at most one per thread number, stays empty.)

use crate::sync::{AtomicU32, AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;

/// A position no slot number is recorded at.
const NONE: u32 = u32::MAX;

pub(crate) struct Probation {
    /// The slot whose entry went on probation at each position, or [`NONE`].
    order: Box<[AtomicU32]>,
    /// The next position (unbounded; taken modulo the length). On its own
    /// line: every insert into a full cache moves it.
    tail: CachePadded<AtomicUsize>,
}

/// One insert's turn at a position of the queue.
pub(crate) struct Turn<'a> {
    at: &'a AtomicU32,
    /// The slot recorded a lap ago, if any: the entry to judge.
    pub(crate) oldest: Option<usize>,
}

impl Turn<'_> {
    /// Records that the new entry took slot `i`.
    pub(crate) fn record(self, i: usize) {
        // Relaxed: a hint; whoever reads it judges the slot's entry through the
        // slot's own Acquire load and CAS. `i` < capacity ≤ u32::MAX.
        self.at.store(i as u32, Ordering::Relaxed);
    }
}

/// Positions for a ring of `capacity` slots: a tenth of them (the small
/// FIFO's share in S3-FIFO), none below two slots (one slot is all the hand's).
pub(crate) fn positions(capacity: usize) -> usize {
    if capacity < 2 {
        0
    } else {
        (capacity / 10).max(1)
    }
}

impl Probation {
    pub(crate) fn new(capacity: usize) -> Self {
        Probation {
            order: (0..positions(capacity)).map(|_| AtomicU32::new(NONE)).collect(),
            tail: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// The next turn, or `None` if the ring is too small to keep a queue.
    #[inline]
    pub(crate) fn turn(&self) -> Option<Turn<'_>> {
        let n = self.order.len();
        if n == 0 {
            return None;
        }
        // Relaxed: the counter only spreads inserters over the positions.
        let p = self.tail.fetch_add(1, Ordering::Relaxed) % n;
        let at = &self.order[p];
        // Relaxed: see `Turn::record`. A swap, so that two inserters a lap
        // apart that meet at one position do not both judge its slot.
        let old = at.swap(NONE, Ordering::Relaxed);
        Some(Turn {
            at,
            oldest: (old != NONE).then_some(old as usize),
        })
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_slot_comes_back_one_lap_later_and_once() {
        let q = Probation::new(50); // 5 positions
        for i in 0..5 {
            let t = q.turn().unwrap();
            assert_eq!(t.oldest, None);
            t.record(100 + i);
        }
        for i in 0..5 {
            // Not recorded: the position stays empty.
            assert_eq!(q.turn().unwrap().oldest, Some(100 + i));
        }
        for _ in 0..5 {
            assert_eq!(q.turn().unwrap().oldest, None);
        }
    }

    #[test]
    fn tiny_rings_keep_no_queue() {
        assert!(Probation::new(0).turn().is_none());
        assert!(Probation::new(1).turn().is_none());
        assert_eq!(positions(2), 1);
        assert_eq!(positions(1000), 100);
    }
}
