//! Agent traces in the `depcache-trace/1` format (JSON Lines).
//!
//! The first line is a header `{"format": "depcache-trace/1", "workspace": ...}`;
//! every other line is one tool call:
//! `{"session": ..., "tool": ..., "args": {...}, "output": ..., "ok": true}`.
//! `session`, `args`, `output` and `ok` are optional (defaults: `"default"`,
//! `{}`, none, `true`).
//!
//! Feature `trace` (off by default): the `depcache` CLI (package
//! `depcache-cli`) and the fuzzers enable it.
//!
//! ```
//! use depcache::trace::Trace;
//!
//! let text = r#"{"format": "depcache-trace/1", "workspace": "/repo"}
//! {"session": "s1", "tool": "read_file", "args": {"path": "a.py"}, "output": "x"}
//! "#;
//! let trace = Trace::parse(text.as_bytes(), "example.jsonl", false).unwrap();
//! assert_eq!(trace.header.workspace, "/repo");
//! assert_eq!(trace.calls[0].tool, "read_file");
//! ```

use std::io::BufRead;

use serde_json::Value;
use thiserror::Error;

use crate::tool::ToolCall;

/// The format this reader understands.
pub const FORMAT: &str = "depcache-trace/1";

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The workspace root the calls' paths refer to.
    pub workspace: String,
    /// Where the trace came from.
    pub source: Option<String>,
    /// Whether its sessions ran in sandboxes of their own (header field
    /// `sandbox`: `"per-session"` or `"shared"`; when absent, chosen from
    /// `source` and `workspace` by [`Sandbox::guess`]).
    pub sandbox: Sandbox,
    /// The shell tools' recorded outputs are the commands' exact standard
    /// output (cut ones marked), so views may learn from them (header field
    /// `shell_output`: `"raw"` or `"processed"`; when absent, `raw` for
    /// mini-swe-agent, whose outputs are raw, `processed` otherwise).
    pub raw_shell_output: bool,
}

/// Where a trace's sessions ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sandbox {
    /// Each session in a sandbox of its own (a SWE-bench instance's
    /// container): a replay gives each session its own workspace.
    PerSession,
    /// All sessions on one file system (agents sharing a checkout): one
    /// workspace, whose results every session may be served.
    Shared,
}

impl Sandbox {
    /// The default for a header without a `sandbox` field: per-session for
    /// the harnesses that run each task in a container of its own (SWE-bench,
    /// mini-swe-agent, SWE-agent, OpenHands; a `/testbed` root), shared
    /// otherwise.
    ///
    /// ```
    /// use depcache::trace::Sandbox;
    /// assert_eq!(Sandbox::guess(Some("OpenHands CodeActAgent"), "/workspace"), Sandbox::PerSession);
    /// assert_eq!(Sandbox::guess(None, "/testbed"), Sandbox::PerSession);
    /// assert_eq!(Sandbox::guess(Some("voder.ai agent action log"), "."), Sandbox::Shared);
    /// ```
    pub fn guess(source: Option<&str>, workspace: &str) -> Sandbox {
        const CONTAINED: [&str; 5] = ["swe-bench", "swe_bench", "swe-agent", "openhands", "multi_swe"];
        let source = source.unwrap_or("").to_ascii_lowercase();
        if workspace == "/testbed" || CONTAINED.iter().any(|h| source.contains(h)) {
            Sandbox::PerSession
        } else {
            Sandbox::Shared
        }
    }

    /// The header's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Sandbox::PerSession => "per-session",
            Sandbox::Shared => "shared",
        }
    }
}

/// One tool call of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceCall {
    /// Calls of one session run in order; sessions may run concurrently.
    pub session: String,
    /// The tool's name.
    pub tool: String,
    /// Its arguments, as the agent issued them.
    pub args: Value,
    /// What the agent saw, when recorded: the ground truth for stale serves.
    pub output: Option<String>,
    /// False for a failed call (its result is not cached).
    pub ok: bool,
    /// How long the tool ran, when recorded (`duration_ms`): what a hit on
    /// this call saves.
    pub duration: Option<std::time::Duration>,
    /// The line it came from (1-based).
    pub line: usize,
}

impl TraceCall {
    /// The call as a [`ToolCall`].
    pub fn to_call(&self) -> ToolCall {
        ToolCall::new(self.tool.clone(), self.args.clone())
    }
}

