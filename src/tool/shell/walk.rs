//! Walking the syntax tree: lists, pipelines, `&&`/`||`, subshells, compound
//! commands, redirections, substitutions, and the current directory.

use std::path::Path;

use brush_parser::ast::{
    AndOr, AndOrList, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, ExtendedTestExpr,
    IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline, Program, SeparatorOperator, SimpleCommand,
    UnaryPredicate,
};

use super::config::ShellConfig;
use super::parse::{self, lower_heredoc, lower_word, short, Reason, Word};
use super::{ShellClass, MAX_NESTING};
use crate::{Dep, DepPath, Scope};

/// Most possible current directories tracked at once (`cd a; cd b; ...` where
/// each `cd` may fail); past it the directory is unknown.
const MAX_CWDS: usize = 8;

/// The current directory: the directories it may be (a `cd` not guarded by
/// `&&` may have failed), or unknown (`cd "$X"`, `cd -`, `popd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Cwds {
    Known(Vec<DepPath>),
    Unknown,
}

impl Cwds {
    pub fn one(d: DepPath) -> Self {
        Cwds::Known(vec![d])
    }

    pub fn union(self, other: Cwds) -> Cwds {
        match (self, other) {
            (Cwds::Known(mut a), Cwds::Known(b)) => {
                for d in b {
                    if !a.contains(&d) {
                        a.push(d);
                    }
                }
                if a.len() > MAX_CWDS {
                    Cwds::Unknown
                } else {
                    Cwds::Known(a)
                }
            }
            _ => Cwds::Unknown,
        }
    }
}

/// The current directory after a command: if it succeeded, and if it failed.
pub(super) type Outcome = (Cwds, Cwds);

fn same(c: Cwds) -> Outcome {
    (c.clone(), c)
}

/// What the command does, accumulated over all its parts.
#[derive(Debug, Default)]
pub(super) struct Effects {
    pub deps: Vec<Dep<DepPath>>,
    pub writes: Vec<DepPath>,
    /// Its output depends on something not tracked (an environment variable, the time).
    pub dynamic: Option<String>,
    /// Project commands walked, and the outputs they declare.
    pub projects: usize,
    pub outputs: Vec<String>,
}

/// The classifier's state while it walks one command.
pub(super) struct Walker<'a> {
    pub root: &'a Path,
    pub config: &'a ShellConfig,
    pub fx: Effects,
    /// Nesting of scripts within scripts (`$(...)`, `bash -c`, `find -exec`).
    depth: usize,
}

impl<'a> Walker<'a> {
    pub fn new(root: &'a Path, config: &'a ShellConfig) -> Self {
        Walker {
            root,
            config,
            fx: Effects::default(),
            depth: 0,
        }
    }

    /// The class of everything walked so far.
    pub fn finish(self) -> ShellClass {
        let Effects {
            mut deps,
            mut writes,
            dynamic,
            projects,
            mut outputs,
        } = self.fx;
        if !writes.is_empty() {
            writes.sort();
            writes.dedup();
            return ShellClass::Write { paths: writes };
        }
        if let Some(what) = dynamic {
            return ShellClass::Opaque {
                reason: format!("its output depends on {what}, which the cache does not track"),
            };
        }
        // A subtree dependency makes an exact one of the same path redundant.
        deps.sort_by(|a, b| a.dep.cmp(&b.dep).then(b.scope.cmp(&a.scope)));
        deps.dedup_by(|later, first| later.dep == first.dep);
        if projects > 0 {
            outputs.sort();
            outputs.dedup();
            return ShellClass::Project { deps, outputs };
        }
        ShellClass::Read { deps }
    }

    /// The initial directory: `cwd` (absolute, or relative to the root), or the root.
    pub fn initial_cwd(&self, cwd: Option<&str>) -> Cwds {
        match cwd {
            None => Cwds::one(DepPath::root()),
            Some(c) if c.starts_with('~') => Cwds::one(DepPath::in_workspace(self.root, c)),
            Some(c) => Cwds::one(DepPath::in_workspace(self.root, self.root.join(c))),
        }
    }

    /// Parses and walks a script (the command, a `$(...)`, a `bash -c` script).
    pub fn script(&mut self, src: &str, cwds: Cwds) -> Result<Cwds, Reason> {
        if self.depth >= MAX_NESTING {
            return Err(format!("scripts nest deeper than {MAX_NESTING} levels"));
        }
        let program = parse::parse_program(src)?;
        self.parsed(&program, cwds)
    }

