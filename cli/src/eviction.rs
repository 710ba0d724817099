//! Sequential models of the replacement policies considered for the ring
//! (SIEVE, S3-FIFO, a two-bit CLOCK), replayed on the classic traces beside
//! depcache's CLOCK and its peers, to choose one by measurement
//! (`cargo run --release -p depcache-cli --example eviction`).
//!
//! The models are exact single-threaded versions of the published
//! algorithms, keyed by block number; they measure hit ratio, not speed.

use std::collections::{HashMap, VecDeque};

use crate::classic::Policy;

/// SIEVE (Zhang et al., NSDI 2024): one FIFO queue and a visited bit; a hit
/// sets the bit; the hand walks from the oldest entry toward the newest,
/// clearing bits, and evicts the first unvisited entry, which keeps its
/// place otherwise (no reinsertion).
pub struct Sieve {
    capacity: usize,
    /// Slots in insertion order (oldest first); `None`: evicted.
    queue: Vec<Option<(u64, bool)>>,
    index: HashMap<u64, usize>,
    hand: usize,
    len: usize,
}

impl Sieve {
    /// A cache of `capacity` blocks.
    pub fn new(capacity: usize) -> Self {
        Sieve {
            capacity: capacity.max(1),
            queue: Vec::new(),
            index: HashMap::new(),
            hand: 0,
            len: 0,
        }
    }

    fn evict(&mut self) {
        loop {
            if self.hand >= self.queue.len() {
                self.hand = 0;
            }
            match &mut self.queue[self.hand] {
                Some((_, visited)) if *visited => {
                    *visited = false;
                    self.hand += 1;
                }
                Some((key, _)) => {
                    self.index.remove(key);
                    self.queue[self.hand] = None;
                    self.len -= 1;
                    self.hand += 1;
                    return;
                }
                None => self.hand += 1,
            }
        }
    }

    /// Drops the evicted holes once they are half the queue (the hand's
    /// position is carried over).
    fn compact(&mut self) {
        if self.queue.len() < 2 * self.len.max(16) {
            return;
        }
        let mut hand = 0;
        let mut kept = Vec::with_capacity(self.len * 2);
        for (i, slot) in self.queue.drain(..).enumerate() {
            if i == self.hand {
                hand = kept.len();
            }
            if let Some(s) = slot {
                kept.push(Some(s));
            }
        }
        self.queue = kept;
        self.hand = hand;
        self.index = self
            .queue
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|(k, _)| (k, i)))
            .collect();
    }
}

impl Policy for Sieve {
    fn name(&self) -> &'static str {
        "SIEVE"
    }

    fn access(&mut self, block: u64) -> bool {
        if let Some(&i) = self.index.get(&block) {
            if let Some((_, visited)) = &mut self.queue[i] {
                *visited = true;
            }
            return true;
        }
        if self.len == self.capacity {
            self.evict();
        }
        self.index.insert(block, self.queue.len());
        self.queue.push(Some((block, false)));
        self.len += 1;
        self.compact();
        false
    }
}

/// S3-FIFO (Yang et al., SOSP 2023): a small FIFO (10% of the capacity) that
/// new blocks enter, a main FIFO, and a ghost FIFO of blocks evicted from the
/// small one. A hit counts up to 3. Leaving the small FIFO, a block seen
/// again moves to the main one, others become ghosts; a block whose ghost is
/// found enters the main FIFO directly. The main FIFO reinserts a block with
/// a count, one less each time.
pub struct S3Fifo {
    small_cap: usize,
    main_cap: usize,
    small: VecDeque<u64>,
    main: VecDeque<u64>,
    ghost: VecDeque<u64>,
    ghosts: HashMap<u64, u32>,
    /// Resident blocks and their counts.
    freq: HashMap<u64, u8>,
}

