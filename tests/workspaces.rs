//! Workspaces: one namespace per sandbox. Two tenants whose sandboxes use the
//! same paths never see each other's results, and nothing one does reaches
//! the other.

use std::sync::Arc;

use depcache::tool::{ToolCache, ToolCall, ToolError};
use serde_json::json;

fn ok(s: &str) -> impl FnOnce(&ToolCall) -> Result<Arc<str>, ()> + '_ {
    move |_| Ok(s.into())
}

fn read(path: &str) -> ToolCall {
    ToolCall::new("read_file", json!({ "path": path }))
}

fn bash(command: &str) -> ToolCall {
    ToolCall::new("bash", json!({ "command": command, "cwd": "/testbed" }))
}

#[test]
fn tenants_with_one_root_never_see_each_others_results() {
    // Every spelling of the call, in every form of lookup.
    for c in [read("/testbed/secret.txt"), read("secret.txt"), bash("cat secret.txt")] {
        let tools: ToolCache = ToolCache::new("/testbed", 1_000);
        let a = tools.workspace("tenant-a", "/testbed").unwrap();
        let b = tools.workspace("tenant-b", "/testbed").unwrap();
        let out = a.execute(&c, ok("a's secret")).unwrap();
        assert_eq!(&*out, "a's secret");
        assert_eq!(a.get(&c).as_deref(), Some("a's secret"));
        assert!(b.get(&c).is_none(), "{c:?} leaked to b");
        assert!(tools.get(&c).is_none(), "{c:?} leaked to the default workspace");
        // b runs its own tool and gets its own answer, not a's.
        let ran = std::cell::Cell::new(false);
        let out = b
            .execute(&c, |_| {
                ran.set(true);
                Ok::<_, ()>("b's secret".into())
            })
            .unwrap();
        assert!(ran.get());
        assert_eq!(&*out, "b's secret");
        assert_eq!(a.get(&c).as_deref(), Some("a's secret"));
        // The keys differ, though the canonical arguments are one string.
        let (ka, kb) = (a.key(&c).unwrap().unwrap(), b.key(&c).unwrap().unwrap());
        assert_eq!(ka.args(), kb.args());
        assert_ne!(ka, kb);
    }
}

#[test]
fn writes_opaque_commands_and_invalidations_stay_in_their_workspace() {
    let tools: ToolCache = ToolCache::new("/repo", 1_000);
    let a = tools.workspace("a", "/testbed").unwrap();
    let b = tools.workspace("b", "/testbed").unwrap();
    let fill = || {
        for ws in [&a, &b] {
            ws.execute(&read("x.py"), ok("x")).unwrap();
            ws.execute(&bash("ls"), ok("x.py")).unwrap();
        }
        tools.execute(&read("x.py"), ok("home x")).unwrap();
    };
    let cached =
        |ws: &depcache::tool::Workspace<'_, Arc<str>>| (ws.get(&read("x.py")).is_some(), ws.get(&bash("ls")).is_some());

    fill();
    a.execute(
        &ToolCall::new("write_file", json!({"path": "x.py", "content": "y"})),
        ok("ok"),
    )
    .unwrap();
    assert_eq!(cached(&a), (false, false), "a's write drops a's read and listing");
    assert_eq!(cached(&b), (true, true), "b keeps its entries");
    assert!(tools.get(&read("x.py")).is_some());

    fill();
    a.execute(&bash("python reproduce.py"), ok("")).unwrap();
    assert_eq!(cached(&a), (false, false), "an opaque command flushes its workspace");
    assert_eq!(cached(&b), (true, true), "and only its workspace");
    assert!(tools.get(&read("x.py")).is_some());

    fill();
    assert_eq!(b.invalidate_file("/testbed/x.py"), 2);
    assert_eq!(cached(&a), (true, true));
    assert_eq!(cached(&b), (false, false));

    fill();
    tools.execute(&bash("make"), ok("")).unwrap();
    assert_eq!(
        cached(&a),
        (true, true),
        "the default workspace's opaque command stays home"
    );
    assert!(tools.get(&read("x.py")).is_none());

    fill();
    assert!(tools.remove_workspace("a"));
    assert!(!tools.remove_workspace("a"));
    let a2 = tools.workspace("a", "/testbed").unwrap();
    assert_ne!(a2.id(), a.id(), "a removed workspace's number is not reused");
    assert!(a2.get(&read("x.py")).is_none());
    assert_eq!(cached(&a), (false, false), "removing hides the entries");
    assert_eq!(cached(&b), (true, true));
}

#[test]
fn a_name_keeps_its_root() {
    let tools: ToolCache = ToolCache::new("/repo", 100);
    let a = tools.workspace("a", "/testbed/").unwrap();
    assert_eq!(tools.workspace("a", "/testbed").unwrap().id(), a.id());
    let e = tools.workspace("a", "/elsewhere").unwrap_err();
    assert!(matches!(e, ToolError::WorkspaceRoot { .. }));
    assert_eq!(e.to_string(), "workspace `a` is rooted at /testbed, not /elsewhere");
}

#[test]
fn concurrent_tenants_share_one_budget_and_never_mix() {
    let tools: ToolCache = ToolCache::new("/repo", 64);
    std::thread::scope(|s| {
        for t in 0..4 {
            let tools = &tools;
            s.spawn(move || {
                let ws = tools.workspace(&format!("t{t}"), "/testbed").unwrap();
                for i in 0..500 {
                    let c = read(&format!("f{}.py", i % 20));
                    let want = format!("t{t} f{}", i % 20);
                    let got = ws.execute(&c, |_| Ok::<_, ()>(want.as_str().into())).unwrap();
                    assert_eq!(&*got, want, "a result of another tenant");
                    if i % 50 == 0 {
                        ws.execute(&bash("pytest"), ok("")).unwrap();
                    }
                }
            });
        }
    });
    assert!(tools.cache().len() <= 64);
}
