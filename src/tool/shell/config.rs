//! [`ShellConfig`]: the user's additions to the built-in command tables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::projects::ProjectSpec;
use crate::Scope;

/// What the shell classifier knows about commands beyond its built-in tables
/// (which [`Default`] gives: built-ins on, nothing added).
///
/// Keys of `readers` and `writers` are a command name (`jq`), or several words
/// (`"npm run lint"`, `"cargo check"`): a command matches an entry if its first
/// words are the entry's words (the longest entry wins; user entries win over
/// built-ins). Unless the entry sets `extra_args`, a multi-word entry matches
/// only the exact command (`npm run lint -- --fix` is not `npm run lint`).
///
/// ```
/// use depcache::tool::shell::ShellConfig;
///
/// let config: ShellConfig = toml::from_str(r#"
///     opaque = ["cat"]              # our `cat` is an alias to something else
///     safe_env = ["RUST_LOG"]
///
///     [readers."npm run lint"]      # reads the whole workspace (the default)
///
///     [readers."cargo check"]
///     paths = ["src", "Cargo.toml", "Cargo.lock"]
///
///     [readers.jq]
///     scope = "exact"
///     skip = 1                      # the filter
///     no_operand = "stdin"
///
///     [writers."npm run format"]
///     paths = ["src"]
/// "#).unwrap();
/// assert_eq!(config.readers.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ShellConfig {
    /// Side-effect-free commands (and read-only project commands) with what they read.
    pub readers: BTreeMap<String, CommandSpec>,
    /// Commands that change known files: the paths they change.
    pub writers: BTreeMap<String, CommandSpec>,
    /// Project commands declared read-only but for their own outputs
    /// (`pytest`, `cargo check`, `npm test`), cached only while a watcher
    /// covers the workspace; beside the built-in ones (see
    /// [`builtin_project_names`](super::builtin_project_names)), which an entry of
    /// the same words replaces.
    pub projects: BTreeMap<String, ProjectSpec>,
    /// Commands (names or several words) that are always opaque, even if built in.
    pub opaque: Vec<String>,
    /// Environment variables that may be set for a command (`NAME=value cmd`)
    /// without making it opaque, beyond the built-in list (`LANG`, `LC_*`, `TERM`,
    /// `COLUMNS`, `NO_COLOR`, `TZ`, ...). A trailing `*` matches a prefix.
    pub safe_env: Vec<String>,
    /// Use the built-in tables of readers and writers (`cat`, `grep`, `sed -i`,
    /// `git status`, `rm`, ...). Off: only this configuration's entries are known.
    pub builtins: bool,
}

impl Default for ShellConfig {
    fn default() -> Self {
        ShellConfig {
            readers: BTreeMap::new(),
            writers: BTreeMap::new(),
            projects: BTreeMap::new(),
            opaque: Vec::new(),
            safe_env: Vec::new(),
            builtins: true,
        }
    }
}

/// What a command reads (in `readers`) or writes (in `writers`).
///
/// Its arguments are split into options and operands: `--` ends the options,
/// `--name=value` and `-xVALUE` carry their value, `value_options` take the
/// next argument. For a reader, the operands after the first `skip` are paths
/// it reads, with `scope`; with none, it reads what `no_operand` says. For a
/// writer, every operand is a path it changes (a superset is harmless: an
/// extra invalidation), and so are the values of `path_options`.
///
/// The default (`[readers."npm run lint"]` with nothing else) is a project
/// command that takes no arguments and reads the whole workspace, or, as a
/// writer, one that may change any file of the workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CommandSpec {
    /// Scope of the paths it reads: `exact` for a file reader (`cat`), `subtree`
    /// for one that lists or searches directories (`ls`, `grep -r`).
    pub scope: Scope,
    /// Leading operands that are not paths (the pattern of `grep`, the filter of `jq`).
    pub skip: usize,
    /// Options after which no operand is skipped (`-e PATTERN`, `-f FILE` of `grep`).
    pub pattern_options: Vec<String>,
    /// Options that take a value (`-n` of `head`). List only options that
    /// certainly take one: an option that does not would hide a path.
    pub value_options: Vec<String>,
    /// Options whose value is a path it reads (or, for a writer, writes).
    pub path_options: Vec<String>,
    /// Options that make the command opaque (`-o` of `sort`, `--pre` of `rg`).
    pub deny_options: Vec<String>,
    /// Options that make it read its operands as subtrees, and the current
    /// directory when it has none (`-r` of `grep`). `"-d recurse"` names an
    /// option with a given value.
    pub recursive_options: Vec<String>,
    /// What a reader reads when it has no path operand.
    pub no_operand: NoOperand,
    /// More operands than this make it opaque (`uniq IN OUT` writes `OUT`).
    pub max_operands: Option<usize>,
    /// Paths it always reads (or writes), relative to the workspace root. A
    /// reader with no `paths`, no operand and `no_operand = "workspace"` reads
    /// the workspace.
    pub paths: Vec<String>,
    /// The operands are not paths at all (`basename`, `seq`): it reads nothing.
    pub no_paths: bool,
    /// Also reads the ignore files (`.gitignore`, `.ignore`, `.rgignore`,
    /// `.agignore`) of every directory above what it searches (`rg`, `ag`).
    pub ignore_files: bool,
    /// A multi-word entry also matches when more arguments follow its words
    /// (they are then parsed as the options and operands above).
    pub extra_args: bool,
}

