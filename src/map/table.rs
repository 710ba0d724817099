//! [`Table`]: keys → items, where the item *is* the table's node: the entries
//! table (key → entry) and the dependency index (dependency → index node).
//!
//! papaya keeps its own node per key (a copy of the key and of the value), so an
//! entry in a papaya map is two objects: papaya's node and the `Arc<Entry>` it
//! points to, each with its own cache misses and its own allocation. Here an item
//! carries its key and the link to the next item of its bucket, and the table
//! is an array of bucket heads: a hit reads the head and the entry, nothing
//! else, and finding an index node reads the head and the node (through papaya
//! it is four dependent loads: its metadata byte, its slot, its boxed pair,
//! then the node).
//!
//! # The protocol
//!
//! * The bucket array never grows: it has one head per entry the cache may hold
//!   (rounded up to a power of two), so chains stay short without a resize — the
//!   cache bounds what the entries table holds (live entries, plus one in-flight
//!   entry per inserting thread). The index's table has a head per four
//!   entries the cache may hold, and about as many nodes as there are distinct
//!   dependencies (more with the directories of path dependencies and with
//!   tickets): more nodes than heads make longer chains, never a failure.
//! * **Readers take no lock**: they load the head and follow the links, each
//!   load `Acquire` (through the seize guard's `protect`), and compare keys.
//! * **Writers lock the bucket**: bit 0 of the head is a spin lock. Under it a
//!   writer links a new item (its link set before the `Release` store that
//!   publishes it), or unlinks one by pointing its predecessor past it. An
//!   unlinked item's own link is left as it was, so a reader standing on it
//!   walks on into the chain.
//! * The table owns one strong count of every linked item. Unlinking never
//!   drops that count: it is retired to the seize collector, which drops it
//!   once every guard that might have read the pointer is gone. A reader under
//!   a guard may therefore follow any pointer it loaded, and take its own count
//!   ([`Found::to_arc`]) while the table's is still held.
//!
//! Why a reader that stands on an unlinked item is safe: the link it reads
//! next points to an item that was linked when its predecessor was last
//! unlinked (or is linked now), which was after the reader pinned its guard
//! (it reached the predecessor through links read under that guard); so that
//! item's count is retired, if at all, after the guard began, and not dropped
//! while the guard lives. By the same walk, a lookup of a key that stays
//! linked for the whole lookup finds it: no write ever moves an item, and
//! replacing an item links its successor to the new item before the new item
//! is published.
//!
//! Linearization points: a lookup at its load of the link that led it to the
//! item it returns (or at the load of a null link); an insert, a replacement
//! or a removal at its `Release` store into the predecessor's link or the head.
//!
//! Under loom the same code runs on loom's atomics (a pointer is kept as an
//! address in a shadowed `AtomicUsize`), keys are hashed with a fixed hasher so
//! that replays are deterministic, and retired counts are kept until the table
//! is dropped (as if reclamation were infinitely lazy, which it may be).

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use crate::reclaim::Guard;
use crate::sync::Arc;

/// An item the table can link: it holds the link to the next item of its bucket.
pub(crate) trait Linked: Sized {
    fn link(&self) -> &Link<Self>;
}

/// An item the table can find: it holds its key too.
pub(crate) trait Keyed: Linked {
    type Key: Hash + Eq;
    fn key(&self) -> &Self::Key;
}

pub(crate) use link::Link;

/// Bit 0 of a bucket head: a writer holds the bucket (items are at least
/// 8-aligned, so no pointer has it).
const LOCKED: usize = 1;

#[cfg(not(depcache_loom))]
mod link {
    use core::ptr;

    use seize::Guard as _;

    use super::super::Guard;
    use crate::sync::{AtomicPtr, Ordering};

    /// A pointer to the next item of a bucket (or, in a head, to the first).
    pub(crate) struct Link<T>(AtomicPtr<T>);

    impl<T> Link<T> {
        pub(crate) fn null() -> Self {
            Link(AtomicPtr::new(ptr::null_mut()))
        }

