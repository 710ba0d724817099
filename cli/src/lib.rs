//! What the `depcache` command-line tool, its tests and the measurement
//! examples share: the replay engine ([`replay`]) and its real executors
//! ([`real`]), the built-in agent workload
//! ([`workload`]) and the classic hit-ratio traces ([`classic`]). Not a
//! published API: the library is the `depcache` crate.

#![warn(missing_docs)]

pub mod classic;
pub mod eviction;
pub mod real;
pub mod replay;
pub mod workload;
