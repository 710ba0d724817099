//! The policy table: which tools are cacheable reads, writes, opaque, or never cached.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ToolError;
use super::shell::ShellConfig;
use crate::Scope;

/// How the cache treats one tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToolPolicy {
    /// A read-only tool whose successful results are cached.
    Read(ReadPolicy),
    /// A tool that changes files: the paths it writes are invalidated before it
    /// starts (so a racing read cannot cache the old content) and after it ends.
    Write(WritePolicy),
    /// May change anything (a shell command, a build): invalidates the whole
    /// cache, in O(1), before and after.
    Opaque,
    /// Never cached and invalidates nothing (network, time, randomness).
    Never,
    /// A shell tool: each command is parsed and classified as a cacheable read,
    /// a write of known paths, or opaque ([`shell::classify`](super::shell::classify)).
    Shell(ShellPolicy),
    /// A tool whose meaning depends on one argument's value: OpenHands'
    /// `str_replace_editor`, whose `command: "view"` reads and whose other
    /// commands write.
    ByArg(ByArgPolicy),
}

/// The policies of a tool by the value of one of its arguments.
///
/// ```
/// use depcache::tool::{Policy, ToolPolicy};
///
/// let p = Policy::from_toml_str(r#"
///     [tools.editor]
///     kind = "by_arg"
///     arg = "command"
///     otherwise = { kind = "opaque" }
///     [tools.editor.cases.view]
///     kind = "read"
///     scope = "subtree"
///     [tools.editor.cases.create]
///     kind = "write"
/// "#).unwrap();
/// assert!(matches!(p.get("editor"), ToolPolicy::ByArg(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ByArgPolicy {
    /// The argument whose (string) value chooses the policy.
    pub arg: String,
    /// The policy of each value.
    pub cases: BTreeMap<String, ToolPolicy>,
    /// The policy of any other value, or of a call without the argument
    /// (opaque by default: an unknown command may write).
    #[serde(default = "opaque")]
    pub otherwise: Box<ToolPolicy>,
}

fn opaque() -> Box<ToolPolicy> {
    Box::new(ToolPolicy::Opaque)
}

/// The settings of a shell tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ShellPolicy {
    /// The argument holding the command (default `command`).
    pub command_arg: String,
    /// The argument holding the working directory (default `cwd`).
    pub cwd_arg: String,
    /// The argument holding an argument vector run without a shell
    /// (`{"command": "npm", "args": ["run", "lint"]}`; default `args`).
    pub args_arg: String,
    /// Readers, writers and read-only project commands beyond the built-in tables.
    pub config: ShellConfig,
    /// The shell keeps its working directory from one call to the next, as a
    /// terminal does (OpenHands' `execute_bash`, Claude Code's `Bash`, SWE-agent):
    /// a `cd` in one call moves the next. Then a call that does not name its
    /// directory in `cwd_arg` runs somewhere the cache cannot know, and is
    /// classified as if its starting directory were unknown: a read of relative
    /// paths (`cat a.py`, `ls`) is run but not cached, and a write to relative
    /// paths invalidates everything. Calls with `cwd_arg`, argument-vector
    /// calls (no shell, a fresh process), and commands that `cd` to an absolute
    /// path first are unaffected. Default `true` (the safe choice); set it to
    /// `false` for a tool that starts every command in the workspace root.
    pub persistent_cwd: bool,
}

impl Default for ShellPolicy {
    fn default() -> Self {
        ShellPolicy {
            command_arg: "command".into(),
            cwd_arg: "cwd".into(),
            args_arg: "args".into(),
            config: ShellConfig::default(),
            persistent_cwd: true,
        }
    }
}

