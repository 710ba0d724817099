//! `tool_args`: tool calls with arbitrary JSON arguments through
//! `ToolCache::classify` / `key` / `canonical_key`.
//!
//! Checks: nothing panics; `key` agrees with `classify`; a canonical key is a
//! JSON object; and two spellings of the same canonical JSON get the same key
//! and the same dependencies: object keys in any order (the arguments are
//! re-serialized with shuffled keys and extra whitespace, then parsed again),
//! integers spelled as floats, relative path arguments spelled `./p` or
//! `<root>/p`, and absent defaults spelled out.

use std::path::{Component, Path};

use arbitrary::Arbitrary;
use depcache::testing::is_path_arg;
use depcache::tool::{Decision, ToolCache, ToolCall, ToolPolicy};
use depcache::DepPath;
use serde_json::{Map, Number, Value};

/// The workspace root of the cache under test.
pub const ROOT: &str = "/ws";

const TOOLS: &[&str] = &[
    "read_file",
    "view",
    "list_directory",
    "ls",
    "grep",
    "search_file_content",
    "find_files",
    "glob",
    "git_status",
    "git_log",
    "edit",
    "write_file",
    "remove_file",
    "move_file",
    "git_commit",
    "git_checkout",
    "bash",
    "run_command",
    "web_fetch",
    "",
];

const KEYS: &[&str] = &[
    "path",
    "paths",
    "file",
    "filePath",
    "files",
    "dir",
    "dirPath",
    "directory",
    "target",
    "new_path",
    "cwd",
    "pattern",
    "glob",
    "offset",
    "startLine",
    "endLine",
    "recursive",
    "command",
    "old",
    "new",
    "ops",
    "query",
    "",
];

const PIECES: &[&str] = &[
    "a", "src", "b.rs", "..", ".", "", "~", "ws", "*", "**", "*.rs", "{a,b}", "[x]", "?", "\0", " ", "é", "\\",
];

#[derive(Arbitrary, Debug)]
pub enum Name {
    Known(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
pub enum Str {
    /// Components from `PIECES`, joined with `/`; `true`: with a leading `/`.
    Path(bool, Vec<u8>),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Small(i8),
    UInt(u64),
    Float(f64),
    Str(Str),
    Arr(Vec<J>),
    Obj(Vec<(Name, J)>),
}

#[derive(Arbitrary, Debug)]
pub enum Args {
    Gen(J),
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub tool: Name,
    pub args: Args,
    pub seed: u64,
}

fn name(n: &Name, list: &[&str]) -> String {
    match n {
        Name::Known(i) => list[usize::from(*i) % list.len()].to_string(),
        Name::Raw(s) => s.clone(),
    }
}

pub fn to_value(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Int(i) => Value::from(*i),
        J::Small(i) => Value::from(*i),
        J::UInt(u) => Value::from(*u),
        J::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        J::Str(Str::Path(abs, pieces)) => {
            let parts: Vec<&str> = pieces.iter().map(|p| PIECES[usize::from(*p) % PIECES.len()]).collect();
            let s = parts.join("/");
            Value::String(if *abs { format!("/{s}") } else { s })
        }
        J::Str(Str::Raw(s)) => Value::String(s.clone()),
        J::Arr(items) => Value::Array(items.iter().map(to_value).collect()),
        J::Obj(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert(name(k, KEYS), to_value(v));
            }
            Value::Object(m)
        }
    }
}

