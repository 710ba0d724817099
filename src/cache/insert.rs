//! Tickets, inserts, and the replacement policy that makes room for them
//! (S3-FIFO over the ring: ARCHITECTURE §6).

use core::hash::{BuildHasher, Hash};

use super::{Cache, Shared};
use crate::error::InsertError;
use crate::index::Dependent;
use crate::index::{Entry, Stamp, DEAD, INIT, LIVE, REFUSED};
use crate::map::Found;
use crate::reclaim::Guard;
use crate::stats::Counter;
use crate::sync::{fence, Arc, Ordering};
use crate::ticket::{Lease, Ticket};
use crate::{Dep, Dependency, Scope};

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Takes a ticket on `deps`: call it *before* reading the data the value is
    /// computed from, then publish with [`insert_with_ticket`](Cache::insert_with_ticket).
    ///
    /// ```
    /// use depcache::{Cache, InsertError};
    ///
    /// let cache: Cache<&str, String, &str> = Cache::new(100);
    /// let ticket = cache.ticket(["a.py"]);
    /// let content = String::from("old"); // read a.py ...
    /// cache.invalidate("a.py");           // ... while someone edits it
    /// let err = cache.insert_with_ticket("cat a.py", content, ticket).unwrap_err();
    /// assert!(matches!(err, InsertError::Stale(_)));
    /// assert_eq!(cache.get("cat a.py"), None);
    /// ```
    pub fn ticket<I>(&self, deps: I) -> Ticket<K, V, D>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
    {
        self.shared.ticket(deps)
    }

    /// Publishes `value` under `key` if none of the ticket's dependencies was
    /// invalidated since the ticket was taken; otherwise hands the value back.
    pub fn insert_with_ticket(&self, key: K, value: V, ticket: Ticket<K, V, D>) -> Result<(), InsertError<V>> {
        self.shared.insert_with_ticket(key, value, ticket)
    }

    /// Inserts `value` under `key`, depending on `deps` (a bare `D` is
    /// [`Scope::Exact`]; use [`Dep::subtree`] for a directory's contents).
    /// Replaces any previous value of `key`.
    ///
    /// The ticket is taken here, so a value computed *before* this call may be
    /// stale; use [`ticket`](Cache::ticket) or
    /// [`get_or_insert_with`](Cache::get_or_insert_with) when a write can race the
    /// computation. A value heavier than `max_weight` is not cached.
    pub fn insert<I>(&self, key: K, value: V, deps: I)
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
    {
        let sh = &self.shared;
        let guard = sh.guard();
        // The key's bucket and ghost start loading before the dependencies'
        // nodes are looked up: cold misses at full capacity, overlapped.
        let hash = sh.prefetch_for(&key);
        let lease = sh.lease_in(deps, &guard);
        // Stale: an invalidation ran between the lease above and the publication;
        // the insert is ordered before it and so is already undone. Too heavy: not
        // cacheable, as documented.
        let _ = sh.publish_hashed(hash, key, value, lease, &guard);
    }
}

