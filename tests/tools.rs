//! The tool layer: keys, dependencies, policies, and the Python original's
//! scenarios and bugs as regression tests.

use std::sync::Arc;

use depcache::tool::{Decision, Policy, ToolCache, ToolCall, ToolError};
use serde_json::{json, Value};

fn call(name: &str, args: Value) -> ToolCall {
    ToolCall::new(name, args)
}

fn ok(s: &str) -> impl FnOnce(&ToolCall) -> Result<Arc<str>, ()> + '_ {
    move |_| Ok(s.into())
}

fn tools() -> ToolCache {
    ToolCache::new("/ws", 1000)
}

#[test]
fn python_scenario_code_search_and_read_invalidated_by_edit() {
    let t = tools();
    let search = call(
        "code_search",
        json!({"query": "foo", "paths": ["a.py", "b.py", "c.py"]}),
    );
    let read_a = call("read_file", json!({"path": "a.py"}));
    let read_d = call("read_file", json!({"path": "d.py"}));
    for c in [&search, &read_a, &read_d] {
        t.execute(c, ok("out")).unwrap();
        assert!(t.get(c).is_some());
    }
    t.execute(&call("edit", json!({"path": "a.py", "old": "x", "new": "y"})), ok("ok"))
        .unwrap();
    assert!(t.get(&search).is_none());
    assert!(t.get(&read_a).is_none());
    assert!(t.get(&read_d).is_some(), "a read of a fourth file survives");
}

#[test]
fn regression_edit_paths_only_in_ops() {
    let t = tools();
    let ra = call("read_file", json!({"path": "src/a.py"}));
    let rb = call("read_file", json!({"path": "src/b.py"}));
    t.execute(&ra, ok("a")).unwrap();
    t.execute(&rb, ok("b")).unwrap();
    let edit = call("edit", json!({"ops": [{"path": "src/a.py", "new_path": "src/b.py"}]}));
    let Decision::Write { mut paths } = t.classify(&edit) else {
        panic!("an edit is a write")
    };
    paths.sort();
    assert_eq!(paths, vec!["src/a.py".into(), "src/b.py".into()]);
    t.execute(&edit, ok("ok")).unwrap();
    assert!(t.get(&ra).is_none() && t.get(&rb).is_none());
}

#[test]
fn regression_ls_and_grep_invalidated_by_write_below() {
    let t = tools();
    let ls = call("ls", json!({"path": "src"}));
    let grep = call("grep", json!({"pattern": "TODO", "path": "src"}));
    let grep_all = call("grep", json!({"pattern": "TODO"}));
    for c in [&ls, &grep, &grep_all] {
        t.execute(c, ok("out")).unwrap();
    }
    t.execute(&call("write", json!({"path": "./src/a.py", "content": "x"})), ok("ok"))
        .unwrap();
    assert!(t.get(&ls).is_none());
    assert!(t.get(&grep).is_none());
    assert!(t.get(&grep_all).is_none());
}

#[test]
fn regression_batch_invalidation_leaves_no_registration() {
    let t = tools();
    for i in 0..50 {
        t.execute(&call("read_file", json!({"path": format!("f{i}.py")})), ok("x"))
            .unwrap();
    }
    let n = t.invalidate_files((0..50).map(|i| format!("/ws/f{i}.py")));
    assert_eq!(n, 50);
    let s = t.stats();
    assert_eq!(s.live_entries, 0);
    assert_eq!(s.index_nodes, 0, "no node (and so no registration) left behind");
}

#[test]
fn keys_are_canonical_and_full() {
    let t = tools();
    let a = call("read_file", json!({"path": "./src/a.py", "offset": 0}));
    let b = call("read_file", json!({"offset": 0.0, "path": "/ws/src/a.py"}));
    let c = call("read_file", json!({"path": "src/a.py"}));
    assert_eq!(t.key(&a).unwrap(), t.key(&b).unwrap());
    assert_eq!(t.key(&a).unwrap(), t.key(&c).unwrap(), "declared default dropped");
    let d = call("read_file", json!({"path": "src/a.py", "offset": 10}));
    assert_ne!(t.key(&a).unwrap(), t.key(&d).unwrap());
    t.execute(&a, ok("A")).unwrap();
    assert_eq!(t.get(&c).as_deref(), Some("A"));
    assert_eq!(t.get(&d), None);
}

