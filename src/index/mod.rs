//! The dependency index: dependency → [`Node`], with the generation counters
//! that make invalidation O(depth) and the reverse index that makes eager
//! invalidation O(k) in the entries it removes.

mod bumps;
mod dependent;
mod entry;
mod node;
mod node_sets;
mod stamps;

pub(crate) use bumps::BumpSet;
pub(crate) use dependent::Dependent;
pub(crate) use entry::{Entry, DEAD, DEAD_STALE, INIT, LIVE, MAX_REFS, REFUSED};
pub(crate) use node::Node;
pub(crate) use node_sets::Removed;
pub(crate) use stamps::{Stamp, Stamps};

use crate::map::{FastHash, Found, Table};
use crate::reclaim::{Domain, Guard};
use crate::stats::Striped;
use crossbeam_utils::CachePadded;

use crate::sync::{fence, Arc, AtomicU64, Ordering};
use crate::Dependency;

pub(crate) struct Index<K, V, D> {
    pub(crate) domain: Domain,
    /// Dependency → node: a [`Table`] whose item is the node itself, so that
    /// finding a node is the bucket head and the node (through papaya it is
    /// its metadata byte, its slot, its boxed pair, then the node).
    pub(crate) nodes: Table<Node<K, V, D>, FastHash>,
    /// Nodes in `nodes`, counted per thread stripe.
    linked: Striped,
    /// `G`: bumped by every invalidation after its generation bumps. An entry
    /// verified at the current `G` needs no stamp walk (the `get` fast path).
    g: CachePadded<AtomicU64>,
    /// The floor of `invalidate_all`: the `G` its last call published. An
    /// entry or ticket whose base (the `G` it was last known valid at, see
    /// [`Entry::base`]) is below it is invalid. Raised before that `G` is
    /// published, so a thread that acquires a `G` sees every floor up to it.
    floor: AtomicU64,
    /// [`Index::release`] for these types, so that a ticket's `Drop` (which
    /// has no trait bounds, as the ticket type has none) can call it.
    pub(crate) release_fn: fn(&Self, &Stamps<K, V, D>),
}

