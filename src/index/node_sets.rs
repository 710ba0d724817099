//! A node's two small sets (its dependents and its children), behind one lock
//! per node: [`Pairs`] is a set, [`Registry`] a view of one of the node's two
//! under its lock.
//!
//! Most nodes hold one or a few values: a file read by one tool call, a
//! directory with a handful of children. So a set holds one value inline (no
//! allocation), a few in an unsorted vector, and becomes a hash map only past
//! [`LINEAR`] values, where a linear scan stops paying. Both sets share the
//! node's one lock: one lock per node, not two, and a bit of the node's word
//! rather than a mutex of its own (see `Node::with_sets`).
//!
//! Why not a papaya map per node: an empty papaya map
//! costs 328 bytes and one with an element 768 (measured); and papaya maps sharing
//! one collector must not own one another (reclaiming an entry would drop a node
//! whose maps re-enter the collector's `reclaim_all`, which aborts). The lock is
//! taken only by inserts, removals and eager invalidations of entries on this node
//! — never by a lookup — and per-node locks keep writers on different
//! dependencies independent, which is the concurrency that matters here.

use core::borrow::Borrow;
use core::hash::Hash;
use std::collections::HashMap;

use crate::map::FastHash;
use crate::reclaim::Guard;

/// Up to this many pairs a registry is a vector. Under loom it never converts:
/// a map keyed by entry addresses would be visited in a different order on each
/// of loom's re-runs of a model, and loom replays schedules by re-running.
#[cfg(not(depcache_loom))]
const LINEAR: usize = 16;
#[cfg(depcache_loom)]
const LINEAR: usize = usize::MAX;

/// What a [`Registry`] holds: values that know their own key, so a small set
/// stores each value once (a dependent's key is its entry's address, a child's
/// its dependency, both inside the value).
pub(crate) trait Member<K2> {
    /// True if this value is the one keyed by `k`.
    fn is(&self, k: &K2) -> bool;
    /// This value's key (for the map a large set becomes).
    fn key(&self) -> K2;
}

/// The values of a [`Registry`].
///
/// `One` keeps a lone value inline (most nodes have one dependent: no
/// allocation for it); the enum stays 24 bytes, a `Vec`'s size, because the
/// compiler puts the tag in the niche of the vector's capacity.
pub(crate) enum Pairs<K2, V2> {
    /// None (no allocation), or 2..=[`LINEAR`] values.
    Few(Vec<V2>),
    One(V2),
    /// Boxed so that a registry stays three words (most never grow this big):
    /// one more allocation for the few large sets saves 16 bytes on every node.
    #[allow(clippy::box_collection)]
    Many(Box<HashMap<K2, V2, FastHash>>),
}

impl<K2, V2> Default for Pairs<K2, V2> {
    fn default() -> Self {
        Pairs::Few(Vec::new())
    }
}

