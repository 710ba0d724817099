//! `shell`: the shell classifier on arbitrary text.
//!
//! Checks: `classify` and `classify_argv` never panic and are deterministic; a
//! `Read` has dependencies that are normalized paths, and a `Write` sorted
//! paths without duplicates; and a command classified as a `Read` contains no
//! write that a deliberately simple scanner written here can see for sure
//! (it misses many writes, but what it reports is always one):
//!
//! - a redirection `>`, `>>`, `>|`, `&>`, `<>` outside quotes whose target is
//!   not `/dev/null`, `/dev/stdout`, `/dev/stderr` or a file descriptor (the
//!   commands of a process substitution `>(...)` are scanned like any other);
//! - in command position (first word of a simple command, after assignments and
//!   `!`/`then`/`do`/...): `tee`, `rm`, `mv`, `cp`, `touch`, `mkdir`, ...;
//! - `sed`/`perl` with an in-place option (`-i`, `-pi`, `--in-place`), `sort -o`,
//!   `find` with `-delete` or `-fprint`.
//!
//! Commands with here-documents, `[[`, `((`, `$((` or `case` are not scanned
//! for `>` (there it may be a comparison, a pattern or document text).

use std::path::Path;

use arbitrary::Arbitrary;
use depcache::tool::shell::{classify, classify_argv, ShellClass, ShellConfig};
use depcache::DepPath;

/// Workspace root of the classifier under test.
pub const ROOT: &str = "/repo";

/// Tokens structured inputs are made of.
const TOKENS: &[&str] = &[
    "cat",
    "grep",
    "-rn",
    "sed",
    "-n",
    "-i",
    "'1,5p'",
    "awk",
    "'{print $1}'",
    "tee",
    "echo",
    "ls",
    "-la",
    "find",
    ".",
    "-name",
    "'*.py'",
    "-delete",
    "-exec",
    "{}",
    "\\;",
    "rm",
    "-rf",
    "cp",
    "mv",
    "git",
    "status",
    "diff",
    "commit",
    "cd",
    "src",
    "a.py",
    "..",
    "/tmp/x",
    "~/x",
    "$HOME",
    "$(",
    ")",
    "`",
    "'",
    "\"",
    "|",
    "||",
    "&&",
    ";",
    "&",
    "\n",
    ">",
    ">>",
    "2>&1",
    "2>/dev/null",
    "<",
    "<<EOF",
    "EOF",
    "(",
    "{",
    "}",
    "bash",
    "-c",
    "sh",
    "xargs",
    "env",
    "LANG=C",
    "X=1",
    "sort",
    "-o",
    "head",
    "-5",
    "wc",
    "-l",
    "python",
    "perl",
    "-pi",
    "-e",
    "jq",
    ".",
    "*",
    "**/*.rs",
    "{a,b}",
    "if",
    "then",
    "fi",
    "for",
    "in",
    "do",
    "done",
    "while",
    "true",
    "!",
    "[[",
    "]]",
    "-f",
    "test",
    "[",
    "]",
    "rg",
    "tree",
    "du",
    "touch",
    "mkdir",
    "-p",
    "ln",
    "-s",
    "chmod",
    "+x",
    "timeout",
    "5",
    "nice",
    "command",
    "<(",
    ">(",
    "&>",
    ">|",
    "<>",
    "$'a\\'b'",
    "#",
    "\\",
    "$((1>2))",
    "case",
    "esac",
    "read",
    "x",
    "export",
];

#[derive(Arbitrary, Debug)]
pub enum Cmd {
    Text(String),
    /// Tokens from `TOKENS` (index) joined with spaces, or glued (`false`).
    Tokens(Vec<(u8, bool)>),
    Argv(Vec<String>),
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub cmd: Cmd,
    /// Working directory: none, or one of a few.
    pub cwd: Option<u8>,
}

const CWDS: &[&str] = &["src", "/repo/src", "/tmp", "..", "~", ""];

