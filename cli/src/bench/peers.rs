//! The peers of the throughput comparisons, configured alike (foldhash
//! everywhere). The library's `benches/core.rs` builds the same set.

use depcache::Cache;

/// foldhash: depcache's and quick_cache's default, given to moka and papaya too.
pub type Hasher = foldhash::fast::RandomState;

/// depcache, moka, quick_cache and a raw papaya map, over `u64` keys and values.
pub struct Peers {
    pub depcache: Cache<u64, u64, u64>,
    pub moka: moka::sync::Cache<u64, u64, Hasher>,
    // quick_cache's default hasher is foldhash too.
    pub quick: quick_cache::sync::Cache<u64, u64>,
    pub papaya: papaya::HashMap<u64, u64, Hasher>,
}

impl Peers {
    /// Caches of `capacity` entries (papaya is unbounded) holding keys
    /// `0..preload`, each mapped to itself; depcache's entry k depends on `k / 10`.
    pub fn new(capacity: u64, preload: u64) -> Self {
        let p = Peers {
            depcache: Cache::new(capacity as usize),
            moka: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(Hasher::default()),
            quick: quick_cache::sync::Cache::new(capacity as usize),
            papaya: papaya::HashMap::builder().hasher(Hasher::default()).build(),
        };
        for k in 0..preload {
            p.depcache.insert(k, k, [k / 10]);
            p.moka.insert(k, k);
            p.quick.insert(k, k);
            p.papaya.pin().insert(k, k);
        }
        p.moka.run_pending_tasks();
        p
    }
}