impl<K2: Hash + Eq, V2: Member<K2>> Pairs<K2, V2> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Pairs::Few(v) => v.len(),
            Pairs::One(_) => 1,
            Pairs::Many(m) => m.len(),
        }
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    fn get(&self, k: &K2) -> Option<&V2> {
        match self {
            Pairs::Few(v) => v.iter().find(|x| x.is(k)),
            Pairs::One(x) => x.is(k).then_some(x),
            Pairs::Many(m) => m.get(k),
        }
    }

    fn insert(&mut self, k: K2, val: V2) {
        match self {
            Pairs::Few(v) if v.is_empty() => *self = Pairs::One(val),
            Pairs::One(x) => {
                if x.is(&k) {
                    *x = val;
                } else if let Pairs::One(x) = core::mem::take(self) {
                    *self = Pairs::Few(vec![x, val]);
                }
            }
            Pairs::Few(v) => {
                if let Some(slot) = v.iter_mut().find(|x| x.is(&k)) {
                    *slot = val;
                } else if v.len() < LINEAR {
                    v.push(val);
                } else {
                    let mut m: Box<HashMap<K2, V2, FastHash>> =
                        Box::new(core::mem::take(v).into_iter().map(|x| (x.key(), x)).collect());
                    m.insert(k, val);
                    *self = Pairs::Many(m);
                }
            }
            Pairs::Many(m) => {
                m.insert(k, val);
            }
        }
    }

    #[cfg(test)]
    fn remove(&mut self, k: &K2) -> Option<V2> {
        self.remove_where(k, |_| true)
    }

    /// Removes `k` if its value satisfies `pred`, in one search.
    fn remove_where(&mut self, k: &K2, pred: impl FnOnce(&V2) -> bool) -> Option<V2> {
        match self {
            Pairs::Few(v) => {
                let i = v.iter().position(|x| x.is(k))?;
                if !pred(&v[i]) {
                    return None;
                }
                let val = v.swap_remove(i);
                // `swap_remove`: the order of the rest may change, but the same
                // operations always give the same order (loom's re-runs rely on it).
                self.shrink();
                Some(val)
            }
            Pairs::One(x) => {
                if !(x.is(k) && pred(x)) {
                    return None;
                }
                match core::mem::take(self) {
                    Pairs::One(x) => Some(x),
                    _ => None,
                }
            }
            Pairs::Many(m) => {
                if !pred(m.get(k)?) {
                    return None;
                }
                m.remove(k)
            }
        }
    }

    /// Removes each `(k, pred)` of `items` as [`remove_where`](Pairs::remove_where)
    /// does, adding the values removed to `out`. `pred` must answer the
    /// same each time it is asked (it is an identity check): the items are
    /// looked at twice.
    ///
    /// The common batch is an eager invalidation's: every dependent of a
    /// node, listed in the order its scan read them. That one is recognized
    /// with a compare per value and taken out whole; any other falls back
    /// to a search per item (with its bookkeeping, 60 instructions an
    /// item).
    fn remove_each<Q, P, I>(&mut self, items: I, out: &mut impl Extend<V2>)
    where
        Q: Borrow<K2>,
        P: FnOnce(&V2) -> bool,
        I: IntoIterator<Item = (Q, P)>,
        I::IntoIter: ExactSizeIterator + Clone,
    {
        let items = items.into_iter();
        if let Pairs::Few(v) = self {
            let whole = v.len() > 1
                && v.len() == items.len()
                && v.iter()
                    .zip(items.clone())
                    .all(|(x, (k, pred))| x.is(k.borrow()) && pred(x));
            if whole {
                out.extend(core::mem::take(v));
                return;
            }
        }
        for (k, pred) in items {
            out.extend(self.remove_where(k.borrow(), pred));
        }
    }

    /// Back inline when one value is left, or to no allocation when none
    /// is (a node may stay long after its dependents left: it has
    /// children, or is pinned).
    fn shrink(&mut self) {
        if let Pairs::Few(v) = self {
            match v.len() {
                0 => *v = Vec::new(),
                1 => {
                    if let Some(last) = v.pop() {
                        *self = Pairs::One(last);
                    }
                }
                _ => {}
            }
        }
    }

    /// The values as one slice, unless the set is a map.
    #[inline]
    pub(crate) fn as_slice(&self) -> Option<&[V2]> {
        match self {
            Pairs::Few(v) => Some(v),
            Pairs::One(x) => Some(core::slice::from_ref(x)),
            Pairs::Many(_) => None,
        }
    }

    /// Every value, in an unspecified order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &V2> + Clone {
        let (few, many) = match self {
            Pairs::Few(v) => (Some(v.iter()), None),
            Pairs::One(x) => (Some(core::slice::from_ref(x).iter()), None),
            Pairs::Many(m) => (None, Some(m.values())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }
}

/// Values taken out of a [`Registry`] by [`Registry::remove_each`]: inline
/// up to an invalidation's usual batch.
pub(crate) type Removed<V2> = smallvec::SmallVec<[V2; 16]>;

/// A node's two sets, under the node's lock.
///
/// Only the nodes of directories ever have children, so a node starts `Flat`
/// (its dependents inline, in a [`Pairs`]'s three words) and becomes `Dir` on
/// its first child, both sets then boxed. An enum of the two takes the niche
/// of the vector's capacity for its tag, so every node keeps three words
/// here: 8 bytes less than the dependents beside an optional boxed child set.
pub(crate) enum Sets<K2, V2, C2, W2> {
    /// No child yet: the dependents.
    Flat(Pairs<K2, V2>),
    /// Had a child: both sets, boxed.
    Dir(Box<DirSets<K2, V2, C2, W2>>),
}

/// The sets of a node that has had a child.
pub(crate) struct DirSets<K2, V2, C2, W2> {
    dependents: Pairs<K2, V2>,
    children: Pairs<C2, W2>,
}

impl<K2, V2, C2, W2> Default for Sets<K2, V2, C2, W2> {
    fn default() -> Self {
        Sets::Flat(Pairs::default())
    }
}

