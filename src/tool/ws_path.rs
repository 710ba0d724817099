//! The dependency of a path inside one workspace ([`WsPath`]), and what a
//! workspace handle knows of its workspace (`WsCtx`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(feature = "watch")]
use super::sync_point::SyncPoint;
use super::sync_point::SyncSlot;
use crate::{Dep, DepPath, Dependency};

/// A dependency inside one workspace: its number and a path. The
/// workspace's root (`""`) is the ancestor of all its paths, `/` included.
///
/// ```
/// use depcache::tool::WsPath;
/// use depcache::{DepPath, Dependency};
///
/// let a = WsPath::new(1, DepPath::new("src/a.py"));
/// assert_eq!(a.parent(), Some(WsPath::new(1, DepPath::new("src"))));
/// assert_eq!(WsPath::new(1, DepPath::new("/")).parent(), Some(WsPath::top(1)));
/// assert_eq!(WsPath::top(1), WsPath::new(1, DepPath::root()));
/// assert_eq!(WsPath::top(1).parent(), None);
/// // The same path in another workspace is another dependency.
/// assert_ne!(a, WsPath::new(2, DepPath::new("src/a.py")));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WsPath {
    ws: u64,
    path: DepPath,
}

impl WsPath {
    /// `path` in workspace `ws`.
    pub fn new(ws: u64, path: DepPath) -> Self {
        WsPath { ws, path }
    }

    /// Everything of workspace `ws` outside its root: the absolute paths,
    /// below `/`, which hangs below the top. A watcher of the root does not
    /// see them change.
    pub(crate) fn outside(ws: u64) -> Self {
        WsPath {
            ws,
            path: DepPath::new("/"),
        }
    }

    /// The top of workspace `ws`, its root: every path of the workspace is
    /// below it.
    pub fn top(ws: u64) -> Self {
        WsPath {
            ws,
            path: DepPath::root(),
        }
    }

    /// The workspace's number.
    pub fn workspace(&self) -> u64 {
        self.ws
    }

    /// The path (`""` for the top).
    pub fn path(&self) -> &DepPath {
        &self.path
    }
}

impl Dependency for WsPath {
    fn parent(&self) -> Option<Self> {
        let parent = match self.path.parent() {
            Some(p) => p,
            // `/` hangs below the workspace's root; the root is the top.
            None if self.path.as_path().has_root() => DepPath::root(),
            None => return None,
        };
        Some(WsPath {
            ws: self.ws,
            path: parent,
        })
    }
}

impl std::fmt::Debug for WsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ws{}:{:?}", self.ws, self.path)
    }
}

/// What a handle knows of its workspace: its number, its name and its root.
#[derive(Debug)]
pub(crate) struct WsCtx {
    pub(crate) id: u64,
    pub(crate) name: Arc<str>,
    pub(crate) root: PathBuf,
    /// The workspace's watcher, to sync on instead of flushing.
    pub(crate) sync: SyncSlot,
}

impl WsCtx {
    pub(crate) fn new(id: u64, name: &str, root: &Path) -> Self {
        WsCtx {
            id,
            name: name.into(),
            root: DepPath::new(root).as_path().to_path_buf(),
            sync: SyncSlot::default(),
        }
    }

    /// Syncs on `point` (a watcher of this workspace) from now on, while it
    /// is healthy.
    #[cfg(feature = "watch")]
    pub(crate) fn set_sync_point(&self, point: std::sync::Weak<dyn SyncPoint>) {
        self.sync.set(point);
    }

    /// `path` of this workspace.
    pub(crate) fn dep(&self, path: &DepPath) -> WsPath {
        WsPath::new(self.id, path.clone())
    }

    /// `deps` of this workspace. A read that depends on no path (a shell
    /// command that reads no file) depends on the workspace's top alone, so
    /// that flushing the workspace reaches it.
    pub(crate) fn deps(&self, deps: &[Dep<DepPath>]) -> Vec<Dep<WsPath>> {
        if deps.is_empty() {
            return vec![Dep::exact(WsPath::top(self.id))];
        }
        deps.iter()
            .map(|d| Dep {
                dep: self.dep(&d.dep),
                scope: d.scope,
            })
            .collect()
    }

    /// `paths` of this workspace.
    pub(crate) fn paths(&self, paths: &[DepPath]) -> Vec<WsPath> {
        paths.iter().map(|p| self.dep(p)).collect()
    }

    /// A path as the user spelled it, normalized against the root.
    pub(crate) fn path(&self, path: impl AsRef<Path>) -> WsPath {
        WsPath::new(self.id, DepPath::in_workspace(&self.root, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative_trees_meet_at_the_top() {
        let abs = WsPath::new(3, DepPath::new("/etc/hosts"));
        let chain: Vec<WsPath> = std::iter::successors(Some(abs), |p| p.parent()).collect();
        assert_eq!(chain.last(), Some(&WsPath::top(3)));
        assert_eq!(chain.len(), 4, "{chain:?}");
        let rel = WsPath::new(3, DepPath::new("a"));
        assert_eq!(rel.parent(), Some(WsPath::top(3)));
    }
}
