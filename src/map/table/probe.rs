//! The table alone, with `u32` keys and values: the item its unit tests use,
//! and (loom builds) [`Probe`], a table with a chosen number of buckets for its
//! loom models (`loom-tests`, models `t1`–`t4`).

use super::{Keyed, Link, Linked};
use crate::sync::Arc;

/// A `u32 → u32` item.
pub(crate) struct Item {
    pub(crate) key: u32,
    pub(crate) value: u32,
    link: Link<Item>,
}

/// A new, unlinked item.
pub(crate) fn item(key: u32, value: u32) -> Arc<Item> {
    Arc::new(Item {
        key,
        value,
        link: Link::null(),
    })
}

impl Linked for Item {
    fn link(&self) -> &Link<Item> {
        &self.link
    }
}

impl Keyed for Item {
    type Key = u32;
    fn key(&self) -> &u32 {
        &self.key
    }
}

#[cfg(depcache_loom)]
pub use loom_probe::Probe;

#[cfg(depcache_loom)]
mod loom_probe {
    use super::super::Table;
    use super::{item, Item};
    use crate::reclaim::Domain;

    /// An entries table of `u32 → u32` (loom builds only; not an API).
    pub struct Probe {
        domain: Domain,
        table: Table<Item, crate::map::FastHash>,
    }

    impl Probe {
        /// A table with `buckets` heads (1: every key in one chain).
        pub fn new(buckets: usize) -> Self {
            Probe {
                domain: Domain::new(crate::reclaim::DEFAULT_RECLAIM_BATCH),
                table: Table::new(buckets, Default::default()),
            }
        }

        /// Inserts or replaces; returns the replaced value.
        pub fn insert(&self, key: u32, value: u32) -> Option<u32> {
            let guard = self.domain.guard();
            self.table.insert(item(key, value), &guard).map(|old| old.value)
        }

        /// Inserts only if `key` is absent; true if this call linked it.
        pub fn try_insert(&self, key: u32, value: u32) -> bool {
            let guard = self.domain.guard();
            self.table.try_insert(item(key, value), &guard).is_ok()
        }

        /// The value of `key`.
        pub fn get(&self, key: u32) -> Option<u32> {
            let guard = self.domain.guard();
            self.table.get(&key, &guard).map(|f| f.value)
        }

        /// Removes the item of `key` found by a lookup (by identity, as the cache
        /// does); true if it was still linked.
        pub fn remove(&self, key: u32) -> bool {
            let guard = self.domain.guard();
            match self.table.get(&key, &guard) {
                Some(f) => self.table.remove(&f, &guard),
                None => false,
            }
        }
    }
}