/// Runs raw fuzz bytes: the first byte picks the directory (bits 0-2: one of
/// `CWDS`, or none) and the mode (bits 3-4: 0-1 the rest is the command text,
/// 2 token indices, 3 an argument vector split at NUL bytes). A seed is a
/// command prefixed with `\x07`.
pub fn check_shell_bytes(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let cwd = Some(head & 7).filter(|c| usize::from(*c) < CWDS.len());
    let text = || String::from_utf8_lossy(rest).into_owned();
    let cmd = match (head >> 3) & 3 {
        0 | 1 => Cmd::Text(text()),
        2 => Cmd::Tokens(rest.iter().map(|b| (b & 0x7f, b & 0x80 == 0)).collect()),
        _ => Cmd::Argv(text().split('\0').map(str::to_string).collect()),
    };
    check_shell(&Input { cmd, cwd });
}

/// Runs a `shell` input; panics on a violation.
pub fn check_shell(input: &Input) {
    let root = Path::new(ROOT);
    let config = ShellConfig::default();
    let cwd = input.cwd.map(|i| CWDS[usize::from(i) % CWDS.len()]);
    let_parser_panics_unwind();
    if skip_slow(&input.cmd) {
        return;
    }
    let (class, text) = match &input.cmd {
        Cmd::Argv(argv) => {
            let c = classify_argv(argv, cwd, root, &config);
            assert_eq!(
                c,
                classify_argv(argv, cwd, root, &config),
                "classify_argv is not deterministic"
            );
            check_shape(&c);
            return;
        }
        Cmd::Text(t) => (classify(t, cwd, root, &config), t.clone()),
        Cmd::Tokens(toks) => {
            let mut t = String::new();
            for (i, spaced) in toks {
                t.push_str(TOKENS[usize::from(*i) % TOKENS.len()]);
                if *spaced {
                    t.push(' ');
                }
            }
            (classify(&t, cwd, root, &config), t)
        }
    };
    assert_eq!(
        class,
        classify(&text, cwd, root, &config),
        "classify is not deterministic"
    );
    check_shape(&class);
    check_views(&text, cwd);
    if let ShellClass::Read { .. } | ShellClass::Project { .. } = class {
        if let Some(w) = sure_write(&text) {
            panic!("classified as a read, but it writes ({w}): {text:?}");
        }
    }
}

/// The command through a cache with views on, after reads that taught it
/// files the command may name: answering or learning never panics, and an
/// answer is never given to a command that is not a read.
fn check_views(text: &str, cwd: Option<&str>) {
    use depcache::tool::{Source, ToolCache, ToolCall};
    let tools: ToolCache = ToolCache::new(ROOT, 64).views(true);
    let call = |c: &str| match cwd {
        Some(d) => ToolCall::new("bash", serde_json::json!({ "command": c, "cwd": d })),
        None => ToolCall::new("bash", serde_json::json!({ "command": c })),
    };
    for f in ["a.py", "src/a.py", "f", "1,5p"] {
        let out: std::sync::Arc<str> = "x = 1\n\ty\n\nprint(x)".into();
        let _ = tools.execute(&call(&format!("cat {f}")), |_| Ok::<_, ()>(out));
    }
    let served = tools.execute_served(&call(text), |_| Ok::<_, ()>("out\n".into()));
    if let Ok(s) = served {
        if matches!(s.source, Source::View(_)) {
            assert!(
                matches!(tools.classify(&call(text)), depcache::tool::Decision::Read { .. }),
                "a view answered a command that is not a read: {text:?}"
            );
        }
    }
}

/// brush-parser panics on some inputs (a descriptor number over `i32`:
/// `99999999999>x`, peg.rs `io_number` unwraps the parse); depcache's parser
/// guard (`catch_unwind` in src/tool/shell/parse.rs) catches them and the
/// command is opaque. But libFuzzer's panic hook aborts at the panic, before it
/// unwinds to that guard: so panics raised inside brush-parser are let through
/// to it (every other panic still aborts, and the classification is checked).
pub fn let_parser_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info.location().is_some_and(|l| l.file().contains("brush-parser"));
            if !in_parser {
                fuzzer_hook(info);
            }
        }));
    });
}

/// Open library bug (tests/regressions.rs `shell_nested_parens_are_fast`):
/// brush-parser's arithmetic rules take time exponential in the number of
/// nested `(` (24 of them: seconds). Unless `DEPCACHE_FUZZ_KNOWN_BUGS` is set,
/// commands with more than 16 `(` are skipped, so fuzzing does not stop at
/// the fuzzer's timeout on them.
pub fn too_many_parens(text: &str) -> bool {
    std::env::var_os("DEPCACHE_FUZZ_KNOWN_BUGS").is_none() && text.matches('(').count() > 16
}