#[test]
fn opaque_and_unknown_tools() {
    let t = tools();
    let r = call("read_file", json!({"path": "a"}));
    t.execute(&r, ok("a")).unwrap();
    t.execute(&call("some_unknown_tool", json!({"path": "a"})), ok("?"))
        .unwrap();
    assert!(t.get(&r).is_some(), "unknown tools invalidate nothing by default");
    assert!(
        t.get(&call("some_unknown_tool", json!({"path": "a"}))).is_none(),
        "and are not cached"
    );
    t.execute(&call("bash", json!({"command": "python x.py"})), ok(""))
        .unwrap();
    assert!(t.get(&r).is_none(), "opaque commands invalidate everything");
    // Opt out: a watcher catches opaque changes.
    let t = tools().opaque_invalidates(false);
    t.execute(&r, ok("a")).unwrap();
    t.execute(&call("bash", json!({"command": "make"})), ok("")).unwrap();
    assert!(t.get(&r).is_some());
}

#[test]
fn failed_reads_are_not_cached_and_writes_invalidate_even_on_failure() {
    let t = tools();
    let r = call("read_file", json!({"path": "a"}));
    assert_eq!(t.execute(&r, |_| Err::<Arc<str>, _>("ENOENT")), Err("ENOENT"));
    assert!(t.get(&r).is_none());
    t.execute(&r, ok("a")).unwrap();
    let _ = t.execute(&call("write", json!({"path": "a"})), |_| {
        Err::<Arc<str>, _>("disk full")
    });
    assert!(t.get(&r).is_none());
}

#[test]
fn policy_swap_and_custom_tools() {
    let t = tools();
    let lint = call("npm_lint", json!({}));
    t.execute(&lint, ok("clean")).unwrap();
    assert!(t.get(&lint).is_none());
    let p = Policy::defaults().merged(
        Policy::from_json_str(
            r#"{"tools": {"npm_lint": {"kind": "read", "scope": "subtree", "workspace_if_no_path": true}}}"#,
        )
        .unwrap(),
    );
    t.set_policy(p);
    t.execute(&lint, ok("clean")).unwrap();
    assert!(t.get(&lint).is_some());
    t.invalidate_file("src/x.js");
    assert!(t.get(&lint).is_none());
}

#[test]
fn git_tools() {
    let t = tools();
    let status = call("get_git_status", json!({}));
    let read = call("read_file", json!({"filePath": "a.js"}));
    t.execute(&status, ok("clean")).unwrap();
    t.execute(&read, ok("a")).unwrap();
    t.execute(&call("git_commit", json!({"message": "m"})), ok("ok"))
        .unwrap();
    assert!(t.get(&status).is_none(), "a commit changes git status");
    assert!(t.get(&read).is_some(), "but not the files");
}

#[test]
fn bad_input_is_typed_or_safe() {
    let t = tools();
    for args in [json!([1, 2]), json!("path"), json!(3)] {
        let c = call("read_file", args);
        assert!(matches!(t.key(&c), Err(ToolError::NotAnObject { .. })));
        assert_eq!(t.execute(&c, ok("x")).unwrap().as_ref(), "x", "still runs, uncached");
        assert!(t.get(&c).is_none());
    }
    let nul = call("read_file", json!({"path": "a\0b"}));
    assert!(matches!(t.key(&nul), Err(ToolError::InvalidPath { .. })));
    // A write we cannot parse is treated as opaque (it may write anything).
    let r = call("read_file", json!({"path": "a"}));
    t.execute(&r, ok("a")).unwrap();
    assert_eq!(t.classify(&call("write", json!({"path": "x\0"}))), Decision::Opaque);
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!({ "path": [deep] });
    }
    assert!(matches!(
        t.key(&call("read_file", deep)),
        Err(ToolError::TooDeep { .. })
    ));
    let huge = "x".repeat(100 << 20);
    let c = call("read_file", json!({ "path": "a", "content": huge }));
    assert!(t.key(&c).unwrap().is_some(), "100 MB argument: handled, not a panic");
    let long_path = "a/".repeat(1 << 20);
    assert!(t
        .key(&call("read_file", json!({ "path": long_path })))
        .unwrap()
        .is_some());
}

