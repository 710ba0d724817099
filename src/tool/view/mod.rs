//! Views of known file content.
//!
//! The cache learns a file's lines from the complete output of reads it
//! understands (`cat f`, `cat -n f`, `nl -ba f`, `sed -n 'a,bp' f`, `head`,
//! `tail`, and pipelines of these over one file), and answers later reads of
//! the same unchanged file from them, byte for byte as the tools would: the
//! same families, `wc -l`, and `grep` on one file with `-n -c -i -v -w -F -E
//! -A -B -C`. A view is answered only when the known lines cover it, including
//! where the file ends when the view needs that; otherwise the tool runs.
//!
//! What was learned of a file is one cache entry with an `Exact` dependency on
//! the file, so every invalidation path (writes, opaque commands, the watcher,
//! fingerprints) covers views with no protocol of their own.

mod grep;
mod known;
mod lex;

use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use known::Known;
use known::{End, Learned, Run};

/// A pipeline over one file: where it reads, and what each stage does.
#[derive(Clone, Debug)]
pub(crate) struct View {
    /// The file operand, as spelled.
    pub(crate) file: String,
    stages: Vec<Stage>,
}

/// One stage. Line positions are 1-based; `FromEnd(1)` is the last line.
#[derive(Clone, Debug)]
enum Stage {
    /// `cat`: lines as they are.
    Cat,
    /// `cat -n` (keeps a missing final newline) or `nl -ba` (`nl: true`,
    /// always ends lines with `\n`): `%6d\t` before each line.
    Number { nl: bool },
    /// `sed -n 'a,bp'`, `head -n N`, `tail -n N`, `tail -n +N`.
    Select { first: Pos, last: Pos },
    /// `sed -n 'a,bp;c,dp'`: each line printed once for every range that
    /// holds it, in the script's order.
    Ranges(Vec<(u64, u64)>),
    /// `grep` on the stream.
    Grep(Box<grep::Grep>),
    /// `wc -l`, with the file name it prints when it read a file.
    WcLines { name: Option<String> },
}

#[derive(Clone, Copy, Debug)]
enum Pos {
    Abs(u64),
    FromEnd(u64),
}

/// A structured read of `file`: lines `first..=last` (`last: None`, to the
/// end), numbered as `cat -n` numbers them if `numbered`.
pub(crate) fn lines(file: String, numbered: bool, first: u64, last: Option<u64>) -> Option<View> {
    let mut stages = Vec::with_capacity(2);
    if numbered {
        stages.push(Stage::Number { nl: false });
    }
    match (first, last) {
        (1, None) if numbered => {}
        (1, None) => stages.push(Stage::Cat),
        (0, _) => return None,
        (a, None) => stages.push(Stage::Select {
            first: Pos::Abs(a),
            last: Pos::FromEnd(1),
        }),
        (a, Some(b)) if b >= a => stages.push(Stage::Select {
            first: Pos::Abs(a),
            last: Pos::Abs(b),
        }),
        _ => return None,
    }
    Some(View { file, stages })
}

/// Parses a shell script that is a view: a pipeline of plain words whose
/// first command reads exactly one file and whose every command is one this
/// module understands. `None` for anything else.
pub(crate) fn parse_script(script: &str) -> Option<View> {
    parse_argvs(&lex::pipeline(script)?)
}

/// As [`parse_script`], from argument vectors (one per command).
pub(crate) fn parse_argvs(commands: &[Vec<String>]) -> Option<View> {
    let mut file = None;
    let mut stages = Vec::new();
    for (i, argv) in commands.iter().enumerate() {
        let (name, args) = argv.split_first()?;
        let (stage, operand) = command(name, args)?;
        match (i, operand) {
            (0, Some(f)) => file = Some(f),
            (0, None) => return None, // reads stdin: not a file view
            (_, Some(_)) => return None,
            (_, None) => {}
        }
        stages.push(stage);
    }
    let file = file?;
    if file.starts_with('-') {
        return None;
    }
    // `wc -l` names the file only when it read it itself.
    if let Some(Stage::WcLines { name }) = stages.first_mut() {
        *name = Some(file.clone());
    }
    Some(View { file, stages })
}