impl<K, V, D, S> Shared<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    pub(crate) fn ticket<I>(&self, deps: I) -> Ticket<K, V, D>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
    {
        let mut lease = self.lease_in(deps, &self.guard());
        // SeqCst fence: pairs with the one at the start of an invalidation. If that
        // invalidation found no node (or a retiring one) for our dependency and
        // returned early, its caller's write happened before it; this fence
        // orders the ticket holder's later read of the data after that write.
        fence(Ordering::SeqCst);
        Ticket {
            index: self.index.clone(),
            g: lease.g,
            stamps: core::mem::take(&mut lease.stamps),
        }
    }

    /// The `G` and the stamps of `deps`, the nodes pinned: a ticket without
    /// its fence. Enough for a plain `insert`, whose value was computed before
    /// the call: no read of the data follows that the fence would have to
    /// order after a racing invalidation's write (the publication's own fence
    /// and re-check order the insert against the invalidation; loom models
    /// m1, m3, m6a, m6b and m9 race plain inserts).
    pub(crate) fn lease_in<'s, I>(&'s self, deps: I, guard: &Guard<'_>) -> Lease<'s, K, V, D>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
    {
        // One stamp per dependency; Subtree covers Exact.
        let mut wanted: smallvec::SmallVec<[Dep<D>; 2]> = smallvec::SmallVec::new();
        for d in deps {
            let d = d.into();
            match wanted.iter_mut().find(|w| w.dep == d.dep) {
                Some(w) => w.scope = w.scope.max(d.scope),
                None => wanted.push(d),
            }
        }
        // `G` before the generations: a bump we miss is one that comes after
        // this load, so the entry's first validation sees it. It is also the
        // entry's base against `invalidate_all`'s floor.
        let g = self.index.g();
        let stamps = wanted
            .into_iter()
            .map(|d| {
                let node = self.index.pin(&d.dep, guard);
                Stamp::read(node, d.scope == Scope::Subtree)
            })
            .collect();
        Lease {
            index: &self.index,
            g,
            stamps,
        }
    }

    pub(crate) fn insert_with_ticket(&self, key: K, value: V, ticket: Ticket<K, V, D>) -> Result<(), InsertError<V>> {
        if !Arc::ptr_eq(&ticket.index, &self.index) {
            return Err(InsertError::ForeignTicket(value));
        }
        let guard = self.guard();
        self.publish(key, value, ticket.into_lease(&self.index), &guard)
    }

    /// Publishes `value` under `key` with `lease`'s stamps, unless they moved.
    pub(crate) fn publish(
        &self,
        key: K,
        value: V,
        lease: Lease<'_, K, V, D>,
        guard: &Guard<'_>,
    ) -> Result<(), InsertError<V>> {
        let hash = self.prefetch_for(&key);
        self.publish_hashed(hash, key, value, lease, guard)
    }

    /// Hashes `key` for the entries table and starts loading its bucket's head
    /// and its ghost's bucket; returns the hash.
    #[inline]
    fn prefetch_for(&self, key: &K) -> u64 {
        let hash = self.entries.hash(key);
        self.entries.bucket_hashed(hash).prefetch();
        self.ring.ghost.prefetch(hash);
        hash
    }

    /// [`publish`](Shared::publish) of a key whose hash is `hash`, whose
    /// bucket's head the caller has started loading ([`Shared::prefetch_for`]).
    /// The bucket's first item starts loading before the slot is taken: the
    /// head and the item are cold misses at full capacity, which the map
    /// insert would otherwise take one after the other, under the bucket lock.
    pub(crate) fn publish_hashed(
        &self,
        hash: u64,
        key: K,
        value: V,
        mut lease: Lease<'_, K, V, D>,
        guard: &Guard<'_>,
    ) -> Result<(), InsertError<V>> {
        // Stale before too heavy: `TooHeavy` then says the value was valid when
        // refused, which single-flight relies on to hand it to its waiters.
        if !lease.is_valid() {
            self.stats.add(Counter::StaleInserts, 1, guard);
            return Err(InsertError::Stale(value));
        }
        let weight = self.weigh(&key, &value);
        if let Some(max_weight) = self.max_weight {
            if weight > max_weight {
                return Err(InsertError::TooHeavy {
                    value,
                    weight,
                    max_weight,
                });
            }
        }
        let expires_at = match self.ttl {
            Some(ttl) => self.time.now().saturating_add(ttl),
            None => u64::MAX,
        };
        let bucket = self.entries.bucket_hashed(hash);
        // The lease's pins move into the entry; its cleanup gives them back.
        let stamps = core::mem::take(&mut lease.stamps);
        // The entry gets a clone of the value (users put `Arc`s inside): a
        // refused insert hands ours back.
        let e = Arc::new(Entry::new(key, value.clone(), stamps, lease.g, expires_at));
        drop(lease);
        if self.weighs() {
            // Relaxed: a budget counter; `make_weight_room` re-reads it.
            self.weight.fetch_add(weight, Ordering::Relaxed);
        }
        bucket.prefetch_first(guard);
        self.place(&e, hash, guard);
        if self.max_weight.is_some() {
            // The evictions run a weigher: if one unwinds, `e` leaves its slot.
            let undo = Unplace { sh: self, e: &e, guard };
            self.make_weight_room(guard);
            core::mem::forget(undo);
        }
        // Register in the reverse index *before* publishing, then publish, then
        // re-check: an invalidation either finds the registration or is seen by
        // the re-check (the SeqCst fences on both sides).
        let id = e.id();
        for s in e.stamps.iter() {
            s.node
                .dependents()
                .register(id, Dependent::new(e.clone(), s.subtree()), guard);
        }
        // The entry this one replaces is killed only once this one is live: a
        // refused insert must leave it as it was. `old` is unlinked, and stays
        // readable while `guard` lives.
        let old = self.entries.insert_in(bucket, e.clone(), guard);
        fence(Ordering::SeqCst);
        let valid = e.stamps_valid(self.index.floor());
        // Loom builds only: the deliberately broken variant the models must catch.
        #[cfg(depcache_loom)]
        let valid = valid || crate::sync::fault::skip_publish_recheck();
        if valid && e.go_live() {
            self.stats.add(Counter::Resident, 1, guard);
            self.stats.add(Counter::Inserts, 1, guard);
            if let Some(old) = old {
                // `old` is read in place (the guard keeps it): no count taken.
                self.kill(&old, guard);
            }
            if self.max_weight.is_some() {
                // Another inserter may have skipped this entry while it was INIT:
                // once live, bring the budget back (so it holds at quiescence).
                self.make_weight_room(guard);
            }
            return Ok(());
        }
        // Stale, or killed while INIT (an invalidation, a `remove`, or a newer
        // insert of the key): this thread owns the cleanup.
        if !valid {
            e.kill_stale();
        }
        let refused = e.state() == REFUSED;
        if refused {
            // Refused as stale: put back what it displaced, unless that is gone too.
            if let Some(old) = old {
                self.restore(&e, old, guard);
            }
        } else if let Some(old) = old {
            // Removed or superseded after publishing: ordered after this insert,
            // so the entry it replaced goes as it would have.
            self.kill(&old, guard);
        }
        self.cleanup(&e, true, guard);
        if valid && !refused {
            // Superseded by a remove or a newer insert: ordered just before it.
            self.stats.add(Counter::Inserts, 1, guard);
            Ok(())
        } else {
            // Stale by our re-check, or an invalidation reached the entry before
            // it went live: that invalidation is ordered before the insert, whose
            // value may predate the change, so it is refused (and not counted by
            // the invalidation: it was never visible).
            self.stats.add(Counter::StaleInserts, 1, guard);
            Err(InsertError::Stale(value))
        }
    }

    /// Puts `old` back under its key in place of the refused entry `e`.
    fn restore(&self, e: &Arc<Entry<K, V, D>>, old: Found<'_, Entry<K, V, D>>, guard: &Guard<'_>) {
        let old = old.to_arc();
        if old.state() >= DEAD {
            return;
        }
        // Back under its key, it starts unverified like a new entry: its first
        // lookup re-checks its state.
        old.unverify();
        if self.entries.replace(e, old.clone(), guard) {
            // SeqCst fence: pairs with the one in `cleanup`. If `old` was killed
            // meanwhile, either its cleaner removes it after our write, or we see
            // its state here and remove it ourselves.
            fence(Ordering::SeqCst);
            if old.state() >= DEAD {
                self.entries.remove(&old, guard);
            }
        } else {
            // A newer insert of the key already replaced `e` in the map: `old`
            // is superseded and must go, or it would stay live in its CLOCK slot
            // with no key pointing at it (found by the `ops_threads` fuzzer:
            // "slot 1 holds entry 0 (state 1), which is not resident"). If that
            // newer insert is refused too, the key ends up empty: a miss, never
            // a stale value.
            self.kill(&old, guard);
        }
    }

    /// Puts `e` in a slot: a fresh or freed one if there is one; else, if its
    /// key goes on probation (S3-FIFO's small FIFO: it has no ghost), the slot
    /// of the entry its turn evicts; else the one of the entry the CLOCK hand
    /// evicts.
    fn place(&self, e: &Arc<Entry<K, V, D>>, hash: u64, guard: &Guard<'_>) {
        while let Some(i) = self.ring.probably_free(guard) {
            e.set_slot(i);
            if self.ring.claim(i, None, e, guard) {
                return;
            }
        }
        let turn = if self.ring.keeps_probation() && !self.ring.ghost.recall(hash) {
            self.ring.probation.turn()
        } else {
            None
        };
        let Some(turn) = turn else {
            self.run_hand(e, guard);
            return;
        };
        if let Some(j) = turn.oldest {
            if self.try_slot(j, e, Hand::Probation, guard) {
                turn.record(j);
                return;
            }
        }
        let i = self.run_hand(e, guard);
        turn.record(i);
    }

    /// Runs the CLOCK hand until `e` has a slot; returns it.
    fn run_hand(&self, e: &Arc<Entry<K, V, D>>, guard: &Guard<'_>) -> usize {
        loop {
            let i = self.ring.advance();
            if self.try_slot(i, e, Hand::Clock, guard) {
                return i;
            }
            crate::sync::spin();
        }
    }

    /// Puts `e` in slot `i` if it is empty or `hand` may take it from its entry.
    fn try_slot(&self, i: usize, e: &Arc<Entry<K, V, D>>, hand: Hand, guard: &Guard<'_>) -> bool {
        e.set_slot(i);
        match self.ring.peek(i, guard) {
            None => self.ring.claim(i, None, e, guard),
            Some(victim) => {
                if !self.sweep(&victim, Some(e), hand, guard) {
                    return false;
                }
                // Loom builds only: the deliberately broken variant the models must catch.
                #[cfg(depcache_loom)]
                if hand == Hand::Probation && crate::sync::fault::probation_rechecks_slot() {
                    let now = self.ring.peek(i, guard);
                    return self.ring.claim(i, now.as_deref(), e, guard);
                }
                // From the entry judged, by CAS: if it left and the slot was
                // taken again meanwhile, the claim fails and the hand runs.
                self.ring.claim(i, Some(&*victim), e, guard)
            }
        }
    }

    /// `hand` passes `victim`: true if its slot may be taken (it is dead, or
    /// was invalid, expired or not to be kept and has now been removed; in the
    /// last three cases the caller takes over its slot, so it is not released).
    ///
    /// `inserting`: the entry the caller is inserting, not yet published;
    /// if the victim's cleanup unwinds (it runs user code: the key's and the
    /// dependencies' `Hash`, a weigher), it gives its pins back (`Unplace`).
    fn sweep(
        &self,
        victim: &Entry<K, V, D>,
        inserting: Option<&Arc<Entry<K, V, D>>>,
        hand: Hand,
        guard: &Guard<'_>,
    ) -> bool {
        match victim.state() {
            INIT => false,
            LIVE => {
                let g = self.index.g();
                let usable = self.usable(victim, g);
                if usable && !hand.evicts(victim) {
                    return false;
                }
                // The victim's key is hashed once, for its ghost and its map
                // removal, whose bucket starts loading now (a cold miss at full
                // capacity, otherwise taken under the bucket lock). Hashing runs
                // user code: if it unwinds, `e` gives its pins back.
                let undo = inserting.map(|e| Unplace { sh: self, e, guard });
                let hash = self.entries.hash(&victim.key);
                let bucket = self.entries.bucket_hashed(hash);
                bucket.prefetch();
                // Each removal lands in exactly one counter: evicted (still usable),
                // expired (`counts_as_expired`), or stale (DEAD_STALE: an eager
                // invalidation that claimed it counts it).
                let expired = !usable && self.counts_as_expired(victim);
                let killed = if usable || expired {
                    victim.kill()
                } else {
                    victim.kill_stale()
                };
                if let Some(LIVE) = killed {
                    self.stats.sub(Counter::Resident, 1, guard);
                    if usable && hand == Hand::Probation {
                        // Evicted from probation while valid: a ghost, so that its
                        // key skips probation if it comes back soon.
                        self.ring.ghost.remember(hash);
                    }
                    self.cleanup_in(bucket, victim, false, guard);
                    if usable {
                        self.stats.add(Counter::Evictions, 1, guard);
                    } else if expired {
                        self.stats.add(Counter::Expirations, 1, guard);
                    }
                }
                core::mem::forget(undo);
                true
            }
            _dead => true,
        }
    }

    /// Evicts until the resident weight fits `max_weight`. Entries being inserted
    /// (this thread's included) are skipped, so the budget can be exceeded by at
    /// most one entry per inserting thread.
    fn make_weight_room(&self, guard: &Guard<'_>) {
        let Some(max) = self.max_weight else { return };
        // Enough steps for the hand to age every counter to zero and come back.
        let mut budget = self
            .ring
            .capacity()
            .saturating_mul(usize::from(crate::index::MAX_REFS) + 2);
        // Relaxed: see `cleanup`; a stale read costs one more or one less step.
        while self.weight.load(Ordering::Relaxed) > max && budget > 0 {
            budget -= 1;
            let i = self.ring.advance();
            let Some(victim) = self.ring.peek(i, guard) else {
                continue;
            };
            if victim.state() != LIVE {
                continue;
            }
            // If `sweep` removes the victim it leaves the slot to us; we only
            // wanted the weight back, so the slot is released, even when the
            // victim's cleanup unwinds (a weigher's panic): a dead entry left
            // in its slot waits for the hand, which probation turns may keep
            // from passing.
            let release = FreeIfDead {
                sh: self,
                i,
                victim: &victim,
                guard,
            };
            self.sweep(&victim, None, Hand::Clock, guard);
            drop(release);
        }
    }
}

