//! The sync barrier's state: the cookie directory, the cookies handed out and
//! the highest one the watcher has handled, and the latency of each sync.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::sync::{lock, AtomicU64, Condvar, Mutex, Ordering};
use crate::Latency;

use super::{SyncFailure, Synced};

/// What the watcher's thread has told the syncing threads.
#[derive(Default)]
struct Seen {
    /// The highest cookie number handled.
    cookie: u64,
    /// The watcher may have missed changes (overflow, error) or was stopped.
    broken: bool,
}

/// Cookies for one watcher, in a directory of their own.
pub(crate) struct Barrier {
    /// Canonical, so event paths start with it.
    dir: PathBuf,
    next: AtomicU64,
    seen: Mutex<Seen>,
    handled: Condvar,
    latency: Mutex<Histogram<u64>>,
    syncs: AtomicU64,
    flushes: AtomicU64,
}

/// Cookie directories made by this process, for unique names.
static DIRS: AtomicU64 = AtomicU64::new(0);

impl Barrier {
    /// A fresh cookie directory in the system's temporary directory.
    pub(crate) fn new() -> std::io::Result<Self> {
        // Relaxed: a counter for unique names.
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("depcache-sync-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let dir = std::fs::canonicalize(&dir)?;
        Ok(Barrier {
            dir,
            next: AtomicU64::new(0),
            seen: Mutex::new(Seen::default()),
            handled: Condvar::new(),
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000_000, 2).expect("valid histogram bounds")),
            syncs: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// True if `path` is in the cookie directory.
    pub(crate) fn is_cookie(&self, path: &Path) -> bool {
        path.starts_with(&self.dir)
    }

    /// Records that the watcher handled the cookie `path` (and so every event
    /// before it).
    pub(crate) fn saw(&self, path: &Path) {
        let n = path
            .strip_prefix(&self.dir)
            .ok()
            .and_then(|rel| rel.to_str()?.parse::<u64>().ok());
        if let Some(n) = n {
            let mut seen = lock(&self.seen);
            seen.cookie = seen.cookie.max(n);
            drop(seen);
            self.handled.notify_all();
        }
    }

    /// The watcher may have missed changes: every sync flushes from now on.
    pub(crate) fn break_down(&self) {
        lock(&self.seen).broken = true;
        self.handled.notify_all();
    }

    pub(crate) fn is_broken(&self) -> bool {
        lock(&self.seen).broken
    }

    /// Writes a cookie and waits until the watcher handled it, at most
    /// `timeout`. `flush` runs on every failure.
    pub(crate) fn sync(&self, timeout: Duration, flush: impl FnOnce()) -> Synced {
        let start = Instant::now();
        let outcome = self.wait_for_cookie(start, timeout);
        match outcome {
            Ok(()) => {
                // Relaxed (counters): statistics only.
                self.syncs.fetch_add(1, Ordering::Relaxed);
                let nanos = start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
                lock(&self.latency).saturating_record(nanos.max(1));
                Synced::CaughtUp
            }
            Err(why) => {
                flush();
                self.flushes.fetch_add(1, Ordering::Relaxed);
                Synced::Flushed(why)
            }
        }
    }

    fn wait_for_cookie(&self, start: Instant, timeout: Duration) -> Result<(), SyncFailure> {
        if self.is_broken() {
            return Err(SyncFailure::Broken);
        }
        // Relaxed: a counter for unique names; the file write orders the rest.
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let cookie = self.dir.join(n.to_string());
        std::fs::write(&cookie, b"").map_err(|_| SyncFailure::Cookie)?;
        let mut seen = lock(&self.seen);
        let result = loop {
            if seen.broken {
                break Err(SyncFailure::Broken);
            }
            if seen.cookie >= n {
                break Ok(());
            }
            let Some(left) = timeout.checked_sub(start.elapsed()) else {
                break Err(SyncFailure::Timeout);
            };
            seen = match self.handled.wait_timeout(seen, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        };
        drop(seen);
        // Its removal's event is a cookie's too: handled and skipped.
        let _ = std::fs::remove_file(&cookie);
        result
    }

    pub(crate) fn counts(&self) -> (u64, u64, Latency) {
        let h = lock(&self.latency);
        let latency = if h.is_empty() {
            Latency::default()
        } else {
            Latency::from_histogram(&h)
        };
        (
            self.syncs.load(Ordering::Relaxed),
            self.flushes.load(Ordering::Relaxed),
            latency,
        )
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
