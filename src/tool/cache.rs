//! [`ToolCache`]: a [`Cache`] that takes tool calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::call::{canonical_key, ToolCall, ToolKey};
use super::error::ToolError;
use super::extract::{DefaultExtractor, DepExtractor};
use super::fingerprint::{self, Print};
use super::output::{Body, Origin, Served, Source, Stored, ToolOutput};
use super::patch;
use super::path_args::unknown_arg;
use super::policy::{Policy, ShellPolicy, ToolPolicy, WritePolicy};
use super::project::Projects;
use super::shell::{self, ShellClass};
use super::view::View;
use super::ws_path::{WsCtx, WsPath};
use crate::{Cache, Dep, DepPath, Stats, Ticket};
use serde_json::Value;

/// What the cache does with one call.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// A cacheable read: its key and dependencies.
    Read {
        /// The cache key.
        key: ToolKey,
        /// What the result depends on.
        deps: Vec<Dep<DepPath>>,
    },
    /// A write: these paths are invalidated before and after it runs.
    Write {
        /// The paths it changes.
        paths: Vec<DepPath>,
    },
    /// May change anything: its whole workspace is invalidated before and after.
    Opaque,
    /// Run, not cached, invalidates nothing.
    Uncached {
        /// Why: the policy says so, or the call could not be understood.
        reason: Option<ToolError>,
    },
}

/// A tool-call cache: keys from tool names and canonical arguments, dependencies
/// from path arguments, and a policy table that says which tools are reads,
/// writes, opaque, or never cached.
///
/// ```
/// use depcache::tool::{ToolCache, ToolCall};
/// use serde_json::json;
///
/// let tools: ToolCache = ToolCache::new("/repo", 10_000);
/// let read = ToolCall::new("read_file", json!({"path": "src/a.py"}));
/// let ls = ToolCall::new("list_directory", json!({"path": "src"}));
///
/// let out = tools.execute(&read, |_| Ok::<_, ()>("print(1)".into())).unwrap();
/// assert_eq!(&*out, "print(1)");
/// tools.execute(&ls, |_| Ok::<_, ()>("a.py".into())).unwrap();
/// assert!(tools.get(&read).is_some());
///
/// // The agent edits /repo/src/a.py: the read and the listing of src go.
/// let edit = ToolCall::new("edit", json!({"path": "/repo/src/a.py", "old": "1", "new": "2"}));
/// tools.execute(&edit, |_| Ok::<_, ()>("ok".into())).unwrap();
/// assert!(tools.get(&read).is_none());
/// assert!(tools.get(&ls).is_none());
/// ```
pub struct ToolCache<V = Arc<str>> {
    cache: Cache<ToolKey, Stored<V>, WsPath>,
    fingerprints: bool,
    /// The workspace of the `ToolCache`'s own methods (number 0).
    pub(crate) home: Arc<WsCtx>,
    /// Named workspaces; only [`workspace`](ToolCache::workspace) and
    /// [`remove_workspace`](ToolCache::remove_workspace) take this lock.
    pub(crate) workspaces: Mutex<Workspaces>,
    pub(crate) policy: ArcSwap<Policy>,
    /// The nodes cached project commands depend on (shared with the watchers).
    pub(crate) projects: Arc<Projects>,
    extractor: Box<dyn DepExtractor>,
    opaque_invalidates: bool,
    views: bool,
}

#[derive(Default)]
pub(crate) struct Workspaces {
    pub(crate) by_name: HashMap<Arc<str>, Arc<WsCtx>>,
    /// Numbers are never reused: a removed workspace's entries, hidden but
    /// not yet reclaimed, can never be found by a later one.
    pub(crate) last_id: u64,
}

impl<V: ToolOutput> ToolCache<V> {
    /// A cache of at most `max_entries` results for the workspace at `root`,
    /// with the built-in [`Policy::defaults`].
    pub fn new(root: impl Into<PathBuf>, max_entries: usize) -> Self {
        Self::with_cache(root, Cache::new(max_entries))
    }