/// Releases slot `i` from `victim` when dropped, if `victim` is dead by then
/// (removed by the sweep this guards, or by anyone else: the slot's `take` is
/// a CAS, so one of the releasers gets it).
struct FreeIfDead<'a, 'g, K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    sh: &'a Shared<K, V, D, S>,
    i: usize,
    victim: &'a Entry<K, V, D>,
    guard: &'a Guard<'g>,
}

impl<K, V, D, S> Drop for FreeIfDead<'_, '_, K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    fn drop(&mut self) {
        if self.victim.state() >= DEAD {
            self.sh.ring.release(self.i, self.victim, self.guard);
        }
    }
}

/// Who passes an entry, and so what keeps it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hand {
    /// The CLOCK hand: a hit since its last pass keeps the entry (the pass
    /// takes one off its counter).
    Clock,
    /// The probation queue's turn: the entry stays if it was hit
    /// [`PROMOTE_AT`] times since it went on probation, and is evicted
    /// otherwise.
    Probation,
}

/// Hits on probation that keep an entry (S3-FIFO's move to the main FIFO).
const PROMOTE_AT: u8 = 1;

impl Hand {
    /// True if `victim`, valid, is to be evicted.
    fn evicts<K, V, D>(self, victim: &Entry<K, V, D>) -> bool
    where
        K: Send + Sync + 'static,
        V: Send + Sync + 'static,
        D: Dependency,
    {
        match self {
            Hand::Clock => victim.age(),
            Hand::Probation => {
                if victim.hits() < PROMOTE_AT {
                    return true;
                }
                victim.reset_hits();
                false
            }
        }
    }
}

