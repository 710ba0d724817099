//! One node of the dependency index: the generations of a dependency, the
//! entries registered on it, its children, and the pins that keep it alive.

use super::registry::{Member, Registry, Sets};
use super::Reg;
use crate::sync::{lock, Arc, AtomicU64, Mutex, Ordering};
use crate::Dependency;

/// The hasher of the internal maps (keys are pointers and dependencies we own).
pub(crate) type FastHash = foldhash::fast::RandomState;

/// The pins of a node: the low 32 bits of [`Node::word`].
const PINS: u64 = u32::MAX as u64;
/// The pins of a node that has left the index; it can never be pinned again.
const RETIRED: u64 = PINS;
/// One registration in [`Node::word`]: its high 32 bits count them.
const ONE_REGISTRATION: u64 = 1 << 32;

/// A node's dependents and children.
pub(crate) type NodeSets<K, V, D> = Sets<usize, Reg<K, V, D>, D, Arc<Node<K, V, D>>>;
/// A node's dependents, under its lock.
pub(crate) type Dependents<'a, K, V, D> = Registry<'a, NodeSets<K, V, D>, usize, Reg<K, V, D>>;
/// A node's children, under its lock.
pub(crate) type Children<'a, K, V, D> = Registry<'a, NodeSets<K, V, D>, D, Arc<Node<K, V, D>>>;

pub(crate) struct Node<K, V, D> {
    pub(crate) dep: D,
    /// The node of `dep.parent()`, pinned by this node for its whole life.
    pub(crate) parent: Option<Arc<Node<K, V, D>>>,
    /// Bumped when this dependency, as a whole, is invalidated.
    gen: AtomicU64,
    /// Bumped when something strictly below this dependency is invalidated.
    tree_gen: AtomicU64,
    /// Two counters in one word (8 bytes less per node, and a glibc chunk of
    /// 96 bytes instead of 112 for every dependency):
    ///
    /// * low 32 bits, the *pins*: tickets, leases and entries holding this
    ///   node, plus its children; [`RETIRED`] once it has left the index. Each
    ///   pin stands for an object of its own (an entry, a ticket, a child
    ///   node), so 2^32 − 1 of them cannot be alive at once; `try_pin` aborts
    ///   the process before it would reach [`RETIRED`], as `Arc` does on overflow.
    /// * high 32 bits, the *registrations* ever made here (dependents and
    ///   children), modulo 2^32: lets an eager invalidation see that nothing
    ///   registered between its two scans. A wrap in between (2^32
    ///   registrations on one node during one invalidation) would only keep
    ///   that call from removing and counting an entry registered meanwhile —
    ///   which its stamps already make invisible, and which is reclaimed
    ///   later — never serve a stale one.
    word: AtomicU64,
    /// Entries that depend on this node directly (keyed by address), and the
    /// index nodes whose parent is this node, under one lock.
    sets: Mutex<NodeSets<K, V, D>>,
}

