//! File watching: file-system events become invalidations (feature `watch`).
//!
//! Every event is handled as it arrives, on the watcher's thread — no
//! debouncing, which would delay an invalidation past reads that must not see
//! the old result. Create, modify and remove invalidate the path (which reaches
//! the `Subtree` dependents of its ancestors, so listings and searches go too,
//! and everything below a directory); a rename invalidates both ends; an
//! overflow, a rescan request or a watcher error invalidates everything the
//! watcher covers (a change is never missed silently) and marks the watcher
//! broken.
//!
//! **A barrier, [`Watcher::sync`].** An event arrives some time after its
//! write. `sync` returns once every change that completed before the call has
//! been turned into invalidations: it writes a uniquely named cookie file and
//! waits until the watcher has handled the cookie's event (the technique of
//! watchman). One watcher's events arrive in one queue, in order, so every
//! earlier event was handled first. The cookies live in a directory of their
//! own outside the watched tree, watched by the same OS watcher (one inotify
//! queue on Linux), so they never show in a cached listing. The wait is
//! bounded; on a timeout, or on a broken watcher, `sync` flushes what the
//! watcher covers: it never leaves a stale result behind. A
//! [`ToolCache`](crate::tool::ToolCache) whose workspace has a healthy watcher syncs after every
//! opaque command instead of flushing.
//!
//! **Ignored directories** (`.git`, `target`, `node_modules` by default, plus
//! user globs) are skipped only when nothing cached covers them: an event
//! inside one invalidates as any other does when some entry depends on
//! something inside it or on a directory above it (a `git status`, a `find .`
//! of the whole workspace). Ignoring is a cost optimisation, never a lost
//! invalidation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::Latency;

mod attach;
mod barrier;
mod handler;
mod watcher;

pub use handler::Handler;
pub use watcher::Watcher;

/// What to ignore.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WatchConfig {
    /// Directory names ignored at any depth (default `.git`, `target`, `node_modules`).
    pub ignore_dirs: Vec<String>,
    /// Globs, relative to the root, of paths to ignore.
    pub ignore_globs: Vec<String>,
    /// How long [`Watcher::sync`] waits for its cookie before it flushes
    /// (default 1 s).
    pub sync_timeout: Duration,
}

impl WatchConfig {
    /// The default: `.git`, `target` and `node_modules` ignored, no globs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also ignores paths matching `glob`, relative to the root.
    ///
    /// ```
    /// use depcache::watch::WatchConfig;
    ///
    /// let config = WatchConfig::new().ignore_glob("*.log");
    /// assert_eq!(config.ignore_globs, ["*.log"]);
    /// ```
    pub fn ignore_glob(mut self, glob: impl Into<String>) -> Self {
        self.ignore_globs.push(glob.into());
        self
    }

    /// Also ignores directories named `name` at any depth.
    pub fn ignore_dir(mut self, name: impl Into<String>) -> Self {
        self.ignore_dirs.push(name.into());
        self
    }
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            ignore_dirs: vec![".git".into(), "target".into(), "node_modules".into()],
            ignore_globs: Vec::new(),
            sync_timeout: Duration::from_secs(1),
        }
    }
}

/// Why a watcher could not start.
#[derive(Debug, Error)]
pub enum WatchError {
    /// An ignore glob does not parse.
    #[error("ignore glob {glob:?}: {message}")]
    Glob {
        /// The glob.
        glob: String,
        /// What is wrong with it.
        message: String,
    },
    /// The OS watcher failed to start or to watch the root.
    #[error("cannot watch {root}: {source}")]
    Notify {
        /// The root.
        root: PathBuf,
        /// The cause.
        source: notify::Error,
    },
}

/// Counters of a watcher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchStats {
    /// Events received.
    pub events: u64,
    /// Paths invalidated.
    pub invalidations: u64,
    /// Whole-cache invalidations (overflow, rescan, error).
    pub flushes: u64,
    /// Paths skipped by the ignore rules (nothing cached covered them).
    pub ignored: u64,
    /// [`Watcher::sync`] calls that caught up with the watcher.
    pub syncs: u64,
    /// [`Watcher::sync`] calls that flushed instead (a timeout, a broken
    /// watcher, a cookie that could not be written).
    pub sync_flushes: u64,
    /// How long the `sync` calls that caught up took.
    pub sync_latency: Latency,
}

/// What [`Watcher::sync`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synced {
    /// Every change completed before the call has been turned into
    /// invalidations.
    CaughtUp,
    /// The watcher could not show that: everything it covers was flushed.
    Flushed(SyncFailure),
}

/// Why a [`Watcher::sync`] flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SyncFailure {
    /// The cookie's event did not arrive within [`WatchConfig::sync_timeout`].
    #[error("the watcher did not see the sync cookie in time")]
    Timeout,
    /// The watcher overflowed, asked for a rescan, reported an error or was
    /// stopped: it may have missed changes, and every sync now flushes.
    #[error("the watcher is broken (overflow, error or stopped)")]
    Broken,
    /// The cookie file could not be written.
    #[error("the sync cookie could not be written")]
    Cookie,
}

/// What the watcher does with a path: invalidate it, flush everything it
/// covers, or ask whether a path in an ignored directory is covered.
pub trait Sink: Send + Sync + 'static {
    /// Invalidate `path` (absolute).
    fn invalidate(&self, path: &Path);
    /// Invalidate every path of `paths` (absolute), as one batch: a branch
    /// switch or a build changes thousands at once. The default calls
    /// [`invalidate`](Sink::invalidate) for each.
    fn invalidate_many(&self, paths: &[PathBuf]) {
        for p in paths {
            self.invalidate(p);
        }
    }
    /// Invalidate everything the watcher covers.
    fn invalidate_all(&self);
    /// True if invalidating `path` might reach a cached entry or a read in
    /// flight: something depends on `path`, on something below it, or on a
    /// directory above it. May say true when nothing would go; must not say
    /// false when something would.
    fn covers(&self, path: &Path) -> bool;
}