    /// Walks a script parsed already (one parse, several walks).
    pub fn parsed(&mut self, program: &Program, cwds: Cwds) -> Result<Cwds, Reason> {
        if self.depth >= MAX_NESTING {
            return Err(format!("scripts nest deeper than {MAX_NESTING} levels"));
        }
        self.depth += 1;
        let r = self.program(program, cwds);
        self.depth -= 1;
        r
    }

    /// Runs `f` one script level deeper (a `find -exec`, a wrapper's command).
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Reason>) -> Result<T, Reason> {
        if self.depth >= MAX_NESTING {
            return Err(format!("commands nest deeper than {MAX_NESTING} levels"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn program(&mut self, p: &Program, mut cwds: Cwds) -> Result<Cwds, Reason> {
        for list in &p.complete_commands {
            cwds = self.list(list, cwds)?;
        }
        Ok(cwds)
    }

    fn list(&mut self, list: &CompoundList, mut cwds: Cwds) -> Result<Cwds, Reason> {
        for item in &list.0 {
            if matches!(item.1, SeparatorOperator::Async) {
                return Err("it runs a command in the background (`&`)".into());
            }
            cwds = self.and_or(&item.0, cwds)?;
        }
        Ok(cwds)
    }

    /// `a && b || c`: `b` runs where `a` succeeded, `c` where `a` or `b` failed.
    fn and_or(&mut self, list: &AndOrList, cwds: Cwds) -> Result<Cwds, Reason> {
        let (mut ok, mut fail) = self.pipeline(&list.first, cwds)?;
        for next in &list.additional {
            match next {
                AndOr::And(p) => {
                    let (o, f) = self.pipeline(p, ok)?;
                    ok = o;
                    fail = fail.union(f);
                }
                AndOr::Or(p) => {
                    let (o, f) = self.pipeline(p, fail)?;
                    ok = ok.union(o);
                    fail = f;
                }
            }
        }
        Ok(ok.union(fail))
    }

    fn pipeline(&mut self, p: &Pipeline, cwds: Cwds) -> Result<Outcome, Reason> {
        if p.timed.is_some() {
            return Err("`time` reports durations".into());
        }
        let (ok, fail) = if let [only] = p.seq.as_slice() {
            self.command(only, cwds)?
        } else {
            // Every part of a pipeline runs in a subshell: a `cd` there is lost.
            for c in &p.seq {
                self.command(c, cwds.clone())?;
            }
            same(cwds)
        };
        Ok(if p.bang { (fail, ok) } else { (ok, fail) })
    }

    fn command(&mut self, c: &Command, cwds: Cwds) -> Result<Outcome, Reason> {
        match c {
            Command::Simple(sc) => self.simple(sc, cwds),
            Command::Compound(cc, redirects) => {
                if let Some(r) = redirects {
                    for io in &r.0 {
                        self.redirect(io, &cwds)?;
                    }
                }
                self.compound(cc, cwds).map(same)
            }
            Command::Function(_) => Err("it defines a shell function".into()),
            Command::ExtendedTest(t, redirects) => {
                if let Some(r) = redirects {
                    for io in &r.0 {
                        self.redirect(io, &cwds)?;
                    }
                }
                self.extended_test(&t.expr, &cwds, 0)?;
                Ok(same(cwds))
            }
        }
    }

    fn compound(&mut self, c: &CompoundCommand, cwds: Cwds) -> Result<Cwds, Reason> {
        match c {
            CompoundCommand::BraceGroup(g) => self.list(&g.list, cwds),
            CompoundCommand::Subshell(s) => {
                self.list(&s.list, cwds.clone())?;
                Ok(cwds)
            }
            CompoundCommand::IfClause(i) => {
                let after_cond = self.list(&i.condition, cwds)?;
                let mut end = self.list(&i.then, after_cond.clone())?;
                let mut next = after_cond;
                let mut has_else = false;
                for e in i.elses.iter().flatten() {
                    let here = match &e.condition {
                        Some(cond) => self.list(cond, next.clone())?,
                        None => {
                            has_else = true;
                            next.clone()
                        }
                    };
                    end = end.union(self.list(&e.body, here.clone())?);
                    next = here;
                }
                Ok(if has_else { end } else { end.union(next) })
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => self.repeated(cwds, |me, c| {
                let c = me.list(&w.0, c)?;
                me.list(&w.1.list, c)
            }),
            CompoundCommand::ForClause(f) => {
                for v in f.values.iter().flatten() {
                    let w = self.word(&v.value, &cwds)?;
                    self.glob_dep(&w, &cwds);
                }
                self.repeated(cwds, |me, c| me.list(&f.body.list, c))
            }
            CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, &cwds)?;
                let mut end = cwds.clone();
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, &cwds)?;
                    }
                    if let Some(body) = &item.cmd {
                        end = end.union(self.list(body, cwds.clone())?);
                    }
                }
                Ok(end)
            }
            CompoundCommand::Arithmetic(_) | CompoundCommand::ArithmeticForClause(_) => {
                Err("it evaluates shell arithmetic".into())
            }
            CompoundCommand::Coprocess(_) => Err("it starts a coprocess".into()),
        }
    }

    /// A loop body: if it may change the directory, later iterations run
    /// somewhere unknown, so it is walked again from there.
    fn repeated(
        &mut self,
        cwds: Cwds,
        mut body: impl FnMut(&mut Self, Cwds) -> Result<Cwds, Reason>,
    ) -> Result<Cwds, Reason> {
        let end = body(self, cwds.clone())?;
        if end == cwds {
            return Ok(cwds);
        }
        body(self, Cwds::Unknown)?;
        Ok(Cwds::Unknown)
    }

    fn extended_test(&mut self, e: &ExtendedTestExpr, cwds: &Cwds, depth: usize) -> Result<(), Reason> {
        if depth > MAX_NESTING {
            return Err("a `[[ ]]` test nests too deeply".into());
        }
        match e {
            ExtendedTestExpr::And(a, b) | ExtendedTestExpr::Or(a, b) => {
                self.extended_test(a, cwds, depth + 1)?;
                self.extended_test(b, cwds, depth + 1)
            }
            ExtendedTestExpr::Not(a) | ExtendedTestExpr::Parenthesized(a) => self.extended_test(a, cwds, depth + 1),
            ExtendedTestExpr::UnaryTest(pred, w) => {
                let w = self.word(&w.value, cwds)?;
                if is_file_test(pred) {
                    self.read(&w, Scope::Exact, cwds);
                }
                Ok(())
            }
            ExtendedTestExpr::BinaryTest(_, l, r) => {
                // Only `-nt`, `-ot` and `-ef` look at files; depending on the
                // other operands' paths too is harmless.
                for w in [l, r] {
                    let w = self.word(&w.value, cwds)?;
                    if w.is_exact() && !w.text.is_empty() {
                        self.read(&w, Scope::Exact, cwds);
                    }
                }
                Ok(())
            }
        }
    }

    fn simple(&mut self, sc: &SimpleCommand, cwds: Cwds) -> Result<Outcome, Reason> {
        let mut words = Vec::new();
        let mut env = Vec::new();
        let items = sc
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .map(|i| (Some(i), true))
            .chain(std::iter::once((None, false)))
            .chain(sc.suffix.iter().flat_map(|s| s.0.iter()).map(|i| (Some(i), false)));
        for (item, in_prefix) in items {
            match item {
                None => {
                    if let Some(name) = &sc.word_or_name {
                        words.push(self.word(&name.value, &cwds)?);
                    }
                }
                Some(CommandPrefixOrSuffixItem::Word(w)) => words.push(self.word(&w.value, &cwds)?),
                Some(CommandPrefixOrSuffixItem::IoRedirect(io)) => self.redirect(io, &cwds)?,
                // After the command name, `x=1` is an ordinary argument
                // (`awk ... x=1`, `make X=1`).
                Some(CommandPrefixOrSuffixItem::AssignmentWord(_, w)) if !in_prefix => {
                    words.push(self.word(&w.value, &cwds)?)
                }
                Some(CommandPrefixOrSuffixItem::AssignmentWord(a, w)) => {
                    // The value's substitutions run; the assignment itself
                    // changes no file.
                    let raw = w.value.split_once('=').map_or("", |(_, v)| v);
                    self.word(raw, &cwds)?;
                    env.push(a.name.to_string());
                }
                Some(CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub)) => {
                    self.list(&sub.list, cwds.clone())?;
                    words.push(Word {
                        procsub: true,
                        ..Word::default()
                    });
                }
            }
        }
        if words.is_empty() {
            // Assignments only: they matter to later commands through `$NAME`,
            // which is dynamic anyway, except for a few the shell itself uses.
            if let Some(n) = env.iter().find(|n| SHELL_VARS.contains(&n.as_str())) {
                return Err(format!("it sets `{n}`, which changes how the shell runs what follows"));
            }
            return Ok(same(cwds));
        }
        if let Some(n) = env.iter().find(|n| !self.config.env_is_safe(n)) {
            return Err(format!(
                "it sets `{n}` for `{}`, which may change what it does",
                short(&words[0].text)
            ));
        }
        self.argv(&words, cwds)
    }

    /// A word of the AST: lowered, its substitutions walked.
    pub fn word(&mut self, raw: &str, cwds: &Cwds) -> Result<Word, Reason> {
        let w = lower_word(raw)?;
        self.substitutions(&w, cwds)?;
        Ok(w)
    }

    /// Walks the command substitutions of `w` (each in a subshell).
    pub fn substitutions(&mut self, w: &Word, cwds: &Cwds) -> Result<(), Reason> {
        for s in &w.substitutions {
            self.script(s, cwds.clone())?;
        }
        Ok(())
    }

    fn redirect(&mut self, io: &IoRedirect, cwds: &Cwds) -> Result<(), Reason> {
        match io {
            IoRedirect::File(_, kind, target) => match target {
                IoFileRedirectTarget::Filename(w) => {
                    let w = self.word(&w.value, cwds)?;
                    match kind {
                        IoFileRedirectKind::Read => {
                            self.read(&w, Scope::Exact, cwds);
                            Ok(())
                        }
                        IoFileRedirectKind::DuplicateInput => Ok(()),
                        _ => self.write(&w, cwds),
                    }
                }
                IoFileRedirectTarget::Fd(_) => Ok(()),
                IoFileRedirectTarget::Duplicate(w) => {
                    let w = self.word(&w.value, cwds)?;
                    let t = w.text.trim_end_matches('-');
                    if w.is_exact() && t.bytes().all(|b| b.is_ascii_digit()) {
                        return Ok(()); // `2>&1`, `>&2`, `<&0`, `3>&-`
                    }
                    match kind {
                        // `>& file` sends both outputs to `file`.
                        IoFileRedirectKind::DuplicateOutput => self.write(&w, cwds),
                        _ => Err(format!("cannot tell what `{}` redirects", short(&io.to_string()))),
                    }
                }
                IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    self.list(&sub.list, cwds.clone())?;
                    Ok(())
                }
            },
            IoRedirect::HereDocument(_, doc) => {
                if doc.requires_expansion {
                    let w = lower_heredoc(&doc.doc.value)?;
                    self.substitutions(&w, cwds)?;
                    self.note_dynamic(&w);
                }
                Ok(())
            }
            IoRedirect::HereString(_, w) => {
                let w = self.word(&w.value, cwds)?;
                self.note_dynamic(&w);
                Ok(())
            }
            IoRedirect::OutputAndError(w, _) => {
                let w = self.word(&w.value, cwds)?;
                self.write(&w, cwds)
            }
        }
    }

    /// Records that the output depends on what `w` depends on.
    pub fn note_dynamic(&mut self, w: &Word) {
        if self.fx.dynamic.is_none() {
            self.fx.dynamic.clone_from(&w.dynamic);
        }
    }

    /// Marks the output as depending on something untracked.
    pub fn dynamic(&mut self, what: impl Into<String>) {
        if self.fx.dynamic.is_none() {
            self.fx.dynamic = Some(what.into());
        }
    }

    /// The paths `w` names, from each possible current directory: `None` if
    /// they cannot be known. A glob names the subtree of its literal prefix.
    pub fn paths(&self, w: &Word, cwds: &Cwds) -> Option<(Vec<DepPath>, bool)> {
        if !w.is_exact() {
            return None;
        }
        let (text, glob) = match w.glob {
            Some(i) => {
                let cut = w.text[..i].rfind('/').map_or(0, |j| j + 1);
                (&w.text[..cut], true)
            }
            None => (w.text.as_str(), false),
        };
        if w.tilde || Path::new(text).is_absolute() {
            return Some((vec![DepPath::in_workspace(self.root, text)], glob));
        }
        match cwds {
            Cwds::Unknown => None,
            Cwds::Known(dirs) => Some((
                dirs.iter()
                    .map(|d| {
                        let mut full = self.root.join(d.as_path());
                        if text.starts_with('~') {
                            full.push("."); // a quoted `~` is a file named `~`
                        }
                        DepPath::in_workspace(self.root, full.join(text))
                    })
                    .collect(),
                glob,
            )),
        }
    }

    /// `w` is a path read with `scope`.
    pub fn read(&mut self, w: &Word, scope: Scope, cwds: &Cwds) {
        if w.procsub {
            return;
        }
        if let Some(what) = &w.dynamic {
            return self.dynamic(what.clone());
        }
        match self.paths(w, cwds) {
            None if !w.is_exact() => self.dynamic(format!("a path known only when it runs (`{}`…)", short(&w.text))),
            None => self.dynamic("a relative path in an unknown directory"),
            Some((paths, glob)) => {
                for p in paths {
                    if let Some(why) = special_file(&p) {
                        match why {
                            Special::Null => {}
                            Special::Volatile => self.dynamic(format!("`{p}`")),
                        }
                        continue;
                    }
                    let scope = if glob { Scope::Subtree } else { scope };
                    self.fx.deps.push(Dep { dep: p, scope });
                }
            }
        }
    }

    /// `w`, if a glob, makes the command depend on the files it matches (even
    /// where the command does not read it as a path: `grep foo*`).
    pub fn glob_dep(&mut self, w: &Word, cwds: &Cwds) {
        if w.glob.is_some() {
            self.read(w, Scope::Subtree, cwds);
        }
    }

    /// `w` is a path the command changes.
    pub fn write(&mut self, w: &Word, cwds: &Cwds) -> Result<(), Reason> {
        if w.procsub {
            return Ok(());
        }
        match self.paths(w, cwds) {
            None if !w.is_exact() => Err(format!(
                "it writes a path known only when it runs (`{}`…)",
                short(&w.text)
            )),
            None => Err("it writes a relative path in an unknown directory".into()),
            Some((paths, _)) => {
                for p in paths {
                    match special_file(&p) {
                        Some(Special::Null) => {}
                        // A write to a device or kernel file is a side effect we do not track.
                        Some(Special::Volatile) => {
                            return Err(format!(
                                "it writes a device or kernel file (`{}`)",
                                p.as_path().display()
                            ))
                        }
                        None => self.fx.writes.push(p),
                    }
                }
                Ok(())
            }
        }
    }

    /// A fixed path relative to the workspace root.
    pub fn root_path(&self, p: &str) -> DepPath {
        DepPath::in_workspace(self.root, self.root.join(p))
    }
}

