//! Views against the machine's real `cat`, `sed`, `head`, `tail`, `nl`, `grep`
//! and `wc`: what is learned must be the file's lines, and every answer must
//! be byte for byte what the tool prints.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use super::*;

/// Runs `script` with `sh` in `dir`: its stdout if it exits 0.
fn run(dir: &Path, script: &str) -> Option<Vec<u8>> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("sh runs");
    out.status.success().then_some(out.stdout)
}

fn file_lines(content: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = content.split(|b| *b == b'\n').collect();
    if content.ends_with(b"\n") || content.is_empty() {
        lines.pop();
    }
    lines
}

/// Learns from `learn`, then answers `view`; checks both against the tools.
fn check(dir: &Path, content: &[u8], learn: &str, views: &[String]) -> Result<(), TestCaseError> {
    let Some(out) = run(dir, learn) else { return Ok(()) };
    let Some(l) = parse_script(learn) else {
        return Err(TestCaseError::fail(format!("not a view: {learn}")));
    };
    let Some(known) = l.learn(&out) else { return Ok(()) };
    known.check().map_err(TestCaseError::fail)?;
    // Sharing the output's allocation learns the same as copying it.
    let shared = l.learn_shared(&out, Some(std::sync::Arc::from(out.clone())));
    prop_assert_eq!(
        shared.as_ref(),
        Some(&known),
        "shared and copied knowledge differ after {}",
        learn
    );
    let lines = file_lines(content);
    if let Some(n) = known.lines() {
        prop_assert_eq!(n, lines.len() as u64, "learned line count from {}", learn);
    }
    for (i, line) in lines.iter().enumerate() {
        if let Some(k) = known.line(i as u64 + 1) {
            prop_assert_eq!(k, *line, "line {} learned from {}", i + 1, learn);
        }
    }
    // Structured reads answer as the shell pipelines with the same lines do.
    for (a, b) in [(1, None), (2, Some(4)), (3, None), (5, Some(40))] {
        for numbered in [false, true] {
            let Some(view) = super::lines("f".into(), numbered, a, b) else {
                continue;
            };
            if let Some(answer) = view.answer(&known) {
                let range = match b {
                    Some(b) => format!("{a},{b}p"),
                    None => format!("{a},$p"),
                };
                let script = if numbered {
                    format!("cat -n f | sed -n '{range}'")
                } else {
                    format!("sed -n '{range}' f")
                };
                prop_assert_eq!(Some(answer), run(dir, &script), "{} after {}", script, learn);
            }
        }
    }
    for v in views {
        // A grep pattern outside the exact translation is left to grep.
        let Some(view) = parse_script(v) else {
            prop_assert!(v.starts_with("grep") || v.contains("| grep"), "not a view: {}", v);
            continue;
        };
        if let Some(answer) = view.answer(&known) {
            let real = run(dir, v);
            prop_assert!(real.is_some(), "{v} fails for real, but was answered after {learn}");
            let real = real.unwrap_or_default();
            prop_assert_eq!(
                String::from_utf8_lossy(&answer),
                String::from_utf8_lossy(&real),
                "{} after {}",
                v,
                learn
            );
        }
    }
    Ok(())
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("foo".to_string()),
        Just("Foo bar".to_string()),
        Just("\tbar = foo_bar(1)".to_string()),
        Just("x\r".to_string()),
        Just("  # foo.bar*".to_string()),
        "[a-f .*()|^$]{0,12}",
        "[a-z]{200,300}",
    ]
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(line(), 0..40), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut s = lines.join("\n");
        if final_newline && !lines.is_empty() {
            s.push('\n');
        }
        s.into_bytes()
    })
}

