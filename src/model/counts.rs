//! The statistics counters the model predicts, and how it checks them.

use core::fmt::Debug;
use core::ops::RangeInclusive;

use super::Model;
use crate::Stats;

/// The counters of [`Stats`] that count events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lookups that returned a value.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Values published.
    pub inserts: u64,
    /// Publications refused because a dependency changed after the ticket.
    pub stale_inserts_rejected: u64,
    /// Visible entries the CLOCK hand removed.
    pub evictions: u64,
    /// Expired entries removed (by a lookup, `purge`, the hand or an eager
    /// invalidation).
    pub expirations: u64,
    /// Calls of `invalidate*`, `mark_stale*` and `invalidate_all`.
    pub invalidation_calls: u64,
    /// Visible entries eager invalidations removed.
    pub entries_invalidated: u64,
}

impl Counts {
    /// The counters of a snapshot.
    pub fn of(s: &Stats) -> Self {
        Counts {
            hits: s.hits,
            misses: s.misses,
            inserts: s.inserts,
            stale_inserts_rejected: s.stale_inserts_rejected,
            evictions: s.evictions,
            expirations: s.expirations,
            invalidation_calls: s.invalidation_calls,
            entries_invalidated: s.entries_invalidated,
        }
    }
}

impl<K, V> Model<K, V>
where
    K: Ord + Copy + Debug,
    V: Clone,
{
    /// The counters as predicted; `expirations` is the least the cache may
    /// have counted (see [`expirations`](Model::expirations)).
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The expirations the cache may have counted. A single number while the
    /// model knew which entries every removal took; a range once some removal
    /// took an unknown few of the entries it is unsure of.
    pub fn expirations(&self) -> RangeInclusive<u64> {
        self.counts.expirations..=self.counts.expirations + self.expirations_slack
    }

    /// Checks the cache's counters against the prediction: every counter
    /// equal, expirations within [`expirations`](Model::expirations), which
    /// then becomes what the cache counted.
    pub fn check_counts(&mut self, observed: &Counts) -> Result<(), String> {
        let mut others = observed.clone();
        others.expirations = self.counts.expirations;
        if others != self.counts {
            return Err(format!(
                "counters {observed:?}, predicted {:?} (expirations in {:?})",
                self.counts,
                self.expirations()
            ));
        }
        self.adopt_expirations(observed.expirations)
    }

    /// Checks the cache's expirations counter against the prediction and
    /// adopts it.
    pub(super) fn adopt_expirations(&mut self, observed: u64) -> Result<(), String> {
        let range = self.expirations();
        if !range.contains(&observed) {
            return Err(format!("{observed} expirations, predicted {range:?}"));
        }
        self.counts.expirations = observed;
        self.expirations_slack = 0;
        Ok(())
    }

    /// Some removal counted between `least` and `most` expirations.
    pub(super) fn expect_expirations(&mut self, least: usize, most: usize) {
        assert!(least <= most, "expirations between {least} and {most}");
        self.counts.expirations += least as u64;
        self.expirations_slack += (most - least) as u64;
    }
}
