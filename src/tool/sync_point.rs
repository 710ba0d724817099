//! [`SyncPoint`]: what the tool layer needs of a workspace's watcher to sync
//! on it instead of flushing after a command it cannot see into.

use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;

/// A barrier on a workspace's watcher.
pub(crate) trait SyncPoint: Send + Sync {
    /// Returns once every change completed before the call has been turned
    /// into invalidations: true; or flushes what the watcher covers: false.
    fn sync(&self) -> bool;
    /// True while the watcher runs and has missed no change.
    fn is_healthy(&self) -> bool;
}

/// A workspace's watcher, if one runs (weak: the user owns the watcher, and
/// dropping it stops the syncing). An `ArcSwapOption`, so that asking for it
/// (every project read's classification) takes no lock.
#[derive(Default)]
pub(crate) struct SyncSlot(ArcSwapOption<Weak<dyn SyncPoint>>);

impl SyncSlot {
    #[cfg(feature = "watch")]
    pub(crate) fn set(&self, point: Weak<dyn SyncPoint>) {
        self.0.store(Some(Arc::new(point)));
    }

    /// The watcher, if it runs and is healthy.
    pub(crate) fn healthy(&self) -> Option<Arc<dyn SyncPoint>> {
        self.0.load().as_deref()?.upgrade().filter(|p| p.is_healthy())
    }
}

impl std::fmt::Debug for SyncSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.healthy().is_some() {
            "SyncSlot(watched)"
        } else {
            "SyncSlot(none)"
        })
    }
}
