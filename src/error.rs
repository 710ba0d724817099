//! Errors of the public API.

use thiserror::Error;

/// Why [`Cache::insert_with_ticket`](crate::Cache::insert_with_ticket) did not
/// publish a value. Each variant hands the value back.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InsertError<V> {
    /// A dependency of the ticket was invalidated after the ticket was taken: the
    /// value may have been computed from data that changed, so it was not cached
    /// (a "stale set" prevented).
    #[error("stale ticket: a dependency was invalidated after the ticket was taken, so the value was not cached")]
    Stale(V),
    /// The value weighs more than the cache's whole `max_weight`. Checked after
    /// the ticket: a `TooHeavy` value's ticket was still valid.
    #[error("value weighs {weight}, more than the cache's max_weight of {max_weight}; not cached")]
    TooHeavy {
        /// The value.
        value: V,
        /// Its weight, from the weigher.
        weight: u64,
        /// The cache's budget.
        max_weight: u64,
    },
    /// The ticket was taken from another cache.
    #[error("the ticket belongs to another cache")]
    ForeignTicket(V),
}

impl<V> InsertError<V> {
    /// The value that was not cached.
    pub fn into_value(self) -> V {
        match self {
            InsertError::Stale(v) | InsertError::ForeignTicket(v) => v,
            InsertError::TooHeavy { value, .. } => value,
        }
    }
}

/// A builder setting that cannot work.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BuildError {
    /// `max_entries` must be at least 1 and fit the slot index (`u32`).
    #[error("max_entries must be between 1 and {max}, got {got}")]
    Capacity {
        /// What was asked.
        got: usize,
        /// The largest capacity supported.
        max: usize,
    },
    /// `max_weight` was set to 0.
    #[error("max_weight must be at least 1")]
    ZeroWeight,
    /// `ttl` was set to zero.
    #[error("ttl must be longer than zero")]
    ZeroTtl,
}
