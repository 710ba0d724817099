//! The dependency of a path inside one workspace ([`WsPath`]), and what a
//! workspace handle knows of its workspace (`WsCtx`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(feature = "watch")]
use super::sync_point::SyncPoint;
use super::sync_point::SyncSlot;
use crate::{Dep, DepPath, Dependency};

/// A dependency inside one workspace: its number and a path. The
/// workspace's top is the ancestor of all its paths: of its root directory
/// (`""`, above every relative path) and of `/` (above every absolute path
/// outside the root), which are siblings.
///
/// ```
/// use depcache::tool::WsPath;
/// use depcache::{DepPath, Dependency};
///
/// let a = WsPath::new(1, DepPath::new("src/a.py"));
/// assert_eq!(a.parent(), Some(WsPath::new(1, DepPath::new("src"))));
/// assert_eq!(WsPath::new(1, DepPath::new("src")).parent(), Some(WsPath::new(1, DepPath::root())));
/// assert_eq!(WsPath::new(1, DepPath::root()).parent(), Some(WsPath::top(1)));
/// assert_eq!(WsPath::new(1, DepPath::new("/")).parent(), Some(WsPath::top(1)));
/// assert_eq!(WsPath::top(1).parent(), None);
/// // The same path in another workspace is another dependency.
/// assert_ne!(a, WsPath::new(2, DepPath::new("src/a.py")));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WsPath {
    ws: u64,
    path: DepPath,
}

/// The name of a workspace's top: a path no file system has (a NUL byte).
const TOP: &str = "\0";

impl WsPath {
    /// `path` in workspace `ws`.
    pub fn new(ws: u64, path: DepPath) -> Self {
        WsPath { ws, path }
    }

    /// Everything of workspace `ws` outside its root: the absolute paths,
    /// below `/`, which hangs below the top beside the root directory. A
    /// watcher of the root does not see them change.
    pub(crate) fn outside(ws: u64) -> Self {
        WsPath {
            ws,
            path: DepPath::new("/"),
        }
    }

    /// The top of workspace `ws`: every path of the workspace, inside its
    /// root or outside, is below it.
    pub fn top(ws: u64) -> Self {
        WsPath {
            ws,
            path: DepPath::new(TOP),
        }
    }

    /// The workspace's number.
    pub fn workspace(&self) -> u64 {
        self.ws
    }

    /// The path (`""` for the root directory).
    pub fn path(&self) -> &DepPath {
        &self.path
    }

    fn is_top(&self) -> bool {
        self.path.as_path().as_os_str() == TOP
    }
}

impl Dependency for WsPath {
    fn parent(&self) -> Option<Self> {
        if self.is_top() {
            return None;
        }
        let path = match self.path.parent() {
            Some(p) => p,
            // The root directory and `/` hang below the top.
            None => return Some(WsPath::top(self.ws)),
        };
        Some(WsPath { ws: self.ws, path })
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

    /// `path` of this workspace. An absolute path above the root (`/`, for
    /// `find / -name x`) holds everything: it is the top.
    pub(crate) fn dep(&self, path: &DepPath) -> WsPath {
        let p = path.as_path();
        if p.is_absolute() && self.root.starts_with(p) {
            return WsPath::top(self.id);
        }
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
        let chain: Vec<WsPath> = std::iter::successors(Some(rel), |p| p.parent()).collect();
        assert_eq!(
            chain,
            [
                WsPath::new(3, DepPath::new("a")),
                WsPath::new(3, DepPath::root()),
                WsPath::top(3)
            ]
        );
        assert!(
            !chain.contains(&WsPath::outside(3)),
            "outside the root is a sibling of the root"
        );
    }

    #[test]
    fn a_path_above_the_root_is_the_top() {
        let ws = WsCtx::new(1, "", Path::new("/testbed"));
        assert_eq!(ws.dep(&DepPath::new("/")), WsPath::top(1));
        assert_eq!(ws.dep(&DepPath::new("/etc")), WsPath::new(1, DepPath::new("/etc")));
        assert_eq!(ws.dep(&DepPath::root()), WsPath::new(1, DepPath::root()));
    }
}
