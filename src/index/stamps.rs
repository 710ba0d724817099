//! An entry's (or a ticket's) stamps: what it saw of each of its dependencies.

use core::ops::Deref;

use triomphe::ThinArc;

use super::Node;
use crate::sync::Arc;
use crate::Dependency;

/// What an entry saw of one dependency before its value was computed: 16 bytes,
/// the `Subtree` flag in the top bit of the stamp it read.
///
/// The stamp is compared modulo 2^63. A stamp only grows, by one per bump, so a
/// comparison could be fooled only by exactly a multiple of 2^63 bumps between
/// the read and the check (the full 64 bits would need 2^64: neither happens).
pub(crate) struct Stamp<K, V, D> {
    pub(crate) node: Arc<Node<K, V, D>>,
    /// The stamp read (low 63 bits) and the `Subtree` flag (top bit).
    packed: u64,
}

/// The `Subtree` flag in [`Stamp::packed`].
const SUBTREE_BIT: u64 = 1 << 63;

impl<K, V, D> Stamp<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// Reads `node`'s stamp now and records it.
    pub(crate) fn read(node: Arc<Node<K, V, D>>, subtree: bool) -> Self {
        let seen = node.stamp(subtree) & !SUBTREE_BIT;
        Stamp {
            node,
            packed: seen | if subtree { SUBTREE_BIT } else { 0 },
        }
    }

    /// True if the dependency covers the node's whole subtree.
    #[inline]
    pub(crate) fn subtree(&self) -> bool {
        self.packed & SUBTREE_BIT != 0
    }

    /// True if the node's stamp, less `minus`, is still the one read.
    #[inline]
    pub(crate) fn unchanged_but(&self, minus: u64) -> bool {
        self.node.stamp(self.subtree()).wrapping_sub(minus) & !SUBTREE_BIT == self.packed & !SUBTREE_BIT
    }

    /// True if no bump reached the node since the stamp was read.
    #[inline]
    pub(crate) fn unchanged(&self) -> bool {
        self.unchanged_but(0)
    }
}

/// An entry's stamps, 16 bytes: one stamp inline (most entries have one
/// dependency), or one allocation that holds its own length (a thin pointer).
///
/// A `SmallVec<[Stamp; 1]>` was 24 bytes: the inline stamp plus a capacity
/// word. Here the two variants share the 16 bytes: `One`'s node pointer is
/// never null, so `Many` (8 bytes) sits beside it and the null pointer is the
/// tag. Two or more stamps cost one allocation of 16 bytes more than their
/// slice (triomphe's count and the length), none costs nothing.
pub(crate) enum Stamps<K, V, D> {
    /// Exactly one dependency.
    One(Stamp<K, V, D>),
    /// None (`None`), or two and more.
    Many(Option<ThinArc<(), Stamp<K, V, D>>>),
}

impl<K, V, D> Default for Stamps<K, V, D> {
    fn default() -> Self {
        Stamps::Many(None)
    }
}

impl<K, V, D> Deref for Stamps<K, V, D> {
    type Target = [Stamp<K, V, D>];

    #[inline]
    fn deref(&self) -> &[Stamp<K, V, D>] {
        match self {
            Stamps::One(s) => core::slice::from_ref(s),
            Stamps::Many(Some(all)) => &all.slice,
            Stamps::Many(None) => &[],
        }
    }
}

impl<K, V, D> FromIterator<Stamp<K, V, D>> for Stamps<K, V, D> {
    fn from_iter<I: IntoIterator<Item = Stamp<K, V, D>>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else {
            return Stamps::Many(None);
        };
        let Some(second) = iter.next() else {
            // The common case: straight into place, no scratch list.
            return Stamps::One(first);
        };
        let all: smallvec::SmallVec<[Stamp<K, V, D>; 4]> = [first, second].into_iter().chain(iter).collect();
        Stamps::Many(Some(ThinArc::from_header_and_iter((), all.into_iter())))
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    use super::*;

    #[test]
    fn none_one_and_many_stamps_keep_every_stamp_in_order() {
        use crate::index::Node;
        let nodes: Vec<Arc<Node<u64, u64, u64>>> = (0..5).map(|d| Arc::new(Node::new(d, None))).collect();
        for n in 0..=nodes.len() {
            let stamps: Stamps<u64, u64, u64> = nodes[..n].iter().map(|x| Stamp::read(x.clone(), n % 2 == 1)).collect();
            assert_eq!(stamps.len(), n);
            assert!(matches!((n, &stamps), (1, Stamps::One(_)) | (_, Stamps::Many(_))));
            for (s, x) in stamps.iter().zip(&nodes) {
                assert!(Arc::ptr_eq(&s.node, x));
                assert_eq!(s.subtree(), n % 2 == 1);
                assert!(s.unchanged());
            }
        }
        // The stamps hold their nodes: dropping them gives every count back.
        assert!(nodes.iter().all(|x| Arc::strong_count(x) == 1));
    }

    #[test]
    fn stamps_take_16_bytes() {
        assert_eq!(core::mem::size_of::<Stamp<u64, u64, u64>>(), 16);
        assert_eq!(core::mem::size_of::<Stamps<u64, u64, u64>>(), 16);
    }
}