#[test]
fn begin_complete_catches_racing_write() {
    let t = tools();
    let r = call("read_file", json!({"path": "a"}));
    let pending = t.begin(&r);
    t.invalidate_file("a"); // a write lands while the executor reads
    assert!(!t.complete(pending, &Ok::<Arc<str>, ()>("old".into())));
    assert!(t.get(&r).is_none());
    assert!(t.record(&r, &Ok::<Arc<str>, ()>("new".into())));
    assert_eq!(t.get(&r).as_deref(), Some("new"));
}

#[cfg(feature = "async")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_async_single_flight_and_cancellation() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    let t = Arc::new(tools());
    let runs = Arc::new(AtomicUsize::new(0));
    let r = call("read_file", json!({"path": "a"}));
    // A leader that is cancelled mid-run must not strand its waiter.
    let leader = {
        let (t, r) = (t.clone(), r.clone());
        tokio::spawn(async move {
            t.execute_async(&r, |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<Arc<str>, ()>("never".into())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiter = {
        let (t, r, runs) = (t.clone(), r.clone(), runs.clone());
        tokio::spawn(async move {
            t.execute_async(&r, |_| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<Arc<str>, ()>("fresh".into())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort();
    let v = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("waiter stranded")
        .unwrap();
    assert_eq!(v.unwrap().as_ref(), "fresh");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(t.get(&r).as_deref(), Some("fresh"));
}

#[test]
fn shell_config_in_the_policy_file() {
    let t = tools();
    let lint = call("run_command", json!({"command": "npm", "args": ["run", "lint"]}));
    assert_eq!(
        t.classify(&lint),
        Decision::Opaque,
        "unknown project commands are opaque by default"
    );
    let p = Policy::from_toml_str(
        r#"
        [tools.run_command]
        kind = "shell"
        [tools.run_command.config.readers."npm run lint"]
        "#,
    )
    .unwrap();
    t.set_policy(Policy::defaults().merged(p));
    assert!(
        matches!(t.classify(&lint), Decision::Read { .. }),
        "{:?}",
        t.classify(&lint)
    );
    t.execute(&lint, ok("0 problems")).unwrap();
    assert!(t.get(&lint).is_some());
    t.execute(&call("modify_file", json!({"filePath": "src/index.js"})), ok("ok"))
        .unwrap();
    assert!(
        t.get(&lint).is_none(),
        "a read-only project command reads the workspace"
    );
}

#[test]
fn shell_writes_to_devices_are_opaque() {
    // Found by the fuzzer: `2>/dev/null2` writes a file under /dev, not /dev/null.
    use depcache::tool::shell::{classify, ShellClass, ShellConfig};
    let root = std::path::Path::new("/repo");
    let c = classify("grep x a 2>/dev/null2", None, root, &ShellConfig::default());
    assert!(matches!(c, ShellClass::Opaque { .. }), "{c:?}");
    let c = classify("grep x a 2>/dev/null", None, root, &ShellConfig::default());
    assert!(matches!(c, ShellClass::Read { .. }), "{c:?}");
}

#[test]
fn a_persistent_shell_without_a_directory_caches_nothing_relative() {
    // A terminal-like shell: `cd src` in one call moves the next. Without a
    // `cwd` argument the cache cannot know where `cat a.py` runs, so the same
    // command text must not answer for two different files.
    let t = tools();
    let cat = call("bash", json!({"command": "cat a.py"}));
    assert!(
        matches!(t.classify(&cat), Decision::Uncached { .. }),
        "{:?}",
        t.classify(&cat)
    );
    t.execute(&call("bash", json!({"command": "cd src"})), ok("")).unwrap();
    t.execute(&cat, ok("print('src')")).unwrap();
    assert!(
        t.get(&cat).is_none(),
        "a relative read in an unknown directory was cached"
    );

    // An unknown-directory read invalidates nothing.
    let read = call("read_file", json!({"path": "README"}));
    t.execute(&read, ok("hi")).unwrap();
    t.execute(&cat, ok("print('src')")).unwrap();
    assert!(t.get(&read).is_some());

    // Absolute paths, or an absolute `cd` first, are known wherever it starts.
    let abs = call("bash", json!({"command": "cd /ws/src && cat a.py"}));
    let Decision::Read { deps, .. } = t.classify(&abs) else {
        panic!("{:?}", t.classify(&abs))
    };
    let src = depcache::DepPath::new("src");
    assert!(
        deps.iter().any(|d| d.dep == depcache::DepPath::new("src/a.py")),
        "{deps:?}"
    );
    assert!(deps.iter().all(|d| src.contains(&d.dep)), "{deps:?}");

    // A relative write in an unknown directory may hit anything.
    let write = call("bash", json!({"command": "echo x > a.py"}));
    assert_eq!(t.classify(&write), Decision::Opaque);

    // With its directory named, or for a shell that starts at the root, the
    // command is a read again.
    let named = call("bash", json!({"command": "cat a.py", "cwd": "/ws/src"}));
    assert!(matches!(t.classify(&named), Decision::Read { .. }));
    let p = Policy::from_toml_str(
        r#"
        [tools.bash]
        kind = "shell"
        persistent_cwd = false
        "#,
    )
    .unwrap();
    t.set_policy(Policy::defaults().merged(p));
    assert!(
        matches!(t.classify(&cat), Decision::Read { .. }),
        "{:?}",
        t.classify(&cat)
    );
}

#[test]
fn regression_a_search_from_above_the_root_sees_writes_inside_it() {
    // `find /` and `grep -r x /` read the workspace too: `/` is above the root.
    let t = tools();
    let bash = |c: &str| call("bash", json!({"command": c, "cwd": "/ws"}));
    for read in ["find / -name a.py", "grep -rn x /", "ls -R /"] {
        t.execute(&bash(read), ok("old")).unwrap();
        assert!(t.get(&bash(read)).is_some(), "{read} is cached");
    }
    t.execute(
        &call("write_file", json!({"path": "src/a.py", "content": "x"})),
        ok("ok"),
    )
    .unwrap();
    for read in ["find / -name a.py", "grep -rn x /", "ls -R /"] {
        assert!(t.get(&bash(read)).is_none(), "{read} read src/a.py: it goes");
    }
}

#[test]
fn a_change_outside_the_root_leaves_searches_of_the_root() {
    let t = tools();
    let bash = |c: &str| call("bash", json!({"command": c, "cwd": "/ws"}));
    t.execute(&bash("grep -rn x ."), ok("hits")).unwrap();
    t.execute(&bash("cat /etc/hosts"), ok("127.0.0.1")).unwrap();
    t.execute(&bash("find / -name hosts"), ok("/etc/hosts")).unwrap();
    t.execute(
        &call("write_file", json!({"path": "/etc/hosts", "content": "x"})),
        ok("ok"),
    )
    .unwrap();
    assert!(t.get(&bash("cat /etc/hosts")).is_none());
    assert!(t.get(&bash("find / -name hosts")).is_none(), "/ holds /etc");
    assert!(t.get(&bash("grep -rn x .")).is_some(), "the root does not hold /etc");
}