/// A parsed trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Its header.
    pub header: Header,
    /// Its calls, in file order.
    pub calls: Vec<TraceCall>,
    /// Bad lines skipped (lenient parsing only).
    pub skipped: usize,
}

/// What was wrong with a trace, and where.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("{origin}: cannot read: {source}")]
    Io {
        /// The file.
        origin: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The trace has no header line.
    #[error("{origin}: empty trace (no header line)")]
    Empty {
        /// The file.
        origin: String,
    },
    /// A line is not valid JSON (or not a JSON object).
    #[error("{origin}:{line}: not a JSON object: {message}")]
    NotJson {
        /// The file.
        origin: String,
        /// The line (1-based).
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A required field is missing or has the wrong type.
    #[error("{origin}:{line}: field `{field}` {problem}")]
    BadField {
        /// The file.
        origin: String,
        /// The line (1-based).
        line: usize,
        /// The field.
        field: &'static str,
        /// "is missing", "must be a string", ...
        problem: &'static str,
    },
    /// The header names another format.
    #[error("{origin}:{line}: unknown trace format {found:?} (this reader understands {FORMAT:?})")]
    Format {
        /// The file.
        origin: String,
        /// The header's line (1-based).
        line: usize,
        /// What the header says.
        found: String,
    },
}

impl Trace {
    /// Parses a whole trace. With `lenient`, bad call lines are skipped and
    /// counted in [`skipped`](Trace::skipped); a bad header is always an error.
    pub fn parse(mut reader: impl BufRead, origin: &str, lenient: bool) -> Result<Trace, TraceError> {
        let mut header = None;
        let mut calls = Vec::new();
        let mut skipped = 0;
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            buf.clear();
            let read = reader.read_until(b'\n', &mut buf).map_err(|source| TraceError::Io {
                origin: origin.to_string(),
                source,
            })?;
            if read == 0 {
                break;
            }
            n += 1;
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            let line = match std::str::from_utf8(&buf) {
                Ok(l) => l,
                Err(e) if lenient && header.is_some() => {
                    let _ = e;
                    skipped += 1;
                    continue;
                }
                Err(e) => {
                    return Err(TraceError::NotJson {
                        origin: origin.to_string(),
                        line: n,
                        message: format!("not UTF-8 ({e})"),
                    })
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            if header.is_none() {
                header = Some(parse_header_at(line, origin, n)?);
                continue;
            }
            match parse_call(line, origin, n) {
                Ok(c) => calls.push(c),
                Err(_) if lenient => skipped += 1,
                Err(e) => return Err(e),
            }
        }
        match header {
            Some(header) => Ok(Trace { header, calls, skipped }),
            None => Err(TraceError::Empty {
                origin: origin.to_string(),
            }),
        }
    }
}

fn object(line: &str, origin: &str, n: usize) -> Result<serde_json::Map<String, Value>, TraceError> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(TraceError::NotJson {
            origin: origin.to_string(),
            line: n,
            message: format!("found {}", crate::tool::json_kind(&other)),
        }),
        Err(e) => Err(TraceError::NotJson {
            origin: origin.to_string(),
            line: n,
            message: e.to_string(),
        }),
    }
}

/// Parses the header line.
pub fn parse_header(line: &str, origin: &str) -> Result<Header, TraceError> {
    parse_header_at(line, origin, 1)
}

fn parse_header_at(line: &str, origin: &str, n: usize) -> Result<Header, TraceError> {
    let m = object(line, origin, n)?;
    let bad = |field, problem| TraceError::BadField {
        origin: origin.to_string(),
        line: n,
        field,
        problem,
    };
    let format = match m.get("format") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("format", "must be a string")),
        None => return Err(bad("format", "is missing (is this a depcache-trace/1 file?)")),
    };
    if format != FORMAT {
        return Err(TraceError::Format {
            origin: origin.to_string(),
            line: n,
            found: format,
        });
    }
    let workspace = match m.get("workspace") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("workspace", "must be a string")),
        None => ".".to_string(),
    };
    let source = m.get("source").and_then(Value::as_str).map(str::to_string);
    let sandbox = match m.get("sandbox") {
        None | Some(Value::Null) => Sandbox::guess(source.as_deref(), &workspace),
        Some(Value::String(s)) if s == "per-session" => Sandbox::PerSession,
        Some(Value::String(s)) if s == "shared" => Sandbox::Shared,
        Some(_) => return Err(bad("sandbox", "must be \"per-session\" or \"shared\"")),
    };
    let raw_shell_output = match m.get("shell_output") {
        None | Some(Value::Null) => source
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("mini-swe-agent")),
        Some(Value::String(s)) if s == "raw" => true,
        Some(Value::String(s)) if s == "processed" => false,
        Some(_) => return Err(bad("shell_output", "must be \"raw\" or \"processed\"")),
    };
    Ok(Header {
        format,
        workspace,
        source,
        sandbox,
        raw_shell_output,
    })
}

