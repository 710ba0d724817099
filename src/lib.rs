//! A lock-free concurrent cache whose entries know what they depend on.
//!
//! `depcache` caches values (typically the results of an AI agent's read-only
//! tools: file reads, directory listings, greps) together with the dependencies
//! they were computed from (files, directories, any tag), and drops exactly the
//! affected values the moment a dependency changes — without a lock on the read
//! path and without ever publishing a value computed from data that changed
//! while it was computed.
//!
//! ```
//! use depcache::{Cache, Dep, DepPath};
//!
//! let cache: Cache<&str, String, DepPath> = Cache::new(10_000);
//! cache.insert("read src/a.rs", "fn a() {}".into(), [DepPath::new("src/a.rs")]);
//! cache.insert("grep -r fn src", "src/a.rs:fn a() {}".into(), [Dep::subtree(DepPath::new("src"))]);
//!
//! // An edit of src/a.rs: both results depend on it.
//! assert_eq!(cache.invalidate(DepPath::new("src/a.rs")), 2);
//! assert!(cache.get("grep -r fn src").is_none());
//! ```
//!
//! # Consistency
//!
//! Every operation is linearizable with respect to the others:
//!
//! - **No stale read.** A [`get`](Cache::get) that starts after
//!   [`invalidate(d)`](Cache::invalidate), [`mark_stale(d)`](Cache::mark_stale)
//!   or [`invalidate_all`](Cache::invalidate_all) returned never returns an
//!   entry affected by it, whatever runs concurrently (inserts of the same key,
//!   computations that began before the invalidation, eviction). An invalidation
//!   takes effect at its generation bumps, before it returns.
//! - **No stale set.** A value is published only if none of its dependencies was
//!   invalidated between its [ticket](Cache::ticket) and its publication.
//!   [`insert`](Cache::insert) takes its ticket when called;
//!   [`get_or_insert_with`](Cache::get_or_insert_with) takes it before computing.
//! - **Exact counts.** [`invalidate`](Cache::invalidate) returns the number of
//!   entries that were visible and that it removed, each once, even when several
//!   dependencies of one call reach an entry. Entries already made invisible by
//!   a lazy invalidation are reclaimed but not counted. When invalidations race
//!   on one entry, exactly one of them removes it.
//! - **Bounded.** Never more than `max_entries` resident entries; the resident
//!   weight exceeds `max_weight` by at most one entry per inserting thread; the
//!   dependency index holds only nodes that resident entries, outstanding
//!   tickets or their descendants use.
//! - **Reads are weakly ordered with other reads**: two concurrent `get`s of one
//!   key may see different values while an insert of it is under way, as with any
//!   concurrent map.
//!
//! # Dependencies and scopes
//!
//! A [`Dependency`] is a flat tag (`String`, `&'static str`, integers) or a
//! hierarchical one ([`DepPath`]). Each is used with a [`Scope`]: `Exact` (this
//! file) or `Subtree` (this directory and everything below). Invalidating `p`
//! reaches entries that depend on `p`, `Subtree` dependents of every ancestor of
//! `p`, and every dependent of anything below `p`.

#![warn(missing_docs)]

mod cache;
mod dep;
mod error;
mod flight;
#[cfg(test)]
mod hooks;
mod index;
mod map;
/// The reference model of the cache for the unit tests and fuzzing; not an API.
#[cfg(any(test, fuzzing, depcache_checks))]
#[doc(hidden)]
pub mod model;
mod path;
mod reclaim;
mod ring;
mod stats;
mod sync;
mod ticket;
mod time;
#[cfg(not(depcache_loom))]
pub mod tool;
#[cfg(all(feature = "trace", not(depcache_loom)))]
pub mod trace;
#[cfg(all(feature = "watch", not(depcache_loom)))]
pub mod watch;

pub use cache::{Cache, CacheBuilder, CacheRef, DefaultHashBuilder, Weigher};
pub use dep::{Dep, Dependency, Scope};
pub use error::{BuildError, InsertError};
pub use path::DepPath;
pub use reclaim::DEFAULT_RECLAIM_BATCH;
pub use stats::{Latency, Stats};
pub use ticket::Ticket;
pub use time::ManualClock;

/// The entries table alone, for its loom models (`--cfg depcache_loom` only;
/// not an API).
#[cfg(depcache_loom)]
#[doc(hidden)]
pub use map::table::probe::Probe as LoomTableProbe;

/// The free-slot set alone, for its loom model (`--cfg depcache_loom` only;
/// not an API).
#[cfg(depcache_loom)]
#[doc(hidden)]
pub use ring::FreeProbe as LoomFreeProbe;

/// Fault injection for the loom models (`--cfg depcache_loom` only; not an API).
#[cfg(depcache_loom)]
#[doc(hidden)]
pub use sync::fault as loom_fault;

#[cfg(test)]
mod tests;

/// Crate-private helpers the fuzz crate checks against (`test`, `--cfg fuzzing`
/// or `--cfg depcache_checks` only; not an API).
#[cfg(all(any(test, fuzzing, depcache_checks), not(depcache_loom)))]
#[doc(hidden)]
pub mod testing {
    /// True if a tool-call argument of this name holds a path.
    pub fn is_path_arg(name: &str) -> bool {
        crate::tool::is_path_arg(name)
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