    /// A tool cache over a configured core cache (weights, TTL).
    pub fn with_cache(root: impl Into<PathBuf>, cache: Cache<ToolKey, Stored<V>, WsPath>) -> Self {
        let root = root.into();
        ToolCache {
            cache,
            fingerprints: false,
            home: Arc::new(WsCtx::new(0, "", &root)),
            workspaces: Mutex::new(Workspaces::default()),
            policy: ArcSwap::from_pointee(Policy::defaults()),
            projects: Arc::default(),
            extractor: Box::new(DefaultExtractor::default()),
            opaque_invalidates: true,
            views: false,
        }
    }

    /// Views of known file content: learn each file's lines from the complete
    /// outputs of the shell reads the cache understands (`cat f`, `nl -ba f`,
    /// `sed -n 'a,bp' f`, `head`, `tail`, and pipelines of these), and answer
    /// later views of the same unchanged file from them (the same families,
    /// `wc -l`, `grep` on one file), byte for byte as the tools would.
    ///
    /// Turn it on only when the shell tools' outputs are the commands' exact
    /// standard output (no banner, no exit-code line, stderr not mixed in on
    /// success) and [`ToolOutput::is_complete`] says when the executor cut one.
    /// Default `false`.
    ///
    /// ```
    /// use depcache::tool::{Source, ToolCache, ToolCall};
    /// use serde_json::json;
    ///
    /// let tools: ToolCache = ToolCache::new("/repo", 1_000).views(true);
    /// let bash = |c: &str| ToolCall::new("bash", json!({"command": c, "cwd": "/repo"}));
    /// tools.execute(&bash("cat a.py"), |_| Ok::<_, ()>("import os\n\ndef f():\n    pass\n".into())).unwrap();
    /// let served = tools
    ///     .execute_served(&bash("sed -n '3,4p' a.py"), |_| -> Result<_, ()> { unreachable!("answered from what cat showed") })
    ///     .unwrap();
    /// assert_eq!(&*served.value, "def f():\n    pass\n");
    /// assert!(matches!(served.source, Source::View(_)));
    /// ```
    pub fn views(mut self, yes: bool) -> Self {
        self.views = yes;
        self
    }

    /// Stat fingerprints: record each dependency's metadata (mtime in ns, size,
    /// inode) before a read runs, and check it on every hit; a mismatch
    /// invalidates the path and misses. Makes caching safe without a watcher and
    /// with opaque commands that do not invalidate, at the cost of one `stat` per
    /// dependency per hit. Directories are checked shallowly (see
    /// `fingerprint` docs): entries created or removed in them, not edits deeper down.
    pub fn fingerprints(mut self, yes: bool) -> Self {
        self.fingerprints = yes;
        self
    }

    /// Replaces the dependency extractor.
    pub fn with_extractor(mut self, extractor: impl DepExtractor + 'static) -> Self {
        self.extractor = Box::new(extractor);
        self
    }

    /// If `false`, opaque tools invalidate nothing: for setups where a file
    /// watcher sees every change they make. Default `true`.
    pub fn opaque_invalidates(mut self, yes: bool) -> Self {
        self.opaque_invalidates = yes;
        self
    }

    /// Swaps the policy table; lock-free for concurrent callers, who see the old
    /// or the new table, never a mix.
    pub fn set_policy(&self, policy: Policy) {
        self.policy.store(Arc::new(policy));
    }

    /// The current policy table.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// The core cache, shared by every workspace.
    pub fn cache(&self) -> &Cache<ToolKey, Stored<V>, WsPath> {
        &self.cache
    }

    /// The core cache's counters (all workspaces).
    pub fn stats(&self) -> Stats {
        self.cache.stats()
    }

    /// The workspace root (of the default workspace; named workspaces have their own).
    pub fn root(&self) -> &Path {
        &self.home.root
    }

    /// What the cache does with `call` (never fails: a call it cannot
    /// understand is [`Decision::Uncached`] with the reason).
    pub fn classify(&self, call: &ToolCall) -> Decision {
        self.classify_in(&self.home, call)
    }

