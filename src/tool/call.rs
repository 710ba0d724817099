//! Tool calls and their canonical cache keys.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::ToolError;
use super::output::CallRef;
use super::path_args::is_path_arg;
use crate::DepPath;

/// Deepest argument nesting accepted (deeper JSON is refused with
/// [`ToolError::TooDeep`] rather than risking the stack).
pub(crate) const MAX_DEPTH: usize = 64;

/// One tool call as an agent issued it.
///
/// ```
/// use depcache::tool::ToolCall;
/// use serde_json::json;
///
/// let call = ToolCall::new("read_file", json!({"path": "src/a.py"}));
/// assert_eq!(call.name, "read_file");
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolCall {
    /// The tool's name.
    pub name: String,
    /// Its arguments (a JSON object; anything else is not cacheable).
    #[serde(default)]
    pub args: Value,
    /// Who made it, if the executor says: recorded with the result it
    /// produces, and reported by the hits and views it later serves. Not
    /// part of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<CallRef>,
}

impl ToolCall {
    /// A call of `name` with `args`.
    pub fn new(name: impl Into<String>, args: Value) -> Self {
        ToolCall {
            name: name.into(),
            args,
            by: None,
        }
    }

    /// This call, made at `step` of `session`.
    pub fn by(mut self, session: impl Into<String>, step: u64) -> Self {
        self.by = Some(CallRef {
            session: session.into(),
            step,
        });
        self
    }
}

/// The cache key of a call: the tool name and the canonical form of its
/// arguments. Equality compares the whole key, never only a hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ToolKey {
    ws: u64,
    name: Arc<str>,
    args: Arc<str>,
}

impl ToolKey {
    /// The number of the workspace the call ran in (keys of different
    /// workspaces never compare equal).
    pub fn workspace(&self) -> u64 {
        self.ws
    }

    /// This key in workspace `ws`.
    pub(crate) fn in_workspace(mut self, ws: u64) -> Self {
        self.ws = ws;
        self
    }

    /// A key of the cache's own (a file's learned content), not a tool call's.
    pub(crate) fn internal(ws: u64, name: &'static str, args: Arc<str>) -> Self {
        ToolKey {
            ws,
            name: name.into(),
            args,
        }
    }

    /// The tool name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The canonical arguments (JSON text: keys sorted, numbers normalized,
    /// path arguments normalized against the workspace, declared defaults removed).
    pub fn args(&self) -> &str {
        &self.args
    }
}

impl std::fmt::Display for ToolKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.name, self.args)
    }
}

/// Builds the canonical key of `call`. `defaults` are arguments the tool fills in
/// when absent: an argument equal to its default is dropped, so `{"path":"a"}`
/// and `{"path":"a","offset":0}` share a key.
pub(crate) fn canonical_key(call: &ToolCall, root: &Path, defaults: &Map<String, Value>) -> Result<ToolKey, ToolError> {
    let Value::Object(args) = &call.args else {
        if call.args.is_null() {
            return Ok(ToolKey {
                ws: 0,
                name: call.name.as_str().into(),
                args: "{}".into(),
            });
        }
        return Err(ToolError::NotAnObject {
            tool: call.name.clone(),
            found: kind(&call.args),
        });
    };
    let mut out = String::with_capacity(64);
    write_object(args, root, defaults, 0, &call.name, &mut out)?;
    Ok(ToolKey {
        ws: 0,
        name: call.name.as_str().into(),
        args: out.into(),
    })
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn write_object(
    obj: &Map<String, Value>,
    root: &Path,
    defaults: &Map<String, Value>,
    depth: usize,
    tool: &str,
    out: &mut String,
) -> Result<(), ToolError> {
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    out.push('{');
    let mut first = true;
    for k in keys {
        let v = &obj[k];
        if depth == 0 && defaults.get(k).is_some_and(|d| same_json(d, v)) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_str(k, out);
        out.push(':');
        if is_path_arg(k) {
            write_path_value(v, root, depth + 1, tool, out)?;
        } else {
            write_value(v, root, depth + 1, tool, out)?;
        }
    }
    out.push('}');
    Ok(())
}

fn write_path_value(v: &Value, root: &Path, depth: usize, tool: &str, out: &mut String) -> Result<(), ToolError> {
    match v {
        Value::String(s) => {
            let p = DepPath::in_workspace(root, s);
            write_str(&p.as_path().to_string_lossy(), out);
            Ok(())
        }
        Value::Array(items) => {
            check_depth(depth, tool)?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_path_value(item, root, depth + 1, tool, out)?;
            }
            out.push(']');
            Ok(())
        }
        other => write_value(other, root, depth, tool, out),
    }
}