/// Undoes an insert's steps before it registers and publishes its entry `e`,
/// if the insert unwinds there (a weigher or a `Hash` that panics in the
/// cleanup of an entry it evicts): `e` leaves its CLOCK slot if it is in one
/// (one stuck there, still INIT, would never be evicted), and its nodes get
/// their pins back (the lease's pins moved into `e`, and dropping `e` does not
/// unpin). The weight counter keeps `e`'s weight (asking the weigher again
/// while unwinding could panic twice). Forgotten on success.
struct Unplace<'a, 'g, K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    sh: &'a Shared<K, V, D, S>,
    e: &'a Arc<Entry<K, V, D>>,
    guard: &'a Guard<'g>,
}

impl<K, V, D, S> Drop for Unplace<'_, '_, K, V, D, S>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    fn drop(&mut self) {
        let i = self.e.slot();
        // The slot is set before the entry is put in it (`u32::MAX` before);
        // `release` empties it only if it holds `e`.
        if i < self.sh.ring.capacity() {
            self.sh.ring.release(i, self.e, self.guard);
            // The victim whose cleanup unwound is dead in slot `i`: the slot goes
            // to the free set now, not when the CLOCK hand next passes (while
            // probation turns reuse one another's slots, it may not pass soon).
            if let Some(v) = self.sh.ring.peek(i, self.guard) {
                if v.state() >= DEAD {
                    self.sh.ring.release(i, &v, self.guard);
                }
            }
        }
        self.sh.index.release(&self.e.stamps);
    }
}
