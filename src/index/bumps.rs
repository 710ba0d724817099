//! The set of generation bumps one invalidation call performs.

use std::collections::HashMap;

use super::Node;
use crate::map::FastHash;

struct Bump<'g, K, V, D> {
    /// Borrowed from the index under the caller's guard (or from a child's
    /// `parent`): no count taken, none to drop.
    node: &'g Node<K, V, D>,
    /// `gen` bumped: the node is invalidated as a whole.
    whole: bool,
    /// `tree_gen` bumped: something strictly below it was invalidated.
    tree: bool,
}

/// The nodes one invalidation call bumps, each at most once.
///
/// It answers "by how much did *this call* move the stamp of a dependency?",
/// which tells an entry made invalid by this call from one that was already
/// invalid (lazily) before it, so the returned counts are exact.
///
/// It borrows its nodes for `'g`, the guard under which the index was read
/// (see [`Index::plan`](super::Index::plan)).
pub(crate) struct BumpSet<'g, K, V, D> {
    /// Inline up to a few: a file and its directories.
    bumps: smallvec::SmallVec<[Bump<'g, K, V, D>; 4]>,
    /// Node address → position in `bumps`, built once the set outgrows a linear scan.
    positions: Option<HashMap<usize, usize, FastHash>>,
}

/// Up to this many bumps, a linear scan beats hashing.
const LINEAR: usize = 16;

impl<'g, K, V, D> BumpSet<'g, K, V, D> {
    pub(crate) fn new() -> Self {
        BumpSet {
            bumps: smallvec::SmallVec::new(),
            positions: None,
        }
    }

    fn find(&self, node: &Node<K, V, D>) -> Option<usize> {
        let addr = node as *const Node<K, V, D> as usize;
        match &self.positions {
            Some(p) => p.get(&addr).copied(),
            None => self
                .bumps
                .iter()
                .position(|b| core::ptr::from_ref(b.node) as usize == addr),
        }
    }

    fn push(&mut self, b: Bump<'g, K, V, D>) {
        let addr = core::ptr::from_ref(b.node) as usize;
        self.bumps.push(b);
        if let Some(p) = &mut self.positions {
            p.insert(addr, self.bumps.len() - 1);
        } else if self.bumps.len() > LINEAR {
            let p = self
                .bumps
                .iter()
                .enumerate()
                .map(|(i, b)| (core::ptr::from_ref(b.node) as usize, i))
                .collect();
            self.positions = Some(p);
        }
    }

    pub(crate) fn add_gen(&mut self, node: &'g Node<K, V, D>) {
        match self.find(node) {
            Some(i) => self.bumps[i].whole = true,
            None => self.push(Bump {
                node,
                whole: true,
                tree: false,
            }),
        }
    }

    /// Adds a `tree_gen` bump; false if it was already planned.
    pub(crate) fn add_tree(&mut self, node: &'g Node<K, V, D>) -> bool {
        match self.find(node) {
            Some(i) if self.bumps[i].tree => false,
            Some(i) => {
                self.bumps[i].tree = true;
                true
            }
            None => {
                self.push(Bump {
                    node,
                    whole: false,
                    tree: true,
                });
                true
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bumps.is_empty()
    }

    /// Applies every bump.
    pub(crate) fn apply(&self)
    where
        K: Send + Sync + 'static,
        V: Send + Sync + 'static,
        D: crate::Dependency,
    {
        for b in &self.bumps {
            if b.whole {
                b.node.bump_gen();
            }
            if b.tree {
                b.node.bump_tree();
            }
        }
    }

    /// Nodes with `true` if invalidated as a whole, `false` if only below.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'g Node<K, V, D>, bool)> + '_ {
        self.bumps.iter().map(|b| (b.node, b.whole))
    }

    /// How much this call moved the stamp an entry recorded for `node`.
    pub(crate) fn delta(&self, node: &Node<K, V, D>, subtree: bool) -> u64 {
        let mut d = 0;
        if subtree {
            if let Some(i) = self.find(node) {
                d += u64::from(self.bumps[i].tree);
            }
        }
        let mut n = Some(node);
        while let Some(x) = n {
            if let Some(i) = self.find(x) {
                d += u64::from(self.bumps[i].whole);
            }
            n = x.parent.as_deref();
        }
        d
    }
}