/// A small deterministic generator (xorshift) for shuffles and choices.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// JSON text of `v`, object keys in the order `rng` picks (`None`: as stored),
/// with random whitespace between tokens.
pub fn write_shuffled(v: &Value, rng: &mut Option<Rng>, out: &mut String) {
    let ws = |rng: &mut Option<Rng>, out: &mut String| {
        if let Some(r) = rng {
            out.push_str([" ", "", "\n", "\t ", ""][r.below(5)]);
        }
    };
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                write_shuffled(x, rng, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if let Some(r) = rng {
                for i in (1..keys.len()).rev() {
                    keys.swap(i, r.below(i + 1));
                }
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                out.push_str(&Value::String(k.clone()).to_string());
                ws(rng, out);
                out.push(':');
                write_shuffled(&m[k], rng, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// True if `DepPath::in_workspace(ROOT, prefix + p)` is `in_workspace(ROOT, p)`
/// for `prefix` `./` (`strict` false) or `<root>/` (`strict` true).
fn respell_ok(p: &str, strict: bool) -> bool {
    let path = Path::new(p);
    if path.is_absolute() || path.components().next() == Some(Component::Normal("~".as_ref())) {
        return false;
    }
    // Below the root, `..` past the start leaves the workspace.
    !strict || DepPath::new(p).as_path().components().next() != Some(Component::ParentDir)
}

/// The same canonical JSON spelled differently (see the module doc).
pub fn respell(v: &Value, under_path: bool, rng: &mut Rng) -> Value {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() < (1 << 53) && rng.below(2) == 0 => {
                Number::from_f64(i as f64).map_or(v.clone(), Value::Number)
            }
            _ => v.clone(),
        },
        Value::String(s) if under_path => match rng.below(3) {
            0 if respell_ok(s, false) => Value::String(format!("./{s}")),
            1 if respell_ok(s, true) => Value::String(format!("{ROOT}/{s}")),
            _ => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|x| respell(x, under_path, rng)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), respell(x, is_path_arg(k), rng)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A decision with its dependency lists sorted (their order is not part of it).
fn normalized(d: Decision) -> String {
    match d {
        Decision::Read { key, mut deps } => {
            deps.sort_by(|a, b| (&a.dep, a.scope).cmp(&(&b.dep, b.scope)));
            deps.dedup();
            format!("read {key:?} {deps:?}")
        }
        Decision::Write { mut paths } => {
            paths.sort();
            paths.dedup();
            format!("write {paths:?}")
        }
        Decision::Opaque => "opaque".into(),
        Decision::Uncached { reason } => format!("uncached {reason:?}"),
    }
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// Runs raw fuzz bytes: starting with a NUL byte, the rest is a structured
/// [`Input`] (built by `arbitrary`); otherwise the first line is the tool name
/// and the rest its arguments as JSON text (a seed: `read_file\n{"path": "a"}`).
pub fn check_tool_args_bytes(data: &[u8]) {
    if let Some(rest) = data.strip_prefix(&[0]) {
        if let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
            check_tool_args(&input);
        }
        return;
    }
    let text = String::from_utf8_lossy(data);
    let (tool, args) = text.split_once('\n').unwrap_or((&text, ""));
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    check_tool_args(&Input {
        tool: Name::Raw(tool.to_string()),
        args: Args::Text(args.to_string()),
        seed,
    });
}

/// Runs a `tool_args` input; panics on a violation.
pub fn check_tool_args(input: &Input) {
    let tc: ToolCache = ToolCache::new(ROOT, 16);
    let tool = name(&input.tool, TOOLS);
    let args = match &input.args {
        Args::Gen(j) => to_value(j),
        Args::Text(t) => match parse(t) {
            Some(v) => v,
            None => Value::String(t.clone()),
        },
    };
    let policy = tc.policy();
    let shell = matches!(policy.get(&tool), ToolPolicy::Shell(_));
    #[cfg(depcache_shell)]
    {
        crate::shell::let_parser_panics_unwind();
        // The open exponential-time bug of the shell parser (see shell.rs).
        if shell && crate::shell::too_many_parens(&args.to_string()) {
            return;
        }
    }
    let call = ToolCall::new(tool.clone(), args.clone());
    let decision = tc.classify(&call);
    assert_eq!(decision, tc.classify(&call), "classify is not deterministic");
    let canonical = tc.canonical_key(&call);
    match (tc.key(&call), &decision) {
        (Ok(Some(k)), Decision::Read { key, .. }) => assert_eq!(&k, key, "key() and classify() disagree"),
        (Ok(None), Decision::Read { .. }) => panic!("key() is None for a cacheable read"),
        (Err(e), Decision::Uncached { reason: Some(r) }) => assert_eq!(&e, r),
        (Ok(None), Decision::Write { .. } | Decision::Opaque | Decision::Uncached { reason: None }) => {}
        (got, d) => panic!("key() is {got:?} for decision {d:?}"),
    }
    if let Ok(k) = &canonical {
        assert_eq!(k.name(), tool);
        match serde_json::from_str::<Value>(k.args()) {
            Ok(Value::Object(_)) => {}
            other => panic!("canonical args {:?} are not a JSON object: {other:?}", k.args()),
        }
    }
    if let Decision::Read { key, deps } = &decision {
        // A shell command that reads no file (`echo hi`) is a read without
        // dependencies; any other read names what it depends on.
        assert!(shell || !deps.is_empty(), "a cacheable read without dependencies");
        assert_eq!(key.name(), tool);
    }

    // Same arguments, keys shuffled, through JSON text.
    let mut plain = String::new();
    write_shuffled(&args, &mut None, &mut plain);
    let mut shuffled = String::new();
    write_shuffled(&args, &mut Some(Rng::new(input.seed)), &mut shuffled);
    let (a, b) = match (parse(&plain), parse(&shuffled)) {
        (Some(a), Some(b)) => (a, b),
        (None, None) => return, // e.g. nested deeper than the parser's limit
        (a, b) => panic!("only one spelling parses: {plain:?} -> {a:?}, {shuffled:?} -> {b:?}"),
    };
    let ca = ToolCall::new(tool.clone(), a.clone());
    let cb = ToolCall::new(tool.clone(), b);
    let da = normalized(tc.classify(&ca));
    assert_eq!(
        da,
        normalized(tc.classify(&cb)),
        "key order changed the decision: {shuffled}"
    );
    assert_eq!(
        tc.canonical_key(&ca),
        tc.canonical_key(&cb),
        "key order changed the canonical key: {shuffled}"
    );

    // Equal canonical JSON, spelled differently.
    let mut rng = Rng::new(input.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut c = respell(&a, false, &mut rng);
    if let (ToolPolicy::Read(read), Value::Object(m)) = (policy.get(&tool), &mut c) {
        for (k, d) in &read.defaults {
            if !m.contains_key(k) && rng.below(2) == 0 {
                m.insert(k.clone(), d.clone());
            }
        }
    }
    let cc = ToolCall::new(tool, c.clone());
    assert_eq!(
        da,
        normalized(tc.classify(&cc)),
        "an equivalent spelling changed the decision: {a} vs {c}"
    );
}
