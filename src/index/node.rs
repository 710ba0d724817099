//! One node of the dependency index: the generations of a dependency, the
//! entries registered on it, its children, and the pins that keep it alive.

use super::node_sets::{LockedSets, Member, Registry, Sets};
use super::Dependent;
use crate::map::{Keyed, Link, Linked};
use crate::sync::{Arc, AtomicU64, Ordering, UnsafeCell};
use crate::Dependency;

/// The pins of a node: the low 32 bits of [`Node::word`].
const PINS: u64 = u32::MAX as u64;
/// The pins of a node that has left the index; it can never be pinned again.
const RETIRED: u64 = PINS;
/// Bit 32 of [`Node::word`]: the lock of the node's sets.
const LOCKED: u64 = 1 << 32;
/// The registrations are counted in bits 33..64 of [`Node::word`].
const REGISTRATIONS_SHIFT: u32 = 33;
/// One registration in [`Node::word`].
const ONE_REGISTRATION: u64 = 1 << REGISTRATIONS_SHIFT;
// Releasing the lock while counting a registration adds `LOCKED` to a word
// that has it set: the carry clears bit 32 and lands on the count's first bit.
const _: () = assert!(LOCKED << 1 == ONE_REGISTRATION);
/// Spins on a held lock before yielding to the OS between looks.
const SPINS: u32 = 64;

/// A node's dependents and children.
pub(crate) type NodeSets<K, V, D> = Sets<usize, Dependent<K, V, D>, D, Arc<Node<K, V, D>>>;
/// A node's dependents, under its lock.
pub(crate) type Dependents<'a, K, V, D> = Registry<'a, Node<K, V, D>, NodeSets<K, V, D>, usize, Dependent<K, V, D>>;
/// A node's children, under its lock.
pub(crate) type Children<'a, K, V, D> = Registry<'a, Node<K, V, D>, NodeSets<K, V, D>, D, Arc<Node<K, V, D>>>;

pub(crate) struct Node<K, V, D> {
    pub(crate) dep: D,
    /// The next node of this node's bucket in the index's [`Table`](crate::map::Table).
    link: Link<Node<K, V, D>>,
    /// The node of `dep.parent()`, pinned by this node for its whole life.
    pub(crate) parent: Option<Arc<Node<K, V, D>>>,
    /// Bumped when this dependency, as a whole, is invalidated.
    gen: AtomicU64,
    /// Bumped when something strictly below this dependency is invalidated.
    tree_gen: AtomicU64,
    /// Two counters and a lock in one word (in place of a second counter and
    /// a mutex: 16 bytes less per node, a glibc chunk of 80 bytes instead of
    /// 112 for a flat dependency):
    ///
    /// * bits 0..32, the *pins*: tickets, leases and entries holding this
    ///   node, plus its children; [`RETIRED`] once it has left the index. Each
    ///   pin stands for an object of its own (an entry, a ticket, a child
    ///   node), so 2^32 − 1 of them cannot be alive at once; `try_pin` aborts
    ///   the process before it would reach [`RETIRED`], as `Arc` does on overflow.
    /// * bit 32, [`LOCKED`]: the lock of `sets` (see [`Node::with_sets`]).
    /// * bits 33..64, the *registrations* ever made here (dependents and
    ///   children), modulo 2^31: lets an eager invalidation see that nothing
    ///   registered between its two scans. A wrap in between (2^31
    ///   registrations on one node during one invalidation) would only keep
    ///   that call from removing and counting an entry registered meanwhile —
    ///   which its stamps already make invisible, and which is reclaimed
    ///   later — never serve a stale one. Their carry leaves the word.
    word: AtomicU64,
    /// Entries that depend on this node directly (keyed by address), and the
    /// index nodes whose parent is this node, under the lock bit of `word`.
    sets: UnsafeCell<NodeSets<K, V, D>>,
}

