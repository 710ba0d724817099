//! Commands whose effect depends on their options or on a program they are
//! given: `cd`, the shell's own commands, wrappers (`env`, `timeout`,
//! `bash -c`), `sed`, `awk`, `perl`, `find`, `git`, `ls`, `stat`, `cp`, `ln`,
//! `patch`.

use super::args::{self, Arg};
use super::commands::inside;
use super::config::{CommandSpec, NoOperand};
use super::parse::{short, Reason, Word};
use super::scripts::{awk_is_safe, perl_is_safe, sed_is_safe};
use super::walk::{Cwds, Outcome, Walker};
use crate::{Dep, DepPath, Scope};

impl Walker<'_> {
    /// Classifies `name args` if it is one of the special commands.
    pub(super) fn special(&mut self, name: &str, args: &[Word], cwds: &Cwds) -> Result<Option<Outcome>, Reason> {
        let done = |c: &Cwds| Ok(Some((c.clone(), c.clone())));
        match name {
            "cd" | "pushd" => self.cd(args, cwds).map(Some),
            "popd" => Ok(Some((Cwds::Unknown, cwds.clone()))),
            // Output is a function of the words alone.
            "echo" | "true" | "false" | ":" | "exit" | "return" | "printf" => {
                for w in args {
                    self.note_dynamic(w);
                    self.glob_dep(w, cwds);
                    if name == "printf" && w.text.contains("%(") {
                        self.dynamic("the current time (`printf %(...)T`)");
                    }
                }
                done(cwds)
            }
            "jq" => self.jq(args, cwds).map(|()| Some((cwds.clone(), cwds.clone()))),
            "pwd" => {
                if *cwds == Cwds::Unknown {
                    self.dynamic("the unknown current directory");
                }
                done(cwds)
            }
            "set" => {
                let mut it = args.iter();
                while let Some(w) = it.next() {
                    let t = w.text.as_str();
                    if !w.is_exact() || !(t.starts_with('-') || t.starts_with('+')) {
                        return Err("`set` with operands changes the positional parameters".into());
                    }
                    if t.len() > 1 && t.ends_with('o') {
                        it.next(); // `-o pipefail`, `-euo pipefail`
                    }
                }
                done(cwds)
            }
            "test" | "[" => {
                const OPS: &[&str] = &[
                    "!", "(", ")", "-a", "-o", "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge",
                    "-nt", "-ot", "-ef", "]",
                ];
                for w in args {
                    self.note_dynamic(w);
                    self.glob_dep(w, cwds);
                    let unary = w.text.len() == 2 && w.text.starts_with('-');
                    if w.is_exact() && !w.text.is_empty() && !unary && !OPS.contains(&w.text.as_str()) {
                        // Maybe a file, maybe a string: depending on it is harmless.
                        self.read(w, Scope::Exact, cwds);
                    }
                }
                done(cwds)
            }
            "command" | "builtin" | "exec" | "nice" | "stdbuf" | "timeout" | "env" => {
                self.wrapper(name, args, cwds).map(Some)
            }
            "bash" | "sh" | "dash" => self.shell(name, args, cwds).map(Some),
            "xargs" => Err("`xargs` runs a command on arguments known only when it runs".into()),
            "sed" => self.sed(args, cwds).and_then(|()| done(cwds)),
            "awk" | "gawk" | "mawk" | "nawk" => self.awk(name, args, cwds).and_then(|()| done(cwds)),
            "perl" => self.perl(args, cwds).and_then(|()| done(cwds)),
            "find" => self.find(args, cwds).and_then(|()| done(cwds)),
            "git" => self.git(args, cwds).and_then(|()| done(cwds)),
            "ls" => self.ls(args, cwds).and_then(|()| done(cwds)),
            "stat" => self.stat(args, cwds).and_then(|()| done(cwds)),
            "cp" => self.cp(args, cwds).and_then(|()| done(cwds)),
            "ln" => self.ln(args, cwds).and_then(|()| done(cwds)),
            "patch" => self.patch(args, cwds).and_then(|()| done(cwds)),
            _ => Ok(None),
        }
    }

    /// `cd DIR`: where it succeeds, the directory is DIR; it depends on DIR
    /// (whether it exists decides what runs next, and where).
    fn cd(&mut self, args: &[Word], cwds: &Cwds) -> Result<Outcome, Reason> {
        let mut ops = args
            .iter()
            .filter(|w| !(w.is_exact() && w.text.len() > 1 && w.text.starts_with('-')));
        let home;
        let target = match ops.next() {
            Some(w) => w,
            None if std::env::var_os("HOME").is_some() => {
                home = Word {
                    tilde: true,
                    ..Word::literal("~")
                };
                &home
            }
            None => return Ok((Cwds::Unknown, cwds.clone())),
        };
        if target.is_exact() && (target.text == "-" || target.text.starts_with('+')) {
            return Ok((Cwds::Unknown, cwds.clone()));
        }
        if target.is_exact() && target.text.is_empty() {
            return Ok((cwds.clone(), cwds.clone()));
        }
        let ok = match self.paths(target, cwds) {
            Some((dirs, false)) => {
                for d in &dirs {
                    self.fx.deps.push(Dep::exact(d.clone()));
                }
                Cwds::Known(vec![]).union(Cwds::Known(dirs))
            }
            _ => {
                self.note_dynamic(target);
                Cwds::Unknown
            }
        };
        Ok((ok, cwds.clone()))
    }

    /// Commands that run another command: the inner command decides.
    fn wrapper(&mut self, name: &str, args: &[Word], cwds: &Cwds) -> Result<Outcome, Reason> {
        let mut i = 0;
        let opt = |w: &Word| w.is_exact() && w.text.starts_with('-') && w.text.len() > 1;
        match name {
            "command" | "builtin" => {
                while i < args.len() && opt(&args[i]) {
                    if args[i].text.contains(['v', 'V']) {
                        return Err(format!("`{name} -v` looks commands up in PATH"));
                    }
                    i += 1;
                }
            }
            "exec" if args.first().is_some_and(opt) => return Err("`exec` with options".into()),
            "nice" | "stdbuf" => {
                while i < args.len() && opt(&args[i]) {
                    let t = &args[i].text;
                    i += 1;
                    // `-n 5`, `-o L`: a separate value.
                    if matches!(t.as_str(), "-n" | "-i" | "-o" | "-e" | "--adjustment") {
                        i += 1;
                    }
                }
                if i == 0 && name == "nice" && args.is_empty() {
                    return Err("`nice` alone prints the scheduling priority".into());
                }
            }
            "timeout" => {
                while i < args.len() && opt(&args[i]) {
                    let t = &args[i].text;
                    i += 1;
                    if matches!(t.as_str(), "-s" | "-k" | "--signal" | "--kill-after") {
                        i += 1;
                    }
                }
                i += 1; // the duration
            }
            "env" => {
                while i < args.len() {
                    let w = &args[i];
                    let t = w.text.as_str();
                    if !w.is_exact() {
                        return Err("`env` with an argument known only when it runs".into());
                    }
                    if t == "-i" || t == "--ignore-environment" || t == "-0" || t == "--null" {
                        i += 1;
                    } else if t == "-u" || t == "--unset" {
                        i += 2;
                    } else if t.starts_with("--unset=") || (t.starts_with("-u") && t.len() > 2) {
                        i += 1;
                    } else if t.starts_with('-') {
                        return Err(format!("`env {}` is not understood", short(t)));
                    } else if let Some((var, _)) = t.split_once('=') {
                        if !self.config.env_is_safe(var) {
                            return Err(format!(
                                "it sets `{}`, which may change what the command does",
                                short(var)
                            ));
                        }
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= args.len() {
                    return Err("`env` alone prints the environment".into());
                }
            }
            _ => {}
        }
        let rest = args.get(i..).unwrap_or(&[]);
        if rest.is_empty() {
            return Ok((cwds.clone(), cwds.clone()));
        }
        self.nested(|me| me.argv(rest, cwds.clone()))
    }

    /// `bash -c SCRIPT` (also `sh`, `dash`; `-l`, `-e`, `-x`, `-o opt` allowed):
    /// the script, in a child shell.
    fn shell(&mut self, name: &str, args: &[Word], cwds: &Cwds) -> Result<Outcome, Reason> {
        let mut i = 0;
        let mut command = false;
        while i < args.len() {
            let w = &args[i];
            let t = w.text.as_str();
            if !w.is_exact() {
                return Err(format!("`{name}` with an argument known only when it runs"));
            }
            if t == "--" {
                i += 1;
                break;
            }
            if matches!(t, "--login" | "--norc" | "--noprofile" | "--posix" | "--noediting") {
                i += 1;
                continue;
            }
            if t.starts_with("--") || !(t.starts_with('-') || t.starts_with('+')) || t.len() < 2 {
                break;
            }
            i += 1;
            for c in t[1..].chars() {
                match c {
                    'c' => command = true,
                    'o' | 'O' => i += 1,
                    'e' | 'x' | 'u' | 'l' | 'v' | 'f' | 'h' | 'B' | 'C' | 'H' | 'P' | 'T' | 'E' | 'a' | 'b' | 'k'
                    | 'm' | 'n' | 't' | 'p' => {}
                    _ => return Err(format!("`{name} -{c}` is not understood")),
                }
            }
        }
        if !command {
            return Err(format!("`{name}` runs a script file or standard input"));
        }
        let Some(script) = args.get(i) else {
            return Err(format!("`{name} -c` without a script"));
        };
        for w in &args[i + 1..] {
            self.note_dynamic(w);
        }
        let script = script.text.clone();
        self.script(&script, cwds.clone())?;
        Ok((cwds.clone(), cwds.clone()))
    }

    /// `sed`: a read, or with `-i` a write of its files; its script must be safe.
    fn sed(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        let mut scripts: Vec<String> = Vec::new();
        let mut in_place: Option<String> = None;
        let mut ops: Vec<&Word> = Vec::new();
        let mut only_ops = false;
        let mut i = 0;
        while i < args.len() {
            let w = &args[i];
            i += 1;
            let t = w.text.as_str();
            if only_ops || !w.may_be_option() || t == "-" {
                ops.push(w);
                continue;
            }
            if !w.is_exact() {
                return Err(format!("cannot tell whether `{}`… is an option of `sed`", short(t)));
            }
            if t == "--" {
                only_ops = true;
            } else if let Some(long) = t.strip_prefix("--") {
                let (n, v) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                match n {
                    "expression" => match v {
                        Some(v) => scripts.push(v.to_string()),
                        None => {
                            let s = args.get(i).ok_or("`sed --expression` without a script")?;
                            self.note_dynamic(s);
                            scripts.push(s.text.clone());
                            i += 1;
                        }
                    },
                    "in-place" => in_place = Some(v.unwrap_or("").to_string()),
                    "line-length" => {
                        if v.is_none() {
                            i += 1;
                        }
                    }
                    "quiet" | "silent" | "regexp-extended" | "separate" | "unbuffered" | "null-data" | "posix"
                    | "debug" | "sandbox" | "follow-symlinks" => {}
                    _ => return Err(format!("`sed --{n}` is not understood")),
                }
            } else {
                let body = &t[1..];
                for (j, c) in body.char_indices() {
                    let rest = &body[j + c.len_utf8()..];
                    match c {
                        'n' | 'E' | 'r' | 's' | 'u' | 'z' => continue,
                        'i' => in_place = Some(rest.to_string()),
                        'e' | 'l' => {
                            let value = if rest.is_empty() {
                                let s = args.get(i).ok_or("`sed -e` without a script")?;
                                i += 1;
                                self.note_dynamic(s);
                                if !s.is_exact() {
                                    return Err("a sed script known only when it runs".into());
                                }
                                s.text.clone()
                            } else {
                                rest.to_string()
                            };
                            if c == 'e' {
                                scripts.push(value);
                            }
                        }
                        'f' => return Err("`sed -f` runs a script file".into()),
                        _ => return Err(format!("`sed -{c}` is not understood")),
                    }
                    break;
                }
            }
        }
        if scripts.is_empty() {
            if ops.is_empty() {
                return Err("`sed` without a script".into());
            }
            let s = ops.remove(0);
            if !s.is_exact() {
                self.note_dynamic(s);
                return Err("a sed script known only when it runs".into());
            }
            scripts.push(s.text.clone());
        }
        if let Some(s) = scripts.iter().find(|s| !sed_is_safe(s)) {
            return Err(format!("the sed script `{}` may write files or run commands", short(s)));
        }
        match in_place {
            Some(suffix) => {
                self.require_exact("sed -i", args)?;
                for f in ops {
                    self.write(f, cwds)?;
                    self.backup(f, &suffix, cwds)?;
                }
            }
            None => {
                for w in args {
                    self.note_dynamic(w);
                }
                for f in ops {
                    self.glob_dep(f, cwds);
                    if !(f.is_exact() && f.text == "-") {
                        self.read(f, Scope::Exact, cwds);
                    }
                }
            }
        }
        Ok(())
    }

    /// The backup file `-i SUFFIX` makes of `f` (`sed`, `perl`).
    fn backup(&mut self, f: &Word, suffix: &str, cwds: &Cwds) -> Result<(), Reason> {
        if suffix.is_empty() {
            return Ok(());
        }
        if suffix.contains(['*', '/']) {
            // A name pattern or another directory: the parent, and everything below.
            let parent = match f.text.rfind('/') {
                Some(i) => Word::literal(&f.text[..i]),
                None => Word::literal("."),
            };
            return self.write(&parent, cwds);
        }
        let mut b = f.clone();
        b.text.push_str(suffix);
        self.write(&b, cwds)
    }

    /// `awk PROGRAM FILES...`: a read if the program is safe.
    fn awk(&mut self, name: &str, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        let split = args::split(
            args,
            &[
                "-F",
                "-v",
                "-f",
                "-e",
                "--source",
                "--field-separator",
                "--assign",
                "--file",
            ],
        );
        let mut programs = Vec::new();
        for (arg, word) in &split {
            self.note_dynamic(word);
            if !word.is_exact() && word.may_be_option() {
                return Err(format!(
                    "cannot tell whether `{}`… is an option of `{name}`",
                    short(&word.text)
                ));
            }
            if let Arg::Opt { name: o, value } = arg {
                match o.as_str() {
                    "-f" | "--file" => return Err(format!("`{name} -f` runs a program file")),
                    "-e" | "--source" => {
                        programs.push(value.as_ref().map(|v| v.text().to_string()).unwrap_or_default())
                    }
                    "-F"
                    | "-v"
                    | "--field-separator"
                    | "--assign"
                    | "--posix"
                    | "--traditional"
                    | "--characters-as-bytes"
                    | "--re-interval"
                    | "-b"
                    | "-P"
                    | "-c"
                    | "-r"
                    | "--sandbox"
                    | "-S" => {}
                    _ => return Err(format!("`{name} {o}` is not understood")),
                }
            }
        }
        let mut ops = args::operands(&split).into_iter();
        if programs.is_empty() {
            let p = ops.next().ok_or_else(|| format!("`{name}` without a program"))?;
            if !p.is_exact() {
                return Err(format!("an {name} program known only when it runs"));
            }
            programs.push(p.text.clone());
        }
        if let Some(p) = programs.iter().find(|p| !awk_is_safe(p)) {
            return Err(format!(
                "the {name} program `{}` may write files or run commands",
                short(p)
            ));
        }
        for f in ops {
            self.glob_dep(f, cwds);
            // `var=value` operands are assignments, not files.
            let assignment = f
                .text
                .split_once('=')
                .is_some_and(|(v, _)| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            let stdin = f.is_exact() && f.text == "-";
            if !(assignment || stdin) {
                self.read(f, Scope::Exact, cwds);
            }
        }
        Ok(())
    }

    /// `perl -e PROGRAM`: with `-i`, a write of its files; otherwise a read of
    /// them. The program must be safe.
    fn perl(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("perl", args)?;
        let mut programs = Vec::new();
        let mut in_place: Option<String> = None;
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if !t.starts_with('-') || t == "-" {
                break;
            }
            i += 1;
            if t == "--" {
                break;
            }
            let body: Vec<char> = t[1..].chars().collect();
            let mut j = 0;
            while j < body.len() {
                let c = body[j];
                j += 1;
                let rest: String = body[j..].iter().collect();
                match c {
                    'n' | 'p' | 'a' | 's' | 'w' | 'W' | 'X' | 't' | 'T' | 'U' => {}
                    'l' | '0' | 'C' => {
                        while j < body.len() && body[j].is_ascii_hexdigit() || (j < body.len() && body[j] == 'x') {
                            j += 1;
                        }
                    }
                    'i' => {
                        in_place = Some(rest);
                        break;
                    }
                    'F' => break,
                    'e' | 'E' => {
                        if rest.is_empty() {
                            let p = args.get(i).ok_or("`perl -e` without a program")?;
                            programs.push(p.text.clone());
                            i += 1;
                        } else {
                            programs.push(rest);
                        }
                        break;
                    }
                    'I' => {
                        if rest.is_empty() {
                            i += 1;
                        }
                        break;
                    }
                    _ => return Err(format!("`perl -{c}` is not understood")),
                }
            }
        }
        if programs.is_empty() {
            return Err("`perl` runs a script file".into());
        }
        if let Some(p) = programs.iter().find(|p| !perl_is_safe(p)) {
            return Err(format!(
                "the perl program `{}` may write files or run commands",
                short(p)
            ));
        }
        let files = &args[i..];
        match in_place {
            Some(suffix) => {
                for f in files {
                    self.write(f, cwds)?;
                    self.backup(f, &suffix, cwds)?;
                }
            }
            None => {
                for f in files {
                    self.glob_dep(f, cwds);
                    if f.text != "-" {
                        self.read(f, Scope::Exact, cwds);
                    }
                }
            }
        }
        Ok(())
    }

    /// `find DIRS EXPR`: a read of the subtrees of DIRS; `-delete` and writing
    /// `-exec` commands make it a write of them; `-exec` of a reader stays a read.
    fn find(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("find", args)?;
        let mut i = 0;
        while i < args.len()
            && matches!(
                args[i].text.as_str(),
                "-H" | "-L" | "-P" | "-D" | "-O" | "-O0" | "-O1" | "-O2" | "-O3"
            )
        {
            if args[i].text == "-D" {
                i += 1;
            }
            i += 1;
        }
        let mut starts = Vec::new();
        while i < args.len() {
            let t = args[i].text.as_str();
            if t.starts_with('-') || t == "(" || t == "!" || t == ")" || t == "," {
                break;
            }
            starts.push(args[i].clone());
            i += 1;
        }
        if starts.is_empty() {
            starts.push(Word::literal("."));
        }
        for s in &starts {
            self.read(s, Scope::Subtree, cwds);
        }
        let mut writes_starts = false;
        while i < args.len() {
            let t = args[i].text.as_str();
            i += 1;
            let next = args.get(i);
            match t {
                "-delete" => writes_starts = true,
                "-ok" | "-okdir" => return Err(format!("`find {t}` asks questions")),
                "-files0-from" => return Err("`find -files0-from` reads start points from a file".into()),
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    let f = next.ok_or_else(|| format!("`find {t}` without a file"))?;
                    self.write(f, cwds)?;
                    i += if t == "-fprintf" { 2 } else { 1 };
                }
                "-amin" | "-atime" | "-cmin" | "-ctime" | "-mmin" | "-mtime" | "-used" | "-anewer" => {
                    self.dynamic(format!("the current time or access times (`find {t}`)"));
                    i += 1;
                }
                "-newer" | "-cnewer" | "-samefile" => {
                    if let Some(f) = next {
                        self.read(f, Scope::Exact, cwds);
                    }
                    i += 1;
                }
                "-printf" => {
                    if next.is_some_and(|f| f.text.contains("%a") || f.text.contains("%A")) {
                        self.dynamic("access times (`find -printf %a`)");
                    }
                    i += 1;
                }
                "-exec" | "-execdir" => {
                    let end = args[i..]
                        .iter()
                        .position(|w| w.text == ";" || w.text == "+")
                        .ok_or("`find -exec` without `;` or `+`")?;
                    let inner = &args[i..i + end];
                    i += end + 1;
                    let before = self.fx.writes.len();
                    for s in &starts {
                        // `{}` is a path below a start point: the start point
                        // stands for it (find's own dependency covers the rest).
                        let argv: Vec<Word> = inner
                            .iter()
                            .map(|w| if w.text.contains("{}") { s.clone() } else { w.clone() })
                            .collect();
                        let inner_cwds = if t == "-execdir" {
                            match self.paths(s, cwds) {
                                Some((dirs, _)) => Cwds::Known(dirs),
                                None => Cwds::Unknown,
                            }
                        } else {
                            cwds.clone()
                        };
                        self.nested(|me| me.argv(&argv, inner_cwds))?;
                    }
                    if self.fx.writes.len() > before {
                        writes_starts = true;
                    }
                }
                _ if t.starts_with("-newer") && t.len() == 8 => {
                    let (x, y) = (t.as_bytes()[6], t.as_bytes()[7]);
                    if x == b'a' || y == b'a' || y == b't' {
                        self.dynamic(format!("the current time or access times (`find {t}`)"));
                    } else if let Some(f) = next {
                        self.read(f, Scope::Exact, cwds);
                    }
                    i += 1;
                }
                "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename" | "-regex" | "-iregex"
                | "-lname" | "-ilname" | "-type" | "-xtype" | "-maxdepth" | "-mindepth" | "-size" | "-perm"
                | "-user" | "-group" | "-uid" | "-gid" | "-links" | "-inum" | "-fstype" | "-context" | "-regextype" => {
                    i += 1
                }
                _ => {}
            }
        }
        if writes_starts {
            for s in &starts {
                self.write(s, cwds)?;
            }
        }
        Ok(())
    }

    /// `ls`: the subtrees it lists. With `-a` and a long format, the `..` entry
    /// shows the parent's metadata: the parent's subtree too.
    fn ls(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        let spec = CommandSpec {
            scope: Scope::Subtree,
            no_operand: NoOperand::Cwd,
            value_options: [
                "-I",
                "-w",
                "-T",
                "--ignore",
                "--hide",
                "--format",
                "--sort",
                "--time-style",
                "--block-size",
                "--indicator-style",
                "--quoting-style",
                "--tabsize",
                "--width",
            ]
            .map(String::from)
            .to_vec(),
            deny_options: ["-u", "--time atime", "--time access", "--time use"]
                .map(String::from)
                .to_vec(),
            ..CommandSpec::default()
        };
        self.spec_read("ls", &spec, args, cwds)?;
        let split = args::split(args, &spec.value_options.iter().map(String::as_str).collect::<Vec<_>>());
        let flag = |names: &[&str]| {
            split
                .iter()
                .any(|(a, _)| matches!(a, Arg::Opt { name, .. } if names.contains(&name.as_str())))
        };
        if flag(&["-a", "-f", "--all"]) && flag(&["-l", "-s", "-i", "-g", "-n", "-o", "--size", "--inode"]) {
            let ops = args::operands(&split);
            let dot = Word::literal(".");
            let targets: Vec<&Word> = if ops.is_empty() { vec![&dot] } else { ops };
            for w in targets {
                if let Some((paths, _)) = self.paths(w, cwds) {
                    for p in paths {
                        if let Some(parent) = p.as_path().parent() {
                            self.fx.deps.push(Dep::subtree(DepPath::new(parent)));
                        } else if p == DepPath::root() {
                            let above = DepPath::in_workspace(self.root, self.root.join(".."));
                            self.fx.deps.push(Dep::subtree(above));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `stat`: a read, if its format shows no access time.
    fn stat(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        let split = args::split(args, &["-c", "--format", "--printf", "--cached"]);
        let mut format = None;
        for (a, _) in &split {
            if let Arg::Opt { name, value } = a {
                match name.as_str() {
                    "-c" | "--format" | "--printf" => format = value.as_ref().map(|v| v.text().to_string()),
                    "-f" | "--file-system" | "-t" | "--terse" => {
                        self.dynamic("file-system or access-time details (`stat -f`, `stat -t`)")
                    }
                    _ => {}
                }
            }
        }
        match format {
            None => self.dynamic("access times (plain `stat` shows them; use `stat -c`)"),
            Some(f) if f.contains("%x") || f.contains("%X") => self.dynamic("access times (`stat %x`)"),
            Some(_) => {}
        }
        let spec = CommandSpec {
            scope: Scope::Exact,
            no_operand: NoOperand::Stdin,
            value_options: ["-c", "--format", "--printf", "--cached"].map(String::from).to_vec(),
            ..CommandSpec::default()
        };
        self.spec_read("stat", &spec, args, cwds)
    }

    /// `cp SRC... DEST` / `cp -t DIR SRC...`: writes DEST (or DIR).
    fn cp(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("cp", args)?;
        let split = args::split(args, &["-t", "--target-directory", "-S", "--suffix"]);
        let mut target = None;
        let mut backup = false;
        for (a, w) in &split {
            if let Arg::Opt { name, value } = a {
                match name.as_str() {
                    "-t" | "--target-directory" => target = value.as_ref().map(|v| v.word(w)),
                    "-b" | "--backup" | "-S" | "--suffix" => backup = true,
                    _ => {}
                }
            }
        }
        let ops = args::operands(&split);
        let dest = match target {
            Some(t) => t,
            None if ops.len() >= 2 => ops[ops.len() - 1].clone(),
            None => return Ok(()), // fails: copies nothing
        };
        self.write(&dest, cwds)?;
        if backup {
            // `DEST~` or `DEST.SUFFIX`, and below a target directory.
            let parent = match dest.text.rfind('/') {
                Some(i) => Word::literal(&dest.text[..i.max(1)]),
                None => Word::literal("."),
            };
            self.write(&parent, cwds)?;
        }
        Ok(())
    }

    /// `ln`: every operand (a hard link also changes its target's link count),
    /// and with one operand the link it makes in the current directory.
    fn ln(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("ln", args)?;
        let spec = CommandSpec::default();
        self.spec_write("ln", &spec, args, cwds, false)?;
        let split = args::split(args, &["-S", "--suffix"]);
        let ops = args::operands(&split);
        let has_target_dir = split
            .iter()
            .any(|(a, _)| matches!(a, Arg::Opt { name, .. } if name == "-t" || name == "--target-directory"));
        if let ([only], false) = (ops.as_slice(), has_target_dir) {
            let base = only.text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if !base.is_empty() {
                self.write(&Word::literal(base), cwds)?;
            }
        }
        Ok(())
    }

    /// `patch [FILE [PATCHFILE]]`: writes FILE (and its `.orig`/`.rej`), or,
    /// with no FILE, the files the patch names, all below its directory (GNU
    /// patch refuses names that leave it).
    fn patch(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("patch", args)?;
        let split = args::split(
            args,
            &[
                "-p",
                "-i",
                "-o",
                "-d",
                "-r",
                "-B",
                "-Y",
                "-z",
                "-D",
                "-F",
                "-V",
                "-g",
                "--strip",
                "--input",
                "--output",
                "--directory",
                "--reject-file",
                "--prefix",
                "--basename-prefix",
                "--suffix",
                "--ifdef",
                "--fuzz",
                "--version-control",
                "--get",
                "--quoting-style",
            ],
        );
        let mut dir: Option<Word> = None;
        let mut everywhere = false;
        for (a, w) in &split {
            if let Arg::Opt { name, value } = a {
                let v = value.as_ref().map(|v| v.word(w));
                match (name.as_str(), v) {
                    ("-d" | "--directory", Some(d)) => dir = Some(d),
                    ("-o" | "--output" | "-r" | "--reject-file", Some(f)) => self.write(&f, cwds)?,
                    ("-i" | "--input", Some(f)) => self.read(&f, Scope::Exact, cwds),
                    ("-B" | "-Y" | "-z" | "--prefix" | "--basename-prefix" | "--suffix", _) => everywhere = true,
                    _ => {}
                }
            }
        }
        let base = match &dir {
            Some(d) => match self.paths(d, cwds) {
                Some((dirs, false)) => Cwds::Known(dirs),
                _ => return Err("`patch -d` into a directory known only when it runs".into()),
            },
            None => cwds.clone(),
        };
        let ops = args::operands(&split);
        match ops.first() {
            Some(file) if !everywhere => {
                self.write(file, &base)?;
                for ext in [".orig", ".rej"] {
                    let mut b = (*file).clone();
                    b.text.push_str(ext);
                    self.write(&b, &base)?;
                }
            }
            _ => self.write(&Word::literal("."), &base)?,
        }
        if let Some(p) = ops.get(1) {
            self.read(p, Scope::Exact, cwds);
        }
        Ok(())
    }

    /// `git`: reads of the repository (status, diff, log, show, grep,
    /// ls-files, ...), writes of `.git` (add, commit, fetch, ...) or of the
    /// working tree (checkout, reset, stash, apply, merge, ...). The repository
    /// is assumed to be the workspace (or inside it).
    fn git(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        self.require_exact("git", args)?;
        let mut dirs = cwds.clone();
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if !t.starts_with('-') {
                break;
            }
            i += 1;
            match t {
                "-C" => {
                    let d = args.get(i).ok_or("`git -C` without a directory")?;
                    i += 1;
                    dirs = match self.paths(d, &dirs) {
                        Some((ds, false)) => Cwds::Known(ds),
                        _ => Cwds::Unknown,
                    };
                }
                "--no-pager"
                | "-P"
                | "-p"
                | "--paginate"
                | "--no-replace-objects"
                | "--literal-pathspecs"
                | "--glob-pathspecs"
                | "--noglob-pathspecs"
                | "--icase-pathspecs"
                | "--no-optional-locks"
                | "--no-advice" => {}
                _ => return Err(format!("`git {t}` changes which repository or configuration git uses")),
            }
        }
        let Cwds::Known(ds) = &dirs else {
            return Err("git runs in an unknown directory".into());
        };
        if let Some(d) = ds.iter().find(|d| !inside(d)) {
            return Err(format!("git runs outside the workspace (`{d}`)"));
        }
        let Some(sub) = args.get(i) else {
            return Err("`git` alone".into());
        };
        let rest = &args[i + 1..];
        let has = |names: &[&str]| {
            rest.iter().any(|w| {
                names
                    .iter()
                    .any(|n| w.text == *n || w.text.starts_with(&format!("{n}=")))
            })
        };
        let operands: Vec<&Word> = rest.iter().filter(|w| !w.text.starts_with('-')).collect();
        let read_repo = |me: &mut Self| {
            me.fx.deps.push(Dep::subtree(DepPath::root()));
            if has(&["--since", "--until", "--after", "--before", "--relative-date"])
                || rest
                    .iter()
                    .any(|w| w.text == "--date=relative" || w.text == "--date=human" || git_time_dependent(&w.text))
            {
                me.dynamic(format!("the current time (relative dates of `git {}`)", args[i].text));
            }
        };
        let git_dir = self.root_path(".git");
        let sub = sub.text.as_str();
        match sub {
            "status" | "log" | "show" | "ls-files" | "blame" | "annotate" | "rev-parse" | "ls-tree" | "cat-file"
            | "rev-list" | "shortlog" | "describe" | "whatchanged" | "diff-tree" | "diff-index" | "diff-files"
            | "merge-base" | "name-rev" | "show-ref" | "for-each-ref" | "check-ignore" | "count-objects" | "grep"
            | "diff" => {
                if sub == "grep" && has(&["-O", "--open-files-in-pager"]) {
                    return Err("`git grep -O` opens a pager".into());
                }
                if has(&["--output", "--ext-diff"]) {
                    return Err(format!("`git {sub}` with options that write files or run programs"));
                }
                read_repo(self);
                if sub == "diff" && has(&["--no-index"]) {
                    for o in &operands {
                        self.read(o, Scope::Subtree, &dirs);
                    }
                }
            }
            "branch" | "tag" | "remote" | "stash" | "config" | "worktree" | "notes" => {
                let first = operands.first().map(|w| w.text.as_str());
                let global = has(&["--global", "--system", "--file", "-f"]);
                let listing = match sub {
                    "branch" => {
                        (operands.is_empty()
                            || has(&["--list", "-l", "--contains", "--merged", "--no-merged", "--points-at"]))
                            && !has(&[
                                "-d",
                                "-D",
                                "-m",
                                "-M",
                                "-c",
                                "-C",
                                "--delete",
                                "--move",
                                "--copy",
                                "-u",
                                "--set-upstream-to",
                                "--unset-upstream",
                                "--edit-description",
                            ])
                    }
                    "tag" => operands.is_empty() || has(&["-l", "--list"]),
                    // `remote show` asks the remote: not a local read.
                    "remote" => operands.is_empty() || first == Some("get-url"),
                    "config" => has(&["--get", "--get-all", "--get-regexp", "--list", "-l"]) && !global,
                    _ => matches!(first, Some("list" | "show")),
                };
                if listing {
                    read_repo(self);
                } else if sub == "config" && global {
                    return Err("`git config` of a file outside the repository".into());
                } else if sub == "stash" || sub == "worktree" {
                    self.fx.writes.push(DepPath::root());
                    self.fx.writes.push(git_dir);
                } else {
                    self.fx.writes.push(git_dir);
                }
            }
            "add" | "rm" | "mv" | "restore" => {
                for o in &operands {
                    if o.text.starts_with(':') {
                        // Magic pathspecs (`:/`, `:(top)...`): anywhere in the repository.
                        self.fx.writes.push(DepPath::root());
                    } else {
                        self.write(&pathspec(o), &dirs)?;
                    }
                }
                if operands.is_empty() {
                    // `git add -A`, `git restore --staged .`-like forms: the whole tree.
                    self.fx.writes.push(DepPath::root());
                }
                self.fx.writes.push(git_dir);
            }
            "commit" | "push" => {
                self.fx.writes.push(git_dir);
                let no_hooks = has(&["--no-verify"]) || (sub == "commit" && has(&["-n"]));
                if !no_hooks {
                    // Hooks (pre-commit, pre-push) may change any file.
                    self.fx.writes.push(DepPath::root());
                }
            }
            "fetch" | "gc" | "prune" | "repack" | "init" | "update-index" | "update-ref" | "symbolic-ref" | "fsck"
            | "pack-refs" => self.fx.writes.push(git_dir),
            "checkout" | "switch" | "reset" | "apply" | "am" | "merge" | "rebase" | "pull" | "cherry-pick"
            | "revert" | "clean" | "submodule" | "sparse-checkout" | "bisect" | "read-tree" | "checkout-index" => {
                if sub == "apply" && has(&["--check", "--stat", "--numstat", "--summary"]) && !has(&["--apply"]) {
                    read_repo(self);
                    for o in &operands {
                        self.read(o, Scope::Exact, &dirs);
                    }
                } else if sub == "apply" && has(&["--cached"]) && !has(&["--index"]) {
                    self.fx.writes.push(git_dir);
                } else {
                    // The working tree: anything in the repository.
                    self.fx.writes.push(DepPath::root());
                    self.fx.writes.push(git_dir);
                }
            }
            _ => return Err(format!("`git {}` is not a known read or write", short(sub))),
        }
        Ok(())
    }
}

/// A git pathspec: git expands its glob characters itself, even quoted.
fn pathspec(w: &Word) -> Word {
    let mut p = w.clone();
    if let Some(i) = p.text.find(['*', '?', '[']) {
        p.glob = Some(i);
    }
    p
}

/// True if a git argument makes the output depend on the current time: a
/// relative date in a format (`%cr`, `%ar`, `%ch`, `%ah`, `%gr`,
/// `%(committerdate:relative)`) or a reflog entry named by time
/// (`HEAD@{1.hour.ago}`, `main@{yesterday}`; `@{1}`, `@{u}` and `@{push}`
/// are not).
fn git_time_dependent(arg: &str) -> bool {
    const RELATIVE: &[&str] = &["%cr", "%ar", "%ch", "%ah", "%gr", ":relative", ":human"];
    if RELATIVE.iter().any(|r| arg.contains(r)) {
        return true;
    }
    let mut rest = arg;
    while let Some(i) = rest.find("@{") {
        let spec = &rest[i + 2..];
        let spec = &spec[..spec.find('}').unwrap_or(spec.len())];
        let by_count = spec.trim_start_matches('-').chars().all(|c| c.is_ascii_digit());
        let named = matches!(spec, "u" | "upstream" | "push");
        if !by_count && !named {
            return true;
        }
        rest = &rest[i + 2..];
    }
    false
}

impl Walker<'_> {
    /// `jq [options] FILTER [FILES]`: reads FILES (none: its input), the
    /// files of `--rawfile NAME FILE` and `--slurpfile NAME FILE`, and the
    /// filter file of `-f FILE` (then every operand is an input file).
    /// `--arg NAME VALUE` and `--argjson NAME JSON` take two words that are
    /// not paths; after `--args` / `--jsonargs` the operands are values, not
    /// files. A filter that reads the clock or the environment (`now`,
    /// `env`, `$ENV`) makes it opaque.
    fn jq(&mut self, args: &[Word], cwds: &Cwds) -> Result<(), Reason> {
        let mut filter_from_file = false;
        let mut operands_are_values = false;
        let mut operands: Vec<&Word> = Vec::new();
        let mut i = 0;
        let mut options_done = false;
        while i < args.len() {
            let w = &args[i];
            self.note_dynamic(w);
            i += 1;
            let t = w.text.as_str();
            if options_done || !t.starts_with('-') || t == "-" {
                operands.push(w);
                continue;
            }
            if !w.is_exact() {
                return Err(format!("cannot tell whether `{}`… is an option of `jq`", short(t)));
            }
            match t {
                "--" => options_done = true,
                "--arg" | "--argjson" => i += 2,
                "--rawfile" | "--slurpfile" => {
                    let file = args.get(i + 1).ok_or_else(|| format!("`jq {t}` without a file"))?;
                    self.read(file, Scope::Exact, cwds);
                    i += 2;
                }
                "-f" | "--from-file" => {
                    let file = args.get(i).ok_or("`jq -f` without a file")?;
                    self.read(file, Scope::Exact, cwds);
                    filter_from_file = true;
                    i += 1;
                }
                "-L" | "--indent" => i += 1,
                "--args" | "--jsonargs" => operands_are_values = true,
                t if t.starts_with("-L") || t.starts_with("--indent=") => {}
                t if t.starts_with("--") => {
                    const FLAGS: &[&str] = &[
                        "--raw-output",
                        "--join-output",
                        "--raw-output0",
                        "--ascii-output",
                        "--compact-output",
                        "--tab",
                        "--sort-keys",
                        "--color-output",
                        "--monochrome-output",
                        "--null-input",
                        "--raw-input",
                        "--slurp",
                        "--exit-status",
                        "--seq",
                        "--stream",
                        "--stream-errors",
                        "--unbuffered",
                    ];
                    if !FLAGS.contains(&t) {
                        return Err(format!("`jq {t}` is not an option the cache knows"));
                    }
                }
                // Clusters of one-letter flags (`-rc`, `-n`).
                t if t[1..].chars().all(|c| "rjacCMnRseSh".contains(c)) => {}
                t => return Err(format!("`jq {t}` is not an option the cache knows")),
            }
        }
        let mut operands = operands.into_iter();
        if !filter_from_file {
            let Some(filter) = operands.next() else {
                return Err("`jq` without a filter".into());
            };
            if !filter.is_exact() {
                return Err("a `jq` filter known only when it runs".into());
            }
            if jq_reads_time_or_env(&filter.text) {
                return Err("a `jq` filter that reads the clock or the environment".into());
            }
        }
        if operands_are_values {
            return Ok(());
        }
        for op in operands {
            if !(op.is_exact() && op.text == "-") {
                self.read(op, Scope::Exact, cwds);
            }
        }
        Ok(())
    }
}

/// True if a jq filter reads the clock (`now`) or the environment (`env`,
/// `$ENV`), as a word of its own.
fn jq_reads_time_or_env(filter: &str) -> bool {
    let bytes = filter.as_bytes();
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    ["now", "env", "$ENV"].iter().any(|word| {
        filter.match_indices(word).any(|(at, _)| {
            let before = at.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(at + word.len()).copied();
            !before.is_some_and(word_char) && !after.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    })
}
