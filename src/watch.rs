//! File watching: file-system events become invalidations (feature `watch`).
//!
//! Every event is handled as it arrives, on the watcher's thread — no
//! debouncing, which would delay an invalidation past reads that must not see
//! the old result. Create, modify and remove invalidate the path (which reaches
//! the `Subtree` dependents of its ancestors, so listings and searches go too,
//! and everything below a directory); a rename invalidates both ends; an
//! overflow, a rescan request or a watcher error invalidates everything (a
//! change is never missed silently).
//!
//! **The window that remains** is between a write reaching the disk and its
//! event being handled (typically well under a millisecond to a few ms): a
//! `get` in that window can return the old result. Tickets narrow it for values
//! being computed (a read whose ticket predates the event is not published);
//! stat fingerprints (`ToolCache::fingerprints`) close it for file reads.
//!
//! **Ignored directories** (`.git`, `target`, `node_modules` by default, plus
//! user globs) are skipped to survive build floods — unless some cached entry
//! depends on something inside the ignored directory, in which case its events
//! are handled like any other.

use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher as _};
use thiserror::Error;

use core::hash::{BuildHasher, Hash};

use crate::sync::{lock, Arc, AtomicU64, Mutex, Ordering};
use crate::tool::{ToolCache, ToolOutput, Workspace, WsCtx, WsPath};
use crate::{Cache, DepPath, Dependency};

/// What to ignore.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WatchConfig {
    /// Directory names ignored at any depth (default `.git`, `target`, `node_modules`).
    pub ignore_dirs: Vec<String>,
    /// Globs, relative to the root, of paths to ignore.
    pub ignore_globs: Vec<String>,
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
    /// Paths skipped by the ignore rules.
    pub ignored: u64,
}

/// What the watcher does with a path: invalidate it, flush everything, or ask
/// whether an ignored directory is in use.
pub trait Sink: Send + Sync + 'static {
    /// Invalidate `path` (absolute).
    fn invalidate(&self, path: &Path);
    /// Invalidate everything.
    fn invalidate_all(&self);
    /// True if some cached entry depends on something at or below `dir`.
    fn tracks(&self, dir: &Path) -> bool;
}

/// Turns notify events into invalidations. [`Watcher`] feeds it; tests can
/// call [`handle`](Handler::handle) with made-up events (an overflow, say).
pub struct Handler {
    /// Set when the watcher is dropped; events handled under this lock, so that
    /// once `Watcher::drop` returns no event is being handled or will be.
    stopped: Mutex<bool>,
    root: PathBuf,
    sink: Box<dyn Sink>,
    ignore_dirs: Vec<String>,
    globs: GlobSet,
    events: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
    ignored: AtomicU64,
}

impl Handler {
    /// A handler for the tree at `root`.
    pub fn new(root: &Path, config: &WatchConfig, sink: impl Sink) -> Result<Self, WatchError> {
        let mut b = GlobSetBuilder::new();
        for g in &config.ignore_globs {
            b.add(Glob::new(g).map_err(|e| WatchError::Glob {
                glob: g.clone(),
                message: e.kind().to_string(),
            })?);
        }
        let globs = b.build().map_err(|e| WatchError::Glob {
            glob: String::new(),
            message: e.to_string(),
        })?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Ok(Handler {
            stopped: Mutex::new(false),
            root,
            sink: Box::new(sink),
            ignore_dirs: config.ignore_dirs.clone(),
            globs,
            events: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
        })
    }

    /// Handles one event (or watcher error).
    pub fn handle(&self, event: notify::Result<notify::Event>) {
        let stopped = lock(&self.stopped);
        if *stopped {
            return;
        }
        // Relaxed (all counters here): statistics only.
        self.events.fetch_add(1, Ordering::Relaxed);
        let ev = match event {
            Ok(ev) => ev,
            Err(_) => return self.flush(),
        };
        if ev.need_rescan() {
            return self.flush();
        }
        match ev.kind {
            // Reads change nothing; a close after writing does.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
            EventKind::Access(_) => return,
            EventKind::Other => return self.flush(),
            _ => {}
        }
        for p in &ev.paths {
            self.path(p);
        }
    }