fn skip_slow(cmd: &Cmd) -> bool {
    match cmd {
        Cmd::Text(t) => too_many_parens(t),
        Cmd::Argv(v) => too_many_parens(&v.concat()),
        Cmd::Tokens(toks) => {
            let t: String = toks
                .iter()
                .map(|(i, _)| TOKENS[usize::from(*i) % TOKENS.len()])
                .collect();
            too_many_parens(&t)
        }
    }
}

fn check_shape(c: &ShellClass) {
    let normalized = |deps: &[depcache::Dep<DepPath>]| {
        for d in deps {
            assert_eq!(
                DepPath::new(d.dep.as_path()),
                d.dep,
                "dependency {d:?} is not normalized"
            );
        }
    };
    match c {
        ShellClass::Read { deps } => normalized(deps),
        ShellClass::Project { deps, outputs } => {
            normalized(deps);
            assert!(
                outputs.windows(2).all(|w| w[0] < w[1]),
                "outputs not sorted and unique: {outputs:?}"
            );
        }
        ShellClass::Write { paths } => {
            assert!(
                paths.windows(2).all(|w| w[0] < w[1]),
                "write paths not sorted and unique: {paths:?}"
            );
        }
        ShellClass::Opaque { .. } => {}
    }
}

/// One word of a simple command: its text without quotes, and whether any
/// part of it was quoted or escaped.
#[derive(Debug, Default, Clone)]
struct ScanWord {
    text: String,
    quoted: bool,
}

/// What the scanner saw.
#[derive(Default)]
struct Scan {
    /// Simple commands (words between separators, outside quotes).
    commands: Vec<Vec<ScanWord>>,
    /// A sure write by redirection.
    redirect: Option<String>,
}

fn sep(c: char) -> bool {
    matches!(c, ';' | '|' | '&' | '\n' | '(' | ')')
}

/// What the scanner is inside of.
#[derive(Debug)]
enum Frame {
    DoubleQuote,
    /// `$(`, with the depth of the parentheses open in it, and the word and
    /// command it interrupts (they go on after it: `a$(b)c` is one word).
    Paren(usize, Outer),
    /// A backquoted substitution, with what it interrupts.
    Backtick(Outer),
}

/// The command and word a substitution interrupts.
#[derive(Debug, Default)]
struct Outer {
    words: Vec<ScanWord>,
    cur: ScanWord,
}

/// A write found by the scanner, if any (see the module doc).
pub fn sure_write(text: &str) -> Option<String> {
    // Here-documents hold arbitrary text, `case` patterns unbalanced parentheses.
    if ["<<", "case", "$(("].iter().any(|s| text.contains(s)) {
        return None;
    }
    let skip_redirects = ["[[", "((", "$[", "${"].iter().any(|s| text.contains(s));
    let scan = scan(text);
    if !skip_redirects {
        if let Some(r) = scan.redirect {
            return Some(r);
        }
    }
    for words in &scan.commands {
        if let Some(w) = command_write(words) {
            return Some(w);
        }
    }
    None
}

/// Commands that write the files they are given, with how many operands they
/// need to write anything (with fewer they fail or copy stdin to stdout), and
/// their options that take a value.
const WRITERS: &[(&str, usize, &[&str])] = &[
    ("tee", 1, &[]),
    ("rm", 1, &[]),
    ("rmdir", 1, &[]),
    ("unlink", 1, &[]),
    ("touch", 1, &["-d", "-t", "-r"]),
    ("mkdir", 1, &["-m", "--mode"]),
    ("ln", 1, &["-S", "-t", "--suffix", "--target-directory"]),
    ("mv", 2, &["-S", "-t", "--suffix", "--target-directory"]),
    ("cp", 2, &["-S", "-t", "--suffix", "--target-directory"]),
    ("chmod", 2, &[]),
    ("chown", 2, &[]),
];

/// Words that may stand before a command name (and take no argument here).
const PREFIXES: &[&str] = &[
    "!", "then", "do", "else", "elif", "if", "while", "until", "command", "nohup", "time", "{",
];