impl<K, V, D> Index<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// An empty index with a bucket head for each of `heads` nodes (rounded
    /// up to a power of two); more nodes make longer chains, never a failure.
    pub(crate) fn new(domain: Domain, heads: usize) -> Self {
        let nodes = Table::new(heads, FastHash::default());
        Index {
            domain,
            nodes,
            linked: Striped::new(),
            g: CachePadded::new(AtomicU64::new(0)),
            floor: AtomicU64::new(0),
            release_fn: Self::release,
        }
    }

    /// The global invalidation counter.
    #[inline]
    pub(crate) fn g(&self) -> u64 {
        // Acquire: pairs with the AcqRel increment in `publish_invalidation`, which
        // follows the generation bumps: seeing the new `G` means seeing the bumps.
        self.g.load(Ordering::Acquire)
    }

    /// The `invalidate_all` floor: a base below it is invalid.
    pub(crate) fn floor(&self) -> u64 {
        // Acquire: pairs with the AcqRel raise in `flush_all`; the caller has
        // loaded `G` before, and a `G` it saw was published after its floor.
        self.floor.load(Ordering::Acquire)
    }

    /// Makes finished generation bumps visible to the `get` fast path, and orders
    /// them before the caller's reverse-index scan.
    pub(crate) fn publish_invalidation(&self) {
        // AcqRel: releases the bumps before it to every reader that acquires `G`.
        self.g.fetch_add(1, Ordering::AcqRel);
        // SeqCst fence: the invalidation side of a store-buffering pair with the
        // inserter's fence between registering an entry and re-checking its
        // stamps; at least one of the two sees the other.
        fence(Ordering::SeqCst);
    }

    /// `invalidate_all`: every entry and ticket whose base is below the `G`
    /// this call publishes becomes invalid.
    ///
    /// The floor is raised to the next `G` *before* a CAS publishes that `G`:
    /// whoever acquires it (or any later `G`) then sees the floor, so a lookup
    /// can never validate an entry at that `G` against the old floor and cache
    /// the verdict in `live_at` (loom model m15; its broken variant raises the
    /// floor after the CAS). A failed CAS leaves the floor at a `G` another
    /// invalidation published: entries based below it become invalid while
    /// this call is under way, which they are when it returns anyway.
    pub(crate) fn flush_all(&self) {
        // Acquire: the CAS below re-reads it.
        let mut g = self.g.load(Ordering::Acquire);
        loop {
            let next = g + 1;
            // Loom builds only: the deliberately broken variant (floor after `G`).
            #[cfg(depcache_loom)]
            let late = crate::sync::fault::floor_after_g();
            #[cfg(not(depcache_loom))]
            let late = false;
            if !late {
                // AcqRel: released by the CAS below to whoever acquires `next`.
                self.floor.fetch_max(next, Ordering::AcqRel);
            }
            // Loom builds only: the deliberately broken variant (`G` left alone).
            #[cfg(depcache_loom)]
            if crate::sync::fault::flush_leaves_g() {
                return;
            }
            // AcqRel: as `publish_invalidation`'s increment; Acquire on failure
            // to retry from the current `G`.
            match self
                .g
                .compare_exchange_weak(g, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if late {
                        // AcqRel: as above (the broken variant only moves it).
                        self.floor.fetch_max(next, Ordering::AcqRel);
                    }
                    break;
                }
                Err(cur) => g = cur,
            }
        }
        // SeqCst fence: as in `publish_invalidation`.
        fence(Ordering::SeqCst);
    }

    /// The node of `dep`, if it is in the index (not pinned).
    pub(crate) fn get(&self, dep: &D, guard: &Guard<'_>) -> Option<Arc<Node<K, V, D>>> {
        self.nodes.get(dep, guard).map(Found::to_arc)
    }

    /// [`get`](Index::get) without a count: the node, borrowed while `guard`
    /// and the index live (the index's count of a node removed meanwhile is dropped by the
    /// collector only after the guard is gone).
    pub(crate) fn get_ref<'g>(&'g self, dep: &D, guard: &'g Guard<'_>) -> Option<&'g Node<K, V, D>> {
        // A node in its `Arc` spans two cache lines (its count and 72 bytes;
        // where the line breaks depends on the allocation): start both before
        // the key compare waits for one, so the generations, the lock word and
        // the sets an invalidation touches next do not wait for the other.
        self.nodes
            .get_in_touching(self.nodes.bucket(dep), dep, guard, |p| {
                crate::sync::prefetch(p.cast::<u8>().wrapping_sub(8));
                crate::sync::prefetch(p.cast::<u8>().wrapping_add(64));
            })
            .map(Found::get)
    }

    /// Nodes in the index (exact when no thread is changing it).
    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.linked.sum()).unwrap_or(usize::MAX)
    }

    /// The node of `dep`, created with its ancestors if absent, pinned once for the caller.
    pub(crate) fn pin(&self, dep: &D, guard: &Guard<'_>) -> Arc<Node<K, V, D>> {
        loop {
            if let Some(node) = self.nodes.get(dep, guard) {
                if node.try_pin() {
                    return node.to_arc();
                }
                // Retired but not yet removed: help its retirer, then look again.
                self.remove(&node, guard);
                crate::sync::spin();
                continue;
            }
            // The child pins its parent for its whole life.
            let parent = dep.parent().map(|p| self.pin(&p, guard));
            let node = Arc::new(Node::new(dep.clone(), parent));
            match self.nodes.try_insert(node.clone(), guard) {
                Ok(()) => {
                    self.linked.add(1, guard);
                    if let Some(p) = &node.parent {
                        p.children().register(dep.clone(), node.clone(), guard);
                    }
                    return node;
                }
                Err(_) => {
                    // Lost the race to create it: give back the parent pin and retry.
                    if let Some(p) = &node.parent {
                        self.unpin(p, guard);
                    }
                }
            }
        }
    }

    /// True if invalidating `dep` might reach an entry or a ticket: `dep` has
    /// a node (something depends on it or below it), or an ancestor's node
    /// is [`reached_from_below`](Node::reached_from_below).
    pub(crate) fn covers(&self, dep: &D, guard: &Guard<'_>) -> bool {
        if self.get_ref(dep, guard).is_some() {
            return true;
        }
        let mut cur = dep.parent();
        while let Some(d) = cur {
            if self.get_ref(&d, guard).is_some_and(Node::reached_from_below) {
                return true;
            }
            cur = d.parent();
        }
        false
    }

    /// Drops one pin of `node`; the last one retires it and unpins its parent.
    /// [`unpin`](Index::unpin) of every node of `stamps`: a ticket or lease
    /// dropped unused (taken stamps are empty: nothing to do, no guard).
    pub(crate) fn release(&self, stamps: &crate::index::Stamps<K, V, D>) {
        if stamps.is_empty() {
            return;
        }
        let guard = self.domain.guard();
        for s in stamps.iter() {
            self.unpin(&s.node, &guard);
        }
    }

    /// A ticket's or lease's check, the entry-side one without an entry: its
    /// base against the floor, and its stamps.
    pub(crate) fn lease_valid(&self, g: u64, stamps: &crate::index::Stamps<K, V, D>) -> bool {
        g >= self.floor() && stamps.iter().all(crate::index::Stamp::unchanged)
    }

    pub(crate) fn unpin(&self, node: &Arc<Node<K, V, D>>, guard: &Guard<'_>) {
        self.unpin_n(node, 1, guard);
    }

    /// Drops `n` of the caller's pins on `node` in one step (the entries of one
    /// node that an eager invalidation removes together), retiring it and its
    /// emptied ancestors as [`unpin`](Index::unpin) does.
    pub(crate) fn unpin_n(&self, node: &Arc<Node<K, V, D>>, n: u32, guard: &Guard<'_>) {
        // The node is cloned only if it retires: an unpin that leaves it pinned
        // (nearly all of them) is one atomic step, not three.
        if !node.unpin_n(n) {
            return;
        }
        let mut cur = node.clone();
        loop {
            self.remove(&cur, guard);
            let Some(parent) = cur.parent.clone() else {
                break;
            };
            drop(parent.children().remove_if(&cur.dep, guard, |n| Arc::ptr_eq(n, &cur)));
            if !parent.unpin() {
                break;
            }
            cur = parent;
        }
    }

    /// Unlinks a retired `node` from the index, if no one has yet.
    fn remove(&self, node: &Node<K, V, D>, guard: &Guard<'_>) {
        if self.nodes.remove(node, guard) {
            self.linked.add(u64::MAX, guard);
        }
    }

    /// What invalidating `deps` must bump: each dependency's own `gen` (if it has
    /// a node), and the `tree_gen` of every ancestor that has one.
    ///
    /// The set borrows the nodes for as long as `guard` lives, taking no
    /// count of any: an ancestor through its child's `parent`, which the
    /// child holds while it lives.
    pub(crate) fn plan<'g, 'd>(
        &'g self,
        deps: impl IntoIterator<Item = &'d D>,
        guard: &'g Guard<'_>,
    ) -> BumpSet<'g, K, V, D> {
        let mut set = BumpSet::new();
        for dep in deps {
            let above = match self.get_ref(dep, guard) {
                Some(node) => {
                    set.add_gen(node);
                    node.parent.as_deref()
                }
                None => {
                    // No node: nothing depends on `dep` or below it, but `Subtree`
                    // dependents of its ancestors must still learn of the change.
                    let mut up = dep.parent();
                    let mut found = None;
                    while let Some(p) = up {
                        if let Some(n) = self.get_ref(&p, guard) {
                            found = Some(n);
                            break;
                        }
                        up = p.parent();
                    }
                    found
                }
            };
            let mut a = above;
            while let Some(n) = a {
                if !set.add_tree(n) {
                    break; // this ancestor and all above it are already planned
                }
                a = n.parent.as_deref();
            }
        }
        set
    }

    /// Calls `f` on every registration an invalidation described by `set` can
    /// have made invalid: all dependents of the nodes invalidated as a whole and of
    /// everything below them, and the `Subtree` dependents of their ancestors.
    pub(crate) fn affected<'g>(&self, set: &BumpSet<'_, K, V, D>, guard: &'g Guard<'_>) -> Affected<'g, K, V, D> {
        self.affected_counted(set, guard, None)
    }

    /// [`affected`](Index::affected), also recording in `seen` every node whose
    /// registries it read, with its registration count read *before* them:
    /// if no count has moved later, nothing registered since this scan.
    ///
    /// The nodes of `set` are borrowed; only those found below them, in a
    /// children set (under its node's lock), are held by a count of their own.
    pub(crate) fn affected_counted<'g, 's>(
        &self,
        set: &BumpSet<'s, K, V, D>,
        guard: &'g Guard<'_>,
        mut seen: Option<&mut Scanned<'s, K, V, D>>,
    ) -> Affected<'g, K, V, D> {
        let mut out = Affected::new();
        let mut stack = Vec::new();
        for (node, whole) in set.iter() {
            let count = node.registrations();
            if whole {
                scan_all(node, &mut out, &mut stack, guard);
                while let Some(n) = stack.pop() {
                    let count = n.registrations();
                    scan_all(&n, &mut out, &mut stack, guard);
                    if let Some(seen) = seen.as_deref_mut() {
                        seen.push((NodeRef::Held(n), count));
                    }
                }
            } else {
                node.dependents().for_each(guard, |reg| {
                    if reg.subtree() {
                        out.push(reg.entry_in(guard))
                    }
                });
            }
            if let Some(seen) = seen.as_deref_mut() {
                seen.push((NodeRef::Borrowed(node), count));
            }
        }
        out
    }
}

