//! Test hooks, in unit tests only: places where a test can run code of its
//! own in the middle of an operation, to open the window of a race
//! deterministically (`src/tests/regressions.rs`).
//!
//! An eager invalidation hashes the keys of the entries it found *before*
//! its generation bumps (to start loading their buckets early), so a key
//! whose `Hash` pauses cannot open the window after the bumps; this
//! hook does.

use std::cell::RefCell;

thread_local! {
    static AFTER_BUMPS: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread the next time one of its eager invalidations
/// (`invalidate`, `invalidate_many`) has bumped its generations and not yet
/// removed anything: the entries it found are invisible, and still in place.
pub(crate) fn after_bumps(f: impl FnOnce() + 'static) {
    AFTER_BUMPS.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// Called by an eager invalidation right after its bumps.
pub(crate) fn run_after_bumps() {
    if let Some(f) = AFTER_BUMPS.with(|h| h.borrow_mut().take()) {
        f();
    }
}