/// The settings of a cacheable read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReadPolicy {
    /// Scope of its path arguments (`exact` for a file read, `subtree` for a
    /// listing or a search).
    #[serde(default = "exact")]
    pub scope: Scope,
    /// Per-argument scopes that differ from `scope`.
    #[serde(default)]
    pub arg_scopes: BTreeMap<String, Scope>,
    /// Argument names that hold paths, beyond the built-in list.
    #[serde(default)]
    pub path_args: Vec<String>,
    /// Argument names that hold glob patterns (depend on their literal prefix).
    #[serde(default)]
    pub glob_args: Vec<String>,
    /// Paths it always depends on (e.g. `.git` for `git_log`).
    #[serde(default)]
    pub fixed: Vec<String>,
    /// With no path argument, it reads the whole workspace (`grep` with no path,
    /// `git_status`); otherwise a call without a path is not cached.
    #[serde(default)]
    pub workspace_if_no_path: bool,
    /// Arguments the tool fills in when absent: a call that spells out a default
    /// shares the entry of one that does not.
    #[serde(default)]
    pub defaults: Map<String, Value>,
    /// How its output shows the lines of the one file it reads, for views of
    /// known content ([`ToolCache::views`](super::ToolCache::views)): its
    /// complete outputs teach the file's lines, and a later read of lines the
    /// cache knows is answered from them. `None`: its output is opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<ReadView>,
}

/// How a structured read tool's output shows a file's lines.
///
/// ```
/// use depcache::tool::{Policy, ToolPolicy};
///
/// // A read_file whose output is the lines themselves, from a 0-based
/// // `offset`, `limit` lines at most.
/// let p = Policy::from_toml_str(r#"
///     [tools.read_file]
///     kind = "read"
///     view = { format = "raw", offset_arg = "offset", offset_base = 0, limit_arg = "limit" }
/// "#).unwrap();
/// assert!(matches!(p.get("read_file"), ToolPolicy::Read(r) if r.view.is_some()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReadView {
    /// How each line is printed.
    pub format: ViewFormat,
    /// The argument holding the first line to read; absent: line 1.
    #[serde(default)]
    pub offset_arg: Option<String>,
    /// The number the first line of the file has in `offset_arg` (0 or 1).
    #[serde(default = "one")]
    pub offset_base: u64,
    /// The argument holding how many lines to read at most.
    #[serde(default)]
    pub limit_arg: Option<String>,
    /// The argument holding the last line to read (inclusive, numbered like
    /// `offset_arg`), for tools that take a range's end instead of a count.
    #[serde(default)]
    pub end_arg: Option<String>,
}

impl ReadView {
    /// Lines printed in `format`, the whole file (no offset, limit or end
    /// argument; set those fields for a tool that takes them).
    pub fn new(format: ViewFormat) -> Self {
        ReadView {
            format,
            offset_arg: None,
            offset_base: 1,
            limit_arg: None,
            end_arg: None,
        }
    }
}

fn one() -> u64 {
    1
}

/// How a read tool prints each line of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewFormat {
    /// The line as it is in the file (as `sed -n 'a,bp'` prints it).
    Raw,
    /// The line number, as `cat -n` prints it (`%6d` and a tab), then the line.
    CatN,
}

fn exact() -> Scope {
    Scope::Exact
}

impl ReadPolicy {
    /// Reads the files it names.
    pub fn exact() -> Self {
        ReadPolicy {
            scope: Scope::Exact,
            ..Default::default()
        }
    }

    /// Reads everything below the paths it names.
    pub fn subtree() -> Self {
        ReadPolicy {
            scope: Scope::Subtree,
            ..Default::default()
        }
    }

    /// Reads below the paths it names, or the whole workspace if it names none.
    pub fn workspace() -> Self {
        ReadPolicy {
            scope: Scope::Subtree,
            workspace_if_no_path: true,
            ..Default::default()
        }
    }

    fn with_defaults(mut self, defaults: Value) -> Self {
        if let Value::Object(m) = defaults {
            self.defaults = m;
        }
        self
    }