/// One command: its stage and its file operand, if it has one.
fn command(name: &str, args: &[String]) -> Option<(Stage, Option<String>)> {
    let operand = |rest: &[String]| -> Option<Option<String>> {
        match rest {
            [] => Some(None),
            [f] if f != "-" && !f.starts_with('-') => Some(Some(f.clone())),
            _ => None,
        }
    };
    match name {
        "cat" => match args {
            [flag, rest @ ..] if flag == "-n" => Some((Stage::Number { nl: false }, operand(rest)?)),
            rest => Some((Stage::Cat, operand(rest)?)),
        },
        "nl" => match args {
            [flag, rest @ ..] if flag == "-ba" => Some((Stage::Number { nl: true }, operand(rest)?)),
            [flag, a, rest @ ..] if flag == "-b" && a == "a" => Some((Stage::Number { nl: true }, operand(rest)?)),
            _ => None,
        },
        "sed" => {
            let (script, rest) = match args {
                [n, script, rest @ ..] if n == "-n" => (script, rest),
                [n, e, script, rest @ ..] if n == "-n" && e == "-e" => (script, rest),
                _ => return None,
            };
            Some((sed_script(script)?, operand(rest)?))
        }
        "head" | "tail" => {
            let (count, rest) = match args {
                [n, v, rest @ ..] if n == "-n" => (v.as_str(), rest),
                [n, rest @ ..] if n.starts_with("-n") && n.len() > 2 => (&n[2..], rest),
                [n, rest @ ..] if n.len() > 1 && n.starts_with('-') && n[1..].bytes().all(|b| b.is_ascii_digit()) => {
                    (&n[1..], rest)
                }
                rest => ("10", rest),
            };
            let stage = if name == "head" {
                Stage::Select {
                    first: Pos::Abs(1),
                    last: Pos::Abs(count.parse().ok()?),
                }
            } else if let Some(from) = count.strip_prefix('+') {
                Stage::Select {
                    first: Pos::Abs(from.parse::<u64>().ok()?.max(1)),
                    last: Pos::FromEnd(1),
                }
            } else {
                Stage::Select {
                    first: Pos::FromEnd(count.parse().ok()?),
                    last: Pos::FromEnd(1),
                }
            };
            Some((stage, operand(rest)?))
        }
        "wc" => match args {
            [l, rest @ ..] if l == "-l" => Some((Stage::WcLines { name: None }, operand(rest)?)),
            _ => None,
        },
        "grep" => {
            let (g, file) = grep::parse(args)?;
            Some((Stage::Grep(Box::new(g)), file))
        }
        _ => None,
    }
}

/// One range, or several separated by `;` (then only numeric ones).
fn sed_script(script: &str) -> Option<Stage> {
    if !script.contains(';') {
        return sed_range(script);
    }
    let mut ranges = Vec::new();
    for part in script.split(';') {
        match sed_range(part.trim())? {
            Stage::Select {
                first: Pos::Abs(a),
                last: Pos::Abs(b),
            } => ranges.push((a, b)),
            _ => return None,
        }
    }
    Some(Stage::Ranges(ranges))
}

/// `a,bp`, `ap`, `a,$p`, `$p` (with `a` ≥ 1).
fn sed_range(script: &str) -> Option<Stage> {
    let body = script.strip_suffix('p')?;
    let pos = |s: &str| -> Option<Pos> {
        if s == "$" {
            Some(Pos::FromEnd(1))
        } else {
            let n: u64 = s.parse().ok()?;
            (n >= 1 && s.bytes().all(|b| b.is_ascii_digit())).then_some(Pos::Abs(n))
        }
    };
    let (first, last) = match body.split_once(',') {
        Some((a, b)) => (pos(a)?, pos(b)?),
        None => (pos(body)?, pos(body)?),
    };
    // `a,b` with b < a prints line a alone.
    let last = match (first, last) {
        (Pos::Abs(a), Pos::Abs(b)) if b < a => Pos::Abs(a),
        (Pos::FromEnd(_), Pos::Abs(_)) => return None,
        (_, l) => l,
    };
    Some(Stage::Select { first, last })
}

