//! A remote-sandbox executor: several tasks, each in a sandbox of its own
//! whose checkout is at `/testbed` (here: a temporary directory per task), run
//! real shell commands through one `ToolCache` with a workspace per sandbox
//! and views on. Every answer the cache gives is checked against running the
//! command for real; the program exits with an error on any difference.
//!
//! `cargo run --release --example sandboxes`

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use depcache::tool::{Source, ToolCache, ToolCall};
use serde_json::json;

/// Runs `command` in `dir` as a sandbox would: its stdout if it exits 0.
fn sh(dir: &Path, command: &str) -> Result<Arc<str>, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        String::from_utf8(out.stdout).map(Into::into).map_err(|e| e.to_string())
    } else {
        Err(format!("exit {}", out.status))
    }
}

fn main() -> Result<(), String> {
    let tools: ToolCache = ToolCache::new("/testbed", 10_000).views(true);
    let script = [
        "cat app.py",
        "sed -n '3,4p' app.py",
        "grep -n return app.py",
        "nl -ba app.py | sed -n '2,3p'",
        "python3 -c 'print(1)'",
        "wc -l app.py",
        "sed -i 's/x + 1/x + 2/' app.py",
        "sed -n '3,4p' app.py",
        "head -n 2 app.py",
        "cat app.py | grep -c def",
    ];
    let (mut hits, mut views, mut ran) = (0, 0, 0);
    for task in 0..3 {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let body = format!("import os\n\ndef f(x):\n    return x + 1  # task {task}\n\nprint(f({task}))\n");
        std::fs::write(dir.path().join("app.py"), body).map_err(|e| e.to_string())?;
        let ws = tools
            .workspace(&format!("task-{task}"), "/testbed")
            .map_err(|e| e.to_string())?;
        for (step, command) in script.iter().enumerate() {
            let call = ToolCall::new("bash", json!({ "command": command, "cwd": "/testbed" }))
                .by(format!("task-{task}"), step as u64);
            let served = ws.execute_served(&call, |_| sh(dir.path(), command));
            let Ok(served) = served else { continue };
            match &served.source {
                Source::Ran => ran += 1,
                source => {
                    let truth = sh(dir.path(), command)?;
                    if truth != served.value {
                        return Err(format!(
                            "task {task}: {command:?} served {:?}, the tool prints {truth:?}",
                            served.value
                        ));
                    }
                    let by = source.origin().and_then(|o| o.by.as_ref());
                    let kind = if matches!(source, Source::View(_)) {
                        views += 1;
                        "a view of"
                    } else {
                        hits += 1;
                        "the result of"
                    };
                    if task == 0 {
                        println!(
                            "task-0 step {step}: {command:?} — {kind} step {}, unchanged since",
                            by.map_or(0, |b| b.step)
                        );
                    }
                }
            }
        }
    }
    println!("{ran} runs, {hits} exact hits, {views} views; every answer equal to a fresh run");
    if views == 0 {
        return Err("no view served".into());
    }
    Ok(())
}