    fn with_globs(mut self, args: &[&str]) -> Self {
        self.glob_args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    fn with_fixed(mut self, paths: &[&str]) -> Self {
        self.fixed = paths.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// The settings of a write.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WritePolicy {
    /// Arguments whose paths it changes (the tool's schema). Empty: every
    /// argument of a known path name, and then a call with an argument of a
    /// name the cache knows neither as a path nor as content (`destination`
    /// in a tool it has no schema of) is opaque: that argument may name what
    /// it writes.
    #[serde(default)]
    pub args: Vec<String>,
    /// Arguments holding a patch in codex's `apply_patch` envelope (`***
    /// Begin Patch` … `*** End Patch`): the paths of its `Add File`, `Update
    /// File`, `Delete File` and `Move to` lines are what it writes. A call
    /// whose patch does not parse is opaque.
    #[serde(default)]
    pub patch_args: Vec<String>,
    /// Paths it always changes (e.g. `.git` for `git_commit`).
    #[serde(default)]
    pub fixed: Vec<String>,
    /// If it names no path (and has no fixed path), treat it as opaque.
    #[serde(default = "yes")]
    pub opaque_if_no_path: bool,
}

fn yes() -> bool {
    true
}

impl WritePolicy {
    fn fixed(paths: &[&str]) -> Self {
        WritePolicy {
            fixed: paths.iter().map(|s| s.to_string()).collect(),
            opaque_if_no_path: true,
            ..Default::default()
        }
    }

    /// Writes the paths in these arguments (the tool's schema), and is
    /// opaque if none is given.
    pub fn args(names: &[&str]) -> Self {
        WritePolicy {
            args: names.iter().map(|s| s.to_string()).collect(),
            opaque_if_no_path: true,
            ..Default::default()
        }
    }

    /// Writes the paths of the patch in one of these arguments.
    pub fn patch(args: &[&str]) -> Self {
        WritePolicy {
            patch_args: args.iter().map(|s| s.to_string()).collect(),
            opaque_if_no_path: true,
            ..Default::default()
        }
    }
}

/// The policy of every tool, by name. Tools it does not name get `unknown`
/// (by default [`ToolPolicy::Never`]: an unknown tool is not cached and does not
/// invalidate anything — teach the table your tools, or set `unknown`).
///
/// ```
/// use depcache::tool::{Policy, ToolPolicy};
///
/// let policy = Policy::defaults()
///     .merged(Policy::from_toml_str(r#"
///         [tools.cargo_check]
///         kind = "read"
///         scope = "subtree"
///         workspace_if_no_path = true
///
///         [tools.deploy]
///         kind = "never"
///     "#).unwrap());
/// assert!(matches!(policy.get("cargo_check"), ToolPolicy::Read(_)));
/// assert!(matches!(policy.get("read_file"), ToolPolicy::Read(_)));
/// assert!(matches!(policy.get("no_such_tool"), ToolPolicy::Never));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Per-tool policies.
    #[serde(default)]
    pub tools: HashMap<String, ToolPolicy>,
    /// The policy of tools not in `tools`.
    #[serde(default = "never")]
    pub unknown: ToolPolicy,
}

fn never() -> ToolPolicy {
    ToolPolicy::Never
}

impl Default for Policy {
    fn default() -> Self {
        Policy::defaults()
    }
}

impl Policy {
    /// An empty table: every tool gets [`ToolPolicy::Never`].
    pub fn empty() -> Self {
        Policy {
            tools: HashMap::new(),
            unknown: ToolPolicy::Never,
        }
    }