fn write_value(v: &Value, root: &Path, depth: usize, tool: &str, out: &mut String) -> Result<(), ToolError> {
    check_depth(depth, tool)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, root, depth + 1, tool, out)?;
            }
            out.push(']');
        }
        Value::Object(obj) => write_object(obj, root, &Map::new(), depth, tool, out)?,
    }
    Ok(())
}

fn check_depth(depth: usize, tool: &str) -> Result<(), ToolError> {
    if depth > MAX_DEPTH {
        Err(ToolError::TooDeep {
            tool: tool.to_string(),
            max: MAX_DEPTH,
        })
    } else {
        Ok(())
    }
}

/// Integers print as integers whatever their JSON spelling (`1`, `1.0`, `1e0`);
/// `-0` is `0`; other floats print in their shortest round-trip form.
fn write_number(n: &serde_json::Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            let _ = write!(out, "{}", f as i64);
        } else {
            let _ = write!(out, "{f:?}");
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    // serde_json's escaping of a string cannot fail.
    out.push_str(&Value::String(s.to_string()).to_string());
}

/// JSON equality with numbers compared by value (`0` equals `0.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (mut sx, mut sy) = (String::new(), String::new());
            write_number(x, &mut sx);
            write_number(y, &mut sy);
            sx == sy
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(args: Value) -> ToolKey {
        canonical_key(&ToolCall::new("t", args), Path::new("/ws"), &Map::new()).unwrap()
    }

    #[test]
    fn key_order_and_numbers_do_not_matter() {
        assert_eq!(
            key(json!({"a": 1, "b": [1.0, "x"]})),
            key(json!({"b": [1, "x"], "a": 1.0}))
        );
        assert_ne!(key(json!({"a": 1})), key(json!({"a": "1"})));
        assert_eq!(key(json!({"a": -0.0})), key(json!({"a": 0})));
        assert_ne!(key(json!({"a": 1.5})), key(json!({"a": 1})));
    }

    #[test]
    fn paths_are_normalized() {
        let k = key(json!({"path": "./src//a.py"}));
        assert_eq!(k, key(json!({"path": "src/a.py"})));
        assert_eq!(k, key(json!({"path": "/ws/src/a.py"})));
        assert_eq!(k.args(), r#"{"path":"src/a.py"}"#);
        assert_eq!(key(json!({"paths": ["./a", "b/"]})), key(json!({"paths": ["a", "b"]})));
    }

    #[test]
    fn defaults_are_dropped() {
        let mut d = Map::new();
        d.insert("offset".into(), json!(0));
        let k1 = canonical_key(&ToolCall::new("read", json!({"path": "a"})), Path::new("/ws"), &d).unwrap();
        let k2 = canonical_key(
            &ToolCall::new("read", json!({"path": "a", "offset": 0.0})),
            Path::new("/ws"),
            &d,
        )
        .unwrap();
        let k3 = canonical_key(
            &ToolCall::new("read", json!({"path": "a", "offset": 5})),
            Path::new("/ws"),
            &d,
        )
        .unwrap();
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
    }

    #[test]
    fn bad_args() {
        let e = canonical_key(&ToolCall::new("read", json!([1])), Path::new("/ws"), &Map::new()).unwrap_err();
        assert!(e.to_string().contains("read") && e.to_string().contains("array"), "{e}");
        let mut v = json!(1);
        for _ in 0..1_000 {
            v = json!({ "x": v });
        }
        let e = canonical_key(&ToolCall::new("deep", v), Path::new("/ws"), &Map::new()).unwrap_err();
        assert!(matches!(e, ToolError::TooDeep { .. }));
        assert_eq!(key(Value::Null).args(), "{}");
    }
}
