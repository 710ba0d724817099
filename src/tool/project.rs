//! Project nodes: the dependency of cached project commands (`pytest`,
//! `cargo check`), which every change of their workspace reaches except
//! changes of the outputs they declare.
//!
//! A project command reads the whole workspace, but writes its own caches
//! (`.pytest_cache`, `target`) as it runs. Depending on the workspace's top
//! would let each run drop its own result. Its entry depends instead on a
//! *project node*: a dependency below `/` that no real path names, one per
//! set of declared outputs. Below `/`, a flush of the workspace reaches it,
//! and so does an opaque command's invalidation of what lies outside the
//! root (a `pip install` changes what `pytest` reads).
//! Every invalidation of paths of a workspace goes through [`Projects::route`],
//! which adds the project nodes of that workspace for which some path is not
//! an output. A change in `.pytest_cache` thus drops `ls -a` and `find .`
//! (they depend on the tree) but not `pytest`'s result; a change in `src`
//! drops both.
//!
//! Ordering: a node is registered (an [`ArcSwap`] store) before the ticket
//! of the first read that depends on it is taken, and a writer loads the
//! list after its write has completed (the "after" step of a write, a
//! watcher event). A writer that loaded the list without the node therefore
//! finished its write before the node existed, so before any read depending
//! on it started: no change is missed.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::ws_path::WsPath;
use crate::DepPath;

/// One project node: its name (`/` and a component no file system has, as
/// it holds NUL bytes) and the outputs a change of which does not reach it.
struct Node {
    path: DepPath,
    outputs: Vec<String>,
    matcher: GlobSet,
}

/// The project nodes of a tool cache, shared by its workspaces and its
/// watchers. Nodes are never removed: there is one per distinct set of
/// outputs in the policy.
#[derive(Default)]
pub(crate) struct Projects {
    nodes: ArcSwap<Vec<Arc<Node>>>,
    /// Serializes registrations (rare).
    adding: Mutex<()>,
}

/// The matcher of `outputs`: each glob matches a path and everything below
/// it. A glob that does not parse matches nothing (the outputs then drop
/// the command's result: conservative).
fn matcher(outputs: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for o in outputs {
        let o = o.trim_end_matches('/');
        for g in [o.to_string(), format!("{o}/**")] {
            if let Ok(g) = GlobBuilder::new(&g).literal_separator(true).build() {
                b.add(g);
            }
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

impl Projects {
    /// The node of the project commands declaring `outputs` (sorted, no
    /// duplicates), registered if new.
    pub(crate) fn node(&self, outputs: &[String]) -> DepPath {
        if let Some(n) = self.nodes.load().iter().find(|n| n.outputs == outputs) {
            return n.path.clone();
        }
        let _one = self.adding.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.nodes.load_full();
        if let Some(n) = current.iter().find(|n| n.outputs == outputs) {
            return n.path.clone();
        }
        let node = Arc::new(Node {
            path: DepPath::new(format!("/\0project\0{}", current.len())),
            outputs: outputs.to_vec(),
            matcher: matcher(outputs),
        });
        let mut next = Vec::clone(&current);
        next.push(node.clone());
        self.nodes.store(Arc::new(next));
        node.path.clone()
    }

    /// True if `path` is a project node's name.
    pub(crate) fn is_node(path: &DepPath) -> bool {
        path.as_path().as_os_str().as_encoded_bytes().starts_with(b"/\0")
    }

    /// The project nodes that a change of `paths` reaches: for each node and
    /// each workspace among the paths, the node if some path of that
    /// workspace is not one of its outputs. Call it after the change.
    pub(crate) fn route(&self, paths: &[WsPath]) -> Vec<WsPath> {
        let nodes = self.nodes.load();
        let mut out: Vec<WsPath> = Vec::new();
        if nodes.is_empty() {
            return out;
        }
        for n in nodes.iter() {
            let first = out.len();
            for p in paths {
                let reached = |o: &WsPath| o.workspace() == p.workspace();
                if !out[first..].iter().any(reached) && !n.matcher.is_match(p.path().as_path()) {
                    out.push(WsPath::new(p.workspace(), n.path.clone()));
                }
            }
        }
        out
    }

    /// `paths` with the project nodes their change reaches (borrowed when
    /// there are none: no copy of a large batch).
    pub(crate) fn with_nodes<'a>(&self, paths: &'a [WsPath]) -> std::borrow::Cow<'a, [WsPath]> {
        match self.route(paths) {
            nodes if nodes.is_empty() => std::borrow::Cow::Borrowed(paths),
            nodes => std::borrow::Cow::Owned([paths, &nodes[..]].concat()),
        }
    }

    /// True if a change of `path` reaches some project node.
    #[cfg(feature = "watch")]
    pub(crate) fn covers(&self, path: &WsPath) -> bool {
        !self.route(std::slice::from_ref(path)).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn outputs_do_not_reach_their_node() {
        let p = Projects::default();
        let node = p.node(&outs(&[".pytest_cache", "**/__pycache__"]));
        assert!(Projects::is_node(&node));
        assert_eq!(
            p.node(&outs(&[".pytest_cache", "**/__pycache__"])),
            node,
            "one node per outputs"
        );
        let at = |s: &str| WsPath::new(1, DepPath::new(s));
        for quiet in [
            ".pytest_cache",
            ".pytest_cache/v/cache/nodeids",
            "src/__pycache__/a.pyc",
            "__pycache__",
        ] {
            assert!(p.route(&[at(quiet)]).is_empty(), "{quiet}");
        }
        for loud in ["src/a.py", ".pytest_cache2", "a/.pytest_cache", "", "/usr/lib/x"] {
            assert_eq!(p.route(&[at(loud)]), vec![WsPath::new(1, node.clone())], "{loud}");
        }
        // Two workspaces, two hits; a quiet path beside a loud one still routes.
        let both = p.route(&[at(".pytest_cache/x"), WsPath::new(2, DepPath::new("b.py")), at("c.py")]);
        assert_eq!(both.len(), 2, "{both:?}");
        // A second node with other outputs.
        let cargo = p.node(&outs(&["target"]));
        assert_ne!(cargo, node);
        assert_eq!(p.route(&[at("target/debug/x")]), vec![WsPath::new(1, node)]);
    }

    #[test]
    fn a_bad_glob_ignores_nothing() {
        let p = Projects::default();
        let node = p.node(&outs(&["a[", "b"]));
        assert_eq!(
            p.route(&[WsPath::new(0, DepPath::new("a["))]),
            vec![WsPath::new(0, node)]
        );
    }
}