/// Adds every dependent of `n` to `out`, and its children to `stack`.
fn scan_all<'g, K, V, D>(
    n: &Node<K, V, D>,
    out: &mut Affected<'g, K, V, D>,
    stack: &mut Vec<Arc<Node<K, V, D>>>,
    guard: &'g Guard<'_>,
) where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    n.dependents().with(guard, |regs| {
        out.reserve(regs.len());
        // A slice where there is one: `Pairs::iter` chains the three forms,
        // a few branches per value (it was 8% of an invalidation's
        // instructions in callgrind).
        match regs.as_slice() {
            Some(slice) => take_all(slice.iter(), out, guard),
            None => take_all(regs.iter(), out, guard),
        }
    });
    n.children().for_each(guard, |c| stack.push(c.clone()));
}

/// Adds the entry of each of `regs` to `out`, borrowed for the guard's life
/// (see [`Dependent::entry_in`]), and starts loading each: the invalidation reads
/// them all next.
#[inline(always)]
fn take_all<'r, 'g, K: 'r, V: 'r, D: 'r>(
    regs: impl Iterator<Item = &'r Dependent<K, V, D>>,
    out: &mut Affected<'g, K, V, D>,
    guard: &'g Guard<'_>,
) {
    out.extend(regs.map(|reg| {
        prefetch_entry(reg.as_ptr());
        reg.entry_in(guard)
    }));
}