/// A line between stages: its text (borrowed from what is known until a
/// stage must rewrite it), the prefix a stage put before it, and its end.
struct Line<'k> {
    prefix: Prefix,
    text: Cow<'k, [u8]>,
    end: End,
}

/// What a stage prints before a line, rendered only when the view's output
/// is written (or when a later stage reads the line whole).
#[derive(Clone, Copy)]
enum Prefix {
    None,
    /// `cat -n`, `nl -ba`: `%6d\t`.
    Number(u64),
    /// `grep -n`: the number and `:` (a selected line) or `-` (context).
    Grep(u64, u8),
}

impl Prefix {
    fn write(self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // Writing to a Vec cannot fail.
        let _ = match self {
            Prefix::None => Ok(()),
            Prefix::Number(n) => write!(out, "{n:6}\t"),
            Prefix::Grep(n, sep) => write!(out, "{n}{}", sep as char),
        };
    }
}

impl<'k> Line<'k> {
    /// The line as a later stage reads it: prefix and text.
    fn whole(self) -> Cow<'k, [u8]> {
        match self.prefix {
            Prefix::None => self.text,
            p => {
                let mut v = Vec::with_capacity(self.text.len() + 8);
                p.write(&mut v);
                v.extend_from_slice(&self.text);
                Cow::Owned(v)
            }
        }
    }
}

/// A stream of lines between stages.
struct Stream<'k> {
    lines: Vec<Line<'k>>,
    /// The absolute number of the first line, while lines are the file's own.
    base: u64,
    /// The stream's full length, when known (always, once a stage re-bases it).
    total: Option<u64>,
}

impl<'k> Stream<'k> {
    fn complete(&self) -> bool {
        self.base == 1 && self.total == Some(self.lines.len() as u64)
    }

    fn rebased(lines: Vec<Line<'k>>) -> Stream<'k> {
        let total = Some(lines.len() as u64);
        Stream { lines, base: 1, total }
    }

    fn one(text: String) -> Stream<'k> {
        Stream::rebased(vec![Line {
            prefix: Prefix::None,
            text: Cow::Owned(text.into_bytes()),
            end: End::Newline,
        }])
    }
}

impl View {
    /// The view's output, from what is known of the file, or `None` if the
    /// known lines do not cover it. The lines are borrowed from `known` until
    /// the output is written: one allocation for it, none per line (except
    /// where a stage reads a line another stage prefixed: `nl -ba f | grep`).
    pub(crate) fn answer(&self, known: &Known) -> Option<Vec<u8>> {
        let (a, b) = self.needed(known)?;
        let mut lines = Vec::with_capacity(b.saturating_sub(a).saturating_add(1).min(1 << 16) as usize);
        for n in a..=b {
            lines.push(Line {
                prefix: Prefix::None,
                text: Cow::Borrowed(known.line(n)?),
                end: known.end_of(n)?,
            });
        }
        let mut s = Stream {
            lines,
            base: a,
            total: known.lines(),
        };
        for stage in &self.stages {
            s = stage.apply(s, known.ascii())?;
        }
        let size: usize = s.lines.iter().map(|l| l.text.len() + 12).sum();
        let mut out = Vec::with_capacity(size);
        for line in s.lines {
            line.prefix.write(&mut out);
            out.extend_from_slice(&line.text);
            match line.end {
                End::Newline => out.push(b'\n'),
                End::Bare => {}
                End::Unknown => return None,
            }
        }
        Some(out)
    }

