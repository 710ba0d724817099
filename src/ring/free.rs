//! [`FreeSlots`]: the set of CLOCK slots freed by removals, one bit per slot.
//!
//! A bitmap (one bit per slot) and a summary bitmap (one bit per word of the
//! first): 0.14 bytes per slot, where a bounded MPMC queue of slot indices
//! costs 16 (a stamp and the index), and a slot freed twice is one bit, not two
//! queue entries.
//!
//! It is a hint: a slot taken from it is still claimed by a
//! CAS from empty, which may fail, and a slot it never yields is found by the
//! CLOCK hand. Three things are kept exact all the same, because losing them
//! would cost every later insert, not one:
//!
//! - **No slot is handed out twice per release:** taking a bit is a CAS that
//!   clears it.
//! - **No set bit is lost from the summary:** a word's summary bit is cleared
//!   only by a taker that then re-reads the word and sets the summary bit again
//!   if the word has a bit. A releaser that makes a word non-empty sets its
//!   word bit, then the summary bit with Release (one that adds a bit to a
//!   non-empty word leaves the summary to the put that made it non-empty: a
//!   taker empties the word only by taking that bit too); the taker's clear
//!   is an Acquire RMW on the same summary word.
//!   Either the releaser's summary RMW comes after the clear (the bit ends set),
//!   or the clear reads from it, so the releaser's word bit happens-before the
//!   taker's re-read, which then sees it and restores the summary bit. Loom
//!   model `f1` checks this; with Relaxed instead, it finds the lost bit.
//! - **`count` is the number of set bits** once the callers are quiescent: it
//!   is raised by the releaser whose `fetch_or` set the bit and lowered by the
//!   taker whose CAS cleared it. While it is zero, [`FreeSlots::take`] reads one
//!   word and returns: a full cache evicting through the hand pays nothing.

use crate::sync::{AtomicU64, AtomicUsize, Ordering};

pub(crate) struct FreeSlots {
    /// Bit `i % 64` of word `i / 64`: slot `i` was freed and not taken since.
    words: Box<[AtomicU64]>,
    /// Bit `w % 64` of word `w / 64`: word `w` of `words` may have a bit set
    /// (and has one whenever it has, at quiescence).
    summary: Box<[AtomicU64]>,
    /// Set bits in `words` (exact at quiescence).
    count: AtomicUsize,
    /// The summary word the last successful search ended at: where the next
    /// one starts, so takers do not all rescan the same empty prefix.
    cursor: AtomicUsize,
}

fn split(i: usize) -> (usize, u64) {
    (i / 64, 1u64 << (i % 64))
}

/// `o`, or Relaxed in the loom fault that drops the summary's orderings.
#[inline(always)]
fn summary_order(o: Ordering) -> Ordering {
    #[cfg(depcache_loom)]
    if crate::sync::fault::free_slots_relaxed() {
        return Ordering::Relaxed;
    }
    o
}

impl FreeSlots {
    /// An empty set for slots `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        let words = capacity.div_ceil(64).max(1);
        FreeSlots {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            summary: (0..words.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicUsize::new(0),
            cursor: AtomicUsize::new(0),
        }
    }

    /// Adds slot `i` (no-op if it is already in).
    pub(crate) fn put(&self, i: usize) {
        let (w, bit) = split(i);
        let Some(word) = self.words.get(w) else {
            return;
        };
        // Relaxed: the Release on the summary RMW below publishes this bit to
        // the taker that clears the summary (see the module documentation);
        // nothing else is ordered by it (the slot's CAS orders the slot).
        let old = word.fetch_or(bit, Ordering::Relaxed);
        if old & bit != 0 {
            return; // already free: counted by whoever set it
        }
        // Relaxed: a hint counter, exact at quiescence (module documentation).
        self.count.fetch_add(1, Ordering::Relaxed);
        if old != 0 {
            // The word had a bit: the put that made it non-empty sets (or has
            // set) the summary bit, and a taker can only empty the word by
            // taking our bit too, so the summary needs nothing from us.
            return;
        }
        let (s, sbit) = split(w);
        // Release: see the module documentation (pairs with `take`'s Acquire
        // clear of this summary word).
        self.summary[s].fetch_or(sbit, summary_order(Ordering::Release));
    }

    /// Starts loading the word that holds slot `i`'s bit (a `put` of a random
    /// slot of a large ring is otherwise a cold miss behind locked instructions).
    #[inline]
    pub(crate) fn prefetch(&self, i: usize) {
        if let Some(word) = self.words.get(split(i).0) {
            crate::sync::prefetch(word);
        }
    }

    /// Takes some slot out of the set, if it has one.
    pub(crate) fn take(&self) -> Option<usize> {
        // Relaxed: a hint; a stale zero costs this insert a free slot that the
        // hand may find, a stale non-zero one search.
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let n = self.summary.len();
        // Relaxed: only where the search starts.
        let start = self.cursor.load(Ordering::Relaxed) % n;
        for k in 0..n {
            let s = (start + k) % n;
            // Relaxed: a snapshot of which words to look at; each word is then
            // read and taken from by its own atomics.
            let mut sw = self.summary[s].load(Ordering::Relaxed);
            while sw != 0 {
                let b = sw.trailing_zeros() as usize;
                sw &= sw - 1;
                let w = s * 64 + b;
                if let Some(i) = self.take_from(w) {
                    if s != start {
                        // Relaxed: as above (written only when it moves).
                        self.cursor.store(s, Ordering::Relaxed);
                    }
                    return Some(i);
                }
            }
        }
        None
    }

