//! The command tables: which simple commands are reads, which are writes, and
//! of what. Commands with option-dependent behaviour (`sed`, `find`, `git`,
//! ...) are in `special.rs`; the rest are data ([`CommandSpec`]s).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::args::{self, listed, Arg};
use super::config::{CommandSpec, NoOperand, ShellConfig};
use super::parse::{short, Reason, Word};
use super::walk::{Cwds, Outcome, Walker};
use crate::{Dep, DepPath, Scope};

/// Directories whose programs are the standard ones (`/usr/bin/grep` is `grep`).
const SYSTEM_BIN: &[&str] = &["/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/", "/usr/sbin/"];

impl Walker<'_> {
    /// Classifies one simple command, given as words (after expansion of what
    /// can be known), in `cwds`. Returns the directory after it.
    pub(super) fn argv(&mut self, words: &[Word], cwds: Cwds) -> Result<Outcome, Reason> {
        let Some(first) = words.first() else {
            return Ok((cwds.clone(), cwds));
        };
        if !first.is_exact() || first.glob.is_some() {
            return Err(format!(
                "the command name is known only when it runs (`{}`…)",
                short(&first.text)
            ));
        }
        let mut name = first.text.as_str();
        if let Some(base) = SYSTEM_BIN.iter().find_map(|d| name.strip_prefix(d)) {
            if !base.contains('/') {
                name = base;
            }
        }
        // The leading words known exactly, for multi-word entries.
        let mut lead: Vec<&str> = vec![name];
        lead.extend(words[1..].iter().take_while(|w| w.is_exact()).map(|w| w.text.as_str()));
        if self.config.is_opaque(&lead) {
            return Err(format!("`{}` is configured as opaque", short(name)));
        }
        let config = self.config;
        let user = [(&config.readers, false), (&config.writers, true)]
            .into_iter()
            .filter_map(|(table, write)| {
                ShellConfig::lookup(table, &lead, |s| s.extra_args).map(|(n, s)| (n, s, write))
            })
            .max_by_key(|(n, _, write)| (*n, *write));
        if let Some((n, spec, write)) = user {
            let args = &words[n..];
            if write {
                self.spec_write(name, spec, args, &cwds, true)?;
            } else {
                self.spec_read(name, spec, args, &cwds)?;
            }
            return Ok((cwds.clone(), cwds));
        }
        if self.project(&lead, words, &cwds)? {
            return Ok((cwds.clone(), cwds));
        }
        if !config.builtins {
            return Err(format!("`{}` is not a known read or write", short(name)));
        }
        let args = &words[1..];
        if let Some(outcome) = self.special(name, args, &cwds)? {
            return Ok(outcome);
        }
        if let Some(spec) = builtin_readers().get(name) {
            self.spec_read(name, spec, args, &cwds)?;
        } else if let Some(spec) = builtin_writers().get(name) {
            self.spec_write(name, spec, args, &cwds, false)?;
        } else {
            return Err(format!("`{}` is not a known read or write", short(name)));
        }
        Ok((cwds.clone(), cwds))
    }

    /// A reader described by `spec`.
    pub(super) fn spec_read(
        &mut self,
        cmd: &str,
        spec: &CommandSpec,
        args: &[Word],
        cwds: &Cwds,
    ) -> Result<(), Reason> {
        for w in args {
            self.note_dynamic(w);
            self.glob_dep(w, cwds);
        }
        let value_opts: Vec<&str> = spec
            .value_options
            .iter()
            .chain(&spec.path_options)
            .map(String::as_str)
            .collect();
        let split = args::split(args, &value_opts);
        let mut recursive = false;
        let mut skip = spec.skip;
        for (arg, word) in &split {
            if !word.is_exact() && word.may_be_option() && !spec.deny_options.is_empty() {
                return Err(format!(
                    "cannot tell whether `{}`… is an option of `{cmd}`",
                    short(&word.text)
                ));
            }
            let Arg::Opt { name, value } = arg else { continue };
            let text = value.as_ref().map(|v| v.text());
            if listed(&spec.deny_options, name, text) {
                return Err(format!("`{cmd} {name}` is more than a read"));
            }
            if listed(&spec.recursive_options, name, text) {
                recursive = true;
            }
            if listed(&spec.pattern_options, name, text) {
                skip = 0;
            }
            if let (true, Some(v)) = (spec.path_options.contains(name), value) {
                let w = v.word(word);
                self.read(&w, Scope::Exact, cwds);
            }
        }
        let operands = args::operands(&split);
        if let Some(max) = spec.max_operands {
            if operands.len() > max {
                return Err(format!("`{cmd}` with {} operands may write one", operands.len()));
            }
        }
        let scope = if recursive { Scope::Subtree } else { spec.scope };
        let mut roots = Vec::new();
        if !spec.no_paths {
            for op in operands.iter().skip(skip) {
                if op.is_exact() && op.text == "-" {
                    continue;
                }
                self.read(op, scope, cwds);
                roots.push((*op).clone());
            }
        }
        let no_operand = if recursive { NoOperand::Cwd } else { spec.no_operand };
        if roots.is_empty() && spec.paths.is_empty() && !spec.no_paths {
            match no_operand {
                NoOperand::Stdin => {}
                NoOperand::Cwd => {
                    self.read_cwd(cwds);
                    roots.push(Word::literal("."));
                }
                NoOperand::Workspace => {
                    self.fx.deps.push(Dep::subtree(DepPath::root()));
                    // A project command run outside the workspace reads there too.
                    if let Cwds::Known(dirs) = cwds {
                        for d in dirs.iter().filter(|d| !inside(d)) {
                            self.fx.deps.push(Dep::subtree(d.clone()));
                        }
                    } else {
                        self.dynamic("a command run in an unknown directory");
                    }
                }
            }
        }
        for p in &spec.paths {
            let dep = self.root_path(p);
            self.fx.deps.push(Dep { dep, scope: spec.scope });
        }
        if spec.ignore_files {
            for r in &roots {
                if let Some((paths, _)) = self.paths(r, cwds) {
                    for p in paths {
                        self.ignore_file_deps(&p);
                    }
                }
            }
        }
        Ok(())
    }

    /// A writer described by `spec`: every operand and path-option value is a
    /// path it changes. `project`: with none, it may change the workspace.
    pub(super) fn spec_write(
        &mut self,
        cmd: &str,
        spec: &CommandSpec,
        args: &[Word],
        cwds: &Cwds,
        project: bool,
    ) -> Result<(), Reason> {
        self.require_exact(cmd, args)?;
        let value_opts: Vec<&str> = spec
            .value_options
            .iter()
            .chain(&spec.path_options)
            .map(String::as_str)
            .collect();
        let split = args::split(args, &value_opts);
        let before = self.fx.writes.len();
        for (arg, word) in &split {
            match arg {
                Arg::Opt { name, value } => {
                    let text = value.as_ref().map(|v| v.text());
                    if listed(&spec.deny_options, name, text) {
                        return Err(format!("`{cmd} {name}` changes files the classifier cannot name"));
                    }
                    if let (true, Some(v)) = (spec.path_options.contains(name), value) {
                        self.write(&v.word(word), cwds)?;
                    }
                }
                Arg::Operand(w) => self.write(w, cwds)?,
            }
        }
        for p in &spec.paths {
            let p = self.root_path(p);
            self.fx.writes.push(p);
        }
        if project && self.fx.writes.len() == before {
            self.fx.writes.push(DepPath::root());
            if let Cwds::Known(dirs) = cwds {
                self.fx.writes.extend(dirs.iter().filter(|d| !inside(d)).cloned());
            } else {
                return Err("a project command run in an unknown directory".into());
            }
        }
        Ok(())
    }

    /// Refuses a writer whose arguments are not all known exactly (one of them
    /// could be an option or a path the classifier cannot see).
    pub(super) fn require_exact(&self, cmd: &str, args: &[Word]) -> Result<(), Reason> {
        match args.iter().find(|w| !w.is_exact() && !w.procsub) {
            Some(w) => Err(format!(
                "`{cmd}` has an argument known only when it runs (`{}`…)",
                short(&w.text)
            )),
            None => Ok(()),
        }
    }

    /// The current directory (each possible one), as a subtree.
    pub(super) fn read_cwd(&mut self, cwds: &Cwds) {
        match cwds {
            Cwds::Known(dirs) => {
                for d in dirs {
                    self.fx.deps.push(Dep::subtree(d.clone()));
                }
            }
            Cwds::Unknown => self.dynamic("the unknown current directory"),
        }
    }

    /// The ignore files that `rg`/`ag` read above a searched path.
    fn ignore_file_deps(&mut self, p: &DepPath) {
        const NAMES: &[&str] = &[".gitignore", ".ignore", ".rgignore", ".agignore"];
        let mut dir = p.as_path().parent();
        while let Some(d) = dir {
            for n in NAMES {
                self.fx.deps.push(Dep::exact(DepPath::new(d.join(n))));
            }
            dir = d.parent();
        }
        self.fx.deps.push(Dep::exact(DepPath::new(".git/info/exclude")));
    }
}

