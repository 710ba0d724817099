//! Which paths a tool call depends on.

use std::path::Path;

use serde_json::Value;

use super::call::{ToolCall, MAX_DEPTH};
use super::error::ToolError;
use super::path_args::is_path_arg;
use super::policy::ReadPolicy;
use crate::{Dep, DepPath, Scope};

/// Finds the dependencies of a cacheable read.
///
/// The default, [`DefaultExtractor`], reads path arguments by name; implement
/// this trait to teach the cache a tool whose arguments it cannot guess.
pub trait DepExtractor: Send + Sync {
    /// The dependencies of `call`, a read under `policy`, in workspace `root`.
    /// An empty list means "not cacheable" (the cache could not know when the
    /// result goes stale).
    fn read_deps(&self, call: &ToolCall, policy: &ReadPolicy, root: &Path) -> Result<Vec<Dep<DepPath>>, ToolError>;

    /// The paths a write changes (`arg_names` empty: every path argument).
    fn written_paths(&self, call: &ToolCall, arg_names: &[String], root: &Path) -> Result<Vec<DepPath>, ToolError>;
}

/// Reads the arguments named in `PATH_ARGS` (and the policy's extra names),
/// anywhere in the arguments (nested objects and arrays too: an `edit` with
/// `ops: [{path, new_path}]` depends on both). A glob (`src/**/*.rs`) depends on
/// the `Subtree` of its literal prefix (`src`). A read that names no path
/// depends on the whole workspace if its policy says it reads the workspace.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultExtractor {
    /// Resolve symlinks of paths that exist ([`DepPath::resolved`]), so that a
    /// link and its target are one dependency. Costs a `stat` per path.
    pub resolve_symlinks: bool,
}

impl DepExtractor for DefaultExtractor {
    fn read_deps(&self, call: &ToolCall, policy: &ReadPolicy, root: &Path) -> Result<Vec<Dep<DepPath>>, ToolError> {
        let mut found = Vec::new();
        let wanted = |name: &str| is_path_arg(name) || policy.path_args.iter().any(|a| a == name);
        collect(&call.name, &call.args, &wanted, None, 0, &mut found)?;
        let mut deps = Vec::with_capacity(found.len() + 1);
        for (arg, raw) in found {
            let scope = policy.arg_scopes.get(&arg).copied().unwrap_or(policy.scope);
            deps.push(path_dep(&call.name, &arg, &raw, scope, root, self.resolve_symlinks)?);
        }
        for glob_arg in &policy.glob_args {
            if let Some(Value::String(raw)) = call.args.get(glob_arg) {
                deps.push(path_dep(
                    &call.name,
                    glob_arg,
                    raw,
                    Scope::Subtree,
                    root,
                    self.resolve_symlinks,
                )?);
            }
        }
        // The workspace fallback depends on whether the call named a path, not on
        // the policy's fixed paths (`git_status` reads the tree *and* `.git`).
        let named_a_path = !deps.is_empty();
        for fixed in &policy.fixed {
            deps.push(Dep {
                dep: DepPath::in_workspace(root, fixed),
                scope: policy.scope,
            });
        }
        if !named_a_path && policy.workspace_if_no_path {
            deps.push(Dep::subtree(DepPath::root()));
        }
        Ok(deps)
    }

    fn written_paths(&self, call: &ToolCall, arg_names: &[String], root: &Path) -> Result<Vec<DepPath>, ToolError> {
        let mut found = Vec::new();
        let wanted = |name: &str| {
            if arg_names.is_empty() {
                is_path_arg(name)
            } else {
                arg_names.iter().any(|a| a == name)
            }
        };
        collect(&call.name, &call.args, &wanted, None, 0, &mut found)?;
        found
            .into_iter()
            .map(|(arg, raw)| {
                path_dep(&call.name, &arg, &raw, Scope::Exact, root, self.resolve_symlinks).map(|d| d.dep)
            })
            .collect()
    }
}

