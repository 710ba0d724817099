//! A cache entry: its value, the stamps it was computed under, and its state.

use core::hash::Hash;

use super::{BumpSet, Stamp, Stamps};
use crate::map::{Keyed, Link, Linked};
use crate::sync::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use crate::Dependency;

/// Not yet published: its inserter owns its cleanup.
pub(crate) const INIT: u8 = 0;
/// Published and counted in `len`.
pub(crate) const LIVE: u8 = 1;
/// Removed; its cleanup is done or under way by the thread that set it.
pub(crate) const DEAD: u8 = 2;
/// Removed, while live, because it was found stale (an invalidation or a lookup
/// that saw its stamps move). An eager invalidation that claimed it counts it.
pub(crate) const DEAD_STALE: u8 = 3;
/// Found stale while still INIT (by its inserter's re-check, or by an eager
/// invalidation that reached its registration before it went live): the insert
/// is refused, and the entry it replaced must come back, as if the refused
/// insert never happened. Never counted as invalidated: it was never visible.
pub(crate) const REFUSED: u8 = 4;

/// Largest CLOCK counter (2 bits).
pub(crate) const MAX_REFS: u8 = 3;

/// An entry, which is also the entries table's node (it holds its key and the
/// link to the next entry of its bucket). `repr(C)`, the fields a hit reads
/// first: `live_at`, the link (on a walk past it), the slot, key and value.
#[repr(C)]
pub(crate) struct Entry<K, V, D> {
    /// The entry's base, and the lookups' validation cache. Without the
    /// [`UNVERIFIED`] bit it is a `G` at which a lookup (or the hand) that
    /// loaded that `G` found the entry LIVE *and* valid; the fast path answers
    /// when it equals the current `G`. It starts as its ticket's `G` under the
    /// bit, so the first lookup after an insert takes the slow path, which
    /// checks the state (an INIT entry may yet be refused, and must stay a
    /// miss). Either way the value without the bit is the entry's *base*: a `G`
    /// at which it was valid, which `invalidate_all`'s floor is compared with
    /// (one floor in the index, not an epoch stored in every entry).
    live_at: AtomicU64,
    link: Link<Self>,
    /// The CLOCK slot holding this entry (written before the slot is published).
    slot: AtomicU32,
    state: AtomicU8,
    /// Set by the one eager invalidation call that counts this entry (in the
    /// padding after `state`: a flag, not the call's id, which only decided who
    /// won the CAS).
    claimed: AtomicU8,
    /// The CLOCK counter: raised by hits, lowered by the hand (in the padding
    /// too). In the entry, not in an array beside the ring: a hit reads this
    /// line anyway, and the hand loads the entry before aging it (an array
    /// costs a hit one more line, and puts 64 entries' counters on one).
    refs: AtomicU8,
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) expires_at: u64,
    pub(crate) stamps: Stamps<K, V, D>,
}

/// Set in `live_at` while no lookup has validated the entry; no `G` reaches
/// it (`G` counts invalidations: 2^63 of them would take centuries).
pub(crate) const UNVERIFIED: u64 = 1 << 63;

impl<K, V, D> Linked for Entry<K, V, D> {
    #[inline(always)]
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

impl<K: Hash + Eq, V, D> Keyed for Entry<K, V, D> {
    type Key = K;
    #[inline(always)]
    fn key(&self) -> &K {
        &self.key
    }
}

impl<K, V, D> Entry<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    pub(crate) fn new(key: K, value: V, stamps: Stamps<K, V, D>, g: u64, expires_at: u64) -> Self {
        // Loom builds only: the deliberately broken variant the models must catch.
        #[cfg(depcache_loom)]
        let live_at = if crate::sync::fault::hot_starts_verified() {
            g
        } else {
            g | UNVERIFIED
        };
        #[cfg(not(depcache_loom))]
        let live_at = g | UNVERIFIED;
        Entry {
            live_at: AtomicU64::new(live_at),
            link: Link::null(),
            key,
            value,
            stamps,
            expires_at,
            state: AtomicU8::new(INIT),
            slot: AtomicU32::new(u32::MAX),
            claimed: AtomicU8::new(0),
            refs: AtomicU8::new(0),
        }
    }

    /// True while no dependency moved. `g` is the global counter loaded
    /// (Acquire) *before* this call: an invalidation bumps its generations
    /// before `G`, so if `g` is the latest value, every invalidation counted in
    /// it is visible. If the entry is LIVE, the verdict is recorded in `live_at`
    /// (never for an INIT entry: its insert may yet be refused).
    #[inline]
    pub(crate) fn is_valid(&self, g: u64, floor: impl FnOnce() -> u64) -> bool {
        if self.live_at(g) {
            return true;
        }
        if !self.stamps_valid(floor()) {
            return false;
        }
        // A LIVE entry never becomes INIT again, so LIVE now means the mark
        // stays true to its meaning whatever happens to the state next.
        if self.state() == LIVE {
            self.set_live_at(g);
        }
        true
    }

    /// Walks the stamps (no fast path). `floor` is `invalidate_all`'s, loaded
    /// after the caller's `G`.
    pub(crate) fn stamps_valid(&self, floor: u64) -> bool {
        self.base() >= floor && self.stamps.iter().all(Stamp::unchanged)
    }

    /// Valid but for the bumps of `set` (this entry was live just before them).
    pub(crate) fn valid_before(&self, set: &BumpSet<'_, K, V, D>, floor: u64) -> bool {
        self.base() >= floor
            && self
                .stamps
                .iter()
                .all(|s| s.unchanged_but(set.delta(&s.node, s.subtree())))
    }

