//! Shell commands as cacheable reads, writes and opaque commands.
//!
//! Agents run much of their work through a shell tool (`bash`, `run`,
//! `run_command`). [`classify`] parses the command with a real shell parser
//! ([brush-parser](https://crates.io/crates/brush-parser)) and decides what it
//! does to files:
//!
//! | class | when | the cache |
//! |---|---|---|
//! | [`Read`](ShellClass::Read) | every part is a known side-effect-free read whose output depends only on files | caches it with `deps` |
//! | [`Project`](ShellClass::Project) | a declared read-only project command (`pytest`, `cargo check`, `npm test`), with other reads | caches it only while a watcher covers the workspace |
//! | [`Write`](ShellClass::Write) | its only effects are on files it names (known writers, `>`/`>>` targets) | invalidates `paths`, before and after |
//! | [`Opaque`](ShellClass::Opaque) | anything else, or anything not understood | invalidates the workspace (or nothing, if a watcher covers it) |
//!
//! It understands pipelines, `&&`/`||`/`;`, subshells, brace groups, `if`/
//! `case`/loops, `cd` (which changes the directory of what follows it, only
//! where it succeeds), environment assignments (`LANG=C grep ...`; variables
//! that could change what a command does make it opaque), quoting, globs and
//! brace expansions (a dependency on the subtree of their literal prefix),
//! here-documents, redirections (`> f` and `>> f` write `f`; `2>&1` and
//! `2>/dev/null` write nothing; `< f` reads `f`), command and process
//! substitutions (each must itself be a read for the whole to be one),
//! `bash -c`/`sh -c` scripts, and wrappers (`env`, `timeout`, `nice`, `command`).
//!
//! Known readers: `cat`, `head`, `tail`, `nl`, `wc`, `sort`, `uniq`, `cut`,
//! `jq`, `diff`, `cmp`, `file`, `stat -c`, hash sums, ..., `sed` and `awk`
//! with programs that cannot write or run anything, `grep`/`rg`/`ag`, `ls`,
//! `tree`, `du`, `find` (without `-delete`/`-exec` of a writer), `test`/`[`/`[[`,
//! and `git status/diff/log/show/grep/ls-files/blame/...` (the repository is
//! assumed to be the workspace). Known writers: `sed -i`, `perl -i`, `tee`,
//! `touch`, `mkdir`, `cp`, `mv`, `rm`, `ln`, `chmod`, `patch`, `find -delete`,
//! and git: `add`/`rm`/`mv`/`restore` (their paths and `.git`), `fetch` (`.git`),
//! `commit`/`push` (`.git`, and, unless `--no-verify`, the workspace: hooks),
//! `checkout`/`reset`/`stash`/`apply`/`merge`/... (the workspace).
//!
//! Option arity follows each program's manual: an option takes no word, one
//! (`-n 5`, `--exclude=x`), or two: `jq`'s `--arg NAME VALUE`, `--argjson`,
//! `--rawfile NAME FILE` and `--slurpfile NAME FILE` (whose FILE it reads),
//! the only two-word options among the known readers and writers.
//!
//! Commands that only print their arguments (`echo`, `printf`, `true`, `pwd`)
//! read nothing: alone they are a `Read` with no dependencies, which a cache
//! may keep forever (their output never changes) or not keep (the tool
//! layer's convention for reads without dependencies); either is correct.
//! Commands whose output changes by itself (`date`, `ps`, `stat` showing access
//! times, `find -mmin`) are opaque.
//!
//! Opaque on purpose (the cache cannot know what they touch, or their output
//! changes by itself): programs and project commands not in the tables
//! (`python x.py`, `npm test`, `make`, `pytest`; declare read-only ones in
//! [`ShellConfig::readers`]), `xargs` (its arguments come from its input),
//! words whose value depends on the environment in a read (`cat $F`, a `for`
//! loop's `$f`) or in a written path, `cd -`/`popd`, `sed -f`/`awk -f`/`perl`
//! scripts from files, `sed`/`awk`/`perl` programs that could write, run or
//! read named files (`w`, `e`, `system`, `print >`, `open`, `getline`, ...),
//! `find -ok`, time-dependent reads (`find -mmin`, `git log --since`,
//! `printf %(..)T`, `date`), `stat` without `-c` (it shows access times),
//! background jobs (`&`), `time`, functions, shell arithmetic, coprocesses,
//! variables that change what a program does (`LD_PRELOAD=`, `PATH=`; the safe
//! list is [`ShellConfig::safe_env`]), git commands that change its
//! global configuration or only ask a remote (`ls-remote`, `remote show`), and
//! `git` outside the workspace.
//!
//! Assumed: the shell is bash (or a POSIX sh), commands are not shadowed by
//! aliases or functions, `CDPATH` is unset, and the programs are the standard
//! ones. Bad input (unterminated quotes, binary garbage, commands over
//! [`MAX_COMMAND_BYTES`], nesting over [`MAX_NESTING`]) is opaque, never a panic.
//!
//! ```
//! use std::path::Path;
//! use depcache::tool::shell::{classify, ShellClass, ShellConfig};
//! use depcache::{Dep, DepPath};
//!
//! let root = Path::new("/repo");
//! let config = ShellConfig::default();
//! assert_eq!(
//!     classify("cd src && grep -rn TODO . | head -5", None, root, &config),
//!     ShellClass::Read { deps: vec![Dep::subtree(DepPath::new("src"))] }
//! );
//! assert_eq!(
//!     classify("sed -i 's/a/b/' x.py 2>/dev/null", None, root, &config),
//!     ShellClass::Write { paths: vec![DepPath::new("x.py")] }
//! );
//! assert!(matches!(classify("python x.py", None, root, &config), ShellClass::Opaque { .. }));
//! ```

