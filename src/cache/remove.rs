//! [`Cache::remove`]: one key out, now.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use super::Cache;
use crate::index::LIVE;
use crate::Dependency;

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Removes `key`; returns its value if it was present and valid.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let guard = self.shared.guard();
        let sh = &*self.shared;
        let g = sh.index.g();
        // Read in place (the guard keeps it): no count taken.
        let e = sh.entries.get(key, &guard)?;
        let value = e.value.clone();
        let visible = sh.usable(&e, g);
        if sh.kill(&e, &guard) == Some(LIVE) && visible {
            Some(value)
        } else {
            None
        }
    }
}