        /// A reader's load: `Acquire` pairs with the `Release` store that linked
        /// the item, so its fields (and its own link) are visible; `protect`
        /// adds what the collector needs to see this load before a retirement.
        #[inline(always)]
        pub(crate) fn read(&self, guard: &Guard<'_>) -> *mut T {
            guard.protect(&self.0, Ordering::Acquire)
        }

        /// A load by the writer holding the bucket's lock.
        #[inline]
        pub(crate) fn read_locked(&self) -> *mut T {
            // Relaxed: every write to a bucket's links happens under its lock,
            // and taking the lock (Acquire) ordered us after the last of them.
            self.0.load(Ordering::Relaxed)
        }

        /// Links `p` here, publishing it and everything written before.
        #[inline]
        pub(crate) fn publish(&self, p: *mut T) {
            // Release: a reader that loads `p` (Acquire) sees the item's fields
            // and its link, and the next holder of the lock sees our changes.
            self.0.store(p, Ordering::Release);
        }

        /// Sets the link of an item not yet published.
        #[inline]
        pub(crate) fn init(&self, p: *mut T) {
            // Relaxed: the item is published by a later `publish` (Release).
            self.0.store(p, Ordering::Relaxed);
        }

        /// Takes the lock bit if it is clear; the head's pointer on success.
        #[inline]
        pub(crate) fn try_lock(&self) -> Option<*mut T> {
            // Relaxed load: a hint; the CAS decides.
            let cur = self.0.load(Ordering::Relaxed);
            if cur.addr() & super::LOCKED != 0 {
                return None;
            }
            // Acquire: pairs with the Release of the previous holder's unlock
            // (`publish`), so its changes to the chain are visible to us.
            self.0
                .compare_exchange_weak(
                    cur,
                    cur.map_addr(|a| a | super::LOCKED),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .ok()
        }
    }
}

#[cfg(depcache_loom)]
mod link {
    use super::super::Guard;
    use crate::sync::{AtomicUsize, Ordering};

    /// Under loom: the pointer's address in a loom atomic (same orderings).
    pub(crate) struct Link<T>(AtomicUsize, core::marker::PhantomData<*mut T>);

    // SAFETY: as `AtomicPtr<T>`, which is `Send + Sync` for every `T`; the
    // table only shares `T`s that are `Send + Sync` (`Linked`).
    unsafe impl<T> Send for Link<T> {}
    // SAFETY: see `Send`.
    unsafe impl<T> Sync for Link<T> {}

    impl<T> Link<T> {
        pub(crate) fn null() -> Self {
            Link(AtomicUsize::new(0), core::marker::PhantomData)
        }

        pub(crate) fn read(&self, _guard: &Guard<'_>) -> *mut T {
            // Acquire: as the real `read`.
            self.0.load(Ordering::Acquire) as *mut T
        }

        pub(crate) fn read_locked(&self) -> *mut T {
            // Relaxed: as the real `read_locked`.
            self.0.load(Ordering::Relaxed) as *mut T
        }

        pub(crate) fn publish(&self, p: *mut T) {
            // Release: as the real `publish`.
            self.0.store(p as usize, Ordering::Release);
        }

        pub(crate) fn init(&self, p: *mut T) {
            // Relaxed: as the real `init`.
            self.0.store(p as usize, Ordering::Relaxed);
        }

        pub(crate) fn try_lock(&self) -> Option<*mut T> {
            // Relaxed, then Acquire: as the real `try_lock`.
            let cur = self.0.load(Ordering::Relaxed);
            if cur & super::LOCKED != 0 {
                return None;
            }
            self.0
                .compare_exchange_weak(cur, cur | super::LOCKED, Ordering::Acquire, Ordering::Relaxed)
                .ok()
                .map(|p| p as *mut T)
        }
    }
}

/// Clears the lock bit.
#[inline(always)]
fn untag<T>(p: *mut T) -> *mut T {
    p.map_addr(|a| a & !LOCKED)
}

/// An item found in the table, valid while the guard it was found under lives.
/// A raw pointer (as loaded, from `Arc::into_raw`), not a reference: `to_arc`
/// must reach the `Arc`'s counts, outside the `T` a reference would cover.
pub(crate) struct Found<'g, T>(*const T, PhantomData<&'g T>);

