//! Helpers of the watcher tests (`tests/watch.rs`, `tests/sync.rs`): a file
//! read through a `ToolCache`, run for real.

use std::path::Path;
use std::sync::Arc;

use depcache::tool::{ToolCache, ToolCall};
use serde_json::json;

/// `read_file` of `rel` through the cache. Like an agent's read tool, a
/// missing file is an answer ("error: ..."), cached like any other until the
/// path changes.
pub fn read(tools: &ToolCache, root: &Path, rel: &str) -> Arc<str> {
    let call = ToolCall::new("read_file", json!({ "path": rel }));
    let out = tools.execute(&call, |_| -> Result<Arc<str>, std::convert::Infallible> {
        Ok(match std::fs::read_to_string(root.join(rel)) {
            Ok(text) => text.into(),
            Err(e) => format!("error: {e}").into(),
        })
    });
    match out {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

/// True if the read of `rel` is cached.
pub fn cached(tools: &ToolCache, rel: &str) -> bool {
    tools.get(&ToolCall::new("read_file", json!({ "path": rel }))).is_some()
}