    /// The built-in table: the tool vocabularies of common coding agents
    /// (read_file / list_directory / search_file_content / find_files /
    /// modify_file / generate_file / remove_file / run_command; read / edit / run /
    /// bash; read / grep / search / ls / glob / find / file_info / git_status /
    /// git_diff / git_log / write / edit / execute_bash; and the usual synonyms).
    /// Shell tools are opaque here.
    pub fn defaults() -> Self {
        use ToolPolicy::*;
        let mut t = HashMap::new();
        let mut add = |names: &[&str], p: ToolPolicy| {
            for n in names {
                t.insert(n.to_string(), p.clone());
            }
        };
        let file_read = ReadPolicy::exact().with_defaults(serde_json::json!({"offset": 0, "startLine": 1}));
        // Each agent's tools, as its public source declares them (names are
        // case-sensitive, so Claude Code's `Read` is not `read`):
        // - codex: codex-rs/core/src/tools/spec.rs (shell, apply_patch,
        //   read_file, list_dir, grep_files, view_image);
        // - Claude Code: its tool reference (Read, Write, Edit, MultiEdit,
        //   NotebookEdit, Glob, Grep, LS, Bash);
        // - OpenHands: openhands/agenthub/codeact_agent/tools/
        //   (str_replace_editor, execute_bash);
        //   also shell_command, exec_command, write_stdin, local_shell and
        //   js_repl;
        // - OpenHands V1: software-agent-sdk openhands-tools (file_editor,
        //   planning_file_editor, terminal);
        // - SWE-agent: tools/windowed, tools/search, tools/windowed_edit_*
        //   (in `for_agent("swe-agent")`: they keep state);
        // - Goose: crates/goose-mcp/src/developer (shell, file_write,
        //   file_edit, tree; developer__-prefixed as goose names them; the
        //   older text_editor);
        // - Cline: src/core/prompts/system-prompt/tools/ and the SDK's
        //   extensions/tools (read_file(s), write_to_file, replace_in_file,
        //   new_rule, editor, search_files, list_files,
        //   list_code_definition_names, execute_command, run_commands);
        // - the MCP filesystem server: modelcontextprotocol/servers,
        //   src/filesystem/index.ts.
        add(
            &[
                "read_file",
                "read",
                "view",
                "cat",
                "file_info",
                "check_file_exists",
                "stat",
                "open_file",
                "Read",
                "read_text_file",
                "read_media_file",
                "read_multiple_files",
                "read_files",
                "view_image",
            ],
            Read(file_read),
        );
        add(
            &[
                "list_directory",
                "ls",
                "list_dir",
                "list_files",
                "tree",
                "LS",
                "list_directory_with_sizes",
                "directory_tree",
                "list_code_definition_names",
            ],
            Read(ReadPolicy::workspace().with_defaults(serde_json::json!({"recursive": false}))),
        );
        add(
            &[
                "search_file_content",
                "grep",
                "search",
                "code_search",
                "rg",
                "ripgrep",
                "Grep",
                "grep_files",
                "search_files",
            ],
            Read(ReadPolicy::workspace()),
        );
        add(
            &["find_files", "find", "glob", "file_search", "Glob"],
            Read(ReadPolicy::workspace().with_globs(&["pattern", "glob"])),
        );
        add(
            &["git_status", "get_git_status", "git_diff", "git_log", "git_show"],
            Read(ReadPolicy::workspace().with_fixed(&[".git"])),
        );
        add(
            &[
                "modify_file",
                "generate_file",
                "remove_file",
                "create_file",
                "delete_file",
                "write_file",
                "write",
                "edit",
                "edit_file",
                "str_replace",
                "str_replace_editor",
                "create_directory",
                "rename_file",
                "copy_file",
                "write_to_file",
                "replace_in_file",
                "new_rule",
                "editor",
                "file_write",
                "file_edit",
                "developer__file_write",
                "developer__file_edit",
            ],
            Write(WritePolicy {
                opaque_if_no_path: true,
                ..Default::default()
            }),
        );
        add(
            &["Write", "Edit", "MultiEdit"],
            Write(WritePolicy::args(&["file_path"])),
        );
        add(&["NotebookEdit"], Write(WritePolicy::args(&["notebook_path"])));
        add(&["move_file"], Write(WritePolicy::args(&["source", "destination"])));
        add(&["apply_patch"], Write(WritePolicy::patch(&["input", "patch"])));
        // A view (of a file or a directory) reads; every other command writes `path`.
        let editor = ByArg(ByArgPolicy {
            arg: "command".into(),
            cases: [
                ("view".to_string(), Read(ReadPolicy::subtree())),
                ("create".to_string(), Write(WritePolicy::args(&["path"]))),
                ("write".to_string(), Write(WritePolicy::args(&["path"]))),
                ("str_replace".to_string(), Write(WritePolicy::args(&["path"]))),
                ("insert".to_string(), Write(WritePolicy::args(&["path"]))),
                ("undo_edit".to_string(), Write(WritePolicy::args(&["path"]))),
            ]
            .into_iter()
            .collect(),
            otherwise: Box::new(Opaque),
        });
        add(
            &[
                "str_replace_editor",
                "text_editor",
                "str_replace_based_edit_tool",
                "developer__text_editor",
                "file_editor",
                "planning_file_editor",
            ],
            editor,
        );
        // Programs, and sessions that outlive the call or take typed input:
        // they may change anything (codex's exec_command sessions,
        // write_stdin, local_shell, js_repl; OpenHands' IPython cells;
        // Cline's run_commands and use_mcp_tool; SWE-agent's insert).
        add(
            &[
                "exec_command",
                "write_stdin",
                "local_shell",
                "js_repl",
                "js_repl_poll",
                "execute_ipython_cell",
                "run_commands",
                "use_mcp_tool",
                "insert",
            ],
            Opaque,
        );
        // The file's access time is in its answer (as `stat`'s).
        add(&["get_file_info"], Never);
        add(
            &[
                "git_add",
                "git_add_all",
                "git_commit",
                "git_push",
                "git_fetch",
                "git_tag",
            ],
            Write(WritePolicy::fixed(&[".git"])),
        );
        add(
            &[
                "git_checkout",
                "git_reset",
                "git_stash",
                "git_merge",
                "git_pull",
                "git_rebase",
                "git_apply",
            ],
            Opaque,
        );
        add(
            &[
                "run_command",
                "bash",
                "execute_bash",
                "run",
                "shell",
                "execute",
                "exec",
                "terminal",
                "run_terminal_cmd",
                "Bash",
                "execute_command",
                "shell_command",
                "developer__shell",
            ],
            Shell(ShellPolicy::default()),
        );
        Policy {
            tools: t,
            unknown: Never,
        }
    }