/// Collects `(arg name, string)` for every wanted argument, at any depth.
fn collect(
    tool: &str,
    v: &Value,
    wanted: &dyn Fn(&str) -> bool,
    under: Option<&str>,
    depth: usize,
    out: &mut Vec<(String, String)>,
) -> Result<(), ToolError> {
    if depth > MAX_DEPTH {
        return Err(ToolError::TooDeep {
            tool: tool.to_string(),
            max: MAX_DEPTH,
        });
    }
    match v {
        Value::Object(obj) => {
            for (k, x) in obj {
                collect(tool, x, wanted, Some(k), depth + 1, out)?;
            }
        }
        Value::Array(items) => {
            for x in items {
                collect(tool, x, wanted, under, depth + 1, out)?;
            }
        }
        Value::String(s) => {
            if let Some(name) = under.filter(|n| wanted(n)) {
                out.push((name.to_string(), s.clone()));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A path argument as a dependency; globs become the subtree of their prefix.
fn path_dep(
    tool: &str,
    arg: &str,
    raw: &str,
    scope: Scope,
    root: &Path,
    resolve: bool,
) -> Result<Dep<DepPath>, ToolError> {
    if raw.contains('\0') {
        return Err(ToolError::InvalidPath {
            tool: tool.into(),
            arg: arg.into(),
            reason: "it contains a NUL byte",
        });
    }
    let path = |p: &str| {
        if resolve {
            DepPath::resolved(root, p)
        } else {
            DepPath::in_workspace(root, p)
        }
    };
    match glob_prefix(raw) {
        Some(prefix) => Ok(Dep::subtree(path(prefix))),
        None => Ok(Dep { dep: path(raw), scope }),
    }
}

/// For a glob, the path made of its components before the first one with a
/// glob character (`src/**/*.rs` → `src`, `*.rs` → ``); `None` if not a glob.
pub(crate) fn glob_prefix(raw: &str) -> Option<&str> {
    let first_glob = raw.find(['*', '?', '[', '{'])?;
    let cut = raw[..first_glob].rfind('/').map_or(0, |i| i + 1);
    Some(&raw[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deps(args: Value, policy: &ReadPolicy) -> Vec<Dep<DepPath>> {
        DefaultExtractor::default()
            .read_deps(&ToolCall::new("t", args), policy, Path::new("/ws"))
            .unwrap()
    }

    #[test]
    fn names_nesting_and_globs() {
        let p = ReadPolicy::exact();
        assert_eq!(
            deps(json!({"filePath": "./a.py"}), &p),
            vec![Dep::exact(DepPath::new("a.py"))]
        );
        let mut d = deps(json!({"ops": [{"path": "a", "new_path": "b"}]}), &p);
        d.sort_by(|x, y| x.dep.cmp(&y.dep));
        assert_eq!(d, vec![Dep::exact(DepPath::new("a")), Dep::exact(DepPath::new("b"))]);
        assert_eq!(
            deps(json!({"path": "src/**/*.rs"}), &p),
            vec![Dep::subtree(DepPath::new("src"))]
        );
        assert_eq!(deps(json!({"path": "*.rs"}), &p), vec![Dep::subtree(DepPath::root())]);
        assert!(deps(json!({"pattern": "x"}), &p).is_empty());
        assert_eq!(
            deps(json!({"pattern": "x"}), &ReadPolicy::workspace()),
            vec![Dep::subtree(DepPath::root())]
        );
        assert_eq!(
            deps(json!({"dir": "/ws/src/"}), &ReadPolicy::subtree()),
            vec![Dep::subtree(DepPath::new("src"))]
        );
    }

    #[test]
    fn nul_bytes_are_refused() {
        let e = DefaultExtractor::default()
            .read_deps(
                &ToolCall::new("t", json!({"path": "a\u{0}b"})),
                &ReadPolicy::exact(),
                Path::new("/"),
            )
            .unwrap_err();
        assert!(e.to_string().contains("NUL") && e.to_string().contains("`path`"), "{e}");
    }

    #[test]
    fn glob_prefixes() {
        assert_eq!(glob_prefix("src/a.rs"), None);
        assert_eq!(glob_prefix("src/**/*.rs"), Some("src/"));
        assert_eq!(glob_prefix("a/b*/c"), Some("a/"));
        assert_eq!(glob_prefix("{a,b}"), Some(""));
    }
}
