//! Each agent's tools, with calls shaped exactly as the agent sends them:
//! what is cached, what a write invalidates, what stays opaque. The README's
//! dialect table names these tests.

use std::sync::Arc;

use depcache::tool::{Decision, Policy, ToolCache, ToolCall};
use depcache::DepPath;
use serde_json::{json, Value};

const ROOT: &str = "/repo";

fn tools(agent: &str) -> ToolCache {
    let t = ToolCache::new(ROOT, 1000);
    t.set_policy(Policy::for_agent(agent).unwrap());
    t
}

fn c(name: &str, args: Value) -> ToolCall {
    ToolCall::new(name, args)
}

fn is_read(t: &ToolCache, call: &ToolCall) -> bool {
    matches!(t.classify(call), Decision::Read { .. })
}

/// The paths a write invalidates, sorted; `None` if it is not a write.
fn writes(t: &ToolCache, call: &ToolCall) -> Option<Vec<String>> {
    match t.classify(call) {
        Decision::Write { paths } => {
            let mut p: Vec<String> = paths.iter().map(|p| p.as_path().display().to_string()).collect();
            p.sort();
            Some(p)
        }
        _ => None,
    }
}

fn opaque(t: &ToolCache, call: &ToolCall) -> bool {
    t.classify(call) == Decision::Opaque
}

fn run(t: &ToolCache, call: &ToolCall, out: &str) {
    t.execute(call, |_| Ok::<Arc<str>, ()>(out.into())).unwrap();
}

#[test]
fn codex() {
    let t = tools("codex");
    let sh = |argv: &[&str], workdir: &str| {
        c(
            "shell",
            json!({"command": argv, "workdir": workdir, "timeout_ms": 10000}),
        )
    };
    assert!(is_read(&t, &sh(&["bash", "-lc", "cat src/a.py"], "/repo")));
    assert!(is_read(&t, &sh(&["rg", "-n", "fn main"], "/repo")));
    // The directory is the call's workdir: `cat a.py` in /repo/src reads src/a.py.
    let Decision::Read { deps, .. } = t.classify(&sh(&["cat", "a.py"], "/repo/src")) else {
        panic!()
    };
    assert_eq!(deps[0].dep, DepPath::new("src/a.py"));
    assert_eq!(
        writes(&t, &sh(&["bash", "-lc", "sed -i s/a/b/ x.py"], "/repo")),
        Some(vec!["x.py".into()])
    );
    assert!(opaque(&t, &sh(&["bash", "-lc", "python x.py"], "/repo")));
    let patch =
        "*** Begin Patch\n*** Update File: src/a.py\n@@\n-a\n+b\n*** Add File: docs/new.md\n+x\n*** End Patch\n";
    assert_eq!(
        writes(&t, &c("apply_patch", json!({"input": patch}))),
        Some(vec!["docs/new.md".into(), "src/a.py".into()]),
        "a well-formed patch never flushes"
    );
    assert!(
        opaque(&t, &c("apply_patch", json!({"input": "--- a/x\n+++ b/x\n"}))),
        "malformed: opaque"
    );
    assert!(opaque(&t, &c("apply_patch", json!({"input": 7}))));
    assert!(is_read(
        &t,
        &c(
            "read_file",
            json!({"file_path": "/repo/src/a.py", "offset": 1, "limit": 50})
        )
    ));
    assert!(is_read(
        &t,
        &c("list_dir", json!({"dir_path": "/repo/src", "depth": 2}))
    ));
    assert!(is_read(
        &t,
        &c(
            "grep_files",
            json!({"pattern": "TODO", "include": "*.rs", "path": "/repo"})
        )
    ));
    // A patch drops exactly what it touched.
    let read_a = c("read_file", json!({"file_path": "/repo/src/a.py"}));
    let read_b = c("read_file", json!({"file_path": "/repo/src/b.py"}));
    run(&t, &read_a, "a");
    run(&t, &read_b, "b");
    run(&t, &c("apply_patch", json!({"input": patch})), "ok");
    assert!(t.get(&read_a).is_none() && t.get(&read_b).is_some());
    // The other shells of codex: a string command with a workdir; sessions
    // that outlive the call, and typed input, are opaque.
    assert!(is_read(
        &t,
        &c("shell_command", json!({"command": "cat a.py", "workdir": "/repo"}))
    ));
    for tool in ["exec_command", "write_stdin", "local_shell", "js_repl"] {
        assert!(
            opaque(&t, &c(tool, json!({"cmd": "ls", "session_id": 1, "chars": "y\n"}))),
            "{tool}"
        );
    }
}

