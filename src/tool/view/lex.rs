//! Splits a simple shell pipeline into argument vectors, refusing everything
//! that is not plain words: expansions, redirections, globs, lists.

/// The commands of `script` (`a | b | c`), each as its words, or `None` if the
/// script is anything but a pipeline of plain words. Quotes are removed;
/// nothing is expanded, because nothing that would expand is accepted.
pub(crate) fn pipeline(script: &str) -> Option<Vec<Vec<String>>> {
    let mut commands = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut chars = script.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    commands.last_mut()?.push(w);
                }
            }
            '|' => {
                if let Some(w) = word.take() {
                    commands.last_mut()?.push(w);
                }
                if chars.peek() == Some(&'|') || commands.last()?.is_empty() {
                    return None; // `||`, or a pipe with nothing before it
                }
                commands.push(Vec::new());
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' | '!' => return None,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                c => word.get_or_insert_with(String::new).push(c),
            },
            // Expansions, redirections, lists, subshells, globs, comments,
            // brace and tilde expansion, history: not a plain word.
            '$' | '`' | ';' | '&' | '>' | '<' | '(' | ')' | '*' | '?' | '[' | ']' | '{' | '}' | '!' | '\n' | '\r' => {
                return None
            }
            '#' | '~' | '=' if word.is_none() => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(w) = word.take() {
        commands.last_mut()?.push(w);
    }
    if commands.iter().any(Vec::is_empty) {
        return None;
    }
    Some(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Option<Vec<Vec<&str>>> {
        let p = pipeline(s)?;
        Some(
            p.iter()
                .map(|c| {
                    c.iter()
                        .map(|w| Box::leak(w.clone().into_boxed_str()) as &str)
                        .collect()
                })
                .collect(),
        )
    }

    #[test]
    fn plain_pipelines() {
        assert_eq!(
            words("sed -n '1,20p' a.py"),
            Some(vec![vec!["sed", "-n", "1,20p", "a.py"]])
        );
        assert_eq!(
            words("nl -ba a.py | sed -n \"5,9p\""),
            Some(vec![vec!["nl", "-ba", "a.py"], vec!["sed", "-n", "5,9p"]])
        );
        assert_eq!(
            words(r#"grep -n "a\"b" f"#),
            Some(vec![vec!["grep", "-n", "a\"b", "f"]])
        );
        assert_eq!(words(r"grep -n a\|b f"), Some(vec![vec!["grep", "-n", "a|b", "f"]]));
        assert_eq!(words("grep 'x$' f"), Some(vec![vec!["grep", "x$", "f"]]));
    }

    #[test]
    fn anything_else_is_refused() {
        for s in [
            "cat $F",
            "cat a > b",
            "cat a; rm b",
            "cat a && ls",
            "cat a || ls",
            "cat *.py",
            "cat ~/x",
            "cat \"$(ls)\"",
            "cat a 2>&1",
            "| cat",
            "cat a |",
            "cat 'unterminated",
            "cat a\nrm b",
            "cat a # comment",
        ] {
            assert_eq!(pipeline(s), None, "{s}");
        }
    }
}