impl<T> Clone for Found<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Found<'_, T> {}

impl<T> core::ops::Deref for Found<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the item lives while the guard `'g` borrows lives (see `to_arc`).
        unsafe { &*self.0 }
    }
}

impl<'g, T> Found<'g, T> {
    /// A strong count of our own on the item.
    pub(crate) fn to_arc(self) -> Arc<T> {
        let p = self.0;
        // SAFETY: every item the table ever linked came from `Arc::into_raw`
        // (`insert`, `replace`), and `Found` only comes from loads under a
        // guard that still lives (its lifetime): the count the table held when
        // we loaded the pointer is retired, if at all, and dropped only after
        // that guard ends, so the count is at least one while we add ours.
        unsafe { crate::sync::arc_clone_raw(p) }
    }

    /// The item, borrowed for as long as the guard it was found under.
    #[inline(always)]
    pub(crate) fn get(self) -> &'g T {
        // SAFETY: as in `Deref`: the item lives while the guard `'g` borrows lives.
        unsafe { &*self.0 }
    }

    /// True if this is `other` (same allocation).
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn is(self, other: &T) -> bool {
        core::ptr::eq(self.0, other)
    }
}

/// A key's bucket (see [`Table::bucket`]).
pub(crate) struct Bucket<'t, T>(&'t Link<T>);

/// The buckets of a batch of items, in order (an invalidation's usual
/// batch inline).
pub(crate) type Buckets<'t, T> = smallvec::SmallVec<[Bucket<'t, T>; 16]>;

impl<T> Clone for Bucket<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Bucket<'_, T> {}

impl<T> Bucket<'_, T> {
    /// Starts loading the bucket's head (see `sync::prefetch`).
    #[inline(always)]
    pub(crate) fn prefetch(self) {
        crate::sync::prefetch(self.0);
    }

    /// Starts loading the bucket's first item, if it has one: an insert's
    /// walk of the chain compares its key with each item's, and at full
    /// capacity the first item is a cold miss taken under the bucket lock.
    /// Called early enough that the head has arrived (after
    /// [`prefetch`](Bucket::prefetch)), so this load does not wait long.
    #[inline(always)]
    pub(crate) fn prefetch_first(self, guard: &Guard<'_>) {
        #[cfg(not(depcache_loom))]
        {
            let first = untag(self.0.read(guard));
            if !first.is_null() {
                // Only the address is used: prefetching reads nothing through it.
                crate::sync::prefetch(first.cast_const());
            }
        }
        #[cfg(depcache_loom)]
        let _ = guard;
    }
}

/// A bucket's writer lock, released (with the bucket's new first item) on drop.
struct Locked<'t, T> {
    head: &'t Link<T>,
    first: *mut T,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // Unlock: the head gets the (possibly new) first item, bit 0 clear.
        self.head.publish(self.first);
    }
}

/// Keys → items; see the module documentation.
pub(crate) struct Table<T: Linked, S> {
    heads: Box<[Link<T>]>,
    mask: usize,
    #[cfg_attr(depcache_loom, allow(dead_code))]
    hasher: S,
    /// Counts unlinked under loom, dropped with the table.
    #[cfg(depcache_loom)]
    retired: std::sync::Mutex<Vec<Arc<T>>>,
    _owns: PhantomData<Arc<T>>,
}

impl<T: Keyed, S: BuildHasher> Table<T, S> {
    /// A table with a head for each of `capacity` items (rounded up to a power
    /// of two).
    pub(crate) fn new(capacity: usize, hasher: S) -> Self {
        let n = capacity.max(1).next_power_of_two();
        Table {
            heads: (0..n).map(|_| Link::null()).collect(),
            mask: n - 1,
            hasher,
            #[cfg(depcache_loom)]
            retired: Default::default(),
            _owns: PhantomData,
        }
    }