impl<K2, V2, C2, W2> Sets<K2, V2, C2, W2> {
    /// The dependents, for [`Registry::new`].
    pub(crate) fn dependents(&mut self) -> Option<&mut Pairs<K2, V2>> {
        Some(self.dependents_mut())
    }

    /// The dependents, for [`Registry::new`]'s inserts.
    pub(crate) fn dependents_mut(&mut self) -> &mut Pairs<K2, V2> {
        match self {
            Sets::Flat(d) => d,
            Sets::Dir(b) => &mut b.dependents,
        }
    }

    /// The children, if any was ever added, for [`Registry::new`].
    pub(crate) fn children(&mut self) -> Option<&mut Pairs<C2, W2>> {
        match self {
            Sets::Flat(_) => None,
            Sets::Dir(b) => Some(&mut b.children),
        }
    }

    /// The children, boxed with the dependents now if they were not, for
    /// [`Registry::new`]'s inserts.
    pub(crate) fn children_mut(&mut self) -> &mut Pairs<C2, W2> {
        // At most two rounds: a flat node is boxed, then its children returned.
        loop {
            match self {
                Sets::Dir(b) => return &mut b.children,
                Sets::Flat(d) => {
                    let dependents = core::mem::take(d);
                    *self = Sets::Dir(Box::new(DirSets {
                        dependents,
                        children: Pairs::default(),
                    }));
                }
            }
        }
    }
}

/// What holds a node's sets behind its lock: runs `f` on them, locked.
pub(crate) trait LockedSets<S> {
    fn with_sets<R>(&self, f: impl FnOnce(&mut S) -> R) -> R;
    /// [`with_sets`](LockedSets::with_sets) for a registration: the node
    /// counts it as the lock is released, in the same step.
    fn with_sets_registering<R>(&self, f: impl FnOnce(&mut S) -> R) -> R;
}

/// One of a node's two sets, each call under the node's lock.
pub(crate) struct Registry<'a, L, S, K2, V2> {
    lock: &'a L,
    /// The set, if it exists (reads and removals).
    pick: fn(&mut S) -> Option<&mut Pairs<K2, V2>>,
    /// The set, made if it did not exist (inserts).
    make: fn(&mut S) -> &mut Pairs<K2, V2>,
}

impl<'a, L: LockedSets<S>, S, K2: Hash + Eq, V2: Member<K2>> Registry<'a, L, S, K2, V2> {
    /// The set `pick` finds (or `make` makes) among those behind `lock`.
    pub(crate) fn new(
        lock: &'a L,
        pick: fn(&mut S) -> Option<&mut Pairs<K2, V2>>,
        make: fn(&mut S) -> &mut Pairs<K2, V2>,
    ) -> Self {
        Registry { lock, pick, make }
    }