#[test]
fn claude_code() {
    let t = tools("claude-code");
    assert!(is_read(
        &t,
        &c("Read", json!({"file_path": "/repo/a.py", "offset": 10, "limit": 20}))
    ));
    assert!(is_read(
        &t,
        &c("Glob", json!({"pattern": "**/*.py", "path": "/repo/src"}))
    ));
    assert!(is_read(
        &t,
        &c(
            "Grep",
            json!({"pattern": "def ", "path": "/repo", "output_mode": "content", "-n": true})
        )
    ));
    assert!(is_read(&t, &c("LS", json!({"path": "/repo/src"}))));
    assert_eq!(
        writes(&t, &c("Write", json!({"file_path": "/repo/a.py", "content": "x"}))),
        Some(vec!["a.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c(
                "Edit",
                json!({"file_path": "/repo/a.py", "old_string": "a", "new_string": "b", "replace_all": false})
            )
        ),
        Some(vec!["a.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c(
                "MultiEdit",
                json!({"file_path": "/repo/b.py", "edits": [{"old_string": "a", "new_string": "b"}]})
            )
        ),
        Some(vec!["b.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c(
                "NotebookEdit",
                json!({"notebook_path": "/repo/n.ipynb", "new_source": "x", "cell_id": "c1"})
            )
        ),
        Some(vec!["n.ipynb".into()])
    );
    // Bash keeps its directory between calls: a relative read is not cached.
    let bash = |cmd: &str| c("Bash", json!({"command": cmd, "description": "d"}));
    assert!(!is_read(&t, &bash("cat a.py")));
    assert!(is_read(&t, &bash("cat /repo/a.py")));
    assert!(opaque(
        &t,
        &c("Bash", json!({"command": "npm run dev", "run_in_background": true}))
    ));
    assert!(opaque(&t, &c("Write", json!({"content": "x"}))), "no file_path: opaque");
}

#[test]
fn openhands() {
    let t = tools("openhands");
    let ed = |args: Value| c("str_replace_editor", args);
    let view = ed(json!({"command": "view", "path": "/repo/src/a.py", "view_range": [1, 40]}));
    assert!(is_read(&t, &view), "a view is a cacheable read");
    assert!(is_read(&t, &ed(json!({"command": "view", "path": "/repo/src"}))));
    for cmd in ["create", "str_replace", "insert", "undo_edit"] {
        let w = ed(
            json!({"command": cmd, "path": "/repo/src/a.py", "file_text": "x", "old_str": "a", "new_str": "b", "insert_line": 3}),
        );
        assert_eq!(writes(&t, &w), Some(vec!["src/a.py".into()]), "{cmd}");
    }
    assert!(opaque(
        &t,
        &ed(json!({"command": "rewrite_everything", "path": "/repo/a"}))
    ));
    assert!(opaque(&t, &ed(json!({"path": "/repo/a"}))), "no command");
    assert!(
        opaque(&t, &ed(json!({"command": 3, "path": "/repo/a"}))),
        "a command that is not a string"
    );
    // A view and the listing of its directory go when the file is edited.
    let listing = ed(json!({"command": "view", "path": "/repo/src"}));
    run(&t, &view, "1\tprint(1)");
    run(&t, &listing, "a.py");
    run(
        &t,
        &ed(json!({"command": "str_replace", "path": "/repo/src/a.py", "old_str": "1", "new_str": "2"})),
        "ok",
    );
    assert!(t.get(&view).is_none() && t.get(&listing).is_none());
    let bash = |args: Value| c("execute_bash", args);
    assert!(is_read(
        &t,
        &bash(json!({"command": "cat /repo/a.py", "security_risk": "LOW"}))
    ));
    assert!(
        opaque(&t, &bash(json!({"command": "y", "is_input": "true"}))),
        "input to a running program"
    );
    assert!(
        opaque(&t, &bash(json!({"command": ""}))),
        "more output of a running program"
    );
    assert!(opaque(&t, &c("execute_ipython_cell", json!({"code": "open('a','w')"}))));
    // OpenHands V1's tool names.
    assert!(is_read(
        &t,
        &c("file_editor", json!({"command": "view", "path": "/repo/a.py"}))
    ));
    assert_eq!(
        writes(
            &t,
            &c(
                "file_editor",
                json!({"command": "create", "path": "/repo/a.py", "file_text": "x"})
            )
        ),
        Some(vec!["a.py".into()])
    );
    assert!(opaque(&t, &c("terminal", json!({"command": "y", "is_input": true}))));
}