/// Starts loading the lines of `e` a scan reads: the `Arc`'s counts (just
/// before the entry) and the entry's own fields.
#[inline(always)]
pub(crate) fn prefetch_entry<T>(e: *const T) {
    let p = e.cast::<u8>();
    // The count is the word before the value (`triomphe::Arc`; loom builds,
    // with std's two counts, do not prefetch).
    crate::sync::prefetch(p.wrapping_sub(8));
    crate::sync::prefetch(p.wrapping_add(64));
}

/// The entries an invalidation scan found, borrowed for its guard's life (see
/// [`Dependent::entry_in`]): inline up to a file's usual handful of dependents.
pub(crate) type Affected<'g, K, V, D> = smallvec::SmallVec<[&'g Entry<K, V, D>; 16]>;

/// Nodes a scan read, with their registration counts (see
/// [`Index::affected_counted`]); a file's invalidation reads a handful.
pub(crate) type Scanned<'g, K, V, D> = smallvec::SmallVec<[(NodeRef<'g, K, V, D>, u64); 8]>;

/// A node a scan read: one of the invalidation's own (borrowed, as its
/// [`BumpSet`] borrows them), or one found below them (held by a count).
pub(crate) enum NodeRef<'g, K, V, D> {
    Borrowed(&'g Node<K, V, D>),
    Held(Arc<Node<K, V, D>>),
}

impl<K, V, D> core::ops::Deref for NodeRef<'_, K, V, D> {
    type Target = Node<K, V, D>;

    fn deref(&self) -> &Node<K, V, D> {
        match self {
            NodeRef::Borrowed(n) => n,
            NodeRef::Held(n) => n,
        }
    }
}

/// True if no node of `seen` has had a registration since it was scanned.
pub(crate) fn unchanged<K, V, D>(seen: &Scanned<'_, K, V, D>) -> bool
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    seen.iter().all(|(n, count)| n.registrations() == *count)
}

impl<K, V, D> Drop for Index<K, V, D> {
    fn drop(&mut self) {
        // Entries and nodes point at each other (stamps, registrations, parents,
        // children); break the cycles so that everything is freed.
        let guard = self.domain.guard();
        let mut nodes = Vec::new();
        self.nodes.for_each(&guard, |n| nodes.push(n.to_arc()));
        drop(guard);
        for n in nodes {
            drop(n.take_sets());
        }
    }
}
