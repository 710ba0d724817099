//! Tickets: the generations of a set of dependencies, taken before a value is
//! computed, so that a value computed across an invalidation is never published.

use crate::index::Index;
use crate::index::Stamps;
use crate::sync::Arc;
use crate::Dependency;

/// A lease on a set of dependencies, from [`Cache::ticket`](crate::Cache::ticket).
///
/// Take it *before* reading the data a value is computed from; hand it to
/// [`Cache::insert_with_ticket`](crate::Cache::insert_with_ticket) with the
/// value. If any of its dependencies was invalidated in between, the value is
/// refused (it may describe data that has changed since). A ticket keeps its
/// dependencies' index nodes alive until it is used or dropped.
pub struct Ticket<K, V, D> {
    pub(crate) index: Arc<Index<K, V, D>>,
    /// The global invalidation counter, read before the stamps: the base of
    /// the entry it makes (see `Entry::base`).
    pub(crate) g: u64,
    /// Pinned nodes with what was seen of them; moved into the entry on insert.
    pub(crate) stamps: Stamps<K, V, D>,
}

impl<K, V, D> Ticket<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// True while none of the ticket's dependencies has been invalidated.
    pub fn is_valid(&self) -> bool {
        self.index.lease_valid(self.g, &self.stamps)
    }

    /// Number of distinct dependencies the ticket covers.
    pub fn len(&self) -> usize {
        self.stamps.len()
    }

    /// True if the ticket covers no dependency (its value can only be made stale
    /// by `invalidate_all`).
    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }
}

impl<K, V, D> core::fmt::Debug for Ticket<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ticket")
            .field("deps", &self.stamps.iter().map(|s| &s.node.dep).collect::<Vec<_>>())
            .field("valid", &self.is_valid())
            .finish()
    }
}

impl<K, V, D> Drop for Ticket<K, V, D> {
    fn drop(&mut self) {
        // The stamps (and their counts of the nodes) go with the ticket; a
        // used ticket's were moved out.
        if !self.stamps.is_empty() {
            (self.index.release_fn)(&self.index, &self.stamps);
        }
    }
}

impl<K, V, D> Ticket<K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// Moves the ticket's content into a [`Lease`] on `index` (the ticket's
    /// own: the caller checked).
    pub(crate) fn into_lease(mut self, index: &Index<K, V, D>) -> Lease<'_, K, V, D> {
        Lease {
            index,
            g: self.g,
            stamps: core::mem::take(&mut self.stamps),
        }
    }
}

/// What an insert publishes with: a ticket's `G` and stamps, borrowing the
/// index instead of holding a count of it. A plain `insert` takes one
/// directly (no `Arc` clone, no second guard, and no fence after it: see
/// `Shared::lease_in`); a [`Ticket`] becomes one when it is used. Dropped
/// unused, it gives its pins back, as a ticket does.
pub(crate) struct Lease<'i, K, V, D> {
    pub(crate) index: &'i Index<K, V, D>,
    /// `G`, read before the stamps (see [`Ticket`]).
    pub(crate) g: u64,
    /// Pinned nodes with what was seen of them; moved into the entry on insert.
    pub(crate) stamps: Stamps<K, V, D>,
}

impl<K, V, D> Lease<'_, K, V, D>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    D: Dependency,
{
    /// [`Ticket::is_valid`].
    pub(crate) fn is_valid(&self) -> bool {
        self.index.lease_valid(self.g, &self.stamps)
    }
}

impl<K, V, D> Drop for Lease<'_, K, V, D> {
    fn drop(&mut self) {
        // A published lease's stamps moved into its entry.
        if !self.stamps.is_empty() {
            (self.index.release_fn)(self.index, &self.stamps);
        }
    }
}