    pub(crate) fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    pub(crate) fn state(&self) -> u8 {
        // Acquire: a thread that sees DEAD also sees the cleanup decisions before it.
        self.state.load(Ordering::Acquire)
    }

    /// INIT or LIVE → DEAD. Returns the state it replaced, or `None` if it was
    /// already DEAD. Exactly one caller wins per entry.
    pub(crate) fn kill(&self) -> Option<u8> {
        self.kill_as(DEAD)
    }

    /// [`kill`](Entry::kill), recording that the entry was found stale.
    pub(crate) fn kill_stale(&self) -> Option<u8> {
        self.kill_as(DEAD_STALE)
    }

    fn kill_as(&self, dead: u8) -> Option<u8> {
        // AcqRel: the winner's cleanup must follow everything the publisher did.
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur >= DEAD {
                return None;
            }
            let next = if dead == DEAD_STALE && cur == INIT {
                REFUSED
            } else {
                dead
            };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(cur),
                Err(now) => cur = now,
            }
        }
    }

    /// Claims the entry for the count of the calling eager invalidation; true
    /// for the one call that gets it.
    pub(crate) fn claim(&self) -> bool {
        // Relaxed: the claim only decides who counts; it orders no data.
        self.claimed
            .compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// True once some eager invalidation call claimed the entry.
    pub(crate) fn is_claimed(&self) -> bool {
        // Relaxed: see `claim`; a stale 0 only means the caller tries the CAS.
        self.claimed.load(Ordering::Relaxed) != 0
    }

    /// INIT → LIVE, by the inserter; false if someone killed it first.
    pub(crate) fn go_live(&self) -> bool {
        // AcqRel: as `kill`.
        self.state
            .compare_exchange(INIT, LIVE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn slot(&self) -> usize {
        // Relaxed: written before the slot CAS that publishes this entry, read by
        // threads that reached the entry through that slot or the map (both
        // publish with Release/Acquire).
        self.slot.load(Ordering::Relaxed) as usize
    }

    pub(crate) fn set_slot(&self, i: usize) {
        // Relaxed: see `slot`. `i` < capacity ≤ u32::MAX (checked by the builder).
        self.slot.store(i as u32, Ordering::Relaxed);
    }

    /// A hit: raises the CLOCK counter, writing only if it changes.
    #[inline]
    pub(crate) fn touch(&self) {
        // Relaxed: the counter is a hint for the eviction policy; a lost update
        // changes which entry is evicted, never correctness.
        let n = self.refs.load(Ordering::Relaxed);
        if n < MAX_REFS {
            self.refs.store(n + 1, Ordering::Relaxed);
        }
    }

    /// The CLOCK counter: hits since the hand last passed (at most [`MAX_REFS`]).
    pub(crate) fn hits(&self) -> u8 {
        // Relaxed: see `touch`.
        self.refs.load(Ordering::Relaxed)
    }

    /// Clears the CLOCK counter.
    pub(crate) fn reset_hits(&self) {
        // Relaxed: see `touch`.
        self.refs.store(0, Ordering::Relaxed);
    }

    /// The hand passes: lowers the CLOCK counter; true if it was already zero.
    pub(crate) fn age(&self) -> bool {
        // Relaxed: see `touch`.
        let n = self.refs.load(Ordering::Relaxed);
        if n == 0 {
            return true;
        }
        self.refs.store(n - 1, Ordering::Relaxed);
        false
    }

    /// The entry's address: its key in the reverse index (the same as
    /// `Arc::as_ptr` of its `Arc`, and a registration's pointer).
    pub(crate) fn id(&self) -> usize {
        (self as *const Self).addr()
    }
}

impl<K, V, D> Entry<K, V, D> {
    /// True if a lookup that loaded `g` already found the entry live and valid.
    #[inline(always)]
    pub(crate) fn live_at(&self, g: u64) -> bool {
        // Relaxed: the value only ever holds a `G` at which a lookup that loaded
        // that `G` (Acquire) found the entry LIVE and valid; equal to the current
        // `G` means no invalidation completed since, whatever we read it with.
        self.live_at.load(Ordering::Relaxed) == g
    }

    /// A `G` at which the entry was valid: its ticket's, or one a lookup
    /// validated it at. `invalidate_all` invalidates it if it publishes a `G`
    /// above this one.
    ///
    /// Why a validated `G` can stand in for the ticket's: the lookup that
    /// stored it loaded that `G` (Acquire) before the floor, and every floor up
    /// to that `G` was raised before it was published, so the lookup saw each
    /// of those floors at or below the base it checked.
    pub(crate) fn base(&self) -> u64 {
        // Relaxed: every value ever stored is a valid base (the ticket's `G`,
        // or one a lookup validated at), whichever of them we read; the caller
        // loaded `G` (Acquire) before, and compares with a floor loaded after.
        self.live_at.load(Ordering::Relaxed) & !UNVERIFIED
    }

    /// Records that a lookup that loaded `g` found the entry LIVE and valid
    /// (only [`is_valid`](Entry::is_valid) calls it, after seeing both).
    fn set_live_at(&self, g: u64) {
        // Relaxed: see `live_at` and `base`; a late smaller store only costs
        // a slow path, and leaves a base that was valid.
        self.live_at.store(g, Ordering::Relaxed);
    }

    /// Forgets the lookups' verdict, keeping the base: the next lookup takes
    /// the slow path (an entry put back under its key by a refused insert).
    pub(crate) fn unverify(&self) {
        // Relaxed: see `live_at`; this only sends lookups to the slow path.
        self.live_at.fetch_or(UNVERIFIED, Ordering::Relaxed);
    }
}