fn learn_cmd() -> impl Strategy<Value = String> {
    (0usize..11, 1u64..45, 0u64..30).prop_map(|(k, a, len)| {
        let b = a + len;
        match k {
            9 => format!("nl -ba f | sed -n '{a},{b}p;{},{}p'", b + 2, b + 5),
            10 => format!("cat -n f | sed -n '{a},{b}p;{}p'", b + 1),
            0 => "cat f".to_string(),
            1 => "cat -n f".to_string(),
            2 => "nl -ba f".to_string(),
            3 => format!("sed -n '{a},{b}p' f"),
            4 => format!("head -n {len} f"),
            5 => format!("tail -n {len} f"),
            6 => format!("nl -ba f | sed -n '{a},{b}p'"),
            7 => format!("cat f | sed -n {a},{b}p"),
            _ => format!("sed -n '{a},$p' f"),
        }
    })
}

fn view_cmds(a: u64, len: u64, pat: &str) -> Vec<String> {
    let b = a + len;
    let mut v = vec![
        "cat f".to_string(),
        "cat -n f".to_string(),
        "nl -ba f".to_string(),
        format!("sed -n '{a},{b}p' f"),
        format!("sed -n '{a}p' f"),
        "sed -n '$p' f".to_string(),
        format!("head -n {len} f"),
        format!("head -{len} f"),
        "head f".to_string(),
        format!("tail -n {len} f"),
        format!("tail -n +{a} f"),
        "wc -l f".to_string(),
        "cat f | wc -l".to_string(),
        format!("nl -ba f | sed -n '{a},{b}p'"),
        format!("cat -n f | sed -n '{a},{b}p'"),
        format!("sed -n '{a},{b}p' f | nl -ba"),
        format!("cat f | head -n {len} | tail -n 3"),
        format!("sed -n '{a},{b}p;{}p' f", a + 1),
        format!("nl -ba f | sed -n '{}p;{a},{b}p'", b + 3),
        format!("sed -n '{a}p;{a}p' f"),
    ];
    for opts in [
        "", "-n", "-c", "-i", "-v", "-w", "-F", "-E", "-n -C 2", "-nA1", "-n -B 3", "-in", "-nw", "-vc",
    ] {
        v.push(format!("grep {opts} '{pat}' f"));
        v.push(format!("cat f | grep {opts} '{pat}'"));
    }
    v
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("foo".to_string()),
        Just("^foo".to_string()),
        Just("bar$".to_string()),
        Just("f.o".to_string()),
        Just("fo*".to_string()),
        Just("foo\\|bar".to_string()),
        Just("foo|bar".to_string()),
        Just("(1)".to_string()),
        Just("[a-c]".to_string()),
        Just("[^a-z ]".to_string()),
        Just("[[:space:]]x".to_string()),
        Just("x\\{2\\}".to_string()),
        Just("o+".to_string()),
        Just("\\.".to_string()),
        Just("*".to_string()),
        Just("_".to_string()),
        "[a-f.*]{1,3}",
    ]
}

proptest! {
    // Failures are printed with their minimal input and pinned as unit tests
    // below; no regression files in the source tree.
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn views_match_the_real_tools(
        content in file(),
        learn in learn_cmd(),
        second in learn_cmd(),
        a in 1u64..45,
        len in 0u64..25,
        pat in pattern(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), &content).unwrap();
        let views = view_cmds(a, len, &pat);
        check(dir.path(), &content, &learn, &views)?;
        // Two outputs learned together.
        if let (Some(o1), Some(o2)) = (run(dir.path(), &learn), run(dir.path(), &second)) {
            // One knowledge copied, the other sharing its output's bytes.
            let k1 = parse_script(&learn).and_then(|v| v.learn(&o1));
            let k2 = parse_script(&second).and_then(|v| v.learn_shared(&o2, Some(std::sync::Arc::from(o2.clone()))));
            if let (Some(k1), Some(k2)) = (k1, k2) {
                let known = k1.merged(k2);
                known.check().map_err(TestCaseError::fail)?;
                for v in &views {
                    if let Some(answer) = parse_script(v).and_then(|view| view.answer(&known)) {
                        let real = run(dir.path(), v);
                        prop_assert_eq!(Some(answer), real, "{} after {} and {}", v, learn, second);
                    }
                }
            }
        }
    }
}