/// Parses one call line (`n` is its 1-based line number, for messages).
pub fn parse_call(line: &str, origin: &str, n: usize) -> Result<TraceCall, TraceError> {
    let mut m = object(line, origin, n)?;
    let bad = |field, problem| TraceError::BadField {
        origin: origin.to_string(),
        line: n,
        field,
        problem,
    };
    let tool = match m.remove("tool") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(bad("tool", "must be a string")),
        None => return Err(bad("tool", "is missing")),
    };
    let session = match m.remove("session") {
        Some(Value::String(s)) => s,
        Some(Value::Number(x)) => x.to_string(),
        Some(_) => return Err(bad("session", "must be a string")),
        None => "default".to_string(),
    };
    let args = match m.remove("args") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v) => v,
    };
    let output = match m.remove("output") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    let ok = match m.remove("ok") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(bad("ok", "must be true or false")),
    };
    let duration = match m.remove("duration_ms") {
        None | Some(Value::Null) => None,
        Some(Value::Number(x)) => match x.as_f64() {
            Some(ms) if ms.is_finite() && ms >= 0.0 => Some(std::time::Duration::from_secs_f64(ms / 1e3)),
            _ => return Err(bad("duration_ms", "must be a non-negative number of milliseconds")),
        },
        Some(_) => return Err(bad("duration_ms", "must be a non-negative number of milliseconds")),
    };
    Ok(TraceCall {
        session,
        tool,
        args,
        output,
        ok,
        duration,
        line: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, lenient: bool) -> Result<Trace, TraceError> {
        Trace::parse(s.as_bytes(), "t.jsonl", lenient)
    }

    #[test]
    fn durations_are_milliseconds() {
        let h = r#"{"format": "depcache-trace/1", "workspace": "/w"}"#;
        let t = parse(
            &format!("{h}\n{{\"tool\": \"x\", \"duration_ms\": 1500}}\n{{\"tool\": \"y\"}}\n"),
            false,
        )
        .unwrap();
        assert_eq!(t.calls[0].duration, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(t.calls[1].duration, None);
        let e = parse(&format!("{h}\n{{\"tool\": \"x\", \"duration_ms\": -1}}\n"), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.jsonl:2: field `duration_ms` must be a non-negative number of milliseconds"
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let h = r#"{"format": "depcache-trace/1", "workspace": "/w"}"#;
        let e = parse(&format!("{h}\n{{\"tool\": \"x\"}}\nnot json\n"), false).unwrap_err();
        assert!(e.to_string().starts_with("t.jsonl:3: not a JSON object"), "{e}");
        let e = parse(&format!("{h}\n{{\"args\": {{}}}}\n"), false).unwrap_err();
        assert_eq!(e.to_string(), "t.jsonl:2: field `tool` is missing");
        let e = parse(r#"{"format": "depcache-trace/9"}"#, false).unwrap_err();
        assert!(
            e.to_string().contains("unknown trace format \"depcache-trace/9\""),
            "{e}"
        );
        assert!(matches!(parse("", false), Err(TraceError::Empty { .. })));
        let e = parse(r#"{"format": "depcache-trace/1", "sandbox": "each"}"#, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.jsonl:1: field `sandbox` must be \"per-session\" or \"shared\""
        );
        let t = parse(
            r#"{"format": "depcache-trace/1", "workspace": "/testbed", "sandbox": "shared"}"#,
            false,
        )
        .unwrap();
        assert_eq!(t.header.sandbox, Sandbox::Shared);
        let e = parse(&format!("{h}\n[1]\n"), false).unwrap_err();
        assert!(e.to_string().contains("found an array"), "{e}");
        let t = parse(&format!("{h}\nnope\n{{\"tool\": \"x\", \"ok\": false}}\n\n"), true).unwrap();
        assert_eq!(
            (t.skipped, t.calls.len(), t.calls[0].ok, t.calls[0].line),
            (1, 1, false, 3)
        );
    }
}
