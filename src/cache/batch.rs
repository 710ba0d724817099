//! [`Cache::invalidate_batch`]: thousands of dependencies at once (a branch
//! switch, a watcher rescan), spread over the cores.

use core::hash::{BuildHasher, Hash};

use super::Cache;
use crate::Dependency;

/// Dependencies per call of `invalidate_many` in a batch: one plan and one
/// publication each; small enough that a batch of thousands keeps every core
/// busy.
const CHUNK: usize = 256;

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Invalidates every dependency of `deps` and returns how many visible
    /// entries went, each counted once. A large batch is split into chunks of
    /// [`invalidate_many`](Cache::invalidate_many), run on rayon's pool with
    /// the feature `parallel` (default), one after another without it.
    ///
    /// Each chunk is linearizable on its own; the batch is not one point in
    /// time: a lookup that runs during the call may find an entry of a chunk
    /// not yet done. When the call returns, every affected entry is gone.
    ///
    /// ```
    /// use depcache::{Cache, DepPath};
    ///
    /// let cache: Cache<u32, u32, DepPath> = Cache::new(10_000);
    /// let paths: Vec<DepPath> = (0..5_000).map(|i| DepPath::new(format!("src/f{i}.rs"))).collect();
    /// for (i, p) in paths.iter().enumerate() {
    ///     cache.insert(i as u32, 0, [p.clone()]);
    /// }
    /// // `git checkout other` changed every file.
    /// assert_eq!(cache.invalidate_batch(&paths), 5_000);
    /// assert!(cache.is_empty());
    /// ```
    pub fn invalidate_batch(&self, deps: &[D]) -> usize {
        if deps.len() <= CHUNK {
            return self.invalidate_many(deps);
        }
        #[cfg(all(feature = "parallel", not(depcache_loom)))]
        {
            use rayon::prelude::*;
            deps.par_chunks(CHUNK).map(|c| self.invalidate_many(c)).sum()
        }
        #[cfg(not(all(feature = "parallel", not(depcache_loom))))]
        {
            deps.chunks(CHUNK).map(|c| self.invalidate_many(c)).sum()
        }
    }
}