    /// The agents [`for_agent`](Policy::for_agent) knows.
    pub const AGENTS: &'static [&'static str] = &[
        "codex",
        "claude-code",
        "openhands",
        "swe-agent",
        "goose",
        "cline",
        "mcp-filesystem",
    ];

    /// The defaults as one agent's tools mean them, where the names of
    /// agents conflict. codex's `shell` starts every command in its
    /// `workdir` (or the workspace root): no directory carries over. The
    /// others' tools are in [`defaults`](Policy::defaults) as they are.
    /// Tools an agent does not declare stay neither cached nor
    /// invalidating.
    ///
    /// ```
    /// use depcache::tool::{Decision, Policy, ToolCache, ToolCall};
    /// use serde_json::json;
    ///
    /// let tools: ToolCache = ToolCache::new("/repo", 1000);
    /// tools.set_policy(Policy::for_agent("codex").unwrap());
    /// let ls = ToolCall::new("shell", json!({"command": ["bash", "-lc", "ls src"], "workdir": "/repo"}));
    /// assert!(matches!(tools.classify(&ls), Decision::Read { .. }));
    /// assert!(Policy::for_agent("hal-9000").is_err());
    /// ```
    pub fn for_agent(name: &str) -> Result<Policy, ToolError> {
        let mut p = Policy::defaults();
        match name {
            "codex" => {
                let shell = ShellPolicy {
                    cwd_arg: "workdir".into(),
                    persistent_cwd: false,
                    ..ShellPolicy::default()
                };
                p.tools.insert("shell".into(), ToolPolicy::Shell(shell.clone()));
                p.tools.insert("container.exec".into(), ToolPolicy::Shell(shell));
            }
            "goose" => {
                // Each shell call is a process of its own.
                let shell = ToolPolicy::Shell(ShellPolicy {
                    persistent_cwd: false,
                    ..ShellPolicy::default()
                });
                p.tools.insert("shell".into(), shell.clone());
                p.tools.insert("developer__shell".into(), shell);
            }
            "swe-agent" => {
                // Its file tools keep state (the open file, a cursor) and
                // resolve relative paths against the shell's directory: a
                // cached `open` would not move the cursor, and `create x.py`
                // may be anywhere. Reads run uncached; writes are opaque.
                for read in [
                    "open",
                    "goto",
                    "scroll_up",
                    "scroll_down",
                    "search_file",
                    "search_dir",
                    "find_file",
                ] {
                    p.tools.insert(read.into(), ToolPolicy::Never);
                }
                for write in ["create", "edit", "insert", "submit"] {
                    p.tools.insert(write.into(), ToolPolicy::Opaque);
                }
            }
            "claude-code" | "openhands" | "cline" | "mcp-filesystem" => {}
            other => {
                return Err(ToolError::UnknownAgent {
                    name: other.to_string(),
                    known: Self::AGENTS.join(", "),
                })
            }
        }
        Ok(p)
    }

