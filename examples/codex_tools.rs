//! codex's tool set over a real temporary git repository: several agent
//! tasks on tokio share one `ToolCache` (with `Policy::for_agent("codex")`
//! and a watcher) and call `read_file`, `list_dir`, `grep_files`, `shell`
//! (argument vectors, `workdir`) and `apply_patch`. Every hit is checked
//! against a fresh run of the tool; the example fails if one differs.
//!
//! ```sh
//! cargo run --release --example codex_tools -- [AGENTS] [ROUNDS]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use depcache::tool::{Policy, ToolCache, ToolCall};
use serde_json::{json, Value};
use tokio::sync::RwLock;

/// Runs codex's tools in `root`.
struct Executor {
    root: PathBuf,
}

impl Executor {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(
            p.strip_prefix(self.root.to_str().unwrap_or(""))
                .unwrap_or(p)
                .trim_start_matches('/'),
        )
    }

    fn run(&self, call: &ToolCall) -> Result<Arc<str>, String> {
        let arg = |k: &str| call.args.get(k).and_then(Value::as_str);
        match call.name.as_str() {
            "read_file" => {
                let text = std::fs::read_to_string(self.path(arg("file_path").ok_or("no file_path")?))
                    .map_err(|e| e.to_string())?;
                let offset = call.args.get("offset").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
                let limit = call.args.get("limit").and_then(Value::as_u64).unwrap_or(2000) as usize;
                let lines: Vec<String> = text
                    .lines()
                    .enumerate()
                    .skip(offset - 1)
                    .take(limit)
                    .map(|(i, l)| format!("L{}: {l}", i + 1))
                    .collect();
                Ok(lines.join("\n").into())
            }
            "list_dir" => {
                let mut names: Vec<String> = std::fs::read_dir(self.path(arg("dir_path").ok_or("no dir_path")?))
                    .map_err(|e| e.to_string())?
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                Ok(names.join("\n").into())
            }
            "grep_files" => {
                let pattern = arg("pattern").ok_or("no pattern")?;
                let dir = self.path(arg("path").unwrap_or(""));
                let mut hits = Vec::new();
                for e in std::fs::read_dir(&dir)
                    .map_err(|e| e.to_string())?
                    .filter_map(Result::ok)
                {
                    if std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(pattern)) {
                        hits.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
                hits.sort();
                Ok(hits.join("\n").into())
            }
            "shell" => {
                let argv: Vec<&str> = call.args["command"]
                    .as_array()
                    .ok_or("command is not an array")?
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                let (program, rest) = argv.split_first().ok_or("empty command")?;
                let out = std::process::Command::new(program)
                    .args(rest)
                    .current_dir(self.path(arg("workdir").unwrap_or("")))
                    .output()
                    .map_err(|e| e.to_string())?;
                let code = out.status.code().unwrap_or(-1);
                Ok(format!("exit {code}\n{}", String::from_utf8_lossy(&out.stdout)).into())
            }
            "apply_patch" => apply_patch(&self.root, arg("input").ok_or("no input")?).map(|()| "Done!".into()),
            other => Err(format!("unknown tool {other}")),
        }
    }
}

/// Applies a patch in codex's envelope: added, deleted and updated files;
/// an update's hunks (` ` context, `-` removed, `+` added) replace the first
/// place their old lines appear.
fn apply_patch(root: &Path, patch: &str) -> Result<(), String> {
    let mut lines = patch.lines().peekable();
    if lines.next().map(str::trim) != Some("*** Begin Patch") {
        return Err("no *** Begin Patch".into());
    }
    while let Some(line) = lines.next() {
        if line.trim() == "*** End Patch" {
            return Ok(());
        }
        if let Some(p) = line.strip_prefix("*** Add File: ") {
            let mut text = String::new();
            while let Some(l) = lines.next_if(|l| l.starts_with('+')) {
                text.push_str(&l[1..]);
                text.push('\n');
            }
            std::fs::write(root.join(p.trim()), text).map_err(|e| e.to_string())?;
        } else if let Some(p) = line.strip_prefix("*** Delete File: ") {
            std::fs::remove_file(root.join(p.trim())).map_err(|e| e.to_string())?;
        } else if let Some(p) = line.strip_prefix("*** Update File: ") {
            let path = root.join(p.trim());
            let mut file: Vec<String> = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())?
                .lines()
                .map(String::from)
                .collect();
            while let Some(h) = lines.next_if(|l| l.starts_with("@@")) {
                let _ = h;
                let (mut old, mut new) = (Vec::new(), Vec::new());
                while let Some(l) = lines.next_if(|l| !l.starts_with("@@") && !l.starts_with("*** ")) {
                    match l.split_at(l.len().min(1)) {
                        ("-", rest) => old.push(rest.to_string()),
                        ("+", rest) => new.push(rest.to_string()),
                        (_, rest) => {
                            old.push(rest.to_string());
                            new.push(rest.to_string());
                        }
                    }
                }
                let at = (0..=file.len().saturating_sub(old.len()))
                    .find(|&i| file[i..].starts_with(&old))
                    .ok_or_else(|| format!("{p}: hunk does not apply"))?;
                file.splice(at..at + old.len(), new);
            }
            std::fs::write(&path, file.join("\n") + "\n").map_err(|e| e.to_string())?;
        } else {
            return Err(format!("unexpected patch line {line:?}"));
        }
    }
    Err("no *** End Patch".into())
}