    /// Inserts (or replaces) `k`, and counts a registration on the node as it
    /// unlocks (see `Node::registrations`).
    pub(crate) fn register(&self, k: K2, v: V2, _guard: &Guard<'_>) {
        self.lock.with_sets_registering(|s| (self.make)(s).insert(k, v));
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn get<R>(&self, k: &K2, _guard: &Guard<'_>, f: impl FnOnce(&V2) -> R) -> Option<R> {
        self.lock.with_sets(|s| (self.pick)(s)?.get(k).map(f))
    }

    /// Removes `k` if its value satisfies `pred` (an identity check), and
    /// returns the value removed (dropped by the caller, outside the lock).
    pub(crate) fn remove_if(&self, k: &K2, _guard: &Guard<'_>, pred: impl FnOnce(&V2) -> bool) -> Option<V2> {
        self.lock.with_sets(|s| (self.pick)(s)?.remove_where(k, pred))
    }

    /// [`remove_if`](Registry::remove_if) for each `(key, pred)` of `items`,
    /// under one lock; adds the values removed to `out`, for the caller to
    /// drop outside the lock.
    pub(crate) fn remove_each<Q, P, I>(&self, items: I, _guard: &Guard<'_>, out: &mut impl Extend<V2>)
    where
        Q: Borrow<K2>,
        P: FnOnce(&V2) -> bool,
        I: IntoIterator<Item = (Q, P)>,
        I::IntoIter: ExactSizeIterator + Clone,
    {
        self.lock.with_sets(|s| {
            if let Some(m) = (self.pick)(s) {
                m.remove_each(items, out);
            }
        })
    }

    /// Runs `f` on the values under the lock (on an empty set if this one was
    /// never made); `f` must not touch this node's sets.
    pub(crate) fn with<R>(&self, _guard: &Guard<'_>, f: impl FnOnce(&Pairs<K2, V2>) -> R) -> R {
        self.lock.with_sets(|s| match (self.pick)(s) {
            Some(m) => f(m),
            None => f(&Pairs::default()),
        })
    }

    /// Visits every value under the lock; `f` must not touch this node's sets.
    pub(crate) fn for_each(&self, guard: &Guard<'_>, mut f: impl FnMut(&V2)) {
        self.with(guard, |m| m.iter().for_each(&mut f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test value: its key and a payload.
    #[derive(Debug, PartialEq)]
    struct Kv<T>(u32, T);

    impl<T> Member<u32> for Kv<T> {
        fn is(&self, k: &u32) -> bool {
            self.0 == *k
        }
        fn key(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn grows_from_a_vector_into_a_map_and_keeps_every_pair() {
        let mut p: Pairs<u32, Kv<u32>> = Pairs::default();
        for i in 0..40 {
            p.insert(i, Kv(i, i * 10));
            assert_eq!(p.len(), i as usize + 1);
        }
        assert!(matches!(p, Pairs::Many(_)) || LINEAR == usize::MAX);
        p.insert(3, Kv(3, 33));
        assert_eq!(p.len(), 40);
        assert_eq!(p.get(&3), Some(&Kv(3, 33)));
        for i in (0..40).step_by(2) {
            assert!(p.remove(&i).is_some());
            assert!(p.remove(&i).is_none());
        }
        let mut left: Vec<u32> = p.iter().map(|x| x.0).collect();
        left.sort();
        assert_eq!(left, (1..40).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn a_small_set_replaces_and_removes_in_place() {
        let mut p: Pairs<u32, Kv<&str>> = Pairs::default();
        p.insert(1, Kv(1, "a"));
        p.insert(2, Kv(2, "b"));
        p.insert(1, Kv(1, "c"));
        assert_eq!(p.len(), 2);
        assert_eq!(p.get(&1), Some(&Kv(1, "c")));
        assert_eq!(p.remove(&1), Some(Kv(1, "c")));
        assert_eq!(p.remove(&2), Some(Kv(2, "b")));
        assert_eq!(p.len(), 0);
        assert!(matches!(&p, Pairs::Few(v) if v.capacity() == 0));
    }

    #[test]
    fn one_value_is_inline_and_two_share_a_vector() {
        let mut p: Pairs<u32, Kv<u32>> = Pairs::default();
        p.insert(1, Kv(1, 10));
        assert!(matches!(&p, Pairs::One(Kv(1, 10))));
        p.insert(1, Kv(1, 11));
        assert!(matches!(&p, Pairs::One(Kv(1, 11))));
        assert_eq!(p.remove(&2), None);
        p.insert(2, Kv(2, 20));
        assert!(matches!(&p, Pairs::Few(v) if v.len() == 2));
        assert_eq!(p.remove(&1), Some(Kv(1, 11)));
        assert!(matches!(&p, Pairs::One(Kv(2, 20))), "back inline");
        assert_eq!(p.iter().collect::<Vec<_>>(), [&Kv(2, 20)]);
        assert_eq!(p.remove(&2), Some(Kv(2, 20)));
        assert!(matches!(&p, Pairs::Few(v) if v.capacity() == 0));
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn a_nodes_two_sets_take_a_vectors_size() {
        // `Sets`' tag fits in the niche of the dependents' vector capacity too.
        type NodeSets = crate::index::node::NodeSets<u64, u64, u64>;
        assert_eq!(core::mem::size_of::<NodeSets>(), core::mem::size_of::<Vec<usize>>());
    }

    /// A lock that is no lock: the registry's calls on a plain cell.
    struct Unlocked(std::cell::RefCell<Pairs<u32, Kv<u32>>>);

    impl LockedSets<Pairs<u32, Kv<u32>>> for Unlocked {
        fn with_sets<R>(&self, f: impl FnOnce(&mut Pairs<u32, Kv<u32>>) -> R) -> R {
            f(&mut self.0.borrow_mut())
        }
        fn with_sets_registering<R>(&self, f: impl FnOnce(&mut Pairs<u32, Kv<u32>>) -> R) -> R {
            f(&mut self.0.borrow_mut())
        }
    }

    #[test]
    fn remove_each_removes_exactly_the_keys_whose_values_match() {
        let lock = Unlocked(Default::default());
        let r = Registry::new(&lock, |p| Some(p), |p| p);
        let domain = crate::reclaim::Domain::new(1);
        let guard = domain.guard();
        for i in 0..6 {
            r.register(i, Kv(i, i * 10), &guard);
        }
        // 1 and 2 match; 3's value is not the one asked for; 9 is absent.
        let items = [(1, 10), (2, 20), (3, 99), (9, 90)];
        let mut removed = Vec::new();
        r.remove_each(
            items.map(|(k, v)| (k, move |x: &Kv<u32>| x.1 == v)),
            &guard,
            &mut removed,
        );
        assert_eq!(removed, [Kv(1, 10), Kv(2, 20)]);
        let mut left: Vec<u32> = lock.0.borrow().iter().map(|x| x.0).collect();
        left.sort();
        assert_eq!(left, [0, 3, 4, 5]);
    }

    /// `Pairs::remove_each` with `take` answering each `pred`; returns the
    /// values removed and the keys left, sorted.
    fn remove_batch(n: u32, keys: &[u32], take: impl Fn(u32) -> bool) -> (Vec<u32>, Vec<u32>, bool) {
        let mut p: Pairs<u32, Kv<u32>> = Pairs::default();
        for i in 0..n {
            p.insert(i, Kv(i, i));
        }
        let mut out = Vec::new();
        p.remove_each(keys.iter().map(|&k| (k, |x: &Kv<u32>| take(x.0))), &mut out);
        let mut left: Vec<u32> = p.iter().map(|x| x.0).collect();
        left.sort();
        let inline = matches!(p, Pairs::One(_)) || matches!(&p, Pairs::Few(v) if v.capacity() == 0);
        (out.into_iter().map(|x| x.0).collect(), left, inline)
    }

    #[test]
    fn a_batch_of_every_value_in_order_is_taken_whole_and_frees_the_vector() {
        let (out, left, inline) = remove_batch(10, &(0..10).collect::<Vec<_>>(), |_| true);
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(left.is_empty());
        assert!(inline, "no allocation kept");
    }

    #[test]
    fn a_batch_of_every_value_keeps_those_whose_pred_refuses() {
        let (out, left, _) = remove_batch(6, &[0, 1, 2, 3, 4, 5], |k| k != 2 && k != 4);
        assert_eq!(out, [0, 1, 3, 5]);
        assert_eq!(left, [2, 4]);
        let (out, left, inline) = remove_batch(6, &[0, 1, 2, 3, 4, 5], |k| k != 3);
        assert_eq!(out, [0, 1, 2, 4, 5]);
        assert_eq!(left, [3]);
        assert!(inline, "one value left: back inline");
    }

    #[test]
    fn a_batch_out_of_order_or_partial_or_with_strangers_removes_exactly_its_keys() {
        let (mut out, left, _) = remove_batch(6, &[5, 4, 3, 2, 1, 0], |_| true);
        out.sort();
        assert_eq!((out, left), ((0..6).collect::<Vec<_>>(), vec![]));
        let (mut out, left, _) = remove_batch(6, &[1, 3], |_| true);
        out.sort();
        assert_eq!((out, left), (vec![1, 3], vec![0, 2, 4, 5]));
        // As many keys as values, one not present: nothing else goes.
        let (mut out, left, _) = remove_batch(4, &[0, 1, 2, 9], |_| true);
        out.sort();
        assert_eq!((out, left), (vec![0, 1, 2], vec![3]));
    }

    #[test]
    fn a_first_child_boxes_both_sets_and_keeps_the_dependents() {
        let mut s: Sets<u32, Kv<u32>, u32, Kv<u32>> = Sets::default();
        s.dependents_mut().insert(1, Kv(1, 10));
        s.dependents_mut().insert(2, Kv(2, 20));
        assert!(s.children().is_none());
        s.children_mut().insert(7, Kv(7, 70));
        assert!(matches!(s, Sets::Dir(_)));
        let mut deps: Vec<u32> = s.dependents().into_iter().flat_map(|d| d.iter().map(|x| x.0)).collect();
        deps.sort();
        assert_eq!(deps, [1, 2]);
        assert_eq!(s.children().map(|c| c.len()), Some(1));
    }

    #[test]
    fn a_registry_of_dependents_is_a_vectors_size() {
        // The tag of `One` fits in the niche of the vector's capacity.
        type Dependents = Pairs<usize, crate::index::Dependent<u64, u64, u64>>;
        assert_eq!(core::mem::size_of::<Dependents>(), core::mem::size_of::<Vec<usize>>());
    }
}