    fn flush(&self) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.sink.invalidate_all();
    }

    fn path(&self, p: &Path) {
        let canon;
        let p = if p.is_absolute() || self.root.as_os_str().is_empty() {
            p
        } else {
            canon = self.root.join(p);
            &canon
        };
        if let Some(ignored_dir) = self.ignored_dir(p) {
            if !self.sink.tracks(&ignored_dir) {
                self.ignored.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        self.sink.invalidate(p);
    }

    /// The ignored directory (or file, for a glob) that contains `p`, if any.
    fn ignored_dir(&self, p: &Path) -> Option<PathBuf> {
        let rel = p.strip_prefix(&self.root).ok()?;
        let mut acc = self.root.clone();
        for c in rel.components() {
            if let Component::Normal(name) = c {
                acc.push(name);
                if self.ignore_dirs.iter().any(|d| name == d.as_str()) {
                    return Some(acc);
                }
            }
        }
        if !self.globs.is_empty() && self.globs.is_match(rel) {
            return Some(p.to_path_buf());
        }
        None
    }

    /// The counters.
    pub fn stats(&self) -> WatchStats {
        WatchStats {
            events: self.events.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            ignored: self.ignored.load(Ordering::Relaxed),
        }
    }
}

/// A running watcher; it stops when dropped.
pub struct Watcher {
    handler: Arc<Handler>,
    // Dropping the notify watcher stops its thread and its OS watches.
    _watcher: notify::RecommendedWatcher,
}

impl Watcher {
    /// Starts watching `root` recursively, handling events with `handler`.
    pub fn start(root: &Path, handler: Handler) -> Result<Self, WatchError> {
        let handler = Arc::new(handler);
        let h = handler.clone();
        let err = |source| WatchError::Notify {
            root: root.to_path_buf(),
            source,
        };
        let mut w = notify::recommended_watcher(move |ev| h.handle(ev)).map_err(err)?;
        // Watch the canonical root, so event paths share the prefix the handler strips.
        w.watch(&handler.root, RecursiveMode::Recursive).map_err(err)?;
        Ok(Watcher { handler, _watcher: w })
    }

    /// The event handler (its counters; injecting events in tests).
    pub fn handler(&self) -> &Handler {
        &self.handler
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Waits for an event being handled, and stops the ones still queued in
        // notify's thread (it stops when the notify watcher drops, after this).
        *lock(&self.handler.stopped) = true;
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

/// The sink of a core [`Cache`]: a user mapping from paths to dependencies.
struct CacheSink<K, V, D, S, F> {
    cache: Cache<K, V, D, S>,
    map: F,
}

impl<K, V, D, S, F> Sink for CacheSink<K, V, D, S, F>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
    F: Fn(&Path) -> Option<D> + Send + Sync + 'static,
{
    fn invalidate(&self, path: &Path) {
        if let Some(d) = (self.map)(path) {
            self.cache.invalidate(d);
        }
    }

    fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    fn tracks(&self, dir: &Path) -> bool {
        (self.map)(dir).is_some_and(|d| self.cache.tracks(&d))
    }
}

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Watches the tree at `root` and invalidates `map(path)` for every changed
    /// path (`None`: the path matters to no entry). See the [module docs](crate::watch).
    ///
    /// ```no_run
    /// use depcache::{Cache, DepPath};
    /// use depcache::watch::WatchConfig;
    ///
    /// let cache: Cache<String, String, DepPath> = Cache::new(1000);
    /// let root = std::path::PathBuf::from("/repo");
    /// let r = root.clone();
    /// let _watcher = cache
    ///     .watch(&root, WatchConfig::default(), move |p| p.strip_prefix(&r).ok().map(DepPath::new))
    ///     .expect("watching /repo");
    /// ```
    pub fn watch<F>(&self, root: &Path, config: WatchConfig, map: F) -> Result<Watcher, WatchError>
    where
        F: Fn(&Path) -> Option<D> + Send + Sync + 'static,
    {
        let handler = Handler::new(
            root,
            &config,
            CacheSink {
                cache: self.clone(),
                map,
            },
        )?;
        Watcher::start(root, handler)
    }
}

impl<V: ToolOutput> ToolCache<V> {
    /// Watches the workspace (with the default ignore rules) and invalidates
    /// what each change affects.
    pub fn watch(&self) -> Result<Watcher, WatchError> {
        self.watch_with(WatchConfig::default())
    }

    /// [`watch`](ToolCache::watch) with explicit ignore rules.
    pub fn watch_with(&self, config: WatchConfig) -> Result<Watcher, WatchError> {
        watch_workspace(self, self.home(), config)
    }
}

impl<V: ToolOutput> Workspace<'_, V> {
    /// Watches this workspace's root (with the default ignore rules) and
    /// invalidates what each change affects, in this workspace only.
    pub fn watch(&self) -> Result<Watcher, WatchError> {
        self.watch_with(WatchConfig::default())
    }

    /// [`watch`](Workspace::watch) with explicit ignore rules.
    pub fn watch_with(&self, config: WatchConfig) -> Result<Watcher, WatchError> {
        watch_workspace(self.tools(), self.ctx(), config)
    }
}

fn watch_workspace<V: ToolOutput>(
    tools: &ToolCache<V>,
    ws: &WsCtx,
    config: WatchConfig,
) -> Result<Watcher, WatchError> {
    let root = ws.root.clone();
    let id = ws.id;
    let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let map = move |p: &Path| -> Option<WsPath> {
        Some(WsPath::new(
            id,
            match p.strip_prefix(&canonical) {
                Ok(rel) => DepPath::new(rel),
                Err(_) => DepPath::in_workspace(&root, p),
            },
        ))
    };
    tools.cache().watch(&ws.root, config, map)
}
