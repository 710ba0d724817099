//! The real maps: papaya, all in one shared `seize` collector.

use core::borrow::Borrow;
use core::hash::Hash;

use super::{ConcurrentMap, MapHasher, MapKey};
use crate::reclaim::{Domain, Guard};

/// A papaya map in a shared domain.
pub(crate) struct PapayaMap<K, V, S>(papaya::HashMap<K, V, S>);

impl<K, V, S> ConcurrentMap<K, V, S> for PapayaMap<K, V, S>
where
    K: MapKey,
    V: Clone + Send + Sync + 'static,
    S: MapHasher,
{
    fn with_hasher_in(domain: &Domain, hasher: S) -> Self {
        PapayaMap(
            papaya::HashMap::builder()
                .hasher(hasher)
                .shared_collector(domain.collector().clone())
                .build(),
        )
    }

    fn try_insert(&self, key: K, value: V, guard: &Guard<'_>) -> Result<(), V> {
        match self.0.try_insert(key, value, guard) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.current.clone()),
        }
    }

    fn remove_if<Q>(&self, key: &Q, guard: &Guard<'_>, mut pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        matches!(self.0.remove_if(key, |_, v| pred(v), guard), Ok(Some(_)))
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    fn len(&self) -> usize {
        self.0.len()
    }
}