#[test]
fn a_whole_file_answers_every_family() {
    let dir = tempfile::tempdir().unwrap();
    let content = b"import os\n\ndef foo():\n    return os.path\nfoo()";
    std::fs::write(dir.path().join("f"), content).unwrap();
    let known = parse_script("cat f").unwrap().learn(content).unwrap();
    let mut answered = 0;
    for v in view_cmds(2, 2, "foo") {
        let view = parse_script(&v).unwrap_or_else(|| panic!("{v}"));
        if let Some(answer) = view.answer(&known) {
            answered += 1;
            assert_eq!(Some(answer), run(dir.path(), &v), "{v}");
        }
    }
    // Only the greps that select nothing (exit 1) are left to the tool.
    assert!(answered >= 40, "{answered}");
}

#[test]
fn partial_knowledge_answers_only_what_it_covers() {
    let known = parse_script("sed -n '10,12p' f")
        .unwrap()
        .learn(b"ten\neleven\ntwelve\n")
        .unwrap();
    assert_eq!(known.lines(), None);
    let answer = |v: &str| parse_script(v).unwrap().answer(&known);
    assert_eq!(answer("sed -n '11,12p' f").as_deref(), Some(&b"eleven\ntwelve\n"[..]));
    assert_eq!(
        answer("nl -ba f | sed -n '11p'").as_deref(),
        Some(&b"    11\televen\n"[..])
    );
    assert_eq!(answer("sed -n '11,13p' f"), None, "line 13 may exist");
    assert_eq!(answer("cat f"), None);
    assert_eq!(answer("grep -n ten f"), None, "grep needs the whole file");
    assert_eq!(answer("tail -n 1 f"), None, "the end is unknown");
    // A shorter output than asked shows where the file ends.
    let known = parse_script("head -n 5 f").unwrap().learn(b"a\nb").unwrap();
    assert_eq!(known.lines(), Some(2));
    let answer = |v: &str| parse_script(v).unwrap().answer(&known);
    assert_eq!(answer("wc -l f").as_deref(), Some(&b"1 f\n"[..]));
    assert_eq!(answer("tail -n 1 f").as_deref(), Some(&b"b"[..]));
    // nl hides whether the last line had a newline.
    let known = parse_script("nl -ba f")
        .unwrap()
        .learn(b"     1\ta\n     2\tb\n")
        .unwrap();
    let answer = |v: &str| parse_script(v).unwrap().answer(&known);
    assert_eq!(answer("cat f"), None);
    assert_eq!(answer("sed -n 1p f").as_deref(), Some(&b"a\n"[..]));
    assert_eq!(answer("grep -n b f").as_deref(), Some(&b"2:b\n"[..]));
    assert_eq!(answer("wc -l f"), None);
}

