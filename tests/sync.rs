//! The watcher's sync barrier: after `sync()` returns, no change that
//! completed before it is served stale; a broken watcher flushes; opaque
//! commands sync instead of flushing while the watcher is healthy; ignored
//! directories never hide a change that a cached result covers.
#![cfg(feature = "watch")]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::{cached, read};
use depcache::tool::{Freshness, ToolCache, ToolCall};
use depcache::watch::{SyncFailure, Synced};
use serde_json::json;

/// Runs a shell command through the cache (`bash` tool), for real.
fn bash(tools: &ToolCache, root: &Path, command: &str) -> Arc<str> {
    let call = ToolCall::new("bash", json!({ "command": command, "cwd": root.to_str().unwrap() }));
    let out = tools.execute(&call, |c| -> Result<Arc<str>, String> {
        let cmd = c.args["command"].as_str().unwrap();
        let o = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(root)
            .output()
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&o.stdout).into_owned().into())
    });
    out.unwrap()
}

fn bash_cached(tools: &ToolCache, root: &Path, command: &str) -> bool {
    tools
        .get(&ToolCall::new(
            "bash",
            json!({ "command": command, "cwd": root.to_str().unwrap() }),
        ))
        .is_some()
}

fn setup() -> (tempfile::TempDir, ToolCache) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for i in 0..8 {
        std::fs::write(dir.path().join(format!("src/f{i}.py")), "v0").unwrap();
    }
    let tools = ToolCache::new(dir.path(), 1000);
    (dir, tools)
}

/// Rounds of the randomized run: `DEPCACHE_SYNC_ROUNDS=100000` for a stress run.
fn rounds() -> u64 {
    std::env::var("DEPCACHE_SYNC_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

#[test]
fn after_sync_no_change_is_served_stale() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut stale, mut flushed) = (0usize, 0u64);
    for round in 0..rounds() {
        let f = format!("src/f{}.py", next() % 8);
        read(&tools, root, &f);
        // Another process every eighth round, this one otherwise.
        let content = format!("v{round}");
        if next() % 8 == 0 {
            let st = Command::new("sh")
                .arg("-c")
                .arg(format!("printf '{content}' > {f}"))
                .current_dir(root)
                .status()
                .unwrap();
            assert!(st.success());
        } else {
            std::fs::write(root.join(&f), &content).unwrap();
        }
        if w.sync() != Synced::CaughtUp {
            flushed += 1;
        }
        // Every file, through the cache, against the disk.
        for i in 0..8 {
            let g = format!("src/f{i}.py");
            let got = read(&tools, root, &g);
            let disk = std::fs::read_to_string(root.join(&g)).unwrap();
            stale += usize::from(*got != *disk);
        }
    }
    assert_eq!(stale, 0, "stale reads after sync");
    let s = w.handler().stats();
    assert_eq!(s.syncs + s.sync_flushes, rounds());
    assert_eq!(s.sync_flushes, flushed);
    assert!(s.sync_latency.samples > 0 || flushed == rounds());
    println!(
        "sync: {} caught up, {} flushed, p50 {:?}, p99 {:?}",
        s.syncs, s.sync_flushes, s.sync_latency.p50, s.sync_latency.p99
    );
}

#[test]
fn an_overflow_flushes_and_every_later_sync_flushes() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    read(&tools, root, "src/f0.py");
    assert!(w.is_healthy());
    assert_eq!(w.sync(), Synced::CaughtUp);
    // The queue overflowed: the OS dropped events.
    let overflow = notify::Event::new(notify::EventKind::Other).set_flag(notify::event::Flag::Rescan);
    w.handler().handle(Ok(overflow));
    assert!(!cached(&tools, "src/f0.py"), "an overflow flushes");
    assert!(!w.is_healthy());
    read(&tools, root, "src/f0.py");
    assert_eq!(w.sync(), Synced::Flushed(SyncFailure::Broken));
    assert!(!cached(&tools, "src/f0.py"), "a broken watcher's sync flushes");
}

#[test]
fn a_watcher_error_breaks_it_too() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    read(&tools, root, "src/f0.py");
    w.handler().handle(Err(notify::Error::generic("inotify died")));
    assert!(!cached(&tools, "src/f0.py"));
    assert!(!w.is_healthy());
}