    /// The file lines the view reads (`a..=b`, clipped to the file's end),
    /// if they are known.
    fn needed(&self, known: &Known) -> Option<(u64, u64)> {
        let select = self
            .stages
            .iter()
            .find(|s| !matches!(s, Stage::Cat | Stage::Number { .. }));
        let (a, b) = match select {
            Some(Stage::Select {
                first: Pos::Abs(a),
                last: Pos::Abs(b),
            }) => (*a, *b),
            Some(Stage::Ranges(r)) => (r.iter().map(|x| x.0).min()?, r.iter().map(|x| x.1).max()?),
            Some(Stage::Select { first, .. }) => {
                let n = known.lines()?;
                let a = match first {
                    Pos::Abs(a) => *a,
                    Pos::FromEnd(k) => (n + 1).saturating_sub(*k).max(1),
                };
                (a, n)
            }
            _ => (1, known.lines()?),
        };
        let b = match known.lines() {
            Some(n) => b.min(n),
            None => b,
        };
        known.covers(a, b).then_some((a, b))
    }

    /// What the complete output `out` of this view proves about the file.
    #[cfg(test)]
    pub(crate) fn learn(&self, out: &[u8]) -> Option<Known> {
        self.learn_shared(out, None)
    }

    /// [`learn`](View::learn), keeping `shared` (the same bytes as `out`, in
    /// an allocation the output owns) instead of a copy where it can.
    pub(crate) fn learn_shared(&self, out: &[u8], shared: Option<Arc<[u8]>>) -> Option<Known> {
        if let [Stage::Number { nl }, Stage::Ranges(r)] = self.stages.as_slice() {
            return learn_ranges(*nl, r, out);
        }
        // Learnable: 1:1 stages and at most one selection, last.
        let mut numbered = None;
        let mut select = None;
        for (i, s) in self.stages.iter().enumerate() {
            match s {
                Stage::Cat => {}
                Stage::Number { nl } if numbered.is_none() && select.is_none() => numbered = Some(*nl),
                Stage::Select { first, last } if select.is_none() && i + 1 == self.stages.len() => {
                    select = Some((*first, *last))
                }
                _ => return None,
            }
        }
        let (first, asked) = match select {
            None => (1, None),
            Some((Pos::Abs(a), Pos::Abs(b))) => (a, Some(b.checked_sub(a)?.checked_add(1)?)),
            // `tail`: only an output shorter than asked places its lines (the
            // whole file); `a,$`: the rest of the file from a.
            Some((Pos::FromEnd(k), Pos::FromEnd(1))) => (1, Some(k)),
            Some((Pos::Abs(a), Pos::FromEnd(1))) => (a, None),
            Some(_) => return None,
        };
        let tail = matches!(select, Some((Pos::FromEnd(_), _)));
        let (run, count, last_end) = match numbered {
            // The output is the lines themselves: one copy, one scan.
            None => {
                let run = Run::from_text(first, out, shared)?;
                let end = if out.is_empty() || out.ends_with(b"\n") {
                    End::Newline
                } else {
                    End::Bare
                };
                let count = run.len();
                (run, count, end)
            }
            Some(nl) => {
                if out.len() >= known::MAX_BYTES {
                    return None;
                }
                let mut run = Run::with_capacity(first, out.len(), out.len() / 32 + 1);
                let mut last_end = End::Newline;
                let mut count = 0u64;
                let mut rest = out;
                while !rest.is_empty() {
                    let (line, end, next) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (&rest[..i], End::Newline, &rest[i + 1..]),
                        None => (rest, End::Bare, &rest[rest.len()..]),
                    };
                    rest = next;
                    run.push(strip_number(line, first + count)?);
                    count += 1;
                    last_end = match (nl, end) {
                        (true, End::Newline) => End::Unknown,
                        (true, _) => return None, // nl always ends its lines
                        (false, e) => e,
                    };
                }
                (run, count, last_end)
            }
        };
        let ends = match asked {
            None => true,
            Some(k) => count < k || last_end == End::Bare,
        };
        // `tail`'s lines have a place only when it printed fewer than asked
        // (the whole file).
        if tail && asked.is_some_and(|k| count >= k) {
            return None;
        }
        if last_end == End::Bare && count == 0 {
            return None;
        }
        // `nl` ends every line with `\n`: the last line it printed may be the
        // file's last, without one. Unless the output proves where the file
        // ends, that line's end is unknown, so it is not kept.
        let mut run = run;
        if last_end == End::Unknown && !ends {
            run.pop();
        }
        Known::from_learned(Learned { run, ends, last_end })
    }
}