#[test]
fn outputs_that_do_not_fit_their_command_teach_nothing() {
    let nl = parse_script("nl -ba f").unwrap();
    assert!(nl.learn(b"     1\ta\n     3\tb\n").is_none(), "numbers skip");
    assert!(nl.learn(b"a\n").is_none(), "no numbers");
    assert!(
        parse_script("tail -n 2 f").unwrap().learn(b"x\ny\n").is_none(),
        "where are they?"
    );
    assert!(parse_script("grep x f").unwrap().learn(b"x\n").is_none());
    for s in [
        "cat a b",
        "cat -A f",
        "sed -n '/x/p' f",
        "sed 's/a/b/' f",
        "head -c 5 f",
        "cat f > g",
        "grep -r x f",
        "wc f",
        "nl f",
        "sed -n '0p' f",
    ] {
        assert!(parse_script(s).is_none(), "{s}");
    }
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("cat".to_string()),
        Just("nl".to_string()),
        Just("sed".to_string()),
        Just("head".to_string()),
        Just("tail".to_string()),
        Just("grep".to_string()),
        Just("wc".to_string()),
        Just("|".to_string()),
        Just("-n".to_string()),
        Just("-ba".to_string()),
        Just("-l".to_string()),
        Just("f".to_string()),
        Just("'1,$p'".to_string()),
        Just("0p".to_string()),
        "-[A-Za-z0-9+]{1,4}",
        "'[ -~]{0,8}'",
        "[0-9,$p+-]{1,8}",
        "[ -~]{1,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever an agent types and whatever a tool printed: no panic.
    #[test]
    fn no_input_panics(
        words in prop::collection::vec(word(), 1..8),
        learn_out in prop::collection::vec(any::<u8>(), 0..200),
        numbered in any::<bool>(),
    ) {
        let script = words.join(" ");
        if let Some(view) = parse_script(&script) {
            let out = if numbered {
                String::from_utf8_lossy(&learn_out)
                    .lines()
                    .enumerate()
                    .map(|(i, l)| format!("{:6}\t{l}\n", i + 1))
                    .collect::<String>()
                    .into_bytes()
            } else {
                learn_out.clone()
            };
            if let Some(known) = view.learn(&out) {
                known.check().map_err(TestCaseError::fail)?;
                let _ = view.answer(&known);
                let whole = parse_script("cat f").and_then(|v| v.learn(&learn_out));
                if let Some(w) = whole {
                    let _ = view.answer(&w.merged(known));
                }
            }
        }
    }
}

#[test]
fn grep_is_left_to_grep_on_bytes_whose_meaning_depends_on_the_locale() {
    for content in [&b"caf\xc3\xa9 foo\nbar\n"[..], b"foo\0\nbar\n", b"x\n\xff foo\n"] {
        let known = parse_script("cat f").unwrap().learn(content).unwrap();
        assert_eq!(
            parse_script("grep -n foo f").unwrap().answer(&known),
            None,
            "{content:?}"
        );
        // Line views copy bytes and stay exact.
        assert!(parse_script("sed -n 2p f").unwrap().answer(&known).is_some());
    }
    // Long ASCII text with the odd byte past the last full word is seen too.
    let mut long = b"abcdefgh\n".repeat(10);
    long.extend_from_slice(b"\xe9\n");
    let known = parse_script("cat f").unwrap().learn(&long).unwrap();
    assert_eq!(parse_script("grep -c a f").unwrap().answer(&known), None);
}

#[test]
fn nl_hides_whether_its_last_line_is_the_files_last() {
    // The file is "a\nb" (no final newline): `nl -ba f | sed -n '1,2p'` prints
    // both lines with `\n`, and 2 lines were asked, so the end is not proven.
    let out = b"     1\ta\n     2\tb\n";
    for learn in ["nl -ba f | sed -n '1,2p'", "nl -ba f | sed -n '1,2p;4,5p'"] {
        let known = parse_script(learn).unwrap().learn(out).unwrap();
        let answer = |v: &str| parse_script(v).unwrap().answer(&known);
        assert_eq!(answer("sed -n 1p f").as_deref(), Some(&b"a\n"[..]), "{learn}");
        assert_eq!(answer("sed -n 2p f"), None, "{learn}: line 2 may be the bare last line");
    }
}

#[test]
fn sed_ends_a_bare_last_line_it_prints_again() {
    let known = parse_script("cat f").unwrap().learn(b"x\nfoo").unwrap();
    let answer = |v: &str| parse_script(v).unwrap().answer(&known);
    assert_eq!(answer("sed -n '2p;2p' f").as_deref(), Some(&b"foo\nfoo"[..]));
    assert_eq!(answer("sed -n '1,2p;1p' f").as_deref(), Some(&b"x\nx\nfoo"[..]));
}