    /// The policy of `tool`. A tool the table does not name but whose name
    /// is a namespaced one it does (an MCP tool seen through a client:
    /// `mcp__fs__write_file`, `developer__file_edit`) takes that tool's
    /// policy if it writes; otherwise it is opaque if the bare tool runs
    /// programs, and neither cached nor invalidating if it reads (another
    /// server's `read_file` may read something else than a local file).
    pub fn get(&self, tool: &str) -> &ToolPolicy {
        static OPAQUE: ToolPolicy = ToolPolicy::Opaque;
        static NEVER: ToolPolicy = ToolPolicy::Never;
        if let Some(p) = self.tools.get(tool) {
            return p;
        }
        let bare = tool.rsplit_once("__").map(|(_, b)| b).filter(|b| !b.is_empty());
        match bare.and_then(|b| self.tools.get(b)) {
            Some(p @ ToolPolicy::Write(_)) => p,
            Some(ToolPolicy::Shell(_) | ToolPolicy::Opaque | ToolPolicy::ByArg(_)) => &OPAQUE,
            Some(ToolPolicy::Read(_) | ToolPolicy::Never) => &NEVER,
            None => &self.unknown,
        }
    }

    /// The policy of `call`: its tool's, with a [`ToolPolicy::ByArg`]
    /// resolved by the call's argument (a nesting deeper than 8, or a
    /// value that is not a string, resolves to its `otherwise`; what stays a
    /// `ByArg` is opaque).
    pub fn resolve(&self, call: &super::ToolCall) -> &ToolPolicy {
        let mut p = self.get(&call.name);
        for _ in 0..8 {
            let ToolPolicy::ByArg(by) = p else { return p };
            p = match call.args.get(&by.arg).and_then(Value::as_str) {
                Some(v) => by.cases.get(v).unwrap_or(&by.otherwise),
                None => &by.otherwise,
            };
        }
        p
    }

    /// This table with every entry of `other` added or replacing ours (and
    /// `other.unknown` if it names one other than `never`).
    pub fn merged(mut self, other: Policy) -> Self {
        self.tools.extend(other.tools);
        if other.unknown != ToolPolicy::Never {
            self.unknown = other.unknown;
        }
        self
    }

    /// Parses a TOML policy (`[tools.NAME] kind = "read" ...`).
    pub fn from_toml_str(s: &str) -> Result<Self, ToolError> {
        Self::parse_toml(s, "<string>")
    }

    /// Parses a JSON policy (`{"tools": {"NAME": {"kind": "read", ...}}}`).
    pub fn from_json_str(s: &str) -> Result<Self, ToolError> {
        Self::parse_json(s, "<string>")
    }

    /// Reads a policy file, TOML or JSON by its extension (`.json` is JSON,
    /// anything else TOML).
    pub fn load(path: &Path) -> Result<Self, ToolError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ToolError::Policy {
            origin: origin.clone(),
            message: format!("cannot read: {e}"),
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            Self::parse_json(&text, &origin)
        } else {
            Self::parse_toml(&text, &origin)
        }
    }

    fn parse_toml(s: &str, origin: &str) -> Result<Self, ToolError> {
        // toml's message names the line and column and quotes the offending text.
        toml::from_str(s).map_err(|e| ToolError::Policy {
            origin: origin.to_string(),
            message: e.to_string(),
        })
    }

    fn parse_json(s: &str, origin: &str) -> Result<Self, ToolError> {
        serde_json::from_str(s).map_err(|e| ToolError::Policy {
            origin: origin.to_string(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_errors() {
        let p =
            Policy::from_json_str(r#"{"tools": {"lint": {"kind": "opaque"}}, "unknown": {"kind": "opaque"}}"#).unwrap();
        assert_eq!(p.get("lint"), &ToolPolicy::Opaque);
        assert_eq!(p.get("zzz"), &ToolPolicy::Opaque);
        let e = Policy::from_json_str(r#"{"tools": {"lint": {"kind": "bogus"}}}"#).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Policy::from_toml_str("[tools.x]\nkind = \"read\"\nscope = \"sideways\"\n").unwrap_err();
        assert!(
            e.to_string().contains("sideways") && e.to_string().contains("line"),
            "{e}"
        );
        let e = Policy::load(Path::new("/no/such/policy.toml")).unwrap_err();
        assert!(e.to_string().contains("/no/such/policy.toml"), "{e}");
    }

    #[test]
    fn round_trip() {
        let p = Policy::defaults();
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(Policy::from_json_str(&text).unwrap(), p);
    }
}