    /// The canonical key of `call` whatever its policy (no defaults dropped).
    pub fn canonical_key(&self, call: &ToolCall) -> Result<ToolKey, ToolError> {
        self.canonical_key_in(&self.home, call)
    }

    /// The cache key of `call`, or why it has none.
    pub fn key(&self, call: &ToolCall) -> Result<Option<ToolKey>, ToolError> {
        self.key_in(&self.home, call)
    }

    /// The cached result of `call`, if it is a cacheable read and cached.
    pub fn get(&self, call: &ToolCall) -> Option<V> {
        self.get_in(&self.home, call)
    }

    /// Runs `call` through the cache: a cacheable read is looked up and, on a
    /// miss, run once for all concurrent callers (single-flight) with a ticket, and
    /// cached if it succeeds; a write invalidates what it changes before and after
    /// it runs; an opaque call invalidates its workspace before and after.
    pub fn execute<E>(&self, call: &ToolCall, run: impl FnOnce(&ToolCall) -> Result<V, E>) -> Result<V, E> {
        self.serve_decided_in(&self.home, call, self.classify(call), run)
            .map(|s| s.value)
    }

    /// [`execute`](ToolCache::execute), telling where the result came from:
    /// the tool ran, a cached result of the same call, or a view of content
    /// seen before, with when and by which call ([`ToolCall::by`]) it was
    /// produced.
    pub fn execute_served<E>(
        &self,
        call: &ToolCall,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<Served<V>, E> {
        self.serve_decided_in(&self.home, call, self.classify(call), run)
    }

    /// [`execute`](ToolCache::execute) with a decision already made by
    /// [`classify`](ToolCache::classify) for this call (saves classifying twice).
    pub fn execute_decided<E>(
        &self,
        call: &ToolCall,
        decision: Decision,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<V, E> {
        self.serve_decided_in(&self.home, call, decision, run).map(|s| s.value)
    }

    /// Starts a call that the executor runs itself: applies the write/opaque
    /// policy's "before" step and, for a read, takes the ticket. Finish with
    /// [`complete`](ToolCache::complete).
    pub fn begin(&self, call: &ToolCall) -> Pending<V> {
        self.begin_in(&self.home, call)
    }

    /// Finishes a call begun with [`begin`](ToolCache::begin): caches a
    /// successful read (unless something it depends on changed meanwhile) and
    /// applies the write/opaque policy's "after" step. True if it cached.
    pub fn complete<E>(&self, pending: Pending<V>, result: &Result<V, E>) -> bool {
        self.complete_in(pending, result)
    }

    /// Records the result of a call the executor ran without [`begin`](ToolCache::begin).
    /// The ticket is taken now, so a write that raced the call before this point
    /// goes unnoticed: prefer `begin`/`complete` or `execute`. True if cached.
    pub fn record<E>(&self, call: &ToolCall, result: &Result<V, E>) -> bool {
        let pending = self.begin(call);
        self.complete(pending, result)
    }

    /// Invalidates one file (and the listings and searches above it).
    pub fn invalidate_file(&self, path: impl AsRef<Path>) -> usize {
        self.invalidate_paths(&[self.home.path(path)])
    }

    /// Invalidates several files; each entry counted once.
    pub fn invalidate_files<P: AsRef<Path>>(&self, paths: impl IntoIterator<Item = P>) -> usize {
        self.invalidate_files_in(&self.home, paths)
    }

    /// Invalidates a directory: everything below it, and the listings and
    /// searches above it.
    pub fn invalidate_dir(&self, path: impl AsRef<Path>) -> usize {
        self.invalidate_file(path)
    }

    /// Lazily invalidates a path, in O(depth).
    pub fn mark_stale(&self, path: impl AsRef<Path>) {
        self.mark_stale_path(self.home.path(path))
    }

    /// Hides every entry of the default workspace, in O(1) (what an opaque
    /// command does); other workspaces keep theirs.
    pub fn flush(&self) {
        self.flush_in(&self.home)
    }

    // The operations, on one workspace. `ToolCache`'s methods pass the default
    // workspace, a `Workspace`'s pass its own.

    pub(crate) fn classify_in(&self, ws: &WsCtx, call: &ToolCall) -> Decision {
        let policy = self.policy.load();
        let root = &ws.root;
        let tool_policy = policy.resolve(call);
        let decided = match tool_policy {
            ToolPolicy::Read(read) => canonical_key(call, root, &read.defaults).and_then(|key| {
                let deps = self.extractor.read_deps(call, read, root)?;
                Ok(if deps.is_empty() {
                    Decision::Uncached { reason: None }
                } else {
                    Decision::Read {
                        key: key.in_workspace(ws.id),
                        deps,
                    }
                })
            }),
            ToolPolicy::Write(w) => Ok(self.classify_write(call, w, root)),
            ToolPolicy::Opaque | ToolPolicy::ByArg(_) => Ok(Decision::Opaque),
            ToolPolicy::Never => Ok(Decision::Uncached { reason: None }),
            ToolPolicy::Shell(sh) => Ok(self.classify_shell(ws, call, sh)),
        };
        decided.unwrap_or_else(|e| match tool_policy {
            // A write we cannot parse may still write: be safe.
            ToolPolicy::Write(_) => Decision::Opaque,
            _ => Decision::Uncached { reason: Some(e) },
        })
    }

    /// A write: the paths its schema's arguments (or its patch) name. What it
    /// cannot tell the whole target of is opaque, never a partial invalidation.
    fn classify_write(&self, call: &ToolCall, w: &WritePolicy, root: &Path) -> Decision {
        let mut paths = Vec::new();
        if !w.patch_args.is_empty() {
            let patch = w
                .patch_args
                .iter()
                .find_map(|a| call.args.get(a).and_then(Value::as_str));
            match patch.map(patch::written_paths) {
                Some(Ok(spelled)) => paths.extend(spelled.iter().map(|p| DepPath::in_workspace(root, p))),
                _ => return Decision::Opaque,
            }
        } else {
            // No schema: an argument the cache knows neither as a path nor as
            // content may name a target.
            if w.args.is_empty() && unknown_arg(&call.args).is_some() {
                return Decision::Opaque;
            }
            match self.extractor.written_paths(call, &w.args, root) {
                Ok(found) => paths = found,
                Err(_) => return Decision::Opaque,
            }
        }
        paths.extend(w.fixed.iter().map(|f| DepPath::in_workspace(root, f)));
        if paths.is_empty() && w.opaque_if_no_path {
            Decision::Opaque
        } else {
            Decision::Write { paths }
        }
    }

    fn classify_shell(&self, ws: &WsCtx, call: &ToolCall, policy: &ShellPolicy) -> Decision {
        let root = &ws.root;
        let arg = |k: &str| call.args.get(k);
        // Input typed into a running program (OpenHands' `is_input`), or a
        // command left running: not a command whose output is its result.
        if ["is_input", "run_in_background"]
            .iter()
            .any(|k| arg(k).is_some_and(|v| v == &Value::Bool(true) || v == "true"))
        {
            return Decision::Opaque;
        }
        // codex's `workdir` where the policy names no `cwd` argument.
        let cwd = arg(&policy.cwd_arg).or_else(|| arg("workdir")).and_then(Value::as_str);
        let command = match arg(&policy.command_arg) {
            // A blank command reads more of what a running program prints
            // (OpenHands): what that program does meanwhile is unknown.
            Some(Value::String(command)) if command.trim().is_empty() => return Decision::Opaque,
            Some(Value::String(command)) => command,
            // An argument vector (codex: `["bash", "-lc", "script"]`).
            Some(Value::Array(items)) if arg(&policy.args_arg).is_none() => {
                let argv: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                let class = match argv {
                    Some(argv) if !argv.is_empty() => shell::classify_argv(&argv, cwd, root, &policy.config),
                    _ => return Decision::Opaque,
                };
                return self.shell_decision(ws, call, class);
            }
            _ => return Decision::Opaque, // a shell call we cannot read may do anything
        };
        let class = match arg(&policy.args_arg) {
            Some(Value::Array(items)) => {
                let mut argv = vec![command.as_str()];
                for it in items {
                    match it.as_str() {
                        Some(s) => argv.push(s),
                        None => return Decision::Opaque,
                    }
                }
                shell::classify_argv(&argv, cwd, root, &policy.config)
            }
            Some(Value::Null) | None if cwd.is_none() && policy.persistent_cwd => {
                match shell::classify_in_unknown_dir_or_root(command, root, &policy.config) {
                    // Not understood without its directory, but a read from the
                    // root: a read from somewhere — run, not cached.
                    (ShellClass::Opaque { .. }, true) => return Decision::Uncached { reason: None },
                    (class, _) => class,
                }
            }
            Some(Value::Null) | None => shell::classify(command, cwd, root, &policy.config),
            Some(_) => return Decision::Opaque,
        };
        self.shell_decision(ws, call, class)
    }

    /// The decision for a shell call of class `class`.
    fn shell_decision(&self, ws: &WsCtx, call: &ToolCall, class: ShellClass) -> Decision {
        let root = &ws.root;
        match class {
            ShellClass::Read { deps } => match canonical_key(call, root, &serde_json::Map::new()) {
                Ok(key) => Decision::Read {
                    key: key.in_workspace(ws.id),
                    deps,
                },
                Err(_) => Decision::Opaque,
            },
            ShellClass::Project { mut deps, outputs } => {
                // Without a watcher, what it writes would go unseen: opaque.
                if ws.sync.healthy().is_none() {
                    return Decision::Opaque;
                }
                // Below `/`: what an opaque command may change outside the
                // root (what is installed) drops it too.
                deps.push(Dep::subtree(self.projects.node(&outputs)));
                match canonical_key(call, root, &serde_json::Map::new()) {
                    Ok(key) => Decision::Read {
                        key: key.in_workspace(ws.id),
                        deps,
                    },
                    Err(_) => Decision::Opaque,
                }
            }
            ShellClass::Write { paths } => Decision::Write { paths },
            ShellClass::Opaque { .. } => Decision::Opaque,
        }
    }

    /// Invalidates `paths` and the project nodes their change reaches
    /// (call it after the change).
    pub(crate) fn invalidate_paths(&self, paths: &[WsPath]) -> usize {
        self.cache.invalidate_many(self.projects.with_nodes(paths).iter())
    }

    /// Lazily invalidates `path` and the project nodes its change reaches.
    pub(crate) fn mark_stale_path(&self, path: WsPath) {
        for node in self.projects.route(std::slice::from_ref(&path)) {
            self.cache.mark_stale(node);
        }
        self.cache.mark_stale(path)
    }

    /// Before a read that depends on a project node is stored: lets the
    /// watcher catch up with what the command wrote, so that a change of
    /// anything but its outputs fails its ticket (a sync that cannot catch
    /// up flushes; without a healthy watcher, flush).
    pub(crate) fn settle(&self, ws: &WsCtx, deps: &[Dep<DepPath>]) {
        if !deps.iter().any(|d| Projects::is_node(&d.dep)) {
            return;
        }
        match ws.sync.healthy() {
            Some(point) => {
                point.sync();
            }
            None => self.flush_in(ws),
        }
    }

    pub(crate) fn canonical_key_in(&self, ws: &WsCtx, call: &ToolCall) -> Result<ToolKey, ToolError> {
        canonical_key(call, &ws.root, &serde_json::Map::new()).map(|k| k.in_workspace(ws.id))
    }

    pub(crate) fn key_in(&self, ws: &WsCtx, call: &ToolCall) -> Result<Option<ToolKey>, ToolError> {
        match self.classify_in(ws, call) {
            Decision::Read { key, .. } => Ok(Some(key)),
            Decision::Uncached { reason: Some(e) } => Err(e),
            _ => Ok(None),
        }
    }

    pub(crate) fn get_in(&self, ws: &WsCtx, call: &ToolCall) -> Option<V> {
        match self.classify_in(ws, call) {
            Decision::Read { key, deps } => self.lookup(ws, &key).or_else(|| {
                let (view, path) = self.view_of(ws, call, &deps)?;
                self.answer(ws, &view, &path).map(|(v, _)| v)
            }),
            _ => None,
        }
    }

    pub(crate) fn serve_decided_in<E>(
        &self,
        ws: &WsCtx,
        call: &ToolCall,
        decision: Decision,
        run: impl FnOnce(&ToolCall) -> Result<V, E>,
    ) -> Result<Served<V>, E> {
        let ran = |value| Served {
            value,
            source: Source::Ran,
        };
        match decision {
            Decision::Read { key, deps } => {
                // The hit path maps no dependency: look up first.
                if let Some((value, origin)) = self.lookup_served(ws, &key) {
                    return Ok(Served {
                        value,
                        source: Source::Hit(origin),
                    });
                }
                let view = self.view_of(ws, call, &deps);
                if let Some((v, path)) = &view {
                    if let Some((value, origin)) = self.answer(ws, v, path) {
                        return Ok(Served {
                            value,
                            source: Source::View(origin),
                        });
                    }
                }
                let prints = self.prints(ws, &deps);
                let leader = std::cell::Cell::new(false);
                let fresh = |s: &Stored<V>| self.fresh(ws, s);
                let stored = self.cache.get_or_compute(key, ws.deps(&deps), fresh, || {
                    leader.set(true);
                    let origin = Origin::now(call.by.clone());
                    // What the output teaches is valid as of this ticket.
                    let learning = view.map(|(v, path)| {
                        let ticket = self.cache.ticket([Dep::exact(path.clone())]);
                        (v, path, ticket)
                    });
                    let value = run(call)?;
                    self.settle(ws, &deps);
                    if let Some((v, path, ticket)) = learning {
                        self.learn(ws, &v, path, &value, ticket, prints.clone(), &origin);
                    }
                    Ok(Stored::output(value, prints, origin))
                })?;
                let Stored { body, origin, .. } = stored;
                match body {
                    Body::Output(value) if leader.get() => Ok(ran(value)),
                    Body::Output(value) => Ok(Served {
                        value,
                        source: Source::Hit(origin),
                    }),
                    // Learned content lives under keys whose arguments start
                    // with NUL (`learn::content_key`), which no canonical JSON
                    // does: a tool call's key never holds it.
                    Body::Known(_) => unreachable!("a tool call's key holds learned content"),
                }
            }
            Decision::Write { paths } => {
                let paths = ws.paths(&paths);
                self.invalidate_paths(&paths);
                let _after = Invalidate {
                    cache: &self.cache,
                    projects: &self.projects,
                    what: What::Paths(&paths, ws.sync.healthy()),
                };
                run(call).map(ran)
            }
            Decision::Opaque => {
                let _after = self.opaque_before(ws);
                run(call).map(ran)
            }
            Decision::Uncached { .. } => run(call).map(ran),
        }
    }

    pub(crate) fn begin_in(&self, ws: &Arc<WsCtx>, call: &ToolCall) -> Pending<V> {
        let decision = self.classify_in(ws, call);
        let mut prints = None;
        let mut written = Vec::new();
        let mut learning = None;
        let ticket = match &decision {
            Decision::Read { deps, .. } => {
                prints = self.prints(ws, deps);
                learning = self.view_of(ws, call, deps).map(|(v, path)| {
                    let ticket = self.cache.ticket([Dep::exact(path.clone())]);
                    (v, path, ticket)
                });
                Some(self.cache.ticket(ws.deps(deps)))
            }
            Decision::Write { paths } => {
                written = ws.paths(paths);
                self.invalidate_paths(&written);
                None
            }
            Decision::Opaque => {
                if self.opaque_invalidates && ws.sync.healthy().is_none() {
                    self.flush_in(ws);
                }
                None
            }
            Decision::Uncached { .. } => None,
        };
        Pending {
            decision,
            ticket,
            prints,
            ws: ws.clone(),
            written,
            learning,
            origin: Origin::now(call.by.clone()),
        }
    }

    pub(crate) fn complete_in<E>(&self, pending: Pending<V>, result: &Result<V, E>) -> bool {
        match pending.decision {
            Decision::Read { key, deps } => match (result, pending.ticket) {
                (Ok(v), Some(t)) => {
                    self.settle(&pending.ws, &deps);
                    if let Some((view, path, ticket)) = pending.learning {
                        let prints = pending.prints.clone();
                        self.learn(&pending.ws, &view, path, v, ticket, prints, &pending.origin);
                    }
                    let stored = Stored::output(v.clone(), pending.prints, pending.origin);
                    self.cache.insert_with_ticket(key, stored, t).is_ok()
                }
                _ => false,
            },
            Decision::Write { .. } => {
                self.invalidate_paths(&pending.written);
                // What else it touched (temporary files) arrives now, not later.
                if let Some(point) = pending.ws.sync.healthy() {
                    point.sync();
                }
                false
            }
            Decision::Opaque => {
                if self.opaque_invalidates {
                    match pending.ws.sync.healthy() {
                        Some(point) => {
                            point.sync();
                            self.cache.invalidate(WsPath::outside(pending.ws.id));
                        }
                        None => self.flush_in(&pending.ws),
                    }
                }
                false
            }
            Decision::Uncached { .. } => false,
        }
    }

    pub(crate) fn invalidate_files_in<P: AsRef<Path>>(&self, ws: &WsCtx, paths: impl IntoIterator<Item = P>) -> usize {
        let deps: Vec<WsPath> = paths.into_iter().map(|p| ws.path(p)).collect();
        self.invalidate_paths(&deps)
    }

    /// Hides every entry of `ws` (lazily: O(1), reclaimed by lookups and the hand).
    pub(crate) fn flush_in(&self, ws: &WsCtx) {
        self.cache.mark_stale(WsPath::top(ws.id))
    }

    /// How `ws` learns of changes made behind the cache's back.
    pub(crate) fn freshness_in(&self, ws: &WsCtx) -> Freshness {
        if ws.sync.healthy().is_some() {
            Freshness::Watched
        } else if self.fingerprints {
            Freshness::Fingerprinted
        } else {
            Freshness::Flushing
        }
    }

    /// How the default workspace learns of changes made behind the cache's
    /// back: a healthy watcher, stat fingerprints, or flushes after every
    /// opaque command.
    pub fn freshness(&self) -> Freshness {
        self.freshness_in(&self.home)
    }

    /// The cached value of `key`, after its fingerprints check out.
    pub(crate) fn lookup(&self, ws: &WsCtx, key: &ToolKey) -> Option<V> {
        self.lookup_served(ws, key).map(|(v, _)| v)
    }

    /// The cached value of `key` and its origin, after its fingerprints check out.
    pub(crate) fn lookup_served(&self, ws: &WsCtx, key: &ToolKey) -> Option<(V, Origin)> {
        let s = self.checked(ws, key)?;
        match s.body {
            Body::Output(v) => Some((v, s.origin)),
            Body::Known(_) => None,
        }
    }

    /// What the cache holds under `key`, after its fingerprints check out (a
    /// mismatch invalidates the file that changed).
    pub(crate) fn checked(&self, ws: &WsCtx, key: &ToolKey) -> Option<Stored<V>> {
        self.cache.get(key).filter(|s| self.fresh(ws, s))
    }

    /// True if `s`'s fingerprints (if any) check out; a mismatch invalidates
    /// the file that changed.
    pub(crate) fn fresh(&self, ws: &WsCtx, s: &Stored<V>) -> bool {
        if let Some(prints) = &s.prints {
            if let Some(changed) = fingerprint::first_mismatch(&ws.root, prints) {
                self.invalidate_paths(&[ws.dep(&changed)]);
                return false;
            }
        }
        true
    }

    /// True if views of known content are on.
    pub(crate) fn views_on(&self) -> bool {
        self.views
    }

    /// Fingerprints of `deps` if enabled (taken before the tool runs).
    pub(crate) fn prints(&self, ws: &WsCtx, deps: &[Dep<DepPath>]) -> Option<Arc<[Print]>> {
        self.fingerprints.then(|| fingerprint::take(&ws.root, deps))
    }

    /// The "before" of an opaque command, and the guard whose drop is its
    /// "after": with a healthy watcher on the workspace, nothing before and a
    /// sync after (which flushes if the watcher cannot catch up); without
    /// one, a flush before and after.
    pub(crate) fn opaque_before(&self, ws: &WsCtx) -> Invalidate<'_, V> {
        if !self.opaque_invalidates {
            return Invalidate {
                cache: &self.cache,
                projects: &self.projects,
                what: What::Paths(&[], None),
            };
        }
        if let Some(point) = ws.sync.healthy() {
            return Invalidate {
                cache: &self.cache,
                projects: &self.projects,
                what: What::Sync(point, ws.id),
            };
        }
        self.flush_in(ws);
        Invalidate {
            cache: &self.cache,
            projects: &self.projects,
            what: What::Workspace(ws.id),
        }
    }

    #[cfg(any(feature = "async", feature = "watch"))]
    pub(crate) fn home(&self) -> &WsCtx {
        &self.home
    }
}

/// How a workspace learns of changes made behind the cache's back
/// ([`ToolCache::freshness`], [`Workspace::freshness`](super::Workspace::freshness)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Freshness {
    /// A healthy watcher: an opaque command syncs on it instead of flushing.
    Watched,
    /// No watcher; file reads are checked against stat fingerprints on every
    /// hit, and opaque commands flush.
    Fingerprinted,
    /// No watcher and no fingerprints: opaque commands flush the workspace.
    Flushing,
}

