//! Splitting a command's arguments into options and operands (getopt style).

use super::parse::Word;

/// An argument after splitting.
#[derive(Debug)]
pub(super) enum Arg<'w> {
    /// An option: its name (`-n`, `--lines`) and value, if it takes one.
    Opt {
        /// `-x` for a short option (also one of a cluster `-abc`), `--long` for a long one.
        name: String,
        /// Its value (`-n5`, `-n 5`, `--lines=5`, `--lines 5`).
        value: Option<Value<'w>>,
    },
    /// An operand.
    Operand(&'w Word),
}

/// The value of an option: attached (`-n5`, `--lines=5`: its text) or the next word.
#[derive(Debug)]
pub(super) enum Value<'w> {
    Attached(String),
    Next(&'w Word),
}

impl Value<'_> {
    /// The value as a word (an attached value is exact if its option word was).
    pub fn word(&self, of: &Word) -> Word {
        match self {
            Value::Attached(s) => {
                let mut w = Word::literal(s);
                if !of.is_exact() {
                    w.inexact = true;
                    w.dynamic.clone_from(&of.dynamic);
                }
                w
            }
            Value::Next(w) => (*w).clone(),
        }
    }

    /// The value's text.
    pub fn text(&self) -> &str {
        match self {
            Value::Attached(s) => s,
            Value::Next(w) => &w.text,
        }
    }
}

/// Splits `args` given the options that take a value (`-n`, `--lines`; an
/// option not listed is a flag). Long options may be abbreviated only as
/// written. A lone `-` is an operand (standard input); `--` ends the options.
/// Options after operands are still options (GNU style). Also returns, for
/// each argument, the word that started it (for attached values).
pub(super) fn split<'w>(args: &'w [Word], value_options: &[&str]) -> Vec<(Arg<'w>, &'w Word)> {
    let takes = |name: &str| value_options.contains(&name);
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let w = &args[i];
        i += 1;
        let t = w.text.as_str();
        if only_operands || !t.starts_with('-') || t == "-" {
            out.push((Arg::Operand(w), w));
            continue;
        }
        if t == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (t.to_string(), None),
            };
            let value = match attached {
                Some(v) => Some(Value::Attached(v)),
                None if takes(&name) => args.get(i).map(|n| {
                    i += 1;
                    Value::Next(n)
                }),
                None => None,
            };
            out.push((Arg::Opt { name, value }, w));
            continue;
        }
        // A cluster of short options: `-rn`, `-A3`, `-n 5`.
        let body = &t[1..];
        for (j, c) in body.char_indices() {
            let name = format!("-{c}");
            if takes(&name) {
                let rest = &body[j + c.len_utf8()..];
                let value = if rest.is_empty() {
                    args.get(i).map(|n| {
                        i += 1;
                        Value::Next(n)
                    })
                } else {
                    Some(Value::Attached(rest.to_string()))
                };
                out.push((Arg::Opt { name, value }, w));
                break;
            }
            out.push((Arg::Opt { name, value: None }, w));
        }
    }
    out
}

/// The operands of a split argument list.
pub(super) fn operands<'w>(split: &[(Arg<'w>, &'w Word)]) -> Vec<&'w Word> {
    split
        .iter()
        .filter_map(|(a, _)| match a {
            Arg::Operand(w) => Some(*w),
            Arg::Opt { .. } => None,
        })
        .collect()
}

/// True if an option named `name` (with `value`, if given) is among `list`,
/// whose entries are option names, or `"-d recurse"` for an option with a value.
pub(super) fn listed(list: &[String], name: &str, value: Option<&str>) -> bool {
    list.iter().any(|entry| match entry.split_once(' ') {
        Some((n, v)) => n == name && value == Some(v),
        None => entry == name,
    })
}