#[test]
fn swe_agent() {
    let t = tools("swe-agent");
    // Its file tools keep state (the open file) and resolve relative paths
    // against the shell's directory: reads run uncached, writes are opaque.
    for read in [
        c("open", json!({"path": "/repo/a.py", "line_number": 10})),
        c("goto", json!({"line_number": 5})),
        c("scroll_down", json!({})),
        c("search_file", json!({"search_term": "def", "file": "/repo/a.py"})),
        c("search_dir", json!({"search_term": "def", "dir": "/repo/src"})),
        c("find_file", json!({"file_name": "a.py", "dir": "/repo"})),
    ] {
        assert!(matches!(t.classify(&read), Decision::Uncached { .. }), "{}", read.name);
    }
    for write in [
        c("create", json!({"filename": "new.py"})),
        c("edit", json!({"start_line": 1, "end_line": 2, "replacement_text": "x"})),
        c("insert", json!({"text": "x", "line": 3})),
    ] {
        assert!(opaque(&t, &write), "{}", write.name);
    }
    // Its str_replace_editor takes absolute paths: as OpenHands'.
    assert!(is_read(
        &t,
        &c("str_replace_editor", json!({"command": "view", "path": "/repo/a.py"}))
    ));
}

#[test]
fn goose() {
    let t = tools("goose");
    assert!(is_read(&t, &c("shell", json!({"command": "cat /repo/a.py"}))));
    assert!(is_read(
        &t,
        &c("text_editor", json!({"command": "view", "path": "/repo/a.py"}))
    ));
    assert_eq!(
        writes(
            &t,
            &c(
                "text_editor",
                json!({"command": "write", "path": "/repo/a.py", "file_text": "x"})
            )
        ),
        Some(vec!["a.py".into()])
    );
    assert!(is_read(&t, &c("tree", json!({"path": "/repo"}))));
    // Goose's names as the model sees them, and its newer file tools.
    assert!(is_read(
        &t,
        &c(
            "developer__text_editor",
            json!({"command": "view", "path": "/repo/a.py"})
        )
    ));
    assert!(
        is_read(&t, &c("developer__shell", json!({"command": "cat a.py"}))),
        "a process of its own"
    );
    assert_eq!(
        writes(
            &t,
            &c("developer__file_write", json!({"path": "/repo/a.py", "content": "x"}))
        ),
        Some(vec!["a.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c("file_edit", json!({"path": "/repo/a.py", "before": "a", "after": "b"}))
        ),
        Some(vec!["a.py".into()])
    );
}

#[test]
fn cline() {
    let t = tools("cline");
    assert!(is_read(&t, &c("read_file", json!({"path": "src/a.py"}))));
    assert!(is_read(
        &t,
        &c(
            "search_files",
            json!({"path": "src", "regex": "TODO", "file_pattern": "*.py"})
        )
    ));
    assert!(is_read(&t, &c("list_files", json!({"path": "src", "recursive": true}))));
    assert!(is_read(&t, &c("list_code_definition_names", json!({"path": "src"}))));
    assert_eq!(
        writes(&t, &c("write_to_file", json!({"path": "src/a.py", "content": "x"}))),
        Some(vec!["src/a.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c(
                "replace_in_file",
                json!({"path": "src/a.py", "diff": "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE"})
            )
        ),
        Some(vec!["src/a.py".into()])
    );
    assert!(opaque(
        &t,
        &c(
            "execute_command",
            json!({"command": "npm start", "requires_approval": false})
        )
    ));
    // The SDK's tools.
    assert_eq!(
        writes(
            &t,
            &c("editor", json!({"path": "src/a.py", "old_text": "a", "new_text": "b"}))
        ),
        Some(vec!["src/a.py".into()])
    );
    assert_eq!(
        writes(
            &t,
            &c(
                "write_to_file",
                json!({"absolutePath": "/repo/src/a.py", "content": "x"})
            )
        ),
        Some(vec!["src/a.py".into()])
    );
    assert!(is_read(
        &t,
        &c("read_files", json!({"files": [{"path": "src/a.py", "start_line": 1}]}))
    ));
    assert!(opaque(&t, &c("run_commands", json!({"commands": ["ls"]}))));
    assert!(opaque(
        &t,
        &c(
            "use_mcp_tool",
            json!({"server_name": "fs", "tool_name": "write_file", "arguments": "{}"})
        )
    ));
}

#[test]
fn mcp_filesystem() {
    let t = tools("mcp-filesystem");
    assert!(is_read(
        &t,
        &c("read_text_file", json!({"path": "/repo/docs/new.md", "head": 10}))
    ));
    assert!(is_read(
        &t,
        &c("read_multiple_files", json!({"paths": ["/repo/a", "/repo/b"]}))
    ));
    assert!(is_read(
        &t,
        &c(
            "list_directory_with_sizes",
            json!({"path": "/repo/docs", "sortBy": "size"})
        )
    ));
    assert!(is_read(&t, &c("directory_tree", json!({"path": "/repo"}))));
    assert_eq!(
        writes(
            &t,
            &c(
                "edit_file",
                json!({"path": "/repo/a", "edits": [{"oldText": "x", "newText": "y"}], "dryRun": false})
            )
        ),
        Some(vec!["a".into()])
    );
    assert_eq!(
        writes(&t, &c("create_directory", json!({"path": "/repo/d"}))),
        Some(vec!["d".into()])
    );
    // The move's destination is written too: the read of it and the listing go.
    let mv = c(
        "move_file",
        json!({"source": "/repo/old.md", "destination": "/repo/docs/new.md"}),
    );
    assert_eq!(writes(&t, &mv), Some(vec!["docs/new.md".into(), "old.md".into()]));
    let read_new = c("read_text_file", json!({"path": "/repo/docs/new.md"}));
    let list_docs = c("list_directory", json!({"path": "/repo/docs"}));
    run(&t, &read_new, "error: no such file");
    run(&t, &list_docs, "");
    run(&t, &mv, "ok");
    assert!(t.get(&read_new).is_none(), "a read of the destination goes");
    assert!(
        t.get(&list_docs).is_none(),
        "the listing of the destination's directory goes"
    );
    assert!(
        matches!(
            t.classify(&c("get_file_info", json!({"path": "/repo/a"}))),
            Decision::Uncached { .. }
        ),
        "it shows the access time"
    );
    // Through a client, the server's tools are namespaced: a write still
    // writes; a read of some server is not taken for a local file's.
    assert_eq!(
        writes(
            &t,
            &c(
                "mcp__filesystem__write_file",
                json!({"path": "/repo/a", "content": "x"})
            )
        ),
        Some(vec!["a".into()])
    );
    assert!(matches!(
        t.classify(&c("mcp__gdrive__read_file", json!({"path": "/repo/a"}))),
        Decision::Uncached { .. }
    ));
    assert!(opaque(&t, &c("mcp__box__bash", json!({"command": "ls"}))));
}

#[test]
fn a_write_whose_target_the_cache_cannot_find_is_opaque() {
    let t = ToolCache::new(ROOT, 100);
    // A tool of no known schema with an argument that may name its target.
    assert!(opaque(&t, &c("copy_file", json!({"path": "a", "dst": "b"}))));
    assert!(opaque(&t, &c("write_file", json!({"path": "a", "mirror_to": "b"}))));
    assert_eq!(
        writes(&t, &c("write_file", json!({"path": "a", "content": "x"}))),
        Some(vec!["a".into()])
    );
    assert!(Policy::for_agent("nobody")
        .unwrap_err()
        .to_string()
        .contains("known: codex"));
}

#[test]
fn bad_input_in_every_dialect_is_conservative_never_a_panic() {
    let bad_values = [
        json!(null),
        json!(7),
        json!(true),
        json!([1, "x", null]),
        json!({"nested": {"path": 3}}),
        json!(""),
        json!("a\u{0}b"),
        json!("../../../../etc/passwd"),
        json!("/etc/shadow"),
        json!("~/x"),
        json!("*** Begin Patch\n*** Update File:\n*** End Patch"),
        json!("x".repeat(10_000)),
    ];
    let keys = [
        "path",
        "file_path",
        "dir_path",
        "paths",
        "command",
        "input",
        "source",
        "destination",
        "workdir",
        "cwd",
        "notebook_path",
        "filename",
        "pattern",
        "is_input",
    ];
    for agent in Policy::AGENTS {
        let t = tools(agent);
        let names: Vec<String> = t.policy().tools.keys().cloned().collect();
        for name in &names {
            let mut calls = vec![c(name, json!({})), c(name, json!([1, 2])), c(name, json!("text"))];
            for k in keys {
                for v in &bad_values {
                    calls.push(c(name, json!({ k: v })));
                    calls.push(c(name, json!({ k: v, "command": "view" })));
                }
            }
            for call in &calls {
                // A write names what it writes, or it is opaque.
                if let Decision::Write { paths } = t.classify(call) {
                    assert!(!paths.is_empty(), "{agent} {name} {}: a write of nothing", call.args);
                }
                // Whatever it decided, running it through the cache is safe.
                let out = t.execute(call, |_| Ok::<Arc<str>, ()>("out".into()));
                assert!(out.is_ok(), "{agent} {name} {}", call.args);
            }
        }
    }
}