mod args;
mod commands;
mod config;
mod parse;
mod projects;
mod scripts;
mod special;
mod walk;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use config::{CommandSpec, NoOperand, ShellConfig};
pub use projects::{builtin_project_names, ProjectSpec};

use crate::{Dep, DepPath};

/// Longest command the classifier parses (longer ones are opaque).
pub const MAX_COMMAND_BYTES: usize = 128 * 1024;

/// Deepest nesting the classifier accepts: of brackets and compound commands
/// in one script, and of scripts within scripts (`$(...)`, `bash -c`).
pub const MAX_NESTING: usize = 32;

/// What a shell command does to files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellClass {
    /// Every part is a known side-effect-free read, and its output depends
    /// only on these files (and on the command text and directory). No
    /// dependencies: it reads no file (`echo hi`).
    Read {
        /// What it read, normalized against the workspace root.
        deps: Vec<Dep<DepPath>>,
    },
    /// Its effects are on these paths only (known writers, redirection
    /// targets); invalidating a directory reaches everything below it. Not
    /// cacheable.
    Write {
        /// The paths it may change, sorted, without duplicates.
        paths: Vec<DepPath>,
    },
    /// A read of the whole workspace by a project command the configuration
    /// declares read-only ([`ShellConfig::projects`]: `pytest`, `cargo
    /// check`, `npm test`), alone or with other reads. The tool layer caches
    /// it only while a watcher covers the workspace; otherwise it is opaque.
    Project {
        /// What the other parts of the command read, and directories outside
        /// the workspace that it runs in.
        deps: Vec<Dep<DepPath>>,
        /// What its project commands write that their result does not depend
        /// on (globs relative to the root, [`ProjectSpec::outputs`]).
        outputs: Vec<String>,
    },
    /// Anything else, or anything not understood.
    Opaque {
        /// Why, for logs and the trace report.
        reason: String,
    },
}

/// Classifies a shell command run in `cwd` (absolute, or relative to `root`;
/// `None`: the root) of the workspace `root`.
pub fn classify(command: &str, cwd: Option<&str>, root: &Path, config: &ShellConfig) -> ShellClass {
    let mut w = walk::Walker::new(root, config);
    let cwds = w.initial_cwd(cwd);
    match w.script(command, cwds) {
        Ok(_) => w.finish(),
        Err(reason) => ShellClass::Opaque { reason },
    }
}

/// Classifies a shell command whose starting directory is unknown (a persistent
/// shell session whose earlier calls may have `cd`-ed anywhere): only absolute
/// paths (after an absolute `cd`, or spelled absolute) can be known.
pub fn classify_in_unknown_dir(command: &str, root: &Path, config: &ShellConfig) -> ShellClass {
    let mut w = walk::Walker::new(root, config);
    match w.script(command, walk::Cwds::Unknown) {
        Ok(_) => w.finish(),
        Err(reason) => ShellClass::Opaque { reason },
    }
}

/// [`classify_in_unknown_dir`], and, if that is opaque, whether the command
/// would be a read if it started at the root (`true`: it reads from somewhere,
/// so it may run uncached rather than as an opaque call). Parses once.
pub(crate) fn classify_in_unknown_dir_or_root(command: &str, root: &Path, config: &ShellConfig) -> (ShellClass, bool) {
    let program = match parse::parse_program(command) {
        Ok(p) => p,
        Err(reason) => return (ShellClass::Opaque { reason }, false),
    };
    let mut w = walk::Walker::new(root, config);
    let class = match w.parsed(&program, walk::Cwds::Unknown) {
        Ok(_) => w.finish(),
        Err(reason) => ShellClass::Opaque { reason },
    };
    if !matches!(class, ShellClass::Opaque { .. }) {
        return (class, false);
    }
    let mut at_root = walk::Walker::new(root, config);
    let cwds = at_root.initial_cwd(None);
    let reads = at_root.parsed(&program, cwds).is_ok() && matches!(at_root.finish(), ShellClass::Read { .. });
    (class, reads)
}

/// Classifies a command given as an argument vector, run without a shell
/// (`{"command": "sed", "args": ["-n", "1,5p", "a.py"]}`): no word is
/// expanded, `>` is an ordinary argument. `bash -c SCRIPT` still parses SCRIPT.
pub fn classify_argv<S: AsRef<str>>(argv: &[S], cwd: Option<&str>, root: &Path, config: &ShellConfig) -> ShellClass {
    let mut w = walk::Walker::new(root, config);
    let cwds = w.initial_cwd(cwd);
    let words: Vec<parse::Word> = argv.iter().map(|a| parse::Word::literal(a.as_ref())).collect();
    if words
        .iter()
        .any(|w| w.text.len() > MAX_COMMAND_BYTES || w.text.contains('\0'))
    {
        return ShellClass::Opaque {
            reason: "an argument is too long or contains a NUL byte".into(),
        };
    }
    match w.argv(&words, cwds) {
        Ok(_) => w.finish(),
        Err(reason) => ShellClass::Opaque { reason },
    }
}