/// For each command the scanner knows: options that take the next word as
/// their value (so that word is not an option), and options after which the
/// rest is another command's arguments.
fn value_options(cmd: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match cmd {
        "sed" => (&["-e", "-f", "-l", "--expression", "--file", "--line-length"], &[]),
        "perl" => (&["-e", "-E", "-M", "-I", "-x", "-C", "-m", "-d", "-l"], &[]),
        "sort" => (&["-k", "-t", "-S", "-T", "--key", "--field-separator"], &[]),
        "find" => (
            &[
                "-name",
                "-iname",
                "-path",
                "-ipath",
                "-wholename",
                "-iwholename",
                "-regex",
                "-iregex",
                "-lname",
                "-ilname",
                "-newer",
                "-type",
                "-xtype",
                "-user",
                "-group",
                "-perm",
                "-size",
                "-mtime",
                "-mmin",
                "-atime",
                "-amin",
                "-ctime",
                "-cmin",
                "-maxdepth",
                "-mindepth",
                "-printf",
                "-fprintf",
                "-fprint",
                "-fprint0",
                "-fls",
                "-uid",
                "-gid",
                "-inum",
                "-samefile",
                "-links",
                "-used",
                "-fstype",
                "-regextype",
                "-context",
                "-newermt",
                "-anewer",
                "-cnewer",
            ],
            &["-exec", "-execdir", "-ok", "-okdir"],
        ),
        _ => (&[], &[]),
    }
}

/// `sed -i` or `perl -i` with at least one file after the script: the
/// in-place option. (With no file, both read stdin and write nothing.) GNU sed
/// takes options anywhere; perl's options end at its first operand. The script
/// is the first operand unless `-e`/`-f` (sed) or `-e`/`-E` (perl) gave it.
fn in_place(n: &str, args: &[ScanWord]) -> Option<String> {
    let sed = n == "sed";
    let (script_opts, value_opts): (&[char], &[char]) = if sed {
        (&['e', 'f'], &['l'])
    } else {
        (&['e', 'E'], &['M', 'I', 'x', 'C', 'm', 'd', 'l', 'V', '0'])
    };
    let mut found = None;
    let mut script_given = false;
    let mut operands = 0usize;
    let mut skip = false;
    let mut opts_done = false;
    for a in args {
        let t = a.text.as_str();
        if skip {
            skip = false;
        } else if opts_done || !t.starts_with('-') || t == "-" {
            operands += 1;
            opts_done |= !sed;
        } else if t == "--" {
            opts_done = true;
        } else if let Some(long) = t.strip_prefix("--") {
            if !sed {
                continue;
            }
            if long.starts_with("in-place") {
                found = Some(t);
            } else if long == "expression" || long == "file" {
                script_given = true;
                skip = true;
            } else if long.starts_with("expression=") || long.starts_with("file=") {
                script_given = true;
            } else if long == "line-length" {
                skip = true;
            }
        } else {
            for (j, c) in t[1..].char_indices() {
                let rest = &t[1 + j + c.len_utf8()..];
                if c == 'i' {
                    found = Some(t); // the rest is the backup suffix
                    break;
                }
                if script_opts.contains(&c) {
                    script_given = true;
                    skip = rest.is_empty();
                    break;
                }
                if value_opts.contains(&c) {
                    skip = sed && rest.is_empty();
                    break;
                }
            }
        }
    }
    let files = if script_given {
        operands
    } else {
        operands.saturating_sub(1)
    };
    match found {
        Some(opt) if files > 0 => Some(format!("{n} {opt} with {files} files")),
        _ => None,
    }
}

