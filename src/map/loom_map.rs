//! The loom stand-in: linearizable per key, with one loom mutex per key.
//!
//! A single lock around the whole map would order operations on different keys,
//! which papaya does not, and loom would miss interleavings. So each key gets its
//! own loom-visible cell; the directory from keys to cells is a plain std mutex,
//! invisible to loom (it adds no happens-before edge the model can rely on: a
//! cell, once made, is never removed, and every read of a value goes through its
//! loom mutex).

use core::borrow::Borrow;
use core::hash::Hash;
use std::collections::HashMap;

use super::{ConcurrentMap, MapHasher, MapKey};
use crate::sync::{lock, Arc, Mutex};

/// No reclamation domain is needed under loom.
#[derive(Clone)]
pub(crate) struct Domain;

/// No guard is needed under loom.
pub(crate) type Guard<'a> = core::marker::PhantomData<&'a ()>;

impl Domain {
    pub(crate) fn new() -> Self {
        Domain
    }

    pub(crate) fn guard(&self) -> Guard<'_> {
        core::marker::PhantomData
    }
}

type Cell<V> = Arc<Mutex<Option<V>>>;

/// A map from keys to loom-visible cells.
pub(crate) struct LoomMap<K, V, S> {
    // A std (not loom) mutex: bookkeeping only, see the module docs.
    cells: std::sync::Mutex<HashMap<K, Cell<V>>>,
    _hasher: core::marker::PhantomData<S>,
}

impl<K: MapKey + Clone, V, S> LoomMap<K, V, S> {
    fn cell<Q>(&self, key: &Q) -> Option<Cell<V>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.cells.lock().unwrap().get(key).cloned()
    }

    fn cell_or_make(&self, key: K) -> Cell<V> {
        self.cells
            .lock()
            .unwrap()
            .entry(key)
            .or_insert_with(|| Arc::new(Mutex::new(None)))
            .clone()
    }

    fn cells(&self) -> Vec<(K, Cell<V>)> {
        self.cells
            .lock()
            .unwrap()
            .iter()
            .map(|(k, c)| (k.clone(), c.clone()))
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
            cells: std::sync::Mutex::new(HashMap::new()),
            _hasher: core::marker::PhantomData,
        }
    }

    fn get<Q, R>(&self, key: &Q, _guard: &Guard<'_>, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let cell = self.cell(key)?;
        let v = lock(&cell).clone();
        v.as_ref().map(f)
    }

    fn insert(&self, key: K, value: V, _guard: &Guard<'_>) -> Option<V> {
        let cell = self.cell_or_make(key);
        let mut slot = lock(&cell);
        slot.replace(value)
    }

    fn try_insert(&self, key: K, value: V, _guard: &Guard<'_>) -> Result<(), V> {
        let cell = self.cell_or_make(key);
        let mut slot = lock(&cell);
        match slot.as_ref() {
            Some(v) => Err(v.clone()),
            None => {
                *slot = Some(value);
                Ok(())
            }
        }
    }

    fn remove_if<Q>(&self, key: &Q, _guard: &Guard<'_>, mut pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let Some(cell) = self.cell(key) else {
            return false;
        };
        let mut slot = lock(&cell);
        if slot.as_ref().is_some_and(&mut pred) {
            *slot = None;
            true
        } else {
            false
        }
    }

    fn for_each(&self, _guard: &Guard<'_>, mut f: impl FnMut(&K, &V)) {
        for (k, cell) in self.cells() {
            let v = lock(&cell).clone();
            if let Some(v) = v {
                f(&k, &v);
            }
        }
    }

    fn len(&self) -> usize {
        self.cells().iter().filter(|(_, c)| lock(c).is_some()).count()
    }
}
