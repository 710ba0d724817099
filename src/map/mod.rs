//! The concurrent maps behind the cache, behind one small trait.
//!
//! The entries (keys → entries) live in a [`Table`] of our own, whose node is
//! the entry itself. The cache's four other maps (dependencies → index nodes, a
//! node's dependents, a node's children, keys → in-flight computations) are used
//! through the handful of operations of [`ConcurrentMap`]. In a normal build they are
//! [papaya](https://docs.rs/papaya) maps sharing one memory-reclamation domain, so a
//! single guard covers all of them. papaya cannot run under loom, so under
//! `--cfg depcache_loom` they are [`loom_map::LoomMap`], a stand-in that is
//! linearizable per key and lets loom see every step of ours around it.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

mod cell;
#[cfg(depcache_loom)]
mod loom_map;
#[cfg(not(depcache_loom))]
mod papaya_map;
pub(crate) mod table;

pub(crate) use cell::{ArcCell, Peeked};
#[cfg(depcache_loom)]
pub(crate) use loom_map::{thread_number, Domain, Guard, LoomMap as Map};
#[cfg(not(depcache_loom))]
pub(crate) use papaya_map::{thread_number, Domain, Guard, PapayaMap as Map};
pub(crate) use table::{Bucket, Found, Keyed, Link, Linked, Table};

/// The operations the cache performs on a concurrent map; each is linearizable
/// per key. Values are cheap to clone (`Arc`s) where an operation returns one.
pub(crate) trait ConcurrentMap<K, V, S>: Send + Sync {
    /// An empty map in the reclamation `domain`, hashing with `hasher`.
    fn with_hasher_in(domain: &Domain, hasher: S) -> Self;

    /// Calls `f` on the value of `key`, if any, without cloning it.
    fn get<Q, R>(&self, key: &Q, guard: &Guard<'_>, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq;

    /// The value of `key`, if any, borrowed for as long as `guard` lives: a
    /// value removed meanwhile is dropped only after every guard that was
    /// active at its removal (papaya retires it to the domain's collector; the
    /// loom stand-in keeps every value until the map is dropped).
    fn get_ref<'g, Q>(&'g self, key: &Q, guard: &'g Guard<'_>) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq;

    /// Inserts only if `key` is absent; otherwise returns the present value.
    fn try_insert(&self, key: K, value: V, guard: &Guard<'_>) -> Result<(), V>;

    /// Removes `key` if its value satisfies `pred`; true if it removed.
    fn remove_if<Q>(&self, key: &Q, guard: &Guard<'_>, pred: impl FnMut(&V) -> bool) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq;

    /// Visits every pair present for the whole visit; pairs inserted or removed
    /// during it may or may not be seen (weakly consistent, like papaya's `iter`).
    fn for_each(&self, guard: &Guard<'_>, f: impl FnMut(&K, &V));

    /// Number of pairs (exact at quiescence).
    fn len(&self) -> usize;
}

/// Bounds the maps put on keys.
pub(crate) trait MapKey: Hash + Eq + Send + Sync + 'static {}
impl<T: Hash + Eq + Send + Sync + 'static> MapKey for T {}

/// Bounds the maps put on hashers.
pub(crate) trait MapHasher: BuildHasher + Send + Sync + 'static {}
impl<T: BuildHasher + Send + Sync + 'static> MapHasher for T {}
