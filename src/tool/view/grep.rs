//! `grep` on one file's lines: its options, and its BRE/ERE patterns
//! translated to the `regex` crate's syntax where the translation is exact.

use regex::bytes::{Regex, RegexBuilder};

/// A `grep` invocation the cache can answer.
#[derive(Clone, Debug)]
pub(crate) struct Grep {
    pub(crate) regex: Regex,
    pub(crate) invert: bool,
    pub(crate) count: bool,
    pub(crate) numbers: bool,
    pub(crate) before: u64,
    pub(crate) after: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Basic,
    Extended,
    Fixed,
}

/// Parses grep's arguments (without the command name). The last word that is
/// not an option or the pattern is the file, if any: `(grep, file)`.
pub(crate) fn parse(args: &[String]) -> Option<(Grep, Option<String>)> {
    let (mut dialect, mut icase, mut word, mut invert, mut count, mut numbers) =
        (Dialect::Basic, false, false, false, false, false);
    let (mut before, mut after) = (0u64, 0u64);
    let mut pattern: Option<String> = None;
    let mut operands = Vec::new();
    let mut i = 0;
    let mut only_operands = false;
    let number = |s: &str| s.parse::<u64>().ok().filter(|n| *n <= 1_000_000);
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_operands || a == "-" || !a.starts_with('-') {
            operands.push(a.clone());
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            match (name, value) {
                ("ignore-case", None) => icase = true,
                ("line-number", None) => numbers = true,
                ("count", None) => count = true,
                ("invert-match", None) => invert = true,
                ("word-regexp", None) => word = true,
                ("fixed-strings", None) => dialect = Dialect::Fixed,
                ("extended-regexp", None) => dialect = Dialect::Extended,
                ("basic-regexp", None) => dialect = Dialect::Basic,
                ("context", Some(v)) => (before, after) = (number(v)?, number(v)?),
                ("after-context", Some(v)) => after = number(v)?,
                ("before-context", Some(v)) => before = number(v)?,
                ("regexp", Some(v)) if pattern.is_none() => pattern = Some(v.to_string()),
                _ => return None,
            }
            continue;
        }
        // A cluster of short options, the last of which may take a value.
        let flags: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < flags.len() {
            let f = flags[j];
            j += 1;
            match f {
                'i' | 'y' => icase = true,
                'n' => numbers = true,
                'c' => count = true,
                'v' => invert = true,
                'w' => word = true,
                'F' => dialect = Dialect::Fixed,
                'E' => dialect = Dialect::Extended,
                'G' => dialect = Dialect::Basic,
                'A' | 'B' | 'C' | 'e' => {
                    let rest: String = flags[j..].iter().collect();
                    j = flags.len();
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i - 1)?.clone()
                    } else {
                        rest
                    };
                    match f {
                        'A' => after = number(&value)?,
                        'B' => before = number(&value)?,
                        'C' => (before, after) = (number(&value)?, number(&value)?),
                        _ if pattern.is_none() => pattern = Some(value),
                        _ => return None, // several patterns
                    }
                }
                d if d.is_ascii_digit() => {
                    // `-5` is `-C 5`.
                    let digits: String = flags[j - 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
                    j += digits.len() - 1;
                    let n = number(&digits)?;
                    (before, after) = (n, n);
                }
                _ => return None,
            }
        }
    }
    let pattern = match pattern {
        Some(p) => p,
        None if !operands.is_empty() => operands.remove(0),
        None => return None,
    };
    if operands.len() > 1 || pattern.is_empty() || pattern.contains('\n') || !pattern.is_ascii() {
        return None;
    }
    let body = match dialect {
        Dialect::Fixed => regex::escape(&pattern),
        Dialect::Basic => translate(&pattern, false)?,
        Dialect::Extended => translate(&pattern, true)?,
    };
    // -w: a match with a non-word character (or the line's edge) on each side.
    let body = if word {
        format!("(?:^|[^0-9A-Za-z_])(?:{body})(?:[^0-9A-Za-z_]|$)")
    } else {
        body
    };
    let regex = RegexBuilder::new(&body)
        .unicode(false)
        .case_insensitive(icase)
        .build()
        .ok()?;
    Some((
        Grep {
            regex,
            invert,
            count,
            numbers,
            before,
            after,
        },
        operands.pop(),
    ))
}