// SAFETY: `sets` is only reached through `with_sets`, which holds the lock bit
// of `word` for the whole access (as `Mutex<NodeSets>`, which this replaced,
// is `Sync` when its data is `Send`); every other field is `Sync` on its own.
unsafe impl<K, V, D> Sync for Node<K, V, D>
where
    NodeSets<K, V, D>: Send,
    D: Sync,
{
}

/// Holds a node's lock; unlocks when dropped (a panic in the critical section
/// unlocks too, and the sets are left as the panic found them, as with the
/// poison-ignoring mutex this replaced).
struct Unlock<'a> {
    word: &'a AtomicU64,
    /// Count a registration as the lock is released.
    registering: bool,
}

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        // Loom builds only: the deliberately broken variant (no count).
        #[cfg(depcache_loom)]
        let registering = self.registering && !crate::sync::fault::register_uncounted();
        #[cfg(not(depcache_loom))]
        let registering = self.registering;
        // Release (both ways): pairs with the Acquire of the next
        // `with_sets`, which then sees everything this holder wrote to the sets.
        if registering {
            // The lock bit is set, so adding it carries into bit 33: the lock
            // is released and one registration counted by one step (a panic in
            // the insert counts one too many: the next invalidation rescans).
            self.word.fetch_add(LOCKED, Ordering::Release);
        } else {
            self.word.fetch_and(!LOCKED, Ordering::Release);
        }
    }
}

impl<K, V, D> LockedSets<NodeSets<K, V, D>> for Node<K, V, D> {
    /// Runs `f` on the sets with the lock bit held.
    #[inline]
    fn with_sets<R>(&self, f: impl FnOnce(&mut NodeSets<K, V, D>) -> R) -> R {
        self.locked(false, f)
    }

    #[inline]
    fn with_sets_registering<R>(&self, f: impl FnOnce(&mut NodeSets<K, V, D>) -> R) -> R {
        self.locked(true, f)
    }
}

impl<K, V, D> Node<K, V, D> {
    /// Empties both sets, returning what they held (dropped by the caller,
    /// outside the lock).
    pub(crate) fn take_sets(&self) -> NodeSets<K, V, D> {
        self.with_sets(core::mem::take)
    }

