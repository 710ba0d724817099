//! [`Cache::invalidate_batch`]: thousands of dependencies at once (a branch
//! switch, a watcher rescan), spread over the cores.

use core::hash::{BuildHasher, Hash};

use super::Cache;
use crate::Dependency;

/// The fewest dependencies per parallel chunk. Chunks bump the generations
/// of shared ancestors (`src`, the top) from several cores at once, so small
/// ones lose to one `invalidate_many`: at 10,000 paths on 2 vCPUs, chunks of
/// 256 took 5.2 ms, one call per path 4.6 ms, one `invalidate_many` 4.1 ms,
/// and one chunk per thread 4.1–5.2 ms (`cargo bench --bench core -- bulk`):
/// the feature is off by default, for machines with more cores.
#[cfg(all(feature = "parallel", not(depcache_loom)))]
const MIN_CHUNK: usize = 1_024;

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Invalidates every dependency of `deps` and returns how many visible
    /// entries went, each counted once. With the feature `parallel` a large
    /// batch is split into one chunk per thread of rayon's pool, each
    /// an [`invalidate_many`](Cache::invalidate_many); otherwise it is one
    /// `invalidate_many`.
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
        #[cfg(all(feature = "parallel", not(depcache_loom)))]
        {
            use rayon::prelude::*;
            let chunk = deps.len().div_ceil(rayon::current_num_threads()).max(MIN_CHUNK);
            if deps.len() > chunk {
                return deps.par_chunks(chunk).map(|c| self.invalidate_many(c)).sum();
            }
        }
        self.invalidate_many(deps)
    }
}