#[test]
fn opaque_commands_sync_instead_of_flushing_while_the_watcher_is_healthy() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    read(&tools, root, "src/f0.py");
    read(&tools, root, "src/f1.py");
    // An opaque command (python is not in the shell tables) that writes f1.
    bash(
        &tools,
        root,
        "python3 -c \"open('src/f1.py','w').write('py')\" || printf py > src/f1.py",
    );
    assert!(cached(&tools, "src/f0.py"), "an untouched file stays cached");
    assert!(
        !cached(&tools, "src/f1.py"),
        "the file the command wrote is gone after its sync"
    );
    assert_eq!(&*read(&tools, root, "src/f1.py"), "py");
    assert!(w.handler().stats().syncs >= 1);
    // Without a healthy watcher, opaque commands flush the workspace again.
    drop(w);
    bash(&tools, root, "python3 -c 'pass' || true");
    assert!(!cached(&tools, "src/f0.py"), "no watcher: the command flushes");
}

#[test]
fn a_change_in_an_ignored_directory_reaches_whole_workspace_reads() {
    let (dir, tools) = setup();
    let root = dir.path();
    std::fs::create_dir_all(root.join("target/debug")).unwrap();
    let w = tools.watch().unwrap();
    let find = "find . -name '*.o'";
    assert_eq!(&*bash(&tools, root, find), "");
    assert!(bash_cached(&tools, root, find));
    read(&tools, root, "src/f0.py");
    // A build in another process writes below target/ (ignored by default).
    let st = Command::new("sh")
        .arg("-c")
        .arg("printf obj > target/debug/main.o")
        .current_dir(root)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(w.sync(), Synced::CaughtUp);
    assert!(!bash_cached(&tools, root, find), "find . covers target/: it goes");
    assert!(cached(&tools, "src/f0.py"), "a file read does not cover target/");
    assert_eq!(&*bash(&tools, root, find), "./target/debug/main.o\n");
}

#[test]
fn a_change_nothing_covers_is_skipped() {
    let (dir, tools) = setup();
    let root = dir.path();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    let w = tools.watch().unwrap();
    read(&tools, root, "src/f0.py");
    std::fs::write(root.join("node_modules/x/index.js"), "1").unwrap();
    assert_eq!(w.sync(), Synced::CaughtUp);
    assert!(w.handler().stats().ignored >= 1, "{:?}", w.handler().stats());
    assert!(cached(&tools, "src/f0.py"));
}

#[test]
fn an_opaque_command_drops_reads_outside_the_watched_root() {
    let (dir, tools) = setup();
    let root = dir.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("site.py");
    std::fs::write(&outside, "old").unwrap();
    let _w = tools.watch().unwrap();
    let abs = outside.to_str().unwrap();
    assert_eq!(&*read(&tools, root, abs), "old");
    assert!(cached(&tools, abs));
    read(&tools, root, "src/f0.py");
    // The watcher of the root cannot see this write: the sync does not
    // cover it, so the command drops what depends on paths outside the root.
    bash(
        &tools,
        root,
        &format!("python3 -c \"open('{abs}','w').write('new')\" || printf new > {abs}"),
    );
    assert!(!cached(&tools, abs), "a read outside the root goes");
    assert!(cached(&tools, "src/f0.py"), "a read inside stays");
    assert_eq!(&*read(&tools, root, abs), "new");
}

#[test]
fn a_branch_switch_of_thousands_of_files_goes_in_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    const FILES: usize = 2_000;
    for i in 0..FILES {
        std::fs::write(root.join(format!("pkg/m{i}.py")), "a").unwrap();
    }
    let tools = ToolCache::new(root, 4 * FILES);
    let w = tools.watch().unwrap();
    for i in 0..FILES {
        read(&tools, root, &format!("pkg/m{i}.py"));
    }
    // Another process rewrites every file, as `git checkout other` does.
    let st = Command::new("sh")
        .arg("-c")
        .arg("for f in pkg/*.py; do printf b > \"$f\"; done")
        .current_dir(root)
        .status()
        .unwrap();
    assert!(st.success());
    let synced = w.sync();
    let stale = (0..FILES)
        .filter(|i| &*read(&tools, root, &format!("pkg/m{i}.py")) != "b")
        .count();
    assert_eq!(stale, 0, "after {synced:?}");
}

#[test]
fn each_workspace_says_how_it_learns_of_changes() {
    let (dir, tools) = setup();
    assert_eq!(tools.freshness(), Freshness::Flushing);
    let tools = tools.fingerprints(true);
    assert_eq!(tools.freshness(), Freshness::Fingerprinted);
    let w = tools.watch().unwrap();
    assert_eq!(tools.freshness(), Freshness::Watched);
    let other = tools.workspace("other", dir.path()).unwrap();
    assert_eq!(
        other.freshness(),
        Freshness::Fingerprinted,
        "a watcher reaches only its workspace"
    );
    w.handler().handle(Err(notify::Error::generic("inotify died")));
    assert_eq!(tools.freshness(), Freshness::Fingerprinted, "a broken watcher");
    drop(w);
    assert_eq!(tools.freshness(), Freshness::Fingerprinted);
}
