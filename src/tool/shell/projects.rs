//! Project commands (`pytest`, `cargo check`, `npm test`): whole-workspace
//! reads that write their own caches, cacheable only while a watcher runs.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::args::listed;
use super::commands::inside;
use super::config::ShellConfig;
use super::parse::{short, Reason, Word};
use super::walk::{Cwds, Walker};
use crate::Dep;

/// A project command that the policy declares read-only: it reads the whole
/// workspace and writes nothing but its `outputs` (and temporaries outside the
/// workspace that no cached call reads).
///
/// The tool layer caches it only while a healthy watcher covers its workspace
/// (without one it is opaque): its result depends on every path of the
/// workspace except its outputs, and on everything outside the workspace
/// (an opaque command such as `pip install` drops it). What it writes itself
/// is seen by the watcher before its result is stored, so a run that writes
/// anything but its outputs is not cached.
///
/// ```
/// use depcache::tool::shell::{ProjectSpec, ShellConfig};
///
/// let config: ShellConfig = toml::from_str(r#"
///     [projects."make check"]
///     outputs = ["build", "**/*.o"]
///     deny_options = ["-B"]
/// "#).unwrap();
/// assert_eq!(config.projects["make check"].outputs, ["build", "**/*.o"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProjectSpec {
    /// What it writes that its own result does not depend on: globs relative
    /// to the workspace root (`.pytest_cache`, `**/__pycache__`); a path
    /// matches if it or a directory above it does. A change there still
    /// drops every other entry that covers it (`ls -a`, `find .`).
    pub outputs: Vec<String>,
    /// Options that make it opaque: those that read its outputs back
    /// (`--lf` of pytest), write outside the workspace, or edit files
    /// (`--fix`). `--name` also denies `--name=value`.
    pub deny_options: Vec<String>,
    /// More arguments may follow its words (default `true`: `pytest tests -q`).
    pub extra_args: bool,
}

impl Default for ProjectSpec {
    fn default() -> Self {
        ProjectSpec {
            outputs: Vec::new(),
            deny_options: Vec::new(),
            extra_args: true,
        }
    }
}

impl ProjectSpec {
    fn new(outputs: &[&str], deny: &[&str]) -> Self {
        ProjectSpec {
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            deny_options: deny.iter().map(|s| s.to_string()).collect(),
            extra_args: true,
        }
    }
}

/// The built-in project commands.
pub(super) fn builtin_projects() -> &'static BTreeMap<String, ProjectSpec> {
    static TABLE: OnceLock<BTreeMap<String, ProjectSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        const PYTHON: &[&str] = &[
            ".pytest_cache",
            "**/__pycache__",
            ".coverage",
            ".coverage.*",
            "htmlcov",
            "coverage.xml",
        ];
        // pytest options that read its own cache back, write elsewhere, or wait for a debugger.
        const PYTEST_DENY: &[&str] = &[
            "--lf",
            "--last-failed",
            "--ff",
            "--failed-first",
            "--nf",
            "--new-first",
            "--sw",
            "--stepwise",
            "--sw-skip",
            "--stepwise-skip",
            "--cache-show",
            "--cache-clear",
            "--cov-append",
            "--basetemp",
            "--junitxml",
            "--junit-xml",
            "--resultlog",
            "--pdb",
            "--trace",
            "--looponfail",
            "-f",
        ];
        const CARGO_DENY: &[&str] = &["--fix", "--allow-dirty", "--allow-staged", "--target-dir", "--bless"];
        const NODE: &[&str] = &["coverage", ".nyc_output", "node_modules/.cache"];
        let mut t = BTreeMap::new();
        for p in ["pytest", "py.test", "python -m pytest", "python3 -m pytest"] {
            t.insert(p.to_string(), ProjectSpec::new(PYTHON, PYTEST_DENY));
        }
        for p in ["python -m unittest", "python3 -m unittest"] {
            t.insert(p.to_string(), ProjectSpec::new(&["**/__pycache__"], &[]));
        }
        let mypy_reports = [
            "--install-types",
            "--html-report",
            "--txt-report",
            "--xml-report",
            "--junit-xml",
            "--linecount-report",
            "--linecoverage-report",
            "--lineprecision-report",
            "--any-exprs-report",
            "--cobertura-xml-report",
            "--xslt-html-report",
            "--xslt-txt-report",
            "--cache-dir",
        ];
        t.insert("mypy".into(), ProjectSpec::new(&[".mypy_cache"], &mypy_reports));
        t.insert(
            "ruff check".into(),
            ProjectSpec::new(
                &[".ruff_cache"],
                &[
                    "--fix",
                    "--unsafe-fixes",
                    "--fix-only",
                    "--add-noqa",
                    "--watch",
                    "-w",
                    "--output-file",
                    "-o",
                    "--cache-dir",
                ],
            ),
        );
        t.insert("flake8".into(), ProjectSpec::new(&[], &["--output-file", "--tee"]));
        for p in ["cargo check", "cargo clippy", "cargo test", "cargo build"] {
            t.insert(p.to_string(), ProjectSpec::new(&["target"], CARGO_DENY));
        }
        for p in ["npm test", "npm run test", "npm run lint"] {
            t.insert(p.to_string(), ProjectSpec::new(NODE, &["--fix"]));
        }
        for p in ["go test", "go vet"] {
            t.insert(p.to_string(), ProjectSpec::new(&[], &[]));
        }
        t
    })
}

