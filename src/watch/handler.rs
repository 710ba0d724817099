//! [`Handler`]: notify events become invalidations; cookies of the sync
//! barrier are recognized and recorded; overflows and errors flush.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use notify::event::{AccessKind, AccessMode, EventKind};

use super::barrier::Barrier;
use super::{Sink, SyncFailure, Synced, WatchConfig, WatchError, WatchStats};
use crate::sync::{lock, AtomicU64, AtomicU8, Mutex, Ordering};

/// Turns notify events into invalidations. [`Watcher`](super::Watcher) feeds it; tests can
/// call [`handle`](Handler::handle) with made-up events (an overflow, say).
pub struct Handler {
    /// Set when the watcher is dropped; events handled under this lock, so that
    /// once `Watcher::drop` returns no event is being handled or will be.
    pub(super) stopped: Mutex<bool>,
    /// 1 once `stopped` is set: what `is_healthy` reads, so that asking
    /// takes no lock (the lock is held while a batch is handled).
    pub(super) stopping: AtomicU8,
    pub(super) root: PathBuf,
    /// The sync cookies (absent for a handler no watcher runs).
    pub(super) barrier: Option<Barrier>,
    pub(super) sync_timeout: Duration,
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
            stopping: AtomicU8::new(0),
            root,
            barrier: None,
            sync_timeout: config.sync_timeout,
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
        self.handle_batch([event]);
    }

    /// Handles events in their order, as one batch: the paths they change
    /// are invalidated together ([`Sink::invalidate_many`]), before any sync
    /// cookie among them is reported handled.
    pub fn handle_batch(&self, events: impl IntoIterator<Item = notify::Result<notify::Event>>) {
        let stopped = lock(&self.stopped);
        if *stopped {
            return;
        }
        let mut batch: Vec<PathBuf> = Vec::new();
        for event in events {
            // Relaxed (all counters here): statistics only.
            self.events.fetch_add(1, Ordering::Relaxed);
            let ev = match event {
                Ok(ev) => ev,
                Err(_) => {
                    batch.clear();
                    self.break_down();
                    continue;
                }
            };
            if ev.need_rescan() {
                batch.clear();
                self.break_down();
                continue;
            }
            match ev.kind {
                // Reads change nothing; a close after writing does.
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
                EventKind::Access(_) => continue,
                EventKind::Other => {
                    batch.clear();
                    self.flush();
                    continue;
                }
                _ => {}
            }
            for p in &ev.paths {
                if self.barrier.as_ref().is_some_and(|b| b.is_cookie(p)) {
                    // Everything before the cookie is invalidated first.
                    self.invalidate(&mut batch);
                    if let Some(b) = &self.barrier {
                        b.saw(p);
                    }
                } else if let Some(p) = self.kept(p) {
                    batch.push(p);
                }
            }
        }
        self.invalidate(&mut batch);
    }

    fn invalidate(&self, batch: &mut Vec<PathBuf>) {
        match batch.len() {
            0 => {}
            1 => self.sink.invalidate(&batch[0]),
            _ => self.sink.invalidate_many(batch),
        }
        self.invalidations.fetch_add(batch.len() as u64, Ordering::Relaxed);
        batch.clear();
    }

    /// Flushes everything the watcher covers.
    pub(super) fn flush(&self) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.sink.invalidate_all();
    }

    /// The watcher may have missed changes: flush, and let every later sync
    /// flush too.
    fn break_down(&self) {
        self.flush();
        if let Some(b) = &self.barrier {
            b.break_down();
        }
    }

    /// True while the watcher runs and has missed nothing.
    pub fn is_healthy(&self) -> bool {
        // Relaxed: a hint. A caller that sees a stopped handler as healthy
        // syncs on it, and a stopped handler's sync flushes: it costs a
        // flush, never a stale result.
        self.stopping.load(Ordering::Relaxed) == 0 && self.barrier.as_ref().is_some_and(|b| !b.is_broken())
    }

    /// `p` made absolute, unless the ignore rules skip it (nothing covers it).
    fn kept(&self, p: &Path) -> Option<PathBuf> {
        let p = if p.is_absolute() || self.root.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        if self.ignored_dir(&p).is_some() && !self.sink.covers(&p) {
            self.ignored.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(p)
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

    /// Waits until every change completed before the call has been handled;
    /// flushes on failure (see [`Watcher::sync`](super::Watcher::sync)).
    pub fn sync(&self) -> Synced {
        if *lock(&self.stopped) {
            self.flush();
            return Synced::Flushed(SyncFailure::Broken);
        }
        match &self.barrier {
            Some(b) => b.sync(self.sync_timeout, || self.flush()),
            None => {
                self.flush();
                Synced::Flushed(SyncFailure::Broken)
            }
        }
    }

    /// The counters.
    pub fn stats(&self) -> WatchStats {
        let (syncs, sync_flushes, sync_latency) = self.barrier.as_ref().map(Barrier::counts).unwrap_or_default();
        WatchStats {
            events: self.events.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            ignored: self.ignored.load(Ordering::Relaxed),
            syncs,
            sync_flushes,
            sync_latency,
        }
    }
}
