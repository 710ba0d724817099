//! The concurrent maps behind the cache.
//!
//! The entries (keys → entries) and the dependency index (dependencies → index
//! nodes) live in [`Table`]s of our own, whose node is the item itself (the
//! entry, the index node). A node's dependents and children are small sets
//! behind the node's lock (the index's `node_sets`). The one map left, keys → in-flight
//! computations (single-flight), is used through the handful of operations of
//! [`ConcurrentMap`]: in a normal build a [papaya](https://docs.rs/papaya) map
//! in the cache's memory-reclamation domain, so a single guard covers it and the
//! tables. papaya cannot run under loom, so under `--cfg depcache_loom` it is
//! [`loom_map::LoomMap`], a stand-in that is linearizable per key and lets loom
//! see every step of ours around it.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

#[cfg(depcache_loom)]
mod loom_map;
#[cfg(not(depcache_loom))]
mod papaya_map;
pub(crate) mod table;

#[cfg(depcache_loom)]
pub(crate) use loom_map::LoomMap as Map;
#[cfg(not(depcache_loom))]
pub(crate) use papaya_map::PapayaMap as Map;
pub(crate) use table::{Bucket, Found, Keyed, Link, Linked, Table};

use crate::reclaim::{Domain, Guard};

/// The hasher of the tables and of the small sets behind the index's nodes:
/// foldhash, as hashbrown uses (SipHash made a papaya hit 4x slower).
pub(crate) type FastHash = foldhash::fast::RandomState;

/// The operations the cache performs on a concurrent map; each is linearizable
/// per key. Values are cheap to clone (`Arc`s) where an operation returns one.
pub(crate) trait ConcurrentMap<K, V, S>: Send + Sync {
    /// An empty map in the reclamation `domain`, hashing with `hasher`.
    fn with_hasher_in(domain: &Domain, hasher: S) -> Self;

    /// Inserts only if `key` is absent; otherwise returns the present value.
    fn try_insert(&self, key: K, value: V, guard: &Guard<'_>) -> Result<(), V>;

    /// Removes `key` if its value satisfies `pred`; true if it removed.
    fn remove_if<Q>(&self, key: &Q, guard: &Guard<'_>, pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq;

    /// Number of pairs (exact at quiescence).
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    fn len(&self) -> usize;
}

/// Bounds the maps put on keys.
pub(crate) trait MapKey: Hash + Eq + Send + Sync + 'static {}
impl<T: Hash + Eq + Send + Sync + 'static> MapKey for T {}

/// Bounds the maps put on hashers.
pub(crate) trait MapHasher: BuildHasher + Send + Sync + 'static {}
impl<T: BuildHasher + Send + Sync + 'static> MapHasher for T {}
