//! Unit tests of the core: behaviour (`basics`), the reference model against
//! the cache (`model`), and the deterministic reproductions of races the
//! stress test found (`regressions`, which use the test hooks).

mod basics;
mod eviction;
mod model;
mod regressions;
