//! The loom stand-in for papaya: linearizable per key, with one loom atomic per key.
//!
//! What loom must see is what papaya gives: per key, a single location that
//! readers load with `Acquire` and writers change by read-modify-write (`AcqRel`),
//! and *nothing* that orders operations on different keys. So each key gets its
//! own cell, a loom `AtomicUsize` naming the current value (0 = absent). A lookup
//! is one `Acquire` load (loom may hand it any store coherence allows, as with a
//! real lock-free map); every update is a compare-exchange loop that re-runs its
//! decision when the key changed between its read and its commit, as papaya's
//! `remove_if` / `try_insert` do. A mutex per key would be stronger than papaya:
//! a lookup would *release* to the next writer of the key, an edge papaya does not
//! have, and loom would miss the interleavings it forbids.
//!
//! A lookup of an absent key loads the key's cell too: it must be a loom
//! operation on the key's own location even when it finds nothing, or loom would
//! not know that it conflicts with a later insert of the key and would never try
//! the other order. So cells cannot be made on first insert; and loom flags an
//! atomic made by one thread and loaded by another without a happens-before edge
//! (as it should: papaya's buckets exist before anyone probes them). The cells
//! are therefore a pool made with the map, [`CELLS`] of them, handed out to keys
//! on first use; a model with more keys in one map panics with a clear message.
//!
//! Bookkeeping that loom need not see lives behind plain std mutexes: the
//! directory from keys to cells and the arena of values the cells name. Neither
//! adds a happens-before edge the model can rely on: a key's cell never changes,
//! values are never removed before the map is dropped (as if papaya's reclamation
//! were infinitely lazy, which it may be), and every read of a value goes through
//! its cell's loom atomic. No loom operation runs while a std mutex is held: loom
//! threads are coroutines on one OS thread, so a switch there could deadlock.
//!
//! A lookup only has a borrowed form of the key, so the directory finds cells by
//! a fixed hash of the key (equal for both forms, as `Borrow` requires) and keeps
//! them in order of first use: loom replays a schedule by re-running the model,
//! so nothing may depend on addresses or random seeds. `for_each` and `len` read
//! the directory without a loom operation, so they are only exact at quiescence
//! (the cache uses them there: the invariant checker, `Drop`, statistics).

use core::borrow::Borrow;
use core::hash::{BuildHasher, BuildHasherDefault, Hash};
use std::collections::hash_map::DefaultHasher;
use std::sync::{Arc as StdArc, Mutex as StdMutex};

use super::{ConcurrentMap, MapHasher, MapKey};
use crate::reclaim::{Domain, Guard};
use crate::sync::{AtomicUsize, Ordering};

/// Keys one map can hold in a loom model.
const CELLS: usize = 8;

/// A cell word: 0 if absent, else 1 + the index of the value in the arena.
const ABSENT: usize = 0;

/// A directory slot: a key's fixed hash, the key (once inserted); its cell is
/// the pool cell of the same index.
struct DirSlot<K> {
    hash: u64,
    key: Option<K>,
}

/// A map from keys to loom-visible cells.
pub(crate) struct LoomMap<K, V, S> {
    /// The cells, made with the map; cell `i` belongs to `dir[i]`.
    pool: Box<[AtomicUsize]>,
    /// Keys in order of first use.
    dir: StdMutex<Vec<DirSlot<K>>>,
    /// Every value ever stored, never removed before the map is dropped.
    arena: StdMutex<Vec<StdArc<V>>>,
    _hasher: core::marker::PhantomData<S>,
}

impl<K: MapKey + Clone, V, S> LoomMap<K, V, S> {
    /// The cell of `key`, handed out if the key was never seen; `owned` records
    /// the key itself (inserts have it, lookups only have a borrowed form).
    fn cell<Q>(&self, key: &Q, owned: Option<K>) -> &AtomicUsize
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let mut dir = self.dir.lock().unwrap();
        let i = match dir.iter().position(|s| s.hash == h) {
            Some(i) => i,
            None => {
                assert!(
                    dir.len() < CELLS,
                    "loom map: more than {CELLS} keys in one map; keep loom models small"
                );
                dir.push(DirSlot { hash: h, key: None });
                dir.len() - 1
            }
        };
        let s = &mut dir[i];
        match &s.key {
            Some(k) => assert!(k.borrow() == key, "loom map: two keys with one hash"),
            None => s.key = owned,
        }
        &self.pool[i]
    }

    /// Stores `value` in the arena; returns its cell word.
    fn store(&self, value: V) -> usize {
        let mut arena = self.arena.lock().unwrap();
        arena.push(StdArc::new(value));
        arena.len()
    }

    /// The value a cell word names (the caller uses it outside the lock).
    fn value(&self, word: usize) -> StdArc<V> {
        debug_assert_ne!(word, ABSENT);
        self.arena.lock().unwrap()[word - 1].clone()
    }

    /// Keys that were ever inserted, with their cells.
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    fn cells(&self) -> Vec<(K, &AtomicUsize)> {
        let dir = self.dir.lock().unwrap();
        dir.iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.key.clone()?, &self.pool[i])))
            .collect()
    }
}

impl<K, V, S> ConcurrentMap<K, V, S> for LoomMap<K, V, S>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
    S: MapHasher,
{
    fn with_hasher_in(_domain: &Domain, _hasher: S) -> Self {
        LoomMap {
            pool: (0..CELLS).map(|_| AtomicUsize::new(ABSENT)).collect(),
            dir: StdMutex::new(Vec::new()),
            arena: StdMutex::new(Vec::new()),
            _hasher: core::marker::PhantomData,
        }
    }

    fn try_insert(&self, key: K, value: V, _guard: &Guard<'_>) -> Result<(), V> {
        let cell = self.cell(&key, Some(key.clone()));
        let new = self.store(value);
        // Acquire: as `get`.
        let mut cur = cell.load(Ordering::Acquire);
        loop {
            if cur != ABSENT {
                return Err((*self.value(cur)).clone());
            }
            // AcqRel: as `insert`; on failure, decide again on the value that won.
            match cell.compare_exchange(ABSENT, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(now) => cur = now,
            }
        }
    }

    fn remove_if<Q>(&self, key: &Q, _guard: &Guard<'_>, mut pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let cell = self.cell(key, None);
        // Acquire: as `get`.
        let mut cur = cell.load(Ordering::Acquire);
        loop {
            if cur == ABSENT || !pred(&self.value(cur)) {
                return false;
            }
            // AcqRel: as `insert`. If the key changed since the read, the predicate
            // runs again on the new value (papaya's `remove_if` does the same).
            match cell.compare_exchange(cur, ABSENT, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    fn len(&self) -> usize {
        self.cells()
            .iter()
            // Relaxed: a count, exact only at quiescence (as papaya's `len`).
            .filter(|(_, c)| c.load(Ordering::Relaxed) != ABSENT)
            .count()
    }
}
