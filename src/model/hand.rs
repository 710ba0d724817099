//! What the CLOCK hand did: reconciling the model with the cache after a
//! publication that may have evicted, and what the model is sure of since.

use core::fmt::Debug;

use super::{Counts, Model};

/// What [`Model::reconcile`] needs to know of a publication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published<K> {
    /// The key published.
    pub key: K,
    /// The entry it replaced was visible (the hand may have evicted it first,
    /// counting an eviction).
    pub replaced_visible: bool,
    /// The entry it replaced was invisible and expired (the hand may have
    /// reclaimed it first, counting an expiration).
    pub replaced_expired: bool,
    /// Invisible entries resident before the publication.
    pub invisible_before: usize,
}

impl<K, V> Model<K, V>
where
    K: Ord + Copy + Debug,
    V: Clone,
{
    /// After the publication `p`, the cache shows the counters `observed`,
    /// `len` resident entries, and `still_visible` tells which keys a lookup
    /// would return: the visible entries that are gone must be explained by the
    /// evictions counter (they leave the model), the expirations by the expired
    /// entries the hand may have reclaimed, and `len` by the invisible entries
    /// that may still be resident. Those become unsure, with their number.
    /// Returns how many of the invisible entries are not resident.
    pub fn reconcile(
        &mut self,
        p: &Published<K>,
        observed: &Counts,
        len: usize,
        still_visible: impl Fn(&K) -> bool,
    ) -> Result<usize, String> {
        let now = self.now;
        // Visible entries the hand evicted.
        let lost: Vec<K> = (self.entries.iter())
            .filter(|(k, e)| **k != p.key && e.visible(now) && !still_visible(k))
            .map(|(k, _)| *k)
            .collect();
        let lost_n = lost.len() as u64;
        let evicted = observed.evictions.checked_sub(self.counts.evictions);
        if !evicted.is_some_and(|d| lost_n <= d && d <= lost_n + u64::from(p.replaced_visible)) {
            return Err(format!(
                "keys {lost:?} vanished, but evictions went from {} to {}",
                self.counts.evictions, observed.evictions
            ));
        }
        for k in &lost {
            self.entries.remove(k);
        }
        self.counts.evictions = observed.evictions;
        // Invisible entries the hand may have reclaimed: the expired ones count.
        let expired = self.entries.values().filter(|e| e.expired(now)).count();
        self.expect_expirations(0, expired + usize::from(p.replaced_expired));
        self.adopt_expirations(observed.expirations)
            .map_err(|e| format!("after the hand: {e}"))?;
        // Which of them are still resident: only their number is known.
        let visible = self.visible_len();
        let invisible = self.entries.len() - visible;
        let resident = len.checked_sub(visible);
        let Some(resident) = resident.filter(|&r| r <= invisible && r <= p.invisible_before) else {
            return Err(format!(
                "len {len} after an insert: {visible} visible, {invisible} invisible entries, {} were resident",
                p.invisible_before
            ));
        };
        for e in self.entries.values_mut() {
            if !e.visible(now) {
                e.sure = false;
            }
        }
        self.unsure_resident = resident;
        self.len_known = true;
        self.normalize();
        Ok(invisible - resident)
    }

    /// Resolves the unsure entries when their number says which they are: none
    /// resident, or all of them.
    pub(super) fn normalize(&mut self) {
        let unsure = self.entries.values().filter(|e| !e.sure).count();
        if self.unsure_resident == 0 {
            self.entries.retain(|_, e| e.sure);
        } else if self.unsure_resident == unsure {
            self.entries.values_mut().for_each(|e| e.sure = true);
            self.unsure_resident = 0;
        }
    }
}
