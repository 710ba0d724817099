//! The file system as the source of truth: watcher and fingerprints, on real
//! temporary directories. Waits poll with a bound; no fixed sleeps.
#![cfg(feature = "watch")]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cached, read};
use depcache::tool::{ToolCache, ToolCall};
use depcache::watch::WatchConfig;
use serde_json::json;

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ls(tools: &ToolCache, root: &Path, rel: &str) -> bool {
    let call = ToolCall::new("list_directory", json!({ "path": rel }));
    let _ = tools.execute(&call, |_| -> Result<Arc<str>, String> {
        let mut v: Vec<String> = std::fs::read_dir(root.join(rel))
            .map_err(|e| e.to_string())?
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        v.sort();
        Ok(v.join(",").into())
    });
    tools.get(&call).is_some()
}

fn setup() -> (tempfile::TempDir, ToolCache) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/sub")).unwrap();
    for f in ["src/a.py", "src/b.py", "src/sub/c.py", "README"] {
        std::fs::write(dir.path().join(f), format!("{f} v1")).unwrap();
    }
    let tools = ToolCache::new(dir.path(), 1000);
    (dir, tools)
}

#[test]
fn write_by_another_process() {
    let (dir, tools) = setup();
    let _w = tools.watch().unwrap();
    let root = dir.path();
    assert_eq!(&*read(&tools, root, "src/a.py"), "src/a.py v1");
    assert!(ls(&tools, root, "src"));
    assert_eq!(&*read(&tools, root, "README"), "README v1");
    let st = Command::new("sh")
        .arg("-c")
        .arg("printf 'v2' > src/a.py")
        .current_dir(root)
        .status()
        .unwrap();
    assert!(st.success());
    wait_until("src/a.py invalidated", || !cached(&tools, "src/a.py"));
    wait_until("ls src invalidated", || !ls_cached(&tools));
    assert_eq!(&*read(&tools, root, "src/a.py"), "v2");
    assert!(cached(&tools, "README"), "an unrelated file stays cached");
}

/// Waits until the watcher has handled every event that happened before this
/// call. The watcher handles events in order on one thread, so once a fresh
/// marker file's creation has invalidated the marker's cached read, every
/// earlier event (a rename can arrive as several) has been handled too.
fn fence(tools: &ToolCache, root: &Path, name: &str) {
    read(tools, root, name); // caches the error text of a missing file
    assert!(cached(tools, name));
    std::fs::write(root.join(name), "fence").unwrap();
    wait_until("the fence event handled", || !cached(tools, name));
}

fn ls_cached(tools: &ToolCache) -> bool {
    tools
        .get(&ToolCall::new("list_directory", json!({ "path": "src" })))
        .is_some()
}

#[test]
fn editor_style_save_and_rename() {
    let (dir, tools) = setup();
    let root = dir.path();
    let _w = tools.watch().unwrap();
    read(&tools, root, "src/b.py");
    read(&tools, root, "src/a.py");
    // Write a temp file, rename it over the original.
    std::fs::write(root.join("src/.b.py.swp"), "b v2").unwrap();
    std::fs::rename(root.join("src/.b.py.swp"), root.join("src/b.py")).unwrap();
    wait_until("saved file invalidated", || !cached(&tools, "src/b.py"));
    // A rename arrives as several events; the first one invalidated b.py, and
    // the rest must be handled before b.py is cached again below.
    fence(&tools, root, "fence-1");
    assert_eq!(&*read(&tools, root, "src/b.py"), "b v2");
    // A rename invalidates both ends.
    read(&tools, root, "src/b.py");
    read(&tools, root, "src/moved.py"); // caches the error text of a missing file
    assert!(cached(&tools, "src/moved.py"));
    std::fs::rename(root.join("src/a.py"), root.join("src/moved.py")).unwrap();
    wait_until("both ends of a rename invalidated", || {
        !cached(&tools, "src/a.py") && !cached(&tools, "src/moved.py")
    });
    assert!(cached(&tools, "src/b.py"));
}

#[test]
fn deleted_directory_invalidates_below() {
    let (dir, tools) = setup();
    let root = dir.path();
    let _w = tools.watch().unwrap();
    read(&tools, root, "src/sub/c.py");
    read(&tools, root, "src/a.py");
    std::fs::remove_dir_all(root.join("src/sub")).unwrap();
    wait_until("entries below a deleted directory invalidated", || {
        !cached(&tools, "src/sub/c.py")
    });
    assert!(cached(&tools, "src/a.py"));
}