fn command_write(words: &[ScanWord]) -> Option<String> {
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let assignment = !w.quoted
            && w.text.find('=').is_some_and(|eq| {
                eq > 0
                    && w.text[..eq].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !w.text.starts_with(|c: char| c.is_ascii_digit())
            });
        if assignment || (!w.quoted && PREFIXES.contains(&w.text.as_str())) {
            i += 1;
        } else {
            break;
        }
    }
    let name = words.get(i)?;
    if name.quoted {
        return None;
    }
    let n = name.text.as_str();
    if let Some((_, min, values)) = WRITERS.iter().find(|(w, _, _)| *w == n) {
        // Operands: words that are not options nor option values (stop at `--`).
        let mut operands = 0;
        let mut skip = false;
        for a in &words[i + 1..] {
            if skip {
                skip = false;
            } else if a.text == "--" {
                break;
            } else if a.text.starts_with('-') {
                skip = values.contains(&a.text.as_str());
            } else {
                operands += 1;
            }
        }
        if operands >= *min {
            return Some(format!("command {n} with {operands} operands"));
        }
        return None;
    }
    // The plain option words of the command, up to `--` or another command.
    let (takes_value, ends) = value_options(n);
    let mut opts = Vec::new();
    let mut skip = false;
    for a in &words[i + 1..] {
        if skip {
            skip = false;
            continue;
        }
        if a.quoted {
            continue;
        }
        if a.text == "--" || ends.contains(&a.text.as_str()) {
            break;
        }
        if takes_value.contains(&a.text.as_str()) {
            skip = true;
        }
        opts.push(a.text.as_str());
    }
    let found = match n {
        "sed" | "perl" => return in_place(n, &words[i + 1..]),
        "sort" => opts
            .iter()
            .find(|o| o.starts_with("--output") || (o.starts_with("-o") && !o.starts_with("--"))),
        "find" => opts
            .iter()
            .find(|o| matches!(**o, "-delete" | "-fprint" | "-fprint0" | "-fprintf" | "-fls")),
        _ => None,
    };
    found.map(|o| format!("{n} {o}"))
}

/// Splits `text` into simple commands and looks at redirections, tracking
/// quotes (single, double, `$'...'`), escapes, comments, and command
/// substitutions (`$(...)`, backquotes), in and out of double quotes.
fn scan(text: &str) -> Scan {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Scan::default();
    let mut words: Vec<ScanWord> = Vec::new();
    let mut cur = ScanWord::default();
    let mut in_word = false;
    let mut frames: Vec<Frame> = Vec::new();
    let end_word = |words: &mut Vec<ScanWord>, cur: &mut ScanWord, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(cur));
            *in_word = false;
        }
    };
    // Enters a substitution: the current word and command wait until it ends.
    macro_rules! open {
        ($make:expr) => {{
            let outer = Outer {
                words: std::mem::take(&mut words),
                cur: std::mem::take(&mut cur),
            };
            in_word = false;
            frames.push($make(outer));
        }};
    }
    // Leaves a substitution: its last command ends, the outer word goes on
    // (now with a part the scanner cannot know).
    macro_rules! close {
        ($outer:expr) => {{
            let outer: Outer = $outer;
            end_word(&mut words, &mut cur, &mut in_word);
            out.commands.push(std::mem::replace(&mut words, outer.words));
            cur = outer.cur;
            cur.quoted = true;
            in_word = true;
        }};
    }
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(frames.last(), Some(Frame::DoubleQuote)) {
            match c {
                '\\' => {
                    i += 1;
                    if let Some(&n) = chars.get(i) {
                        cur.text.push(n);
                    }
                }
                '"' => {
                    frames.pop();
                }
                '$' if chars.get(i + 1) == Some(&'(') => {
                    open!(|o| Frame::Paren(0, o));
                    i += 1;
                }
                '`' => open!(Frame::Backtick),
                _ => cur.text.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '\\' => {
                in_word = true;
                cur.quoted = true;
                i += 1;
                if let Some(&n) = chars.get(i) {
                    if n != '\n' {
                        cur.text.push(n);
                    }
                }
            }
            '\'' => {
                in_word = true;
                cur.quoted = true;
                let ansi = cur.text.ends_with('$') && !cur.text.ends_with("\\$");
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    if ansi && chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(&n) = chars.get(i) {
                        cur.text.push(n);
                    }
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                cur.quoted = true;
                frames.push(Frame::DoubleQuote);
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                open!(|o| Frame::Paren(0, o));
                i += 1;
            }
            '`' => match frames.pop() {
                Some(Frame::Backtick(outer)) => close!(outer),
                other => {
                    frames.extend(other);
                    open!(Frame::Backtick);
                }
            },
            '(' if matches!(frames.last(), Some(Frame::Paren(..))) => {
                end_word(&mut words, &mut cur, &mut in_word);
                out.commands.push(std::mem::take(&mut words));
                if let Some(Frame::Paren(d, _)) = frames.last_mut() {
                    *d += 1;
                }
            }
            ')' if matches!(frames.last(), Some(Frame::Paren(..))) => match frames.pop() {
                Some(Frame::Paren(0, outer)) => close!(outer),
                Some(Frame::Paren(d, outer)) => {
                    end_word(&mut words, &mut cur, &mut in_word);
                    out.commands.push(std::mem::take(&mut words));
                    frames.push(Frame::Paren(d - 1, outer));
                }
                other => frames.extend(other),
            },
            '>' | '<' => {
                // `2>`: the digits are the descriptor, not a word.
                if in_word && !cur.quoted && cur.text.chars().all(|c| c.is_ascii_digit()) {
                    cur = ScanWord::default();
                    in_word = false;
                }
                end_word(&mut words, &mut cur, &mut in_word);
                if c == '>' && out.redirect.is_none() {
                    out.redirect = redirect_target(&chars, i);
                }
                // The target is not an operand of the command.
                i = redirect_end(&chars, i);
                continue;
            }
            c if c == ' ' || c == '\t' => end_word(&mut words, &mut cur, &mut in_word),
            c if sep(c) => {
                end_word(&mut words, &mut cur, &mut in_word);
                out.commands.push(std::mem::take(&mut words));
            }
            c => {
                in_word = true;
                cur.text.push(c);
            }
        }
        i += 1;
    }
    end_word(&mut words, &mut cur, &mut in_word);
    out.commands.push(words);
    // Unclosed substitutions: their outer commands too.
    for f in frames {
        if let Frame::Paren(_, o) | Frame::Backtick(o) = f {
            out.commands.push(o.words);
        }
    }
    out
}

