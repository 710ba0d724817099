//! `trace`: the trace reader on arbitrary lines.
//!
//! Checks: `Trace::parse` (strict and lenient), `parse_header` and `parse_call`
//! never panic; behind a valid header, lenient parsing never fails (not even
//! on lines that are not UTF-8), keeps or skips every non-blank line exactly
//! once, and agrees with `parse_call` line by line, line numbers included
//! (also after blank lines before the header); strict parsing succeeds exactly
//! when every call line parses, and otherwise fails on the first bad line.

use depcache::trace::{parse_call, parse_header, Trace};

/// A valid header line.
pub const HEADER: &str = r#"{"format": "depcache-trace/1", "workspace": "/ws"}"#;

/// Lines as the reader splits them: at `\n`, with a `\r` before the `\n`
/// removed (whether a `\r` ending the input without a `\n` stays does not
/// matter to the checks: JSON ignores it, error lines are compared by number).
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('\n') {
        let line = &rest[..at];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        rest = &rest[at + 1..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// Runs a `trace` input: the bytes as a whole trace, then behind a valid header.
pub fn check_trace(data: &[u8]) {
    for lenient in [false, true] {
        let _ = Trace::parse(data, "fuzz.jsonl", lenient);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        // Not UTF-8: lenient parsing behind a header skips the bad lines.
        let mut with_header = HEADER.as_bytes().to_vec();
        with_header.push(b'\n');
        with_header.extend_from_slice(data);
        if let Err(e) = Trace::parse(&with_header[..], "fuzz.jsonl", true) {
            panic!("lenient parse of non-UTF-8 lines failed behind a valid header: {e}");
        }
        return;
    };
    for (i, line) in text.lines().enumerate() {
        let _ = parse_header(line, "fuzz.jsonl");
        let _ = parse_call(line, "fuzz.jsonl", i + 1);
    }
    // Behind a valid header: the header is line 1, the input starts on line 2.
    let full = format!("{HEADER}\n{text}");
    let lines = split_lines(&full);
    let lenient = match Trace::parse(full.as_bytes(), "fuzz.jsonl", true) {
        Ok(t) => t,
        Err(e) => panic!("lenient parse failed behind a valid header: {e}"),
    };
    assert_eq!(lenient.header.workspace, "/ws");
    let mut expect_calls = Vec::new();
    let mut expect_skipped = 0;
    let mut first_error = None;
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_call(line, "fuzz.jsonl", i + 1) {
            Ok(c) => expect_calls.push(c),
            Err(e) => {
                expect_skipped += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    assert_eq!(lenient.skipped, expect_skipped, "lenient: skipped lines");
    assert_eq!(lenient.calls, expect_calls, "lenient: calls (or their line numbers)");
    match (Trace::parse(full.as_bytes(), "fuzz.jsonl", false), first_error) {
        (Ok(t), None) => assert_eq!(t.calls, expect_calls, "strict: calls"),
        // The same line (`origin:line:`); the message may differ in its column,
        // as a `\r` ending the input is or is not part of the last line.
        (Err(e), Some(first)) => assert_eq!(
            e.to_string().split(": ").next(),
            first.split(": ").next(),
            "strict: first error {e} vs {first}"
        ),
        (got, want) => panic!(
            "strict parse: {:?}, expected first error {want:?}",
            got.map(|t| t.calls.len())
        ),
    }
    check_blank_before_header(&full, &expect_calls);
}

/// A blank line before the header shifts every line number after it by one
/// (it once did not: tests/regressions.rs).
pub fn check_blank_before_header(full: &str, expect_calls: &[depcache::trace::TraceCall]) {
    let padded = format!("\n{full}");
    if let Ok(t) = Trace::parse(padded.as_bytes(), "fuzz.jsonl", true) {
        assert_eq!(t.calls.len(), expect_calls.len());
        for (c, want) in t.calls.iter().zip(expect_calls) {
            assert_eq!(c.line, want.line + 1, "line number of a call after a blank first line");
        }
    }
}
