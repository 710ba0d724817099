//! [`Watcher`]: the OS watcher of one tree, its handler, and the sync barrier.

use std::path::Path;

use notify::{RecursiveMode, Watcher as _};

use super::barrier::Barrier;
use super::{Handler, Synced, WatchError};
use std::sync::Arc;

use crate::sync::{lock, Ordering};

/// Events handled as one batch at most.
const MAX_BATCH: usize = 4096;

/// A running watcher; it stops when dropped.
pub struct Watcher {
    handler: Arc<Handler>,
    // Dropping the notify watcher stops its thread and its OS watches.
    _watcher: notify::RecommendedWatcher,
}

impl Watcher {
    /// Starts watching `root` recursively, handling events with `handler`.
    ///
    /// The same OS watcher also watches a cookie directory of its own for
    /// [`sync`](Watcher::sync); if it cannot be made or watched, the watcher
    /// still runs and every `sync` flushes.
    pub fn start(root: &Path, mut handler: Handler) -> Result<Self, WatchError> {
        handler.barrier = Barrier::new().ok();
        let handler = Arc::new(handler);
        let h = handler.clone();
        let err = |source| WatchError::Notify {
            root: root.to_path_buf(),
            source,
        };
        // notify's thread queues the events; ours handles them in batches of
        // what has arrived (a branch switch: thousands of paths at once), in
        // order. It ends when the notify watcher (and its sender) drops.
        let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
        let mut w = notify::recommended_watcher(move |ev| {
            // A send fails only once our thread has ended: nothing to do.
            let _ = tx.send(ev);
        })
        .map_err(err)?;
        std::thread::Builder::new()
            .name("depcache-watch".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let rest = rx.try_iter().take(MAX_BATCH - 1);
                    h.handle_batch(std::iter::once(first).chain(rest));
                }
            })
            .map_err(|e| WatchError::Notify {
                root: root.to_path_buf(),
                source: notify::Error::io(e),
            })?;
        // Watch the canonical root, so event paths share the prefix the handler strips.
        w.watch(&handler.root, RecursiveMode::Recursive).map_err(err)?;
        if let Some(b) = &handler.barrier {
            if w.watch(b.dir(), RecursiveMode::NonRecursive).is_err() {
                b.break_down();
            }
        }
        Ok(Watcher { handler, _watcher: w })
    }

    /// Returns once every change that completed before the call has been
    /// turned into invalidations (a barrier): it writes a cookie file and
    /// waits, at most [`WatchConfig::sync_timeout`](super::WatchConfig::sync_timeout), until the watcher has
    /// handled its event. On a timeout or a broken watcher it flushes what the
    /// watcher covers instead, so a lookup after it never returns a result
    /// older than a change that completed before it.
    ///
    /// ```no_run
    /// use depcache::tool::ToolCache;
    /// use depcache::watch::Synced;
    ///
    /// let tools: ToolCache = ToolCache::new("/repo", 10_000);
    /// let watcher = tools.watch().expect("watching /repo");
    /// // ... a build ran outside the cache ...
    /// assert_eq!(watcher.sync(), Synced::CaughtUp);
    /// ```
    pub fn sync(&self) -> Synced {
        self.handler.sync()
    }

    /// True while the watcher runs and has missed no change.
    pub fn is_healthy(&self) -> bool {
        self.handler.is_healthy()
    }

    /// The event handler (its counters; injecting events in tests).
    pub fn handler(&self) -> &Handler {
        &self.handler
    }

    /// The handler, shared (a workspace keeps a weak reference to sync on).
    pub(super) fn shared_handler(&self) -> &Arc<Handler> {
        &self.handler
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Waits for an event being handled, and stops the ones still queued in
        // notify's thread (it stops when the notify watcher drops, after this).
        *lock(&self.handler.stopped) = true;
        // Relaxed: a hint for `is_healthy` (see there).
        self.handler.stopping.store(1, Ordering::Relaxed);
        if let Some(b) = &self.handler.barrier {
            // Wakes syncs waiting for a cookie that will never be handled.
            b.break_down();
        }
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("root", &self.handler.root)
            .field("stats", &self.handler.stats())
            .finish()
    }
}