#[test]
fn git_checkout_changes_files() {
    let (dir, tools) = setup();
    let root = dir.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    git(&["checkout", "-qb", "other"]);
    std::fs::write(root.join("src/a.py"), "other branch").unwrap();
    git(&["commit", "-qam", "two"]);
    git(&["checkout", "-q", "main"]);
    let _w = tools.watch().unwrap();
    assert_eq!(&*read(&tools, root, "src/a.py"), "src/a.py v1");
    read(&tools, root, "src/b.py");
    git(&["checkout", "-q", "other"]);
    wait_until("checkout invalidates the changed file", || !cached(&tools, "src/a.py"));
    assert_eq!(&*read(&tools, root, "src/a.py"), "other branch");
    assert!(cached(&tools, "src/b.py"), "an unchanged file survives the checkout");
}

#[test]
fn overflow_flushes_everything() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    read(&tools, root, "README");
    let rescan = notify::Event::new(notify::EventKind::Other).set_flag(notify::event::Flag::Rescan);
    w.handler().handle(Ok(rescan));
    assert!(!cached(&tools, "README"));
    read(&tools, root, "README");
    w.handler()
        .handle(Err(notify::Error::generic("inotify queue overflow")));
    assert!(!cached(&tools, "README"));
    assert_eq!(w.handler().stats().flushes, 2);
}

#[test]
fn ignored_dirs_unless_tracked() {
    let (dir, tools) = setup();
    let root = dir.path();
    std::fs::create_dir_all(root.join("target/debug")).unwrap();
    std::fs::write(root.join("target/debug/out.txt"), "o1").unwrap();
    let w = tools.watch_with(WatchConfig::new().ignore_glob("*.log")).unwrap();
    read(&tools, root, "src/a.py");
    let modify = |p: &str| {
        let ev = notify::Event::new(notify::EventKind::Modify(notify::event::ModifyKind::Any)).add_path(root.join(p));
        w.handler().handle(Ok(ev));
    };
    modify("target/debug/x.o");
    modify("build.log");
    assert_eq!(w.handler().stats().ignored, 2);
    // Something cached inside target/: its events count again.
    read(&tools, root, "target/debug/out.txt");
    modify("target/debug/out.txt");
    assert!(!cached(&tools, "target/debug/out.txt"));
    assert!(cached(&tools, "src/a.py"));
    let e = tools.watch_with(WatchConfig::new().ignore_glob("a[")).unwrap_err();
    assert!(e.to_string().contains("a["), "{e}");
}

#[test]
fn watcher_stops_when_dropped() {
    let (dir, tools) = setup();
    let root = dir.path();
    let w = tools.watch().unwrap();
    read(&tools, root, "README");
    drop(w);
    std::fs::write(root.join("README"), "v2").unwrap();
    // Nothing can invalidate now; give a live watcher ample time to have done it.
    std::thread::sleep(Duration::from_millis(300));
    assert!(cached(&tools, "README"));
}

#[test]
fn fingerprints_without_a_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::write(root.join("d/f"), "1").unwrap();
    let tools = ToolCache::new(root, 100).fingerprints(true).opaque_invalidates(false);
    assert_eq!(&*read(&tools, root, "d/f"), "1");
    assert!(ls(&tools, root, "d"));
    assert!(cached(&tools, "d/f"));
    // An opaque command that does not invalidate, and no watcher: the stat check catches it.
    std::fs::write(root.join("d/f"), "22").unwrap();
    assert!(!cached(&tools, "d/f"));
    assert_eq!(&*read(&tools, root, "d/f"), "22");
    std::fs::write(root.join("d/new"), "").unwrap();
    assert!(!ls_cached_d(&tools), "a new entry changes the directory's fingerprint");
}

fn ls_cached_d(tools: &ToolCache) -> bool {
    tools
        .get(&ToolCall::new("list_directory", json!({ "path": "d" })))
        .is_some()
}

#[test]
fn a_workspace_watcher_invalidates_its_own_workspace_only() {
    let (dir, tools) = setup();
    let root = dir.path();
    let watched = tools.workspace("watched", root).unwrap();
    let blind = tools.workspace("blind", root).unwrap();
    let _w = watched.watch().unwrap();
    let c = ToolCall::new("read_file", json!({ "path": "src/a.py" }));
    let v1 = || Ok::<Arc<str>, ()>("src/a.py v1".into());
    watched.execute(&c, |_| v1()).unwrap();
    blind.execute(&c, |_| v1()).unwrap();
    tools.execute(&c, |_| v1()).unwrap();
    std::fs::write(root.join("src/a.py"), "v2").unwrap();
    wait_until("the watched workspace's read invalidated", || watched.get(&c).is_none());
    // The event was handled: the other workspaces, which watch nothing, keep theirs.
    assert!(blind.get(&c).is_some());
    assert!(tools.get(&c).is_some());
}