impl Default for CommandSpec {
    fn default() -> Self {
        CommandSpec {
            scope: Scope::Subtree,
            skip: 0,
            pattern_options: Vec::new(),
            value_options: Vec::new(),
            path_options: Vec::new(),
            deny_options: Vec::new(),
            recursive_options: Vec::new(),
            no_operand: NoOperand::Workspace,
            max_operands: None,
            paths: Vec::new(),
            no_paths: false,
            ignore_files: false,
            extra_args: false,
        }
    }
}

/// What a reader reads when no operand names a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoOperand {
    /// Its standard input (a pipe, a redirection, or nothing): no file.
    Stdin,
    /// The current directory, as a subtree (`ls`, `find`, `rg`).
    Cwd,
    /// The whole workspace, as a subtree (a project command).
    Workspace,
}

/// A config entry's words (`"npm run lint"` → `["npm", "run", "lint"]`).
pub(super) fn entry_words(key: &str) -> Vec<&str> {
    key.split_whitespace().collect()
}

impl ShellConfig {
    /// The longest entry of `table` whose words start `argv`, with the number
    /// of words it matched. A multi-word entry matches a longer command only
    /// if `extra_args(entry)` says more arguments may follow its words.
    pub(super) fn lookup<'a, T>(
        table: &'a BTreeMap<String, T>,
        argv: &[&str],
        extra_args: impl Fn(&T) -> bool,
    ) -> Option<(usize, &'a T)> {
        let mut best: Option<(usize, &T)> = None;
        for (key, spec) in table {
            let words = entry_words(key);
            if words.is_empty() || words.len() > argv.len() || words.iter().zip(argv).any(|(w, a)| w != a) {
                continue;
            }
            if words.len() > 1 && words.len() < argv.len() && !extra_args(spec) {
                continue;
            }
            if best.is_none_or(|(n, _)| words.len() > n) {
                best = Some((words.len(), spec));
            }
        }
        best
    }

    /// True if `argv` starts with an entry of `opaque`.
    pub(super) fn is_opaque(&self, argv: &[&str]) -> bool {
        self.opaque.iter().any(|key| {
            let words = entry_words(key);
            !words.is_empty() && words.len() <= argv.len() && words.iter().zip(argv).all(|(w, a)| w == a)
        })
    }

    /// True if setting `name` for a command cannot change what the command does
    /// to files.
    pub(super) fn env_is_safe(&self, name: &str) -> bool {
        const BUILTIN: &[&str] = &[
            "LANG",
            "LANGUAGE",
            "LC_*",
            "TERM",
            "COLUMNS",
            "LINES",
            "NO_COLOR",
            "FORCE_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "TZ",
            "GREP_COLOR",
            "GREP_COLORS",
            "PAGER",
            "GIT_PAGER",
            "MANPAGER",
            "LESS",
            "GIT_TERMINAL_PROMPT",
            "POSIXLY_CORRECT",
        ];
        let matches = |pat: &str| match pat.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == pat,
        };
        BUILTIN.iter().any(|p| matches(p)) || self.safe_env.iter().any(|p| matches(p))
    }
}