/// What the numbered output of `nl -ba f | sed -n 'a,bp;c,dp'` proves: the
/// numbers place every line. Ranges must ascend without overlapping; one that
/// stops short shows where the file ends (and every later one is empty).
fn learn_ranges(nl: bool, ranges: &[(u64, u64)], out: &[u8]) -> Option<Known> {
    if out.len() >= known::MAX_BYTES || ranges.windows(2).any(|w| w[1].0 <= w[0].1) {
        return None;
    }
    let mut lines = out.split_inclusive(|b| *b == b'\n').peekable();
    let mut known: Option<Known> = None;
    let mut ended = false;
    for &(a, b) in ranges {
        let mut run = Run::with_capacity(a, 0, 0);
        let mut last_end = End::Newline;
        for n in a..=b {
            let Some(raw) = lines.peek() else {
                ended = true;
                break;
            };
            let (line, end) = match raw.strip_suffix(b"\n") {
                Some(l) if nl => (l, End::Unknown),
                Some(l) => (l, End::Newline),
                None if nl => return None, // nl always ends its lines
                None => (*raw, End::Bare),
            };
            let Some(text) = strip_number(line, n) else {
                ended = true; // the next line is another range's (or wrong)
                break;
            };
            run.push(text);
            lines.next();
            last_end = end;
            if end == End::Bare {
                ended = true;
                break;
            }
        }
        let ends = ended || (last_end == End::Bare);
        // As in `learn`: the last line `nl` printed may be the file's last.
        if last_end == End::Unknown && !ends {
            run.pop();
        }
        if run.len() > 0 {
            let learned = Known::from_learned(Learned {
                run,
                ends,
                last_end: if ends { last_end } else { End::Newline },
            })?;
            known = Some(match known {
                Some(k) => k.merged(learned),
                None => learned,
            });
        }
        if ended {
            break;
        }
    }
    // Every output line placed: otherwise the numbers did not fit.
    if lines.next().is_some() {
        return None;
    }
    known
}

/// `line` without its `%6d\t` prefix, if the prefix is exactly `n`'s.
fn strip_number(line: &[u8], n: u64) -> Option<&[u8]> {
    let tab = line.iter().position(|b| *b == b'\t')?;
    let expect = format!("{n:6}");
    (line[..tab] == *expect.as_bytes()).then(|| &line[tab + 1..])
}

