//! Workspaces: one namespace of keys and dependencies per sandbox or checkout.
//!
//! A [`ToolCache`](super::ToolCache) serves any number of workspaces over one
//! [`Cache`](crate::Cache) and one memory budget. Every key carries its
//! workspace's number and every dependency is a [`WsPath`], a path *inside*
//! one workspace: two workspaces whose roots are both `/testbed` share no key
//! and no dependency, so nothing one of them does (a write, an opaque command,
//! a watcher event) reaches the other, and no result of one is ever served to
//! the other.
//!
//! Each workspace's paths hang below one node of its own, its *top*
//! ([`WsPath::top`]): its root, the relative path `""`, which is also the
//! parent of `/` (so paths outside the root are in the workspace too). An
//! opaque command marks the top stale, which hides every entry of that
//! workspace in O(1) and nothing else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::{Decision, Pending, ToolCache};
use super::call::{ToolCall, ToolKey};
use super::error::ToolError;
use super::output::{Served, ToolOutput};
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
}

impl WsCtx {
    pub(crate) fn new(id: u64, name: &str, root: &Path) -> Self {
        WsCtx {
            id,
            name: name.into(),
            root: DepPath::new(root).as_path().to_path_buf(),
        }
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

/// One workspace of a [`ToolCache`]: the cache's operations, on this
/// workspace's keys and paths. Made by [`ToolCache::workspace`]; cheap to
/// clone and to keep for a session's life.
pub struct Workspace<'a, V: Clone + Send + Sync + 'static> {
    tools: &'a ToolCache<V>,
    ctx: Arc<WsCtx>,
}

impl<V: Clone + Send + Sync + 'static> Clone for Workspace<'_, V> {
    fn clone(&self) -> Self {
        Workspace {
            tools: self.tools,
            ctx: self.ctx.clone(),
        }
    }
}

impl<V: Clone + Send + Sync + 'static> std::fmt::Debug for Workspace<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("name", &self.ctx.name)
            .field("id", &self.ctx.id)
            .field("root", &self.ctx.root)
            .finish()
    }
}

impl<'a, V: ToolOutput> Workspace<'a, V> {
    pub(crate) fn new(tools: &'a ToolCache<V>, ctx: Arc<WsCtx>) -> Self {
        Workspace { tools, ctx }
    }

    #[cfg(any(feature = "async", feature = "watch"))]
    pub(crate) fn ctx(&self) -> &WsCtx {
        &self.ctx
    }

    /// The cache it belongs to.
    pub fn tools(&self) -> &'a ToolCache<V> {
        self.tools
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.ctx.name
    }

    /// Its number, the one in its keys ([`ToolKey::workspace`]) and its
    /// dependencies ([`WsPath::workspace`]).
    pub fn id(&self) -> u64 {
        self.ctx.id
    }

    /// Its root: relative paths of its calls are relative to it.
    pub fn root(&self) -> &Path {
        &self.ctx.root
    }

    /// [`ToolCache::classify`] in this workspace.
    pub fn classify(&self, call: &ToolCall) -> Decision {
        self.tools.classify_in(&self.ctx, call)
    }

    /// [`ToolCache::canonical_key`] in this workspace.
    pub fn canonical_key(&self, call: &ToolCall) -> Result<ToolKey, ToolError> {
        self.tools.canonical_key_in(&self.ctx, call)
    }

    /// [`ToolCache::key`] in this workspace.
    pub fn key(&self, call: &ToolCall) -> Result<Option<ToolKey>, ToolError> {
        self.tools.key_in(&self.ctx, call)
    }

    /// [`ToolCache::get`] in this workspace.
    pub fn get(&self, call: &ToolCall) -> Option<V> {
        self.tools.get_in(&self.ctx, call)
    }

    /// [`ToolCache::execute`] in this workspace: an opaque call hides this
    /// workspace's entries only, a write invalidates its paths here only.
    pub fn execute<E>(&self, call: &ToolCall, run: impl FnOnce(&ToolCall) -> Result<V, E>) -> Result<V, E> {
        self.execute_served(call, run).map(|s| s.value)
    }

    /// [`ToolCache::execute_served`] in this workspace.
    pub fn execute_served<E>(
        &self,
        call: &ToolCall,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<Served<V>, E> {
        self.tools.serve_decided_in(&self.ctx, call, self.classify(call), run)
    }

    /// [`ToolCache::execute_decided`] in this workspace (`decision` must come
    /// from this workspace's [`classify`](Workspace::classify)).
    pub fn execute_decided<E>(
        &self,
        call: &ToolCall,
        decision: Decision,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<V, E> {
        self.tools
            .serve_decided_in(&self.ctx, call, decision, run)
            .map(|s| s.value)
    }

    /// [`execute_decided`](Workspace::execute_decided), telling where the
    /// result came from ([`ToolCache::execute_served`]).
    pub fn serve_decided<E>(
        &self,
        call: &ToolCall,
        decision: Decision,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<Served<V>, E> {
        self.tools.serve_decided_in(&self.ctx, call, decision, run)
    }

    /// [`ToolCache::begin`] in this workspace.
    pub fn begin(&self, call: &ToolCall) -> Pending<V> {
        self.tools.begin_in(&self.ctx, call)
    }

    /// [`ToolCache::complete`] (the pending call knows its workspace).
    pub fn complete<E>(&self, pending: Pending<V>, result: &Result<V, E>) -> bool {
        self.tools.complete_in(pending, result)
    }

    /// [`ToolCache::record`] in this workspace.
    pub fn record<E>(&self, call: &ToolCall, result: &Result<V, E>) -> bool {
        let pending = self.begin(call);
        self.complete(pending, result)
    }

    /// Invalidates one file of this workspace (and the listings and searches above it).
    pub fn invalidate_file(&self, path: impl AsRef<Path>) -> usize {
        self.tools.cache().invalidate(self.ctx.path(path))
    }

    /// Invalidates several files of this workspace; each entry counted once.
    pub fn invalidate_files<P: AsRef<Path>>(&self, paths: impl IntoIterator<Item = P>) -> usize {
        self.tools.invalidate_files_in(&self.ctx, paths)
    }

    /// Invalidates a directory of this workspace.
    pub fn invalidate_dir(&self, path: impl AsRef<Path>) -> usize {
        self.invalidate_file(path)
    }

    /// Lazily invalidates a path of this workspace, in O(depth).
    pub fn mark_stale(&self, path: impl AsRef<Path>) {
        self.tools.cache().mark_stale(self.ctx.path(path))
    }

    /// Hides every entry of this workspace, in O(1).
    pub fn flush(&self) {
        self.tools.flush_in(&self.ctx)
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
