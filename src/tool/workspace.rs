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
//! ([`WsPath::top`]), which has two children: the root directory (the
//! relative path `""`, above every path inside the root) and `/` (above every
//! path outside it), so a change outside the root never reaches a listing or
//! search of the root. An absolute path above the root (`/` itself, for
//! `find / -name x`) is the top. An opaque command without a watcher marks
//! the top stale, which hides every entry of that workspace in O(1) and
//! nothing else.

use std::path::Path;
use std::sync::Arc;

use super::cache::{Decision, Pending, ToolCache};
use super::call::{ToolCall, ToolKey};
use super::error::ToolError;
use super::output::{Served, ToolOutput};
use super::ws_path::WsCtx;
use crate::DepPath;

impl<V: ToolOutput> ToolCache<V> {
    /// The workspace named `name`, rooted at `root`, created on first use: a
    /// sandbox or a checkout whose keys and dependencies are its own. Its
    /// results are never served to a call of another workspace, and its writes,
    /// opaque commands, watcher events and invalidations reach only its own
    /// entries. All workspaces share this cache's memory budget and policy.
    ///
    /// Fails if `name` already names a workspace with another root.
    ///
    /// ```
    /// use depcache::tool::{ToolCache, ToolCall};
    /// use serde_json::json;
    ///
    /// let tools: ToolCache = ToolCache::new("/repo", 1_000);
    /// let a = tools.workspace("tenant-a", "/testbed").unwrap();
    /// let b = tools.workspace("tenant-b", "/testbed").unwrap();
    /// let read = ToolCall::new("read_file", json!({"path": "/testbed/secret.txt"}));
    /// a.execute(&read, |_| Ok::<_, ()>("a's secret".into())).unwrap();
    /// assert!(a.get(&read).is_some());
    /// assert!(b.get(&read).is_none()); // same path, another sandbox
    /// ```
    pub fn workspace(&self, name: &str, root: impl AsRef<Path>) -> Result<Workspace<'_, V>, ToolError> {
        let root = DepPath::new(root.as_ref()).as_path().to_path_buf();
        let mut w = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ctx) = w.by_name.get(name) {
            if ctx.root != root {
                return Err(ToolError::WorkspaceRoot {
                    name: name.to_string(),
                    root: ctx.root.display().to_string(),
                    requested: root.display().to_string(),
                });
            }
            return Ok(Workspace::new(self, ctx.clone()));
        }
        w.last_id += 1;
        let ctx = Arc::new(WsCtx::new(w.last_id, name, &root));
        w.by_name.insert(ctx.name.clone(), ctx.clone());
        Ok(Workspace::new(self, ctx))
    }

    /// A handle on the default workspace, the one `ToolCache`'s own methods
    /// use (rooted at the root given to [`new`](ToolCache::new)).
    pub fn default_workspace(&self) -> Workspace<'_, V> {
        Workspace::new(self, self.home.clone())
    }

    /// Forgets the workspace named `name` and hides all its entries (O(1); the
    /// CLOCK hand and lookups reclaim them). A later workspace of that name
    /// starts empty. False if there was none.
    pub fn remove_workspace(&self, name: &str) -> bool {
        let removed = self
            .workspaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_name
            .remove(name);
        match removed {
            Some(ctx) => {
                self.flush_in(&ctx);
                true
            }
            None => false,
        }
    }
}

/// One workspace of a [`ToolCache`]: the cache's operations, on this
/// workspace's keys and paths. Made by [`ToolCache::workspace`]; cheap to
/// clone and to keep for a session's life.
pub struct Workspace<'a, V> {
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

    /// How this workspace learns of changes made behind the cache's back
    /// (see [`ToolCache::freshness`]).
    pub fn freshness(&self) -> super::Freshness {
        self.tools.freshness_in(&self.ctx)
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
    /// dependencies ([`WsPath::workspace`](super::WsPath::workspace)).
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
        self.tools.invalidate_paths(&[self.ctx.path(path)])
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
        self.tools.mark_stale_path(self.ctx.path(path))
    }

    /// Hides every entry of this workspace, in O(1).
    pub fn flush(&self) {
        self.tools.flush_in(&self.ctx)
    }
}
