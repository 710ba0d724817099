//! Watching for a core [`Cache`] (a user mapping from paths to dependencies)
//! and for a [`ToolCache`]'s workspaces.

use std::path::{Path, PathBuf};

use core::hash::{BuildHasher, Hash};

use super::{Handler, Sink, Synced, WatchConfig, WatchError, Watcher};
use crate::tool::{Projects, Stored, SyncPoint, ToolCache, ToolKey, ToolOutput, Workspace, WsCtx, WsPath};
use crate::{Cache, DepPath, Dependency};
use std::sync::Arc;

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

    fn invalidate_many(&self, paths: &[PathBuf]) {
        let deps: Vec<D> = paths.iter().filter_map(|p| (self.map)(p)).collect();
        self.cache.invalidate_batch(&deps);
    }

    fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    fn covers(&self, path: &Path) -> bool {
        (self.map)(path).is_some_and(|d| self.cache.covers(&d))
    }
}

/// The sink of one workspace of a [`ToolCache`]: paths of its tree, and a
/// flush that hides only this workspace's entries.
struct WorkspaceSink<V, F> {
    cache: Cache<ToolKey, Stored<V>, WsPath>,
    /// The project nodes that each change reaches, beside its path.
    projects: Arc<Projects>,
    id: u64,
    map: F,
}

impl<V, F> Sink for WorkspaceSink<V, F>
where
    V: ToolOutput,
    F: Fn(&Path) -> WsPath + Send + Sync + 'static,
{
    fn invalidate(&self, path: &Path) {
        let dep = [(self.map)(path)];
        self.cache.invalidate_batch(&self.projects.with_nodes(&dep));
    }

    fn invalidate_many(&self, paths: &[PathBuf]) {
        let deps: Vec<WsPath> = paths.iter().map(|p| (self.map)(p)).collect();
        self.cache.invalidate_batch(&self.projects.with_nodes(&deps));
    }

    fn invalidate_all(&self) {
        self.cache.mark_stale(WsPath::top(self.id));
    }

    fn covers(&self, path: &Path) -> bool {
        let dep = (self.map)(path);
        self.cache.covers(&dep) || self.projects.covers(&dep)
    }
}

impl SyncPoint for Handler {
    fn sync(&self) -> bool {
        Handler::sync(self) == Synced::CaughtUp
    }

    fn is_healthy(&self) -> bool {
        Handler::is_healthy(self)
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
        watch_workspace(self, self.home(), &self.home().root, config)
    }

    /// Watches `dir`, where the workspace's files are, under another name
    /// than its root: a sandbox's `/testbed` mounted at a host path, say. A
    /// change of `dir/a.py` invalidates the workspace's `a.py`.
    pub fn watch_dir(&self, dir: &Path, config: WatchConfig) -> Result<Watcher, WatchError> {
        watch_workspace(self, self.home(), dir, config)
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
        watch_workspace(self.tools(), self.ctx(), &self.ctx().root, config)
    }

    /// [`ToolCache::watch_dir`] for this workspace: watches `dir`, which
    /// holds this workspace's files under another name than its root.
    pub fn watch_dir(&self, dir: &Path, config: WatchConfig) -> Result<Watcher, WatchError> {
        watch_workspace(self.tools(), self.ctx(), dir, config)
    }
}

/// Watches `ws`'s root into its own entries, and lets the tool layer sync on
/// the watcher instead of flushing after an opaque command while it is healthy.
fn watch_workspace<V: ToolOutput>(
    tools: &ToolCache<V>,
    ws: &WsCtx,
    dir: &Path,
    config: WatchConfig,
) -> Result<Watcher, WatchError> {
    let root = ws.root.clone();
    let id = ws.id;
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let map = move |p: &Path| -> WsPath {
        WsPath::new(
            id,
            match p.strip_prefix(&canonical) {
                Ok(rel) => DepPath::new(rel),
                Err(_) => DepPath::in_workspace(&root, p),
            },
        )
    };
    let sink = WorkspaceSink {
        cache: tools.cache().clone(),
        projects: tools.projects.clone(),
        id,
        map,
    };
    let watcher = Watcher::start(dir, Handler::new(dir, &config, sink)?)?;
    let handler: Arc<dyn SyncPoint> = watcher.shared_handler().clone();
    ws.set_sync_point(Arc::downgrade(&handler));
    Ok(watcher)
}