    /// `key`'s hash, as the table places it.
    #[inline(always)]
    pub(crate) fn hash<Q: ?Sized + Hash>(&self, key: &Q) -> u64 {
        #[cfg(not(depcache_loom))]
        let h = self.hasher.hash_one(key);
        // Under loom: a fixed hasher, so that every replay hashes alike.
        #[cfg(depcache_loom)]
        let h = core::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key);
        h
    }

    #[inline(always)]
    fn head<Q: ?Sized + Hash>(&self, key: &Q) -> &Link<T> {
        self.bucket_hashed(self.hash(key)).0
    }

    /// The bucket of the key whose [`hash`](Table::hash) is `hash`.
    #[inline(always)]
    pub(crate) fn bucket_hashed(&self, hash: u64) -> Bucket<'_, T> {
        // The mask keeps the index in bounds.
        Bucket(&self.heads[hash as usize & self.mask])
    }

    /// The bucket of `key`: hash once, then prefetch and look up in it.
    #[inline(always)]
    pub(crate) fn bucket<Q: ?Sized + Hash>(&self, key: &Q) -> Bucket<'_, T> {
        Bucket(self.head(key))
    }

    /// The item under `key`, if any.
    #[inline(always)]
    pub(crate) fn get<'g, Q>(&self, key: &Q, guard: &'g Guard<'_>) -> Option<Found<'g, T>>
    where
        T: 'g,
        T::Key: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.get_in(self.bucket(key), key, guard)
    }

    /// The item under `key` in `bucket`, which must be `key`'s.
    #[inline(always)]
    pub(crate) fn get_in<'g, Q>(&self, bucket: Bucket<'_, T>, key: &Q, guard: &'g Guard<'_>) -> Option<Found<'g, T>>
    where
        T: 'g,
        T::Key: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.get_in_touching(bucket, key, guard, |_| ())
    }

    /// [`get_in`](Table::get_in), calling `touch` on each item's address
    /// before reading the item: to start loading the lines of an item larger
    /// than one (the index's nodes) at once, rather than one after the other
    /// as the caller reaches their fields.
    #[inline(always)]
    pub(crate) fn get_in_touching<'g, Q>(
        &self,
        bucket: Bucket<'_, T>,
        key: &Q,
        guard: &'g Guard<'_>,
        touch: impl Fn(*const T),
    ) -> Option<Found<'g, T>>
    where
        T: 'g,
        T::Key: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let mut p = untag(bucket.0.read(guard));
        while !p.is_null() {
            touch(p);
            // SAFETY: `p` was loaded under `guard` from a head or a link (see the
            // module documentation): the item's count is dropped only after
            // `guard` ends, and `'g` borrows the guard.
            let item: &'g T = unsafe { &*p };
            if item.key().borrow() == key {
                return Some(Found(p, PhantomData));
            }
            p = item.link().read(guard);
        }
        None
    }

    /// Starts loading what unlinking each of `items` will read under its
    /// bucket's lock: the bucket's head, then the items in front of it.
    ///
    /// An unlink locks the head, then walks the chain to the item's predecessor:
    /// in a large table each item in front of it is a cold miss, taken one after
    /// the other while the lock is held. Here every chain of a batch advances one
    /// step per round, so the misses of all the chains overlap. It only reads,
    /// lock-free under `guard` like a lookup, so a chain that changes meanwhile
    /// costs a wasted prefetch, never a wrong result. Loom builds skip the walk
    /// (no effect to model, and every load would multiply the interleavings).
    ///
    /// Returns each item's bucket, in order, for [`remove_in`](Table::remove_in)
    /// (a key is hashed once: a string key costs some 70 instructions).
    pub(crate) fn prefetch_paths<A: core::ops::Deref<Target = T>>(
        &self,
        items: &[A],
        guard: &Guard<'_>,
    ) -> Buckets<'_, T> {
        let buckets = self.prefetch_heads(items);
        self.prefetch_chains(items, &buckets, guard);
        buckets
    }

    /// The first half of [`prefetch_paths`](Table::prefetch_paths): each
    /// item's bucket, its head's load started. An invalidation calls it
    /// before its generation bumps, so the heads arrive while it bumps.
    pub(crate) fn prefetch_heads<A: core::ops::Deref<Target = T>>(&self, items: &[A]) -> Buckets<'_, T> {
        items
            .iter()
            .map(|item| {
                let bucket = self.bucket(item.key());
                bucket.prefetch();
                bucket
            })
            .collect()
    }

    /// The second half of [`prefetch_paths`](Table::prefetch_paths): walks
    /// the chains of `buckets` (each `items`' bucket, in order) to each item.
    pub(crate) fn prefetch_chains<A: core::ops::Deref<Target = T>>(
        &self,
        items: &[A],
        buckets: &[Bucket<'_, T>],
        guard: &Guard<'_>,
    ) {
        debug_assert_eq!(items.len(), buckets.len());
        #[cfg(not(depcache_loom))]
        {
            /// Chains walked together (an invalidation's usual batch).
            const BATCH: usize = 16;
            /// Items in front of the wanted one followed at most (a chain is
            /// about one item long at full capacity; a longer one is rare).
            const ROUNDS: usize = 3;
            for (batch, heads) in items.chunks(BATCH).zip(buckets.chunks(BATCH)) {
                let mut at: [*mut T; BATCH] = [core::ptr::null_mut(); BATCH];
                for (p, h) in at.iter_mut().zip(heads) {
                    *p = untag(h.0.read(guard));
                }
                for _ in 0..ROUNDS {
                    let mut more = false;
                    for (p, item) in at.iter_mut().zip(batch) {
                        if p.is_null() || core::ptr::eq(*p, &**item) {
                            continue;
                        }
                        // SAFETY: `*p` was loaded under `guard` from a head or a
                        // link, as in `get_in`: its count is not dropped while
                        // `guard` lives.
                        let link = unsafe { &**p }.link();
                        crate::sync::prefetch(link);
                        *p = link.read(guard);
                        more = true;
                    }
                    if !more {
                        break;
                    }
                }
            }
        }
        #[cfg(depcache_loom)]
        let _ = (items, buckets, guard);
    }

    fn lock(&self, head: &Link<T>) -> *mut T {
        loop {
            if let Some(first) = head.try_lock() {
                return first;
            }
            crate::sync::spin();
        }
    }

    /// Finds the first item after `first` (inclusive) for which `pred` holds:
    /// the link that points to it (the head's stand-in `None`) and the item.
    /// The caller holds the bucket's lock.
    fn find_locked(&self, first: *mut T, mut pred: impl FnMut(&T) -> bool) -> Option<(Option<&T>, *mut T)> {
        let mut prev: Option<&T> = None;
        let mut p = first;
        while !p.is_null() {
            // SAFETY: we hold the bucket's lock, so `p` is linked and its count
            // held by the table until we unlink it.
            let item = unsafe { &*p };
            if pred(item) {
                return Some((prev, p));
            }
            prev = Some(item);
            p = item.link().read_locked();
        }
        None
    }

    /// Points the link before `old` (or the head) at `new`.
    fn relink(&self, locked: &mut Locked<'_, T>, prev: Option<&T>, new: *mut T) {
        match prev {
            None => locked.first = new,
            Some(prev) => prev.link().publish(new),
        }
    }

    /// Links the unpublished `item` (at `p`) after `prev` (or first), in front
    /// of `next`, and releases the bucket: its own link first, then the
    /// `Release` store that publishes it, so no reader ever stands on it
    /// before it leads on into the chain.
    fn link_new(&self, locked: &mut Locked<'_, T>, prev: Option<&T>, item: &T, p: *mut T, next: *mut T) {
        // Loom builds only: the deliberately broken order the models must catch.
        #[cfg(depcache_loom)]
        if crate::sync::fault::table_links_late() {
            self.relink(locked, prev, p);
            if prev.is_none() {
                // Published at once, the lock still held.
                locked.head.publish(p.map_addr(|a| a | LOCKED));
            }
            item.link().init(next);
            return;
        }
        item.link().init(next);
        self.relink(locked, prev, p);
    }

    /// Hands a count of an item to the collector, which drops it once every
    /// guard alive now is gone (under loom: when the table is dropped, as the
    /// table's own counts). For a count that some other structure owned and
    /// that readers may reach under a guard, which the caller has made
    /// unreachable there first.
    pub(crate) fn retire_count(&self, count: Arc<T>, guard: &Guard<'_>) {
        self.retire(Arc::into_raw(count), guard);
    }

    /// Hands an unlinked item's count to the collector.
    fn retire(&self, p: *const T, guard: &Guard<'_>) {
        #[cfg(not(depcache_loom))]
        {
            use seize::Guard as _;
            // SAFETY: `p` is no longer reachable from the table (we unlinked it
            // under the bucket's lock), came from `Arc::into_raw`, and its count
            // was the table's; readers that loaded it hold guards, which the
            // collector waits for before calling `release`.
            unsafe { guard.defer_retire(p.cast_mut(), release::<T>) };
        }
        #[cfg(depcache_loom)]
        {
            let _ = guard;
            // SAFETY: as above; the count moves into `retired`.
            let a = unsafe { Arc::from_raw(p) };
            // No loom operation runs under this std mutex (see `loom_map`).
            match self.retired.lock() {
                Ok(mut r) => r.push(a),
                Err(poisoned) => poisoned.into_inner().push(a),
            }
        }
    }

    /// Links `item`, replacing the item with the same key if there is one; returns
    /// the replaced item (unlinked, valid while `guard` lives). (The cache
    /// inserts through [`insert_in`](Table::insert_in), with the bucket it
    /// prefetched.)
    #[cfg(any(test, depcache_loom))]
    pub(crate) fn insert<'g>(&self, item: Arc<T>, guard: &'g Guard<'_>) -> Option<Found<'g, T>>
    where
        T: 'g,
    {
        let bucket = self.bucket(item.key());
        self.insert_in(bucket, item, guard)
    }

    /// [`insert`](Table::insert) into `bucket`, which must be the item's key's
    /// (from [`bucket`](Table::bucket) or [`bucket_hashed`](Table::bucket_hashed)
    /// with its [`hash`](Table::hash): the key is hashed once).
    pub(crate) fn insert_in<'g>(
        &self,
        bucket: Bucket<'_, T>,
        item: Arc<T>,
        guard: &'g Guard<'_>,
    ) -> Option<Found<'g, T>>
    where
        T: 'g,
    {
        let new = Arc::into_raw(item).cast_mut();
        // SAFETY: we own a count of `new`.
        let item = unsafe { &*new };
        let head = bucket.0;
        let mut locked = Locked {
            head,
            first: self.lock(head),
        };
        match self.find_locked(locked.first, |x| x.key() == item.key()) {
            None => {
                let next = locked.first;
                self.link_new(&mut locked, None, item, new, next);
                None
            }
            Some((prev, old)) => {
                // SAFETY: `old` is linked (we hold the lock), its count the table's.
                let next = unsafe { &*old }.link().read_locked();
                self.link_new(&mut locked, prev, item, new, next);
                drop(locked);
                self.retire(old, guard);
                // `old` was linked when we found it under the lock; its count is
                // now retired, so it lives until `guard` ends.
                Some(Found(old, PhantomData))
            }
        }
    }

    /// Links `item` unless an item with its key is linked; then `item` is
    /// handed back, unpublished.
    pub(crate) fn try_insert(&self, item: Arc<T>, guard: &Guard<'_>) -> Result<(), Arc<T>> {
        // Loom builds only: the deliberately broken variant, which looks for
        // the key lock-free before taking the lock instead of under it.
        #[cfg(depcache_loom)]
        let unlocked = crate::sync::fault::table_checks_unlocked();
        #[cfg(not(depcache_loom))]
        let (unlocked, _) = (false, guard);
        if unlocked && self.get(item.key(), guard).is_some() {
            return Err(item);
        }
        let head = self.head(item.key());
        let mut locked = Locked {
            head,
            first: self.lock(head),
        };
        if !unlocked && self.find_locked(locked.first, |x| x.key() == item.key()).is_some() {
            return Err(item);
        }
        let new = Arc::into_raw(item).cast_mut();
        // SAFETY: we own a count of `new`; it is not published yet.
        let item = unsafe { &*new };
        let next = locked.first;
        self.link_new(&mut locked, None, item, new, next);
        Ok(())
    }

    /// Unlinks `item` if it is linked; true if it was.
    pub(crate) fn remove(&self, item: &T, guard: &Guard<'_>) -> bool {
        self.swap(self.head(item.key()), item, None, guard)
    }

    /// [`remove`](Table::remove) in `bucket`, which must be `item`'s key's
    /// (found before, e.g. by [`prefetch_paths`](Table::prefetch_paths)).
    pub(crate) fn remove_in(&self, bucket: Bucket<'_, T>, item: &T, guard: &Guard<'_>) -> bool {
        self.swap(bucket.0, item, None, guard)
    }

    /// Links `new` in the place of `current` if `current` is linked; true if
    /// it was. `new` must have `current`'s key and must not be linked.
    pub(crate) fn replace(&self, current: &T, new: Arc<T>, guard: &Guard<'_>) -> bool {
        debug_assert!(current.key() == new.key());
        self.swap(self.head(current.key()), current, Some(new), guard)
    }

    /// `head` is `current`'s key's.
    fn swap(&self, head: &Link<T>, current: &T, new: Option<Arc<T>>, guard: &Guard<'_>) -> bool {
        let mut locked = Locked {
            head,
            first: self.lock(head),
        };
        let Some((prev, cur)) = self.find_locked(locked.first, |x| core::ptr::eq(x, current)) else {
            drop(locked);
            // `new` was never published: dropping our count is all there is.
            drop(new);
            return false;
        };
        // SAFETY: `cur` is linked (we hold the lock), its count the table's.
        let next = unsafe { &*cur }.link().read_locked();
        match new {
            Some(new) => {
                let p = Arc::into_raw(new).cast_mut();
                // SAFETY: we own a count of `p`; it is not published yet.
                self.link_new(&mut locked, prev, unsafe { &*p }, p, next);
            }
            None => self.relink(&mut locked, prev, next),
        }
        drop(locked);
        self.retire(cur, guard);
        true
    }
}