/// A ticket of the tool layer's cache.
pub(crate) type ToolTicket<V> = Ticket<ToolKey, Stored<V>, WsPath>;

/// A call begun with [`ToolCache::begin`].
pub struct Pending<V> {
    decision: Decision,
    ticket: Option<Ticket<ToolKey, Stored<V>, WsPath>>,
    prints: Option<Arc<[Print]>>,
    /// The workspace it runs in.
    ws: Arc<WsCtx>,
    /// A write's paths, in its workspace.
    written: Vec<WsPath>,
    /// A view whose output teaches a file's content, with the ticket of that
    /// content, taken before the tool ran.
    learning: Option<(View, WsPath, ToolTicket<V>)>,
    origin: Origin,
}

impl<V: Clone + Send + Sync + 'static> Pending<V> {
    /// What the cache decided for the call.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}

/// Invalidates on drop: the "after" step of a write or an opaque call runs even
/// if the tool fails or panics (it may have written part of its output).
pub(crate) struct Invalidate<'a, V: Clone + Send + Sync + 'static> {
    pub(crate) cache: &'a Cache<ToolKey, Stored<V>, WsPath>,
    /// Routes the paths' change to the project nodes it reaches.
    pub(crate) projects: &'a Projects,
    pub(crate) what: What<'a>,
}