impl Walker<'_> {
    /// If `lead` (the command's leading exact words) starts a project command
    /// of the configuration or the built-in table, walks it and returns true.
    pub(super) fn project(&mut self, lead: &[&str], words: &[Word], cwds: &Cwds) -> Result<bool, Reason> {
        let lookup = |t| ShellConfig::lookup(t, lead, |s: &ProjectSpec| s.extra_args);
        let user = lookup(&self.config.projects);
        let builtin = if self.config.builtins {
            lookup(builtin_projects())
        } else {
            None
        };
        // The longest match; the user's entry on a tie.
        let found = match (user, builtin) {
            (Some(u), Some(b)) if b.0 > u.0 => Some(b),
            (Some(u), _) => Some(u),
            (None, b) => b,
        };
        let Some((n, spec)) = found else { return Ok(false) };
        for w in &words[n..] {
            self.note_dynamic(w);
            if !w.is_exact() && w.may_be_option() && !spec.deny_options.is_empty() {
                return Err(format!("cannot tell whether `{}`… is an option", short(&w.text)));
            }
            let (name, value) = match w.text.split_once('=') {
                Some((name, value)) if w.text.starts_with('-') => (name, Some(value)),
                _ => (w.text.as_str(), None),
            };
            // A cluster of short flags (`-xf`) holds each of its letters.
            let in_cluster = |deny: &String| {
                deny.len() == 2
                    && !deny.starts_with("--")
                    && !w.text.starts_with("--")
                    && w.text.len() > 2
                    && w.text[1..].contains(&deny[1..])
            };
            if w.text.starts_with('-')
                && (listed(&spec.deny_options, name, value) || spec.deny_options.iter().any(in_cluster))
            {
                return Err(format!("`{} {name}` is more than a read", lead[..n].join(" ")));
            }
        }
        match cwds {
            Cwds::Known(dirs) => {
                // A project command run outside the workspace reads there too.
                for d in dirs.iter().filter(|d| !inside(d)) {
                    self.fx.deps.push(Dep::subtree(d.clone()));
                }
            }
            _ => self.dynamic("a project command run in an unknown directory"),
        }
        self.fx.outputs.extend(spec.outputs.iter().cloned());
        self.fx.projects += 1;
        Ok(true)
    }
}

/// The built-in project commands' names, for docs and tests.
pub fn builtin_project_names() -> Vec<&'static str> {
    builtin_projects().keys().map(String::as_str).collect()
}
