//! The table alone, for its loom models (`loom-tests`, models `t1`–`t3`):
//! `u32` keys and values in a table with a chosen number of buckets.

use super::{Keyed, Link, Linked, Table};
use crate::map::Domain;
use crate::sync::Arc;

struct Item {
    key: u32,
    value: u32,
    link: Link<Item>,
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

/// An entries table of `u32 → u32` (loom builds only; not an API).
pub struct Probe {
    domain: Domain,
    table: Table<Item, crate::index::FastHash>,
}

impl Probe {
    /// A table with `buckets` heads (1: every key in one chain).
    pub fn new(buckets: usize) -> Self {
        Probe {
            domain: Domain::new(),
            table: Table::new(buckets, Default::default()),
        }
    }

    /// Inserts or replaces; returns the replaced value.
    pub fn insert(&self, key: u32, value: u32) -> Option<u32> {
        let guard = self.domain.guard();
        let item = Arc::new(Item {
            key,
            value,
            link: Link::null(),
        });
        self.table.insert(item, &guard).map(|old| old.value)
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