/// Where the scan goes on after the redirection operator at `chars[at]`: after
/// its target word, or right after the operator for a process substitution
/// (`<(`, `>(`, scanned as commands) or a missing target.
fn redirect_end(chars: &[char], at: usize) -> usize {
    let mut i = at + 1;
    if matches!(chars.get(i), Some('>' | '|' | '<')) && !(chars[at] == '<' && chars.get(i) == Some(&'<')) {
        i += 1;
    }
    if chars.get(i) == Some(&'(') {
        return at + 1;
    }
    if chars.get(i) == Some(&'&') {
        i += 1;
    }
    while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
        i += 1;
    }
    let start = i;
    while chars
        .get(i)
        .is_some_and(|c| !matches!(c, ' ' | '\t' | '\n' | '<' | '>' | '\'' | '"' | '`' | '$' | '\\') && !sep(*c))
    {
        i += 1;
    }
    if i == start || chars.get(i).is_some_and(|c| matches!(c, '\'' | '"' | '`' | '$' | '\\')) {
        // No plain target: leave the rest (quotes, substitutions) to the scan.
        return at + 1;
    }
    i
}

/// The target of the `>` at `chars[at]`, if it surely writes a file.
fn redirect_target(chars: &[char], at: usize) -> Option<String> {
    let mut i = at + 1;
    match chars.get(i) {
        Some('>') | Some('|') => i += 1,
        // A process substitution: its commands are scanned as commands.
        Some('(') => return None,
        _ => {}
    }
    let dup = chars.get(i) == Some(&'&');
    if dup {
        i += 1;
    }
    while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
        i += 1;
    }
    let target: String = chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| !matches!(**c, ' ' | '\t' | '\n') && !sep(**c) && **c != '<' && **c != '>')
        .collect();
    if target.is_empty() {
        // A syntax error, or a target on the next line: not sure.
        return None;
    }
    // `>&2`, `>&-`, `>&2-`: descriptors (the word ends at the next operator:
    // `2>&12>&1` is `2>&12 >&1`). `>&file` writes a file.
    if dup && target.trim_end_matches('-').chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if target.contains(['$', '`']) {
        // Expanded at run time: a file or not, the scanner cannot tell.
        return None;
    }
    let bare: String = target.chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
    if matches!(
        bare.as_str(),
        "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/fd/1" | "/dev/fd/2"
    ) {
        return None;
    }
    Some(format!("> {target}"))
}