    /// Takes a bit of word `w`; keeps the summary bit right if the word ends up
    /// empty.
    fn take_from(&self, w: usize) -> Option<usize> {
        let word = &self.words[w];
        // Relaxed: the CAS below re-checks the value.
        let mut x = word.load(Ordering::Relaxed);
        loop {
            if x == 0 {
                self.clear_summary(w);
                return None;
            }
            let bit = x & x.wrapping_neg();
            // Relaxed: the bit is a hint; the slot's own CAS orders the slot.
            match word.compare_exchange_weak(x, x & !bit, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    // Relaxed: as in `put`.
                    self.count.fetch_sub(1, Ordering::Relaxed);
                    if x == bit {
                        self.clear_summary(w);
                    }
                    return Some(w * 64 + bit.trailing_zeros() as usize);
                }
                Err(now) => {
                    x = now;
                    crate::sync::spin();
                }
            }
        }
    }

    /// Word `w` was seen empty: clears its summary bit, then sets it again if a
    /// bit arrived meanwhile (module documentation).
    fn clear_summary(&self, w: usize) {
        let (s, sbit) = split(w);
        // Acquire: reads from (or after) the Release of any `put` whose summary
        // RMW precedes this one, so the re-read below sees that put's word bit.
        self.summary[s].fetch_and(!sbit, summary_order(Ordering::Acquire));
        // Relaxed: ordered after the Acquire above.
        if self.words[w].load(Ordering::Relaxed) != 0 {
            // Release: this restore is itself a summary RMW a later clear pairs with.
            self.summary[s].fetch_or(sbit, summary_order(Ordering::Release));
        }
    }

    /// Checks the invariants that hold at quiescence: `count` is the number of
    /// set bits, and every non-empty word has its summary bit.
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut set = 0;
        for (w, word) in self.words.iter().enumerate() {
            // Relaxed: called at quiescence.
            let x = word.load(Ordering::Relaxed);
            set += x.count_ones() as usize;
            let (s, sbit) = split(w);
            // Relaxed: as above.
            if x != 0 && self.summary[s].load(Ordering::Relaxed) & sbit == 0 {
                return Err(format!("free-slot word {w} has bits but no summary bit (lost)"));
            }
        }
        // Relaxed: as above.
        let count = self.count.load(Ordering::Relaxed);
        if count != set {
            return Err(format!("free-slot count is {count}, but {set} bits are set"));
        }
        Ok(())
    }
}

/// The free-slot set alone, for its loom model `f1` (loom builds only; not an API).
#[cfg(depcache_loom)]
pub struct Probe(FreeSlots);

#[cfg(depcache_loom)]
impl Probe {
    /// A set for slots `0..capacity`.
    pub fn new(capacity: usize) -> Self {
        Probe(FreeSlots::new(capacity))
    }
    /// Puts slot `i`.
    pub fn put(&self, i: usize) {
        self.0.put(i)
    }
    /// Takes some slot.
    pub fn take(&self) -> Option<usize> {
        self.0.take()
    }
    /// The invariants at quiescence.
    pub fn check(&self) -> Result<(), String> {
        self.0.check()
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn takes_what_was_put_once_each() {
        let f = FreeSlots::new(10_000);
        assert_eq!(f.take(), None);
        for i in (0..10_000).step_by(7) {
            f.put(i);
            f.put(i); // twice: still one bit
        }
        f.check().unwrap();
        let mut got = HashSet::new();
        while let Some(i) = f.take() {
            assert!(got.insert(i), "slot {i} taken twice");
        }
        assert_eq!(got, (0..10_000).step_by(7).collect());
        f.check().unwrap();
    }

    #[test]
    fn a_lone_bit_far_from_the_cursor_is_found() {
        let f = FreeSlots::new(1 << 20);
        f.put(5);
        assert_eq!(f.take(), Some(5)); // cursor at summary word 0
        f.put((1 << 20) - 1);
        assert_eq!(f.take(), Some((1 << 20) - 1));
        f.put(3);
        assert_eq!(f.take(), Some(3)); // wraps around
        assert_eq!(f.take(), None);
        f.check().unwrap();
    }

    #[test]
    fn threads_putting_and_taking_never_share_a_slot() {
        use crate::sync::AtomicU8;
        let f = FreeSlots::new(4096);
        let owned: Vec<AtomicU8> = (0..4096).map(|_| AtomicU8::new(1)).collect();
        std::thread::scope(|s| {
            for t in 0..4 {
                let (f, owned) = (&f, &owned);
                s.spawn(move || {
                    // Each thread frees its own quarter, then takes and frees back
                    // whatever it gets, checking it never holds a slot another does.
                    for i in (t..4096).step_by(4) {
                        owned[i].store(0, Ordering::SeqCst);
                        f.put(i);
                    }
                    for _ in 0..20_000 {
                        if let Some(i) = f.take() {
                            assert_eq!(owned[i].swap(1, Ordering::SeqCst), 0, "{i} taken twice");
                            owned[i].store(0, Ordering::SeqCst);
                            f.put(i);
                        }
                    }
                });
            }
        });
        f.check().unwrap();
        let mut n = 0;
        while f.take().is_some() {
            n += 1;
        }
        assert_eq!(n, 4096, "every slot is free again and findable");
    }
}
