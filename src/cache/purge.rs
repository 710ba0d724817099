//! [`Cache::purge`]: reclaim every invalid or expired entry now.

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
    /// Reclaims every resident entry that is invalid or expired. O(capacity).
    pub fn purge(&self) -> usize {
        let guard = self.shared.guard();
        let sh = &*self.shared;
        let g = sh.index.g();
        let mut n = 0;
        for i in 0..sh.ring.capacity() {
            if let Some(e) = sh.ring.load(i, &guard) {
                if e.state() == LIVE && !sh.usable(&e, g) {
                    let was_live = e.state() == LIVE;
                    sh.reclaim(&e, &guard);
                    if was_live && e.state() >= crate::index::DEAD {
                        n += 1;
                    }
                }
            }
        }
        n
    }
}