/// What an [`Invalidate`] invalidates.
pub(crate) enum What<'a> {
    /// These paths (none: nothing); then, with the workspace's watcher,
    /// a sync, so that the events of what else the write touched (a
    /// temporary file, a rename) arrive now and not after the next read
    /// is cached.
    Paths(&'a [WsPath], Option<std::sync::Arc<dyn super::sync_point::SyncPoint>>),
    /// Everything in this workspace.
    Workspace(u64),
    /// Whatever the workspace's watcher sees changed (it flushes the
    /// workspace if it cannot catch up).
    /// (also the paths outside its root, which it does not watch).
    Sync(std::sync::Arc<dyn super::sync_point::SyncPoint>, u64),
}

impl<V: Clone + Send + Sync + 'static> Drop for Invalidate<'_, V> {
    fn drop(&mut self) {
        match self.what {
            What::Paths(paths, ref sync) => {
                if !paths.is_empty() {
                    // Routed now, after the change (see `project`'s ordering).
                    self.cache.invalidate_many(self.projects.with_nodes(paths).iter());
                }
                if let Some(point) = sync {
                    point.sync();
                }
            }
            What::Workspace(ws) => self.cache.mark_stale(WsPath::top(ws)),
            What::Sync(ref point, ws) => {
                point.sync();
                self.cache.invalidate(WsPath::outside(ws));
            }
        }
    }
}