fn git(root: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(["-c", "user.name=example", "-c", "user.email=example@localhost"])
        .args(args)
        .current_dir(root)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "git {args:?}");
}

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    hits: AtomicU64,
    stale: AtomicU64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let agents: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(6);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::fs::canonicalize(dir.path()).expect("its path");
    std::fs::create_dir_all(root.join("src")).expect("src");
    std::fs::write(root.join("src/lib.rs"), "// TODO: docs\npub mod shared;\n").expect("lib.rs");
    for a in 0..agents {
        std::fs::write(
            root.join(format!("src/agent{a}.rs")),
            format!("fn agent{a}() -> u32 {{\n    0\n}}\n"),
        )
        .expect("a file per agent");
    }
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "base"]);

    let tools: Arc<ToolCache> = Arc::new(ToolCache::new(&root, 10_000));
    tools.set_policy(Policy::for_agent("codex").expect("a known agent"));
    let _watcher = tools.watch().expect("a watcher on the repository");
    let exec = Arc::new(Executor { root: root.clone() });
    // Reads (and the check of their hits) share the gate; writes take it
    // alone, so no agent's edit falls between a hit and its check.
    let gate = Arc::new(RwLock::new(()));
    let counts = Arc::new(Counts::default());

    let mut tasks = Vec::new();
    for a in 0..agents {
        let (tools, exec, gate, counts) = (tools.clone(), exec.clone(), gate.clone(), counts.clone());
        let root = root.display().to_string();
        tasks.push(tokio::spawn(async move {
            let mine = format!("{root}/src/agent{a}.rs");
            for r in 0..rounds {
                let sh = |argv: &[&str]| ToolCall::new("shell", json!({"command": argv, "workdir": root}));
                let reads = [
                    ToolCall::new("read_file", json!({"file_path": format!("{root}/src/lib.rs")})),
                    ToolCall::new("read_file", json!({"file_path": mine, "offset": 1, "limit": 10})),
                    ToolCall::new("list_dir", json!({"dir_path": format!("{root}/src")})),
                    ToolCall::new("grep_files", json!({"pattern": "fn agent", "path": format!("{root}/src")})),
                    sh(&["cat", "src/lib.rs"]),
                    sh(&["bash", "-lc", "grep -rn TODO src"]),
                    sh(&["git", "status", "--short"]),
                ];
                for call in reads.iter().chain(reads.iter()) {
                    let _read = gate.read().await;
                    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let (e, flag) = (exec.clone(), ran.clone());
                    let out = tools
                        .execute_async(call, |c| {
                            // Relaxed: read by this task after the await.
                            flag.store(true, Ordering::Relaxed);
                            async move { e.run(&c) }
                        })
                        .await;
                    counts.calls.fetch_add(1, Ordering::Relaxed);
                    if let (Ok(v), false) = (&out, ran.load(Ordering::Relaxed)) {
                        counts.hits.fetch_add(1, Ordering::Relaxed);
                        if exec.run(call).as_ref() != Ok(v) {
                            counts.stale.fetch_add(1, Ordering::Relaxed);
                            eprintln!("stale: {} {}", call.name, call.args);
                        }
                    }
                }
                // An edit of this agent's own file, as codex sends it.
                let patch = format!(
                    "*** Begin Patch\n*** Update File: src/agent{a}.rs\n@@\n fn agent{a}() -> u32 {{\n-    {r}\n+    {}\n }}\n*** End Patch\n",
                    r + 1
                );
                let _write = gate.write().await;
                let e = exec.clone();
                let call = ToolCall::new("apply_patch", json!({ "input": patch }));
                let done = tools.execute_async(&call, |c| async move { e.run(&c) }).await;
                assert_eq!(done.as_deref(), Ok("Done!"), "agent {a} round {r}");
                counts.calls.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("an agent task");
    }
    let stats = tools.stats();
    let calls = counts.calls.load(Ordering::Relaxed);
    let hits = counts.hits.load(Ordering::Relaxed);
    let stale = counts.stale.load(Ordering::Relaxed);
    println!(
        "{agents} codex agents x {rounds} rounds: {calls} calls, {hits} hits (each checked against a fresh run), \
         {stale} stale; {} invalidation calls removed {} entries",
        stats.invalidation_calls, stats.entries_invalidated
    );
    for a in 0..agents {
        let text = std::fs::read_to_string(root.join(format!("src/agent{a}.rs"))).unwrap_or_default();
        assert!(
            text.contains(&format!("    {rounds}\n")),
            "agent {a}'s patches all applied: {text}"
        );
    }
    if stale > 0 || hits == 0 {
        eprintln!("error: {stale} stale hits, {hits} hits");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