impl Stage {
    fn apply<'k>(&self, s: Stream<'k>, ascii: bool) -> Option<Stream<'k>> {
        match self {
            Stage::Cat => Some(s),
            Stage::Number { nl } => {
                let base = s.base;
                let lines = s
                    .lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, line)| {
                        let end = if *nl { End::Newline } else { line.end };
                        let text = match line.prefix {
                            Prefix::None => line.text,
                            _ => line.whole(),
                        };
                        Line {
                            prefix: Prefix::Number(base + i as u64),
                            text,
                            end,
                        }
                    })
                    .collect();
                Some(Stream {
                    lines,
                    base: s.base,
                    total: s.total,
                })
            }
            Stage::Select { first, last } => {
                let total = s.total;
                let resolve = |p: &Pos| -> Option<u64> {
                    match p {
                        Pos::Abs(a) => Some(*a),
                        Pos::FromEnd(k) => Some((total? + 1).saturating_sub(*k)),
                    }
                };
                if matches!(first, Pos::FromEnd(0)) || matches!(last, Pos::Abs(0)) {
                    return Some(Stream::rebased(Vec::new()));
                }
                let (a, b) = (resolve(first)?.max(1), resolve(last)?);
                // Every line a..=b that exists must be in the stream.
                let end = match total {
                    Some(t) => b.min(t),
                    None => b,
                };
                let start = s.base;
                let have_last = start + s.lines.len() as u64; // one past
                if a < start || (end >= a && end >= have_last) {
                    return None;
                }
                let lines = s
                    .lines
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        let n = start + *i as u64;
                        n >= a && n <= end
                    })
                    .map(|(_, l)| l)
                    .collect();
                Some(Stream::rebased(lines))
            }
            Stage::Ranges(ranges) => {
                let (a, b) = (ranges.iter().map(|r| r.0).min()?, ranges.iter().map(|r| r.1).max()?);
                let end = match s.total {
                    Some(t) => b.min(t),
                    None => b,
                };
                let start = s.base;
                if a < start || (end >= a && end >= start + s.lines.len() as u64) {
                    return None;
                }
                let mut out = Vec::new();
                for (i, line) in s.lines.iter().enumerate() {
                    let n = start + i as u64;
                    for _ in ranges.iter().filter(|(a, b)| *a <= n && n <= *b) {
                        out.push(Line {
                            prefix: line.prefix,
                            text: line.text.clone(),
                            end: line.end,
                        });
                    }
                }
                // sed ends a line it printed without `\n` once it prints more
                // (the file's last line, printed twice).
                let printed = out.len();
                for line in out.iter_mut().take(printed.saturating_sub(1)) {
                    line.end = End::Newline;
                }
                Some(Stream::rebased(out))
            }
            Stage::Grep(g) => {
                if !s.complete() || !ascii {
                    return None;
                }
                grep_lines(g, s.lines)
            }
            Stage::WcLines { name } => {
                if !s.complete() {
                    return None;
                }
                let mut n = 0u64;
                for line in &s.lines {
                    match line.end {
                        End::Newline => n += 1,
                        End::Bare => {}
                        End::Unknown => return None,
                    }
                }
                Some(Stream::one(match name {
                    Some(f) => format!("{n} {f}"),
                    None => n.to_string(),
                }))
            }
        }
    }
}

/// grep's output over complete lines; `None` where grep would select no line
/// (it then exits 1: a failed call, which the tool must report itself).
fn grep_lines<'k>(g: &grep::Grep, lines: Vec<Line<'k>>) -> Option<Stream<'k>> {
    let texts: Vec<Cow<'k, [u8]>> = lines.into_iter().map(Line::whole).collect();
    let selected: Vec<bool> = texts.iter().map(|l| g.regex.is_match(l) != g.invert).collect();
    let hits = selected.iter().filter(|s| **s).count();
    if hits == 0 {
        return None;
    }
    if g.count {
        return Some(Stream::one(hits.to_string()));
    }
    let n = texts.len();
    // Which lines print, and how: selected ':' or context '-'.
    let mut show = vec![None; n];
    for (i, sel) in selected.iter().enumerate() {
        if !sel {
            continue;
        }
        let lo = i.saturating_sub(usize::try_from(g.before).unwrap_or(usize::MAX));
        let hi = i
            .saturating_add(usize::try_from(g.after).unwrap_or(usize::MAX))
            .min(n - 1);
        for (j, slot) in show.iter_mut().enumerate().take(hi + 1).skip(lo) {
            if slot.is_none() {
                *slot = Some(b'-');
            }
            if j == i {
                *slot = Some(b':');
            }
        }
    }
    let context = g.before > 0 || g.after > 0;
    let mut out = Vec::new();
    let mut last_shown: Option<usize> = None;
    for (i, text) in texts.into_iter().enumerate() {
        let Some(sep) = show[i] else { continue };
        if context && last_shown.is_some_and(|p| p + 1 < i) {
            out.push(Line {
                prefix: Prefix::None,
                text: Cow::Borrowed(b"--"),
                end: End::Newline,
            });
        }
        last_shown = Some(i);
        out.push(Line {
            prefix: if g.numbers {
                Prefix::Grep(i as u64 + 1, sep)
            } else {
                Prefix::None
            },
            text,
            end: End::Newline,
        });
    }
    Some(Stream::rebased(out))
}

#[cfg(test)]
mod tests;