impl<T: Linked, S> Table<T, S> {
    /// Visits every item linked for the whole visit (items linked or unlinked
    /// meanwhile may or may not be seen).
    pub(crate) fn for_each<'g>(&self, guard: &'g Guard<'_>, mut f: impl FnMut(Found<'g, T>))
    where
        T: 'g,
    {
        for head in self.heads.iter() {
            let mut p = untag(head.read(guard));
            while !p.is_null() {
                f(Found(p, PhantomData));
                // SAFETY: as in `get`.
                p = unsafe { &*p }.link().read(guard);
            }
        }
    }
}

/// Drops the count the table held on an unlinked item, once the collector has
/// seen every guard that was active when it was retired.
///
/// # Safety
/// `p` comes from `Arc::into_raw` and its count was the table's, which no
/// longer links it.
// SAFETY: `unsafe` because seize's reclaimer type requires it; the contract
// above is met by the only caller, `Table::retire`, which retires a pointer
// only after unlinking it under the bucket's lock.
#[cfg(not(depcache_loom))]
unsafe fn release<T>(p: *mut T, _collector: &seize::Collector) {
    // SAFETY: the caller's contract (see `Table::retire`).
    drop(unsafe { Arc::from_raw(p) });
}

impl<T: Linked, S> Drop for Table<T, S> {
    fn drop(&mut self) {
        for head in self.heads.iter() {
            let mut p = untag(head.read_locked());
            while !p.is_null() {
                // SAFETY: `&mut self`: nobody else reads or writes the table, and
                // every linked item's count is the table's to drop.
                let item = unsafe { Arc::from_raw(p) };
                p = item.link().read_locked();
                drop(item);
            }
        }
    }
}

#[cfg(any(test, depcache_loom))]
pub(crate) mod probe;
#[cfg(all(test, not(depcache_loom)))]
mod tests;