/// True for a path inside the workspace (relative, not above the root).
pub(super) fn inside(d: &DepPath) -> bool {
    let p = d.as_path();
    !p.is_absolute() && !p.starts_with("..")
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// A reader of the files it names (`cat`), options given.
fn file_reader(value_options: &[&str], deny: &[&str]) -> CommandSpec {
    CommandSpec {
        scope: Scope::Exact,
        value_options: strings(value_options),
        deny_options: strings(deny),
        no_operand: NoOperand::Stdin,
        ..CommandSpec::default()
    }
}

/// A command whose operands are not paths and that reads no file.
fn pure(value_options: &[&str]) -> CommandSpec {
    CommandSpec {
        no_paths: true,
        value_options: strings(value_options),
        no_operand: NoOperand::Stdin,
        ..CommandSpec::default()
    }
}

/// The built-in readers that a [`CommandSpec`] describes.
pub(super) fn builtin_readers() -> &'static HashMap<&'static str, CommandSpec> {
    static TABLE: OnceLock<HashMap<&'static str, CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        // Only options that always take a value: one listed wrongly would eat a path.
        let plain: [(&str, &[&str]); 10] = [
            ("cat", &[]),
            ("rev", &[]),
            ("comm", &[]),
            ("readlink", &[]),
            ("tac", &["-s", "--separator"]),
            ("strings", &["-n", "-t", "-e", "--bytes", "--radix", "--encoding"]),
            ("cmp", &["-i", "-n", "--ignore-initial", "--bytes"]),
            ("realpath", &["--relative-to", "--relative-base"]),
            ("fold", &["-w", "--width"]),
            ("fmt", &["-w", "-p", "-g", "--width", "--prefix", "--goal"]),
        ];
        for (name, values) in plain {
            t.insert(name, file_reader(values, &[]));
        }
        t.insert(
            "nl",
            file_reader(&["-b", "-d", "-f", "-h", "-i", "-l", "-n", "-s", "-v", "-w"], &[]),
        );
        t.insert("head", file_reader(&["-n", "-c", "--lines", "--bytes"], &[]));
        t.insert(
            "tail",
            file_reader(
                &["-n", "-c", "--lines", "--bytes", "-s", "--sleep-interval"],
                &["-f", "-F", "--follow", "--pid"],
            ),
        );
        t.insert("wc", file_reader(&[], &["--files0-from"]));
        for name in [
            "md5sum",
            "sha1sum",
            "sha224sum",
            "sha256sum",
            "sha384sum",
            "sha512sum",
            "b2sum",
            "cksum",
        ] {
            t.insert(name, file_reader(&["-a", "-l"], &["-c", "--check"]));
        }
        t.insert(
            "sort",
            file_reader(
                &[
                    "-k",
                    "-t",
                    "-S",
                    "-T",
                    "--key",
                    "--field-separator",
                    "--buffer-size",
                    "--parallel",
                ],
                &[
                    "-o",
                    "--output",
                    "--compress-program",
                    "--files0-from",
                    // A random order: the output changes by itself.
                    "-R",
                    "--random-sort",
                    "--random-source",
                ],
            ),
        );
        t.insert(
            "uniq",
            CommandSpec {
                max_operands: Some(1),
                ..file_reader(&["-f", "-s", "-w"], &[])
            },
        );
        t.insert("cut", file_reader(&["-b", "-c", "-d", "-f"], &[]));
        t.insert("paste", file_reader(&["-d"], &[]));
        t.insert(
            "join",
            file_reader(&["-1", "-2", "-j", "-t", "-o", "-e", "-a", "-v"], &[]),
        );
        t.insert("expand", file_reader(&["-t"], &[]));
        t.insert("unexpand", file_reader(&["-t"], &[]));
        t.insert("od", file_reader(&["-A", "-j", "-N", "-t"], &[]));
        t.insert(
            "xxd",
            CommandSpec {
                max_operands: Some(1),
                ..file_reader(&["-c", "-g", "-l", "-o", "-s", "-n"], &[])
            },
        );
        t.insert("hexdump", file_reader(&["-n", "-s", "-e"], &["-f"]));
        t.insert(
            "base64",
            CommandSpec {
                max_operands: Some(1),
                ..file_reader(&["-w"], &[])
            },
        );
        t.insert(
            "column",
            file_reader(&["-s", "-c", "-o", "-N", "-E", "-H", "-W", "-R"], &[]),
        );
        t.insert(
            "file",
            file_reader(
                &["-F", "-P", "-e"],
                &["-C", "--compile", "-f", "--files-from", "-m", "--magic-file"],
            ),
        );
        for name in ["diff", "colordiff"] {
            t.insert(
                name,
                CommandSpec {
                    scope: Scope::Subtree,
                    path_options: strings(&["-X", "--exclude-from", "--from-file", "--to-file"]),
                    ..file_reader(
                        &[
                            "-U",
                            "-C",
                            "-I",
                            "-x",
                            "-S",
                            "-F",
                            "-W",
                            "-L",
                            "--label",
                            "--exclude",
                            "--ignore-matching-lines",
                            "--starting-file",
                        ],
                        &[],
                    )
                },
            );
        }
        t.insert(
            "du",
            CommandSpec {
                scope: Scope::Subtree,
                no_operand: NoOperand::Cwd,
                path_options: strings(&["-X", "--exclude-from"]),
                ..file_reader(
                    &[
                        "-d",
                        "-B",
                        "-t",
                        "--max-depth",
                        "--block-size",
                        "--threshold",
                        "--exclude",
                    ],
                    &["--files0-from", "--time"],
                )
            },
        );
        t.insert(
            "tree",
            CommandSpec {
                scope: Scope::Subtree,
                no_operand: NoOperand::Cwd,
                ..file_reader(
                    &[
                        "-L",
                        "-P",
                        "-I",
                        "-H",
                        "-T",
                        "--charset",
                        "--filelimit",
                        "--timefmt",
                        "--sort",
                    ],
                    &["-o", "-R", "-u"],
                )
            },
        );
        let grep = CommandSpec {
            scope: Scope::Subtree,
            skip: 1,
            pattern_options: strings(&["-e", "--regexp", "-f", "--file"]),
            path_options: strings(&["-f", "--file", "--exclude-from"]),
            recursive_options: strings(&[
                "-r",
                "-R",
                "--recursive",
                "--dereference-recursive",
                "-d recurse",
                "--directories recurse",
            ]),
            ..file_reader(
                &[
                    "-e",
                    "--regexp",
                    "-m",
                    "--max-count",
                    "-A",
                    "--after-context",
                    "-B",
                    "--before-context",
                    "-C",
                    "--context",
                    "-d",
                    "--directories",
                    "-D",
                    "--devices",
                    "--include",
                    "--exclude",
                    "--exclude-dir",
                    "--label",
                    "--binary-files",
                    "--group-separator",
                ],
                &[],
            )
        };
        for name in ["grep", "egrep", "fgrep"] {
            t.insert(name, grep.clone());
        }
        t.insert(
            "rg",
            CommandSpec {
                scope: Scope::Subtree,
                skip: 1,
                no_operand: NoOperand::Cwd,
                ignore_files: true,
                pattern_options: strings(&["-e", "--regexp", "-f", "--file", "--files", "--type-list"]),
                path_options: strings(&["-f", "--file", "--ignore-file"]),
                ..file_reader(
                    &[
                        "-e",
                        "--regexp",
                        "-g",
                        "--glob",
                        "--iglob",
                        "-t",
                        "--type",
                        "-T",
                        "--type-not",
                        "--type-add",
                        "--type-clear",
                        "-m",
                        "--max-count",
                        "-A",
                        "--after-context",
                        "-B",
                        "--before-context",
                        "-C",
                        "--context",
                        "-d",
                        "--max-depth",
                        "--maxdepth",
                        "-M",
                        "--max-columns",
                        "-j",
                        "--threads",
                        "-E",
                        "--encoding",
                        "-r",
                        "--replace",
                        "--sort",
                        "--sortr",
                        "--colors",
                        "--color",
                        "--max-filesize",
                        "--context-separator",
                        "--field-match-separator",
                        "--field-context-separator",
                        "--path-separator",
                        "--engine",
                        "--dfa-size-limit",
                        "--regex-size-limit",
                    ],
                    &["--pre", "--pre-glob", "-z", "--search-zip", "--hostname-bin"],
                )
            },
        );
        t.insert(
            "ag",
            CommandSpec {
                scope: Scope::Subtree,
                skip: 1,
                no_operand: NoOperand::Cwd,
                ignore_files: true,
                pattern_options: strings(&["-g"]),
                path_options: strings(&["-p", "--path-to-ignore"]),
                // `-A`/`-B`/`-C` take an optional value: not listed.
                ..file_reader(
                    &[
                        "-G",
                        "--file-search-regex",
                        "-g",
                        "-m",
                        "--max-count",
                        "--ignore",
                        "--ignore-dir",
                        "--depth",
                        "-W",
                        "--width",
                    ],
                    &["--pager", "-z", "--search-zip"],
                )
            },
        );
        for name in ["basename", "dirname"] {
            t.insert(name, pure(&["-s", "--suffix"]));
        }
        t.insert("seq", pure(&["-f", "-s"]));
        t.insert("expr", pure(&[]));
        t.insert("tr", pure(&[]));
        t
    })
}

/// The built-in writers that a [`CommandSpec`] describes: every operand is
/// changed (option values like modes count too: harmless extra invalidations,
/// never a missed one).
pub(super) fn builtin_writers() -> &'static HashMap<&'static str, CommandSpec> {
    static TABLE: OnceLock<HashMap<&'static str, CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let w = CommandSpec {
            scope: Scope::Exact,
            ..CommandSpec::default()
        };
        let mut t = HashMap::new();
        for name in [
            "rm", "rmdir", "unlink", "touch", "mkdir", "tee", "truncate", "chmod", "chown", "chgrp", "mv", "install",
            "shred",
        ] {
            t.insert(name, w.clone());
        }
        t
    })
}
