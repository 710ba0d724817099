//! Stat fingerprints: the metadata of a result's files, checked on every hit.
//!
//! A file's fingerprint is its modification time (nanoseconds), size, inode
//! and status-change time (nanoseconds; a `touch -m` back to the old mtime
//! still moves it), or "absent"; a directory's is its modification time and inode, which move
//! when an entry is created, removed or renamed in it — not when a file deeper
//! down changes, so a `Subtree` result (a recursive grep) is verified only
//! shallowly: pair fingerprints with the watcher or with invalidation for those.

use std::path::Path;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::{Dep, DepPath};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    mtime_ns: i128,
    size: u64,
    ino: u64,
    ctime_ns: i128,
    dir: bool,
}

/// The fingerprint of one dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Print {
    path: DepPath,
    meta: Option<Meta>,
}

fn stat(root: &Path, p: &DepPath) -> Option<Meta> {
    let full = if p.as_path().is_absolute() {
        p.as_path().to_path_buf()
    } else {
        root.join(p.as_path())
    };
    let m = std::fs::metadata(full).ok()?;
    let mtime_ns = match m.modified().ok()?.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    #[cfg(unix)]
    let (ino, ctime_ns) = {
        use std::os::unix::fs::MetadataExt;
        (
            m.ino(),
            i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        )
    };
    #[cfg(not(unix))]
    let (ino, ctime_ns) = (0, 0);
    Some(Meta {
        mtime_ns,
        size: if m.is_dir() { 0 } else { m.len() },
        ino,
        ctime_ns,
        dir: m.is_dir(),
    })
}

/// Fingerprints of `deps`, taken *before* the tool runs (like a ticket: a change
/// after this point makes the result's fingerprint mismatch).
pub(crate) fn take(root: &Path, deps: &[Dep<DepPath>]) -> Arc<[Print]> {
    deps.iter()
        .map(|d| Print {
            path: d.dep.clone(),
            meta: stat(root, &d.dep),
        })
        .collect()
}

/// The first dependency whose metadata changed, if any.
pub(crate) fn first_mismatch(root: &Path, prints: &[Print]) -> Option<DepPath> {
    prints
        .iter()
        .find(|p| stat(root, &p.path) != p.meta)
        .map(|p| p.path.clone())
}
