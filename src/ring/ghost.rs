//! [`Ghost`]: the ghost FIFO of S3-FIFO, as a table of key fingerprints.
//!
//! An entry evicted from probation leaves its key's fingerprint here; a key
//! inserted again while its fingerprint is still here skips probation (it was
//! wanted twice within a ghost's lifetime). One 32-bit fingerprint per bucket,
//! a bucket per slot rounded up to a power of two: a new ghost overwrites the
//! bucket's old one, so a ghost lives about as many probation evictions as
//! there are buckets, as in a FIFO of that length, without a queue or a lock.
//! A false recall (another key with the same bucket and fingerprint, about one
//! in 2^31 per lookup) only skips one entry's probation.

use crate::sync::{AtomicU32, Ordering};

pub(crate) struct Ghost {
    /// A fingerprint per bucket; 0 is none.
    fps: Box<[AtomicU32]>,
    mask: usize,
}

/// The bucket and the (non-zero) fingerprint of a key's hash.
#[inline]
fn split(hash: u64, mask: usize) -> (usize, u32) {
    (hash as usize & mask, ((hash >> 32) as u32) | 1)
}

impl Ghost {
    /// A table for a ring of `capacity` slots; empty when `buckets` is 0
    /// (no probation, so nothing to remember).
    pub(crate) fn new(buckets: usize) -> Self {
        let n = if buckets == 0 { 0 } else { buckets.next_power_of_two() };
        Ghost {
            fps: (0..n).map(|_| AtomicU32::new(0)).collect(),
            mask: n.saturating_sub(1),
        }
    }

    /// Remembers the key of `hash`.
    #[inline]
    pub(crate) fn remember(&self, hash: u64) {
        let (b, fp) = split(hash, self.mask);
        if let Some(at) = self.fps.get(b) {
            // Relaxed: a hint for the policy; a lost or late ghost changes
            // which queue one entry starts in, never what the cache serves.
            at.store(fp, Ordering::Relaxed);
        }
    }

    /// Starts loading the bucket of `hash` (see `sync::prefetch`): an insert
    /// into a full cache looks it up after the dependencies' nodes.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if let Some(at) = self.fps.get(split(hash, self.mask).0) {
            crate::sync::prefetch(at);
        }
    }

    /// True if the key of `hash` has a ghost, which this call removes.
    #[inline]
    pub(crate) fn recall(&self, hash: u64) -> bool {
        let (b, fp) = split(hash, self.mask);
        let Some(at) = self.fps.get(b) else {
            return false;
        };
        // Relaxed: see `remember`. A CAS, so that the ghost is used once.
        at.load(Ordering::Relaxed) == fp && at.compare_exchange(fp, 0, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_ghost_is_recalled_once_and_overwritten_by_its_bucket() {
        let g = Ghost::new(8);
        let (a, b) = (0x1234_5678_0000_0003u64, 0x9999_0000_0000_0003u64); // same bucket
        assert!(!g.recall(a));
        g.remember(a);
        assert!(g.recall(a));
        assert!(!g.recall(a), "a ghost is used once");
        g.remember(a);
        g.remember(b);
        assert!(!g.recall(a), "b took the bucket");
        assert!(g.recall(b));
    }

    #[test]
    fn an_empty_table_recalls_nothing() {
        let g = Ghost::new(0);
        g.remember(7);
        assert!(!g.recall(7));
    }
}