    /// Takes the lock bit, runs `f` on the sets, releases the bit (counting a
    /// registration in the same step if `registering`).
    #[inline]
    fn locked<R>(&self, registering: bool, f: impl FnOnce(&mut NodeSets<K, V, D>) -> R) -> R {
        let mut spins = 0;
        loop {
            // Acquire: pairs with the Release unlock of the previous holder.
            if self.word.fetch_or(LOCKED, Ordering::Acquire) & LOCKED == 0 {
                break;
            }
            // Held: watch the bit (reads only, the line stays shared) until it
            // clears, spinning briefly, then yielding to the holder.
            // Relaxed: the next `fetch_or` decides.
            while self.word.load(Ordering::Relaxed) & LOCKED != 0 {
                if spins < SPINS {
                    spins += 1;
                    crate::sync::spin();
                } else {
                    crate::sync::yield_now();
                }
            }
        }
        let _unlock = Unlock {
            word: &self.word,
            registering,
        };
        // SAFETY: the lock bit is ours until `_unlock` drops after `f`: no
        // other reference to the sets exists meanwhile (`with_sets` is their
        // only way in, and `f` must not re-enter this node's sets: every
        // caller's closure touches only these sets, or other nodes).
        self.sets.with_mut(|p| f(unsafe { &mut *p }))
    }
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
            link: Link::null(),
            parent,
            gen: AtomicU64::new(0),
            tree_gen: AtomicU64::new(0),
            word: AtomicU64::new(1),
            sets: UnsafeCell::new(Sets::default()),
        }
    }

    /// Entries that depend on this node directly.
    pub(crate) fn dependents(&self) -> Dependents<'_, K, V, D> {
        Registry::new(self, Sets::dependents, Sets::dependents_mut)
    }

    /// Index nodes whose parent is this node.
    pub(crate) fn children(&self) -> Children<'_, K, V, D> {
        Registry::new(self, Sets::children, Sets::children_mut)
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
        self.unpin_n(1)
    }

    /// Drops `n` pins the caller holds (at least one) in one step: what `n`
    /// calls of [`unpin`](Node::unpin) in a row would do, with no other
    /// operation between them. True if they were the last.
    pub(crate) fn unpin_n(&self, n: u32) -> bool {
        debug_assert!(n >= 1, "unpin_n drops at least one pin");
        let n = u64::from(n);
        // AcqRel: the last unpinner must see every earlier holder's writes
        // (registrations removed) before it retires the node.
        let was = self.word.fetch_sub(n, Ordering::AcqRel);
        debug_assert!(was & PINS >= n && was & PINS != RETIRED, "more unpins than pins");
        if was & PINS != n {
            return false;
        }
        // No pins now. A `try_pin` may revive the node before we mark it
        // retired: then it holds a pin and the node must stay. The lock bit may
        // flip meanwhile too (an invalidation scans a node it has not pinned),
        // so the CAS retries while no pin is held; if the reviver's own last
        // unpin got there first, we find RETIRED, which is not "no pins" either.
        let mut cur = was - n;
        // Loom builds only: the deliberately broken variant (a plain store).
        #[cfg(depcache_loom)]
        if crate::sync::fault::retire_without_cas() {
            // Relaxed load: the broken variant only; Release store as the CAS.
            let now = self.word.load(Ordering::Relaxed);
            self.word.store(now | RETIRED, Ordering::Release);
            return true;
        }
        loop {
            if cur & PINS != 0 {
                return false;
            }
            // AcqRel: as the decrement. Relaxed on failure: the loop re-reads.
            match self
                .word
                .compare_exchange(cur, cur | RETIRED, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
            // Loom builds only: the deliberately broken variant (one try).
            #[cfg(depcache_loom)]
            if crate::sync::fault::retire_cas_once() {
                return false;
            }
            crate::sync::spin();
        }
    }

    /// True if an invalidation of something strictly below this node might
    /// reach what uses it: a `Subtree` dependent, or a pin that is neither a
    /// dependent nor a child (a ticket, which may hold a `Subtree` stamp).
    ///
    /// Read under the node's lock, which every change of the sets takes. A
    /// pin is taken before its registration and dropped after its removal,
    /// so while the lock is held the pins are at least the dependents and
    /// children; a transition between the two counts as a ticket (true).
    pub(crate) fn reached_from_below(&self) -> bool {
        self.with_sets(|sets| {
            let dependents = sets.dependents_mut();
            if dependents.iter().any(|d| d.subtree()) {
                return true;
            }
            let users = dependents.len() + sets.children().map_or(0, |c| c.len());
            // Relaxed: read under the lock; see above for why a stale count
            // errs towards true.
            (self.word.load(Ordering::Relaxed) & PINS) as usize > users
        })
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn is_retired(&self) -> bool {
        // Relaxed: used by the invariant checker at quiescence only.
        self.word.load(Ordering::Relaxed) & PINS == RETIRED
    }

    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
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

    /// Counts a registration without making one (tests of the word's fields).
    #[cfg(test)]
    fn registered(&self) {
        self.word.fetch_add(ONE_REGISTRATION, Ordering::Relaxed);
    }

    /// Registrations counted so far: each is counted by the step that
    /// releases the lock after it (`Registry::register`).
    pub(crate) fn registrations(&self) -> u64 {
        // Relaxed: read before a scan and after the invalidation's SeqCst
        // fence. A registering thread counts before its own SeqCst fence and
        // stamp re-check, which pairs with the invalidation's fence after its
        // bumps (store buffering): an invalidation that reads an old count
        // after its fence is seen by that re-check.
        self.word.load(Ordering::Relaxed) >> REGISTRATIONS_SHIFT
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

impl<K, V, D> Linked for Node<K, V, D> {
    #[inline(always)]
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

impl<K, V, D: Dependency> Keyed for Node<K, V, D> {
    type Key = D;
    #[inline(always)]
    fn key(&self) -> &D {
        &self.dep
    }
}

impl<K, V, D> Member<usize> for Dependent<K, V, D> {
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
    use super::super::node_sets::LockedSets;
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
    fn pins_dropped_together_retire_only_when_they_were_the_last() {
        let n = N::new(7, None);
        for _ in 0..4 {
            assert!(n.try_pin());
        }
        n.registered();
        assert!(!n.unpin_n(3), "two pins are left");
        assert_eq!((n.pins(), n.registrations()), (2, 1));
        assert!(n.unpin_n(2), "the last two retire the node");
        assert!(n.is_retired());
        assert_eq!(n.registrations(), 1);
    }

    #[test]
    fn a_registration_count_at_its_top_wraps_out_of_the_word() {
        let n = N::new(7, None);
        // Start the count one below its wrap (as 2^31 − 1 registrations would).
        let top = (1u64 << (64 - super::REGISTRATIONS_SHIFT)) - 1;
        n.word
            .fetch_add(top << super::REGISTRATIONS_SHIFT, crate::sync::Ordering::Relaxed);
        assert_eq!(n.registrations(), top);
        n.registered();
        assert_eq!(n.registrations(), 0, "the carry leaves the word");
        assert_eq!(n.pins(), 1, "and reaches neither the pins");
        assert_eq!(n.with_sets(|s| s.dependents_mut().len()), 0, "nor the lock");
        assert!(n.unpin());
    }

    #[test]
    fn the_lock_bit_leaves_pins_and_count_alone_and_a_locked_node_still_retires() {
        let n = N::new(7, None);
        n.registered();
        n.with_sets(|_| {
            // Held: pins and registrations move under it as before.
            assert_eq!((n.pins(), n.registrations()), (1, 1));
            assert!(n.try_pin());
            n.registered();
            assert!(!n.unpin());
            // The last unpin retires while another thread (here: this one)
            // holds the lock, as an invalidation scanning an unpinned node may.
            assert!(n.unpin());
        });
        assert!(n.is_retired());
        assert_eq!(n.registrations(), 2);
        // Unlocked again: the sets are reachable.
        assert_eq!(n.with_sets(|s| s.dependents_mut().len()), 0);
    }

    #[test]
    fn a_registration_is_counted_by_the_step_that_unlocks() {
        let n = N::new(7, None);
        let domain = crate::reclaim::Domain::new(1);
        let guard = domain.guard();
        let child = crate::sync::Arc::new(N::new(8, None));
        n.children().register(8, child.clone(), &guard);
        assert_eq!(n.registrations(), 1);
        assert_eq!(n.pins(), 1, "the carry of the lock bit stops at the count");
        // Unlocked: the sets can be taken again, and hold the child.
        assert_eq!(
            n.children().get(&8, &guard, |c| crate::sync::Arc::ptr_eq(c, &child)),
            Some(true)
        );
        n.dependents().for_each(&guard, |_| panic!("no dependents"));
        assert_eq!(n.registrations(), 1, "only `register` counts");
        drop(n.take_sets());
    }

    #[test]
    fn the_lock_excludes_other_threads() {
        let n = std::sync::Arc::new(N::new(7, None));
        let inside = std::sync::Arc::new(crate::sync::AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (n, inside) = (n.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        n.with_sets(|_| {
                            // Relaxed: the lock orders these; the test checks
                            // that no two holders overlap.
                            assert_eq!(inside.fetch_add(1, crate::sync::Ordering::Relaxed), 0);
                            std::hint::spin_loop();
                            inside.fetch_sub(1, crate::sync::Ordering::Relaxed);
                        });
                        n.registered();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(n.registrations(), 8000);
        assert_eq!(n.pins(), 1);
    }
}
