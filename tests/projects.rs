//! Project commands (`pytest`, `cargo check`, a declared `./check.sh`) as
//! cacheable reads while a watcher covers their workspace: cached, kept
//! through changes of their own outputs, dropped by any other change.
#![cfg(feature = "watch")]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use depcache::tool::{Decision, Policy, ShellPolicy, ToolCache, ToolCall, ToolPolicy};
use depcache::watch::Synced;
use serde_json::json;

fn call(root: &Path, command: &str) -> ToolCall {
    ToolCall::new("bash", json!({ "command": command, "cwd": root.to_str().unwrap() }))
}

/// Runs `command` through the cache for real; counts the runs in `runs`.
fn bash(tools: &ToolCache, root: &Path, command: &str, runs: &AtomicUsize) -> Arc<str> {
    tools
        .execute(&call(root, command), |c| -> Result<Arc<str>, String> {
            runs.fetch_add(1, Ordering::SeqCst);
            let o = Command::new("sh")
                .arg("-c")
                .arg(c.args["command"].as_str().unwrap())
                .current_dir(root)
                .output()
                .map_err(|e| e.to_string())?;
            Ok(String::from_utf8_lossy(&o.stdout).into_owned().into())
        })
        .unwrap()
}

fn cached(tools: &ToolCache, root: &Path, command: &str) -> bool {
    tools.get(&call(root, command)).is_some()
}

/// A workspace with `src/` and two declared project commands: `./check.sh`
/// (writes only `.checkcache/`, its declared output) and `./gen.sh` (writes
/// `src/gen.py` too, which it does not declare).
fn setup() -> (tempfile::TempDir, ToolCache) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/a.py"), "a = 1\n").unwrap();
    let script = |name: &str, body: &str| {
        std::fs::write(root.join(name), format!("#!/bin/sh\n{body}\n")).unwrap();
    };
    script(
        "check.sh",
        "mkdir -p .checkcache && date +%s%N > .checkcache/stamp && cat src/a.py",
    );
    script("gen.sh", "mkdir -p .checkcache && echo x > src/gen.py && cat src/a.py");
    let tools = ToolCache::new(root, 1000);
    let mut shell = ShellPolicy::default();
    shell.persistent_cwd = false;
    shell.config = toml::from_str(
        r#"
        [projects."sh check.sh"]
        outputs = [".checkcache"]
        [projects."sh gen.sh"]
        outputs = [".checkcache"]
        "#,
    )
    .unwrap();
    let mut policy = Policy::defaults();
    policy.tools.insert("bash".into(), ToolPolicy::Shell(shell));
    tools.set_policy(policy);
    (dir, tools)
}

#[test]
fn a_project_command_is_cached_only_while_watched() {
    let (dir, tools) = setup();
    let root = dir.path();
    assert_eq!(
        tools.classify(&call(root, "sh check.sh")),
        Decision::Opaque,
        "no watcher"
    );
    let w = tools.watch().unwrap();
    assert!(matches!(
        tools.classify(&call(root, "sh check.sh")),
        Decision::Read { .. }
    ));
    let runs = AtomicUsize::new(0);
    assert_eq!(&*bash(&tools, root, "sh check.sh", &runs), "a = 1\n");
    assert!(
        cached(&tools, root, "sh check.sh"),
        "its own output (.checkcache) is declared"
    );
    bash(&tools, root, "sh check.sh", &runs);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the second run is a hit");
    // Another process edits a source file: after a sync, the result is gone.
    std::fs::write(root.join("src/a.py"), "a = 2\n").unwrap();
    assert_eq!(w.sync(), Synced::CaughtUp);
    assert!(!cached(&tools, root, "sh check.sh"));
    assert_eq!(&*bash(&tools, root, "sh check.sh", &runs), "a = 2\n");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    drop(w);
    assert_eq!(
        tools.classify(&call(root, "sh check.sh")),
        Decision::Opaque,
        "the watcher is gone"
    );
}

#[test]
fn a_run_that_writes_beyond_its_outputs_is_not_stored() {
    let (dir, tools) = setup();
    let root = dir.path();
    let _w = tools.watch().unwrap();
    let runs = AtomicUsize::new(0);
    bash(&tools, root, "sh gen.sh", &runs);
    // The sync before storing saw src/gen.py change under the run's ticket.
    assert!(
        !cached(&tools, root, "sh gen.sh"),
        "it wrote src/gen.py, which it reads"
    );
    bash(&tools, root, "sh gen.sh", &runs);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // Its last act a write, microseconds before the result is stored: the
    // event is still on its way then, and only the sync catches it.
    for i in 0..20 {
        tools
            .execute(&call(root, "sh check.sh"), |_| -> Result<Arc<str>, String> {
                std::fs::write(root.join("src/late.py"), format!("{i}")).unwrap();
                Ok("late".into())
            })
            .unwrap();
        assert!(!cached(&tools, root, "sh check.sh"), "round {i}");
    }
}

#[test]
fn outputs_still_drop_the_other_entries_that_cover_them() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    let runs = AtomicUsize::new(0);
    bash(&tools, root, "sh check.sh", &runs);
    let find = "find . -name stamp";
    assert_eq!(&*bash(&tools, root, find, &runs), "./.checkcache/stamp\n");
    assert!(cached(&tools, root, find) && cached(&tools, root, "sh check.sh"));
    std::fs::write(root.join(".checkcache/other"), "1").unwrap();
    std::fs::write(root.join(".checkcache/stamp"), "2").unwrap();
    assert_eq!(w.sync(), Synced::CaughtUp);
    assert!(!cached(&tools, root, find), "find . covers .checkcache");
    assert!(cached(&tools, root, "sh check.sh"), "its declared output");
    // An opaque command may change what is installed outside the workspace.
    bash(&tools, root, "python3 -c pass || true", &runs);
    assert!(!cached(&tools, root, "sh check.sh"), "an opaque command drops it");
}

#[test]
fn built_in_project_commands_and_their_denied_options() {
    let (dir, tools) = setup();
    let root = dir.path();
    let _w = tools.watch().unwrap();
    for read in [
        "python -m pytest tests/test_a.py -q 2>&1 | tail -5",
        "pytest -x",
        "cargo check --all-targets",
        "npm test",
        "go test ./...",
        "ruff check src",
        "mypy src",
    ] {
        assert!(
            matches!(tools.classify(&call(root, read)), Decision::Read { .. }),
            "{read}"
        );
    }
    for opaque in [
        "pytest --lf",
        "pytest -xf",
        "python -m pytest --junitxml=/tmp/r.xml",
        "cargo clippy --fix",
        "ruff check --fix src",
        "PYTHONPATH=x pytest",
    ] {
        assert_eq!(tools.classify(&call(root, opaque)), Decision::Opaque, "{opaque}");
    }
    assert!(
        matches!(tools.classify(&call(root, "pytest > out.txt")), Decision::Write { .. }),
        "a redirection writes"
    );
}