/// Shell variables whose assignment changes how the shell runs what follows.
const SHELL_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "IFS",
    "CDPATH",
    "BASH_ENV",
    "ENV",
    "PWD",
    "OLDPWD",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
];

fn is_file_test(p: &UnaryPredicate) -> bool {
    !matches!(
        p,
        UnaryPredicate::StringHasZeroLength
            | UnaryPredicate::StringHasNonZeroLength
            | UnaryPredicate::ShellOptionEnabled
            | UnaryPredicate::ShellVariableIsSetAndAssigned
            | UnaryPredicate::ShellVariableIsSetAndNameRef
            | UnaryPredicate::FdIsOpenTerminal
    )
}

pub(super) enum Special {
    /// `/dev/null`, the standard streams: no file.
    Null,
    /// Devices and kernel files whose content changes by itself.
    Volatile,
}

/// Paths that are not files of the workspace.
pub(super) fn special_file(p: &DepPath) -> Option<Special> {
    let p = p.as_path();
    const NULL: &[&str] = &[
        "/dev/null",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/tty",
        "/dev/zero",
    ];
    if NULL.iter().any(|n| p == Path::new(n)) || p.starts_with("/dev/fd") {
        return Some(Special::Null);
    }
    if p.starts_with("/dev") || p.starts_with("/proc") || p.starts_with("/sys") {
        return Some(Special::Volatile);
    }
    None
}