impl S3Fifo {
    /// A cache of `capacity` blocks.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let small_cap = (capacity / 10).max(1);
        S3Fifo {
            small_cap,
            main_cap: capacity - small_cap,
            small: VecDeque::new(),
            main: VecDeque::new(),
            ghost: VecDeque::new(),
            ghosts: HashMap::new(),
            freq: HashMap::new(),
        }
    }

    fn remember_ghost(&mut self, key: u64) {
        self.ghost.push_back(key);
        *self.ghosts.entry(key).or_default() += 1;
        while self.ghost.len() > self.main_cap {
            if let Some(old) = self.ghost.pop_front() {
                if let Some(n) = self.ghosts.get_mut(&old) {
                    *n -= 1;
                    if *n == 0 {
                        self.ghosts.remove(&old);
                    }
                }
            }
        }
    }

    fn evict_main(&mut self) {
        while let Some(key) = self.main.pop_front() {
            let f = self.freq.get(&key).copied().unwrap_or(0);
            if f > 0 {
                self.freq.insert(key, f - 1);
                self.main.push_back(key);
            } else {
                self.freq.remove(&key);
                return;
            }
        }
    }

    fn evict_small(&mut self) {
        while let Some(key) = self.small.pop_front() {
            let f = self.freq.get(&key).copied().unwrap_or(0);
            if f > 1 {
                self.freq.insert(key, 0);
                self.main.push_back(key);
                if self.main.len() > self.main_cap {
                    self.evict_main();
                }
            } else {
                self.freq.remove(&key);
                self.remember_ghost(key);
                return;
            }
        }
    }

    fn make_room(&mut self) {
        if self.small.len() + self.main.len() < self.small_cap + self.main_cap {
            return;
        }
        if self.small.len() >= self.small_cap {
            self.evict_small();
        } else {
            self.evict_main();
        }
    }
}

impl Policy for S3Fifo {
    fn name(&self) -> &'static str {
        "S3-FIFO"
    }

    fn access(&mut self, block: u64) -> bool {
        if let Some(f) = self.freq.get_mut(&block) {
            *f = (*f + 1).min(3);
            return true;
        }
        self.make_room();
        if self.ghosts.contains_key(&block) {
            self.main.push_back(block);
        } else {
            self.small.push_back(block);
        }
        self.freq.insert(block, 0);
        false
    }
}

/// CLOCK with a two-bit count per slot: a hit counts up to 3, the hand
/// takes one off as it passes and evicts at zero. What depcache's CLOCK
/// would become with one more bit of reference history.
pub struct Clock2 {
    slots: Vec<Option<(u64, u8)>>,
    index: HashMap<u64, usize>,
    hand: usize,
}

impl Clock2 {
    /// A cache of `capacity` blocks.
    pub fn new(capacity: usize) -> Self {
        Clock2 {
            slots: vec![None; capacity.max(1)],
            index: HashMap::new(),
            hand: 0,
        }
    }
}

impl Policy for Clock2 {
    fn name(&self) -> &'static str {
        "CLOCK-2bit"
    }

    fn access(&mut self, block: u64) -> bool {
        if let Some(&i) = self.index.get(&block) {
            if let Some((_, c)) = &mut self.slots[i] {
                *c = (*c + 1).min(3);
            }
            return true;
        }
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            match &mut self.slots[i] {
                Some((_, c)) if *c > 0 => *c -= 1,
                slot => {
                    if let Some((old, _)) = slot.take() {
                        self.index.remove(&old);
                    }
                    *slot = Some((block, 0));
                    self.index.insert(block, i);
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::{replay, Lru};

    fn all(capacity: usize) -> Vec<Box<dyn Policy>> {
        vec![
            Box::new(Sieve::new(capacity)),
            Box::new(S3Fifo::new(capacity)),
            Box::new(Clock2::new(capacity)),
        ]
    }

    #[test]
    fn they_hold_what_fits_and_never_more() {
        for mut p in all(10) {
            let keys: Vec<u64> = (0..10).chain(0..10).collect();
            let r = replay(p.as_mut(), &keys);
            // S3-FIFO's small queue holds one of ten: the first pass evicts.
            assert!(r.hits >= 9, "{}: {} hits", p.name(), r.hits);
            let many: Vec<u64> = (100..10_100).collect();
            assert_eq!(replay(p.as_mut(), &many).hits, 0, "{}", p.name());
        }
    }

    #[test]
    fn a_scan_does_not_flush_s3_fifos_hot_set_as_it_does_lrus() {
        // A hot set of 50 blocks read often, then a long scan, then the hot set.
        let mut keys = Vec::new();
        for _ in 0..20 {
            keys.extend(0..50u64);
        }
        keys.extend(1_000..3_000u64);
        keys.extend(0..50u64);
        let lru = replay(&mut Lru::new(100), &keys).hits;
        let s3 = replay(&mut S3Fifo::new(100), &keys).hits;
        assert!(s3 >= lru + 45, "S3-FIFO: {s3} hits, LRU {lru}");
    }
}