impl<K, V, D> Node<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// A node pinned once, by its creator.
    pub(crate) fn new(dep: D, parent: Option<Arc<Node<K, V, D>>>) -> Self {
        Node {
            dep,
            parent,
            gen: AtomicU64::new(0),
            tree_gen: AtomicU64::new(0),
            word: AtomicU64::new(1),
            sets: Mutex::new(Sets::default()),
        }
    }

    /// Entries that depend on this node directly.
    pub(crate) fn dependents(&self) -> Dependents<'_, K, V, D> {
        Registry::new(&self.sets, Sets::dependents, Sets::dependents_mut)
    }

    /// Index nodes whose parent is this node.
    pub(crate) fn children(&self) -> Children<'_, K, V, D> {
        Registry::new(&self.sets, Sets::children, Sets::children_mut)
    }

    /// Empties both sets, returning what they held (dropped by the caller,
    /// outside the lock).
    pub(crate) fn take_sets(&self) -> NodeSets<K, V, D> {
        core::mem::take(&mut *lock(&self.sets))
    }

    /// Adds a pin unless the node is retired.
    pub(crate) fn try_pin(&self) -> bool {
        // Relaxed first read: the CAS below re-checks the value.
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            let pins = cur & PINS;
            if pins == RETIRED {
                return false;
            }
            if pins == RETIRED - 1 {
                // 2^32 − 2 live holders (see `word`): not a state a program
                // can reach without a leak of pins; stop as `Arc` does.
                std::process::abort();
            }
            // Acquire on success: pairs with the Release half of the last unpin so
            // that what its holder did to the node is visible before we use it.
            match self
                .word
                .compare_exchange_weak(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => {
                    cur = now;
                    crate::sync::spin();
                }
            }
        }
    }

    /// Drops a pin; true if this was the last one and the caller retired the node
    /// (it must then remove the node from the index and unpin its parent).
    pub(crate) fn unpin(&self) -> bool {
        // AcqRel: the last unpinner must see every earlier holder's writes
        // (registrations removed) before it retires the node.
        let was = self.word.fetch_sub(1, Ordering::AcqRel);
        if was & PINS != 1 {
            return false;
        }
        // A `try_pin` may revive the node between the decrement and here; then this
        // CAS fails and the reviver owns the next retirement. Registrations are
        // made only by holders of a pin, so a changed count means a revival too
        // (and a failed CAS here). Relaxed on failure: the value is not used.
        let now = was - 1;
        // Loom builds only: the deliberately broken variant (a plain store).
        #[cfg(depcache_loom)]
        if crate::sync::fault::retire_without_cas() {
            // Relaxed load: the broken variant only; Release store as the CAS.
            let cur = self.word.load(Ordering::Relaxed);
            self.word.store(cur | RETIRED, Ordering::Release);
            return true;
        }
        self.word
            .compare_exchange(now, now | RETIRED, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    #[cfg(any(test, fuzzing, feature = "invariants"))]
    pub(crate) fn is_retired(&self) -> bool {
        // Relaxed: used by the invariant checker at quiescence only.
        self.word.load(Ordering::Relaxed) & PINS == RETIRED
    }

    #[cfg(any(test, fuzzing, feature = "invariants"))]
    pub(crate) fn pins(&self) -> usize {
        // Relaxed: used by the invariant checker at quiescence only.
        (self.word.load(Ordering::Relaxed) & PINS) as usize
    }

    /// The stamp an entry records for this node: the sum of the `gen`s of the node
    /// and all its ancestors, plus its own `tree_gen` for a `Subtree` dependency.
    ///
    /// Every term only grows, so the sum is unchanged exactly when every term is:
    /// one number checks the whole chain. Reads that race a bump see it or not;
    /// either way a later read sees a larger sum, so a bump is never missed.
    pub(crate) fn stamp(&self, subtree: bool) -> u64 {
        // Acquire: pairs with the bump (AcqRel) so that an invalidation seen in a
        // generation is seen together with everything before it.
        let mut sum = if subtree {
            self.tree_gen.load(Ordering::Acquire)
        } else {
            0
        };
        let mut n = Some(self);
        while let Some(x) = n {
            sum = sum.wrapping_add(x.gen.load(Ordering::Acquire));
            n = x.parent.as_deref();
        }
        sum
    }

    /// Counts a registration (a dependent or a child), made just before.
    pub(crate) fn registered(&self) {
        // Relaxed: the registering thread's SeqCst fence, after this and before
        // its stamp re-check, pairs with the invalidation's fence after its
        // bumps (store buffering): an invalidation that reads an old count after
        // its fence is seen by that re-check.
        // Wrapping: the count lives in the top bits, so its carry leaves the word.
        self.word.fetch_add(ONE_REGISTRATION, Ordering::Relaxed);
    }

    /// Registrations counted so far (see [`registered`](Node::registered)).
    pub(crate) fn registrations(&self) -> u64 {
        // Relaxed: see `registered`; read before a scan and after the
        // invalidation's SeqCst fence.
        self.word.load(Ordering::Relaxed) >> 32
    }

    /// Invalidates this dependency as a whole (and so everything below it).
    pub(crate) fn bump_gen(&self) {
        // AcqRel: the bump is the linearization point of an invalidation; the
        // SeqCst fence that follows it orders it before the reverse-index scan.
        self.gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Records that something strictly below this dependency changed.
    pub(crate) fn bump_tree(&self) {
        // AcqRel: as `bump_gen`.
        self.tree_gen.fetch_add(1, Ordering::AcqRel);
    }
}

impl<K, V, D> Member<usize> for Reg<K, V, D> {
    #[inline]
    fn is(&self, k: &usize) -> bool {
        self.as_ptr().addr() == *k
    }
    fn key(&self) -> usize {
        self.as_ptr().addr()
    }
}

impl<K, V, D: Dependency> Member<D> for Arc<Node<K, V, D>> {
    #[inline]
    fn is(&self, k: &D) -> bool {
        self.dep == *k
    }
    fn key(&self) -> D {
        self.dep.clone()
    }
}

#[cfg(all(test, not(depcache_loom)))]
mod tests {
    use super::Node;

    type N = Node<u64, u64, u64>;

    #[test]
    fn pins_and_registrations_share_a_word_without_touching_each_other() {
        let n = N::new(7, None);
        assert_eq!((n.pins(), n.registrations()), (1, 0));
        for _ in 0..3 {
            n.registered();
        }
        assert!(n.try_pin());
        assert_eq!((n.pins(), n.registrations()), (2, 3));
        assert!(!n.unpin(), "a pin is left");
        assert_eq!((n.pins(), n.registrations()), (1, 3));
        // The last unpin retires even though registrations were counted: its
        // CAS expects the whole word it left, count included.
        assert!(n.unpin(), "the last unpin retires the node");
        assert!(n.is_retired());
        assert_eq!(n.registrations(), 3, "retiring leaves the count alone");
        assert!(!n.try_pin(), "a retired node cannot be pinned again");
    }

    #[test]
    fn a_registration_count_at_its_top_wraps_out_of_the_word() {
        let n = N::new(7, None);
        // Start the count one below its wrap (as 2^32 − 1 registrations would).
        n.word
            .fetch_add(u64::from(u32::MAX) << 32, crate::sync::Ordering::Relaxed);
        assert_eq!(n.registrations(), u64::from(u32::MAX));
        n.registered();
        assert_eq!(n.registrations(), 0, "the carry leaves the word");
        assert_eq!(n.pins(), 1, "and does not reach the pins");
        assert!(n.unpin());
    }
}