/// A POSIX basic (or, with `extended`, extended) regular expression with GNU's
/// extensions, in the `regex` crate's syntax; `None` where the two would not
/// match the same lines (back-references, `\<`, `\>`, equivalence classes, an
/// ERE `{` that GNU reads as a literal).
fn translate(p: &str, extended: bool) -> Option<String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    // True where `*` is literal (the start of the pattern or of a group, after
    // `^` or an alternation) and where `^` is an anchor.
    let mut at_start = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let start_here = at_start;
        at_start = false;
        match c {
            '\\' => {
                let n = *chars.get(i)?;
                i += 1;
                match n {
                    '(' | ')' | '|' | '{' | '}' | '+' | '?' if !extended => match n {
                        '(' => {
                            out.push_str("(?:");
                            at_start = true;
                        }
                        '|' => {
                            out.push('|');
                            at_start = true;
                        }
                        '{' => {
                            let (q, used) = interval(&chars[i..], true)?;
                            out.push_str(&q);
                            i += used;
                        }
                        _ => out.push(n),
                    },
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(n);
                    }
                    '<' | '>' | '`' | '\'' => return None,
                    d if d.is_ascii_digit() => return None, // back-reference
                    other if other.is_ascii_alphanumeric() => return None,
                    other => out.push_str(&regex::escape(&other.to_string())),
                }
            }
            '[' => {
                let (class, used) = bracket(&chars[i..])?;
                out.push_str(&class);
                i += used;
            }
            '.' => out.push('.'),
            // GNU reads a leading ERE `*` its own way: leave it to grep.
            '*' if start_here && extended => return None,
            '*' if start_here => out.push_str("\\*"),
            '*' => out.push('*'),
            '^' if start_here || extended => {
                out.push('^');
                at_start = true;
            }
            '$' if extended
                || i == chars.len()
                || chars[i..].starts_with(&['\\', ')'])
                || chars[i..].starts_with(&['\\', '|']) =>
            {
                out.push('$')
            }
            '(' | '|' if extended => {
                out.push_str(if c == '(' { "(?:" } else { "|" });
                at_start = true;
            }
            ')' if extended => out.push(')'),
            '+' | '?' if extended && !start_here => out.push(c),
            '+' | '?' if extended => return None,
            '{' if extended => {
                let (q, used) = interval(&chars[i..], false)?;
                out.push_str(&q);
                i += used;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    Some(out)
}

/// An interval `{m}`, `{m,}`, `{m,n}` after its `{` (closed by `\}` in a BRE).
fn interval(rest: &[char], basic: bool) -> Option<(String, usize)> {
    let close = if basic {
        rest.windows(2).position(|w| w == ['\\', '}'])?
    } else {
        rest.iter().position(|c| *c == '}')?
    };
    let body: String = rest[..close].iter().collect();
    let valid = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == ',')
        && body.matches(',').count() <= 1
        && !body.starts_with(',');
    if !valid {
        return None;
    }
    Some((format!("{{{body}}}"), close + if basic { 2 } else { 1 }))
}

/// A bracket expression after its `[`: the class in `regex` syntax and how
/// many characters it used (through the closing `]`).
fn bracket(rest: &[char]) -> Option<(String, usize)> {
    let mut out = String::from("[");
    let mut i = 0;
    if rest.first() == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let c = *rest.get(i)?;
        i += 1;
        match c {
            ']' if !first => {
                out.push(']');
                return Some((out, i));
            }
            '[' if matches!(rest.get(i), Some(':')) => {
                let end = rest[i + 1..].windows(2).position(|w| w == [':', ']'])?;
                let name: String = rest[i + 1..i + 1 + end].iter().collect();
                const CLASSES: [&str; 12] = [
                    "alpha", "digit", "alnum", "upper", "lower", "space", "blank", "punct", "print", "graph", "cntrl",
                    "xdigit",
                ];
                if !CLASSES.contains(&name.as_str()) {
                    return None;
                }
                out.push_str(&format!("[:{name}:]"));
                i += end + 3;
            }
            '[' if matches!(rest.get(i), Some('=' | '.')) => return None,
            c => {
                push_class_char(&mut out, c);
                if rest.get(i) == Some(&'-') && rest.get(i + 1).is_some_and(|n| *n != ']') {
                    let hi = rest[i + 1];
                    if hi < c || hi == '[' {
                        return None;
                    }
                    out.push('-');
                    push_class_char(&mut out, hi);
                    i += 2;
                }
            }
        }
        first = false;
    }
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push('\\');
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str, extended: bool) -> Option<String> {
        translate(p, extended)
    }

    #[test]
    fn translations() {
        assert_eq!(re("a.b*", false).as_deref(), Some("a.b*"));
        assert_eq!(re("*a", false).as_deref(), Some("\\*a"));
        assert_eq!(re("a\\|b", false).as_deref(), Some("a|b"));
        assert_eq!(re("a|b", false).as_deref(), Some("a\\|b"));
        assert_eq!(re("a|b", true).as_deref(), Some("a|b"));
        assert_eq!(re("x{2,3}", true).as_deref(), Some("x{2,3}"));
        assert_eq!(re("x\\{2\\}", false).as_deref(), Some("x{2}"));
        assert_eq!(re("[^a-c]", false).as_deref(), Some("[^a-c]"));
        assert_eq!(re("[]a]", false).as_deref(), Some("[\\]a]"));
        assert_eq!(re("[[:space:]]x", false).as_deref(), Some("[[:space:]]x"));
        assert_eq!(re("a$b", false).as_deref(), Some("a\\$b"));
        assert_eq!(re("\\(a\\)\\1", false), None);
        assert_eq!(re("\\<a", false), None);
    }

    #[test]
    fn options() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let (g, f) = parse(&args("-n -C 3 foo a.py")).unwrap();
        assert!(g.numbers && g.before == 3 && g.after == 3 && f.as_deref() == Some("a.py"));
        let (g, f) = parse(&args("-inA2 foo")).unwrap();
        assert!(g.numbers && g.after == 2 && g.before == 0 && f.is_none());
        assert!(parse(&args("-o foo a.py")).is_none());
        assert!(parse(&args("-r foo a.py")).is_none());
        assert!(parse(&args("foo a.py b.py")).is_none());
    }
}
