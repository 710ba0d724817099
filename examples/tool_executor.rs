//! A multi-threaded tool executor: several agent tasks on tokio share one
//! `ToolCache` and run real file reads, listings and writes in a temp directory.
//!
//! Each agent owns some files (only it writes them) and reads everyone's. After
//! every write, the agent's next read of that file must return what it wrote: a
//! cached old content would be a stale serve, and is counted.
//!
//! `cargo run --release --example tool_executor`

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use depcache::tool::{ToolCache, ToolCall};
use serde_json::json;

const AGENTS: usize = 4;
const FILES_PER_AGENT: usize = 8;
const STEPS: usize = 2_000;

async fn run_tool(root: PathBuf, call: ToolCall) -> Result<Arc<str>, String> {
    let arg = |k: &str| call.args.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match call.name.as_str() {
        "read_file" => tokio::fs::read_to_string(root.join(arg("path")))
            .await
            .map(Into::into)
            .map_err(|e| e.to_string()),
        "list_directory" => {
            let mut names = Vec::new();
            let mut rd = tokio::fs::read_dir(root.join(arg("path")))
                .await
                .map_err(|e| e.to_string())?;
            while let Some(e) = rd.next_entry().await.map_err(|e| e.to_string())? {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            Ok(names.join("\n").into())
        }
        "write_file" => {
            tokio::fs::write(root.join(arg("path")), arg("content"))
                .await
                .map_err(|e| e.to_string())?;
            Ok("ok".into())
        }
        other => Err(format!("unknown tool {other}")),
    }
}

fn file(agent: usize, i: usize) -> String {
    format!("src/agent{agent}/f{i}.txt")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root: PathBuf = dir.path().to_path_buf();
    for a in 0..AGENTS {
        std::fs::create_dir_all(root.join(format!("src/agent{a}"))).unwrap();
        for i in 0..FILES_PER_AGENT {
            std::fs::write(root.join(file(a, i)), format!("agent{a} file{i} v0")).unwrap();
        }
    }
    let tools: Arc<ToolCache> = Arc::new(ToolCache::new(&root, 1024));
    let stale = Arc::new(AtomicU64::new(0));
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for a in 0..AGENTS {
        let (tools, root, stale) = (tools.clone(), root.clone(), stale.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<String> = (0..FILES_PER_AGENT).map(|i| format!("agent{a} file{i} v0")).collect();
            let mut x = a as u64 + 1;
            for step in 0..STEPS {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (who, i) = (
                    (x % AGENTS as u64) as usize,
                    ((x >> 8) % FILES_PER_AGENT as u64) as usize,
                );
                let call = match x % 10 {
                    0 if who == a => {
                        let content = format!("agent{a} file{i} v{}", step + 1);
                        mine[i] = content.clone();
                        ToolCall::new("write_file", json!({ "path": file(a, i), "content": content }))
                    }
                    1 => ToolCall::new("list_directory", json!({ "path": format!("src/agent{who}") })),
                    _ => ToolCall::new("read_file", json!({ "path": file(who, i) })),
                };
                let r = tools.execute_async(&call, |c| run_tool(root.clone(), c)).await;
                let out = r.expect("tool failed");
                if call.name == "read_file" && who == a && *out != *mine[i] {
                    stale.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("agent task panicked");
    }
    let s = tools.stats();
    println!(
        "tool_executor: {AGENTS} agents x {STEPS} calls on tokio, real files under {}",
        short(&root)
    );
    println!("  elapsed          {:?}", start.elapsed());
    println!(
        "  lookups          {}  hits {} ({:.1}%)",
        s.hits + s.misses,
        s.hits,
        100.0 * s.hit_ratio()
    );
    println!(
        "  entries removed  {}  by {} invalidation calls",
        s.entries_invalidated, s.invalidation_calls
    );
    let stale = stale.load(Ordering::Relaxed);
    println!("  stale serves     {stale}");
    if stale > 0 {
        std::process::exit(1);
    }
}

fn short(p: &Path) -> String {
    p.display().to_string()
}
