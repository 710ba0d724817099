//! Views of known file content through `ToolCache`: what they answer, what
//! drops them, what they never learn from, and where a hit says it came from.

use std::sync::Arc;

use depcache::tool::{Source, ToolCache, ToolCall, ToolOutput};
use serde_json::json;

const FILE: &str = "import os\n\ndef f():\n    return os.sep\n\nf()\n";

fn bash(command: &str) -> ToolCall {
    ToolCall::new("bash", json!({ "command": command, "cwd": "/repo" }))
}

fn tools() -> ToolCache {
    ToolCache::new("/repo", 1_000).views(true)
}

/// Runs `call`; panics if the tool runs (the answer must come from the cache).
fn cached(t: &ToolCache, call: &ToolCall) -> depcache::tool::Served<Arc<str>> {
    t.execute_served(call, |c| -> Result<Arc<str>, ()> { panic!("{c:?} ran") })
        .unwrap()
}

fn runs(t: &ToolCache, call: &ToolCall, out: &str) -> bool {
    let ran = std::cell::Cell::new(false);
    t.execute(call, |_| {
        ran.set(true);
        Ok::<Arc<str>, ()>(out.into())
    })
    .unwrap();
    ran.get()
}

#[test]
fn a_cat_answers_views_of_the_unchanged_file() {
    let t = tools();
    assert!(runs(&t, &bash("cat a.py").by("s1", 3), FILE));
    for (view, want) in [
        ("sed -n '3,4p' a.py", "def f():\n    return os.sep\n"),
        ("head -n 1 a.py", "import os\n"),
        ("tail -n 1 /repo/a.py", "f()\n"),
        ("nl -ba a.py | sed -n 3p", "     3\tdef f():\n"),
        ("grep -n os a.py", "1:import os\n4:    return os.sep\n"),
        ("cat a.py | grep -c def", "1\n"),
        ("wc -l a.py", "6 a.py\n"),
    ] {
        let served = cached(&t, &bash(view));
        assert_eq!(&*served.value, want, "{view}");
        let Source::View(origin) = &served.source else {
            panic!("{view}: {:?}", served.source)
        };
        let by = origin.by.as_ref().expect("the call that taught it");
        assert_eq!((by.session.as_str(), by.step), ("s1", 3));
    }
    // An exact repeat is a hit, not a view.
    assert!(matches!(cached(&t, &bash("cat a.py")).source, Source::Hit(_)));
    // A grep that selects nothing exits 1: the tool runs.
    assert!(runs(&t, &bash("grep -n nothing a.py"), ""));
    // `get` answers views too.
    assert_eq!(t.get(&bash("sed -n 1p a.py")).as_deref(), Some("import os\n"));
}

#[test]
fn partial_reads_answer_what_they_cover() {
    let t = tools();
    assert!(runs(&t, &bash("sed -n '10,12p' a.py"), "ten\neleven\ntwelve\n"));
    assert_eq!(&*cached(&t, &bash("sed -n '11,12p' a.py")).value, "eleven\ntwelve\n");
    assert!(
        runs(&t, &bash("sed -n '11,13p' a.py"), "eleven\ntwelve\nthirteen\n"),
        "line 13 was unknown"
    );
    // Two reads together: 10..13 now.
    assert_eq!(
        &*cached(&t, &bash("sed -n '10,13p' a.py")).value,
        "ten\neleven\ntwelve\nthirteen\n"
    );
    assert!(
        runs(&t, &bash("grep -n ten a.py"), "10:ten\n"),
        "grep needs the whole file"
    );
}

#[test]
fn every_invalidation_path_drops_what_was_learned() {
    let write = ToolCall::new("write_file", json!({"path": "/repo/a.py", "content": "x"}));
    type Change = Box<dyn Fn(&ToolCache)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "a write",
            Box::new(move |t: &ToolCache| {
                t.execute(&write, |_| Ok::<_, ()>("ok".into())).unwrap();
            }),
        ),
        (
            "a shell write",
            Box::new(|t: &ToolCache| {
                t.execute(&bash("sed -i s/os/sys/ a.py"), |_| Ok::<_, ()>("".into()))
                    .unwrap();
            }),
        ),
        (
            "an opaque command",
            Box::new(|t: &ToolCache| {
                t.execute(&bash("python reproduce.py"), |_| Ok::<_, ()>("".into()))
                    .unwrap();
            }),
        ),
        (
            "invalidate_file",
            Box::new(|t: &ToolCache| {
                t.invalidate_file("a.py");
            }),
        ),
        (
            "the directory",
            Box::new(|t: &ToolCache| {
                t.invalidate_dir("/repo");
            }),
        ),
    ];
    for (what, change) in cases {
        let t = tools();
        runs(&t, &bash("cat a.py"), FILE);
        assert!(!runs(&t, &bash("sed -n 1p a.py"), "unused"));
        change(&t);
        assert!(
            runs(&t, &bash("sed -n 1p a.py"), "import sys\n"),
            "{what} must drop the view"
        );
    }
    // Another file's write keeps it.
    let t = tools();
    runs(&t, &bash("cat a.py"), FILE);
    t.invalidate_file("b.py");
    assert!(!runs(&t, &bash("sed -n 1p a.py"), "unused"));
}

#[test]
fn nothing_is_learned_from_failures_cut_outputs_or_unsure_calls() {
    let t = tools();
    let failed: Result<Arc<str>, ()> = t.execute(&bash("cat a.py"), |_| Err(()));
    assert!(failed.is_err());
    assert!(
        runs(&t, &bash("sed -n 1p a.py"), "import os\n"),
        "a failed call teaches nothing"
    );

    /// An output the executor cut for the model.
    #[derive(Clone)]
    struct Cut(Arc<str>);
    impl ToolOutput for Cut {
        fn bytes(&self) -> Option<&[u8]> {
            Some(self.0.as_bytes())
        }
        fn from_bytes(b: &[u8]) -> Option<Self> {
            std::str::from_utf8(b).ok().map(|s| Cut(s.into()))
        }
        fn is_complete(&self) -> bool {
            false
        }
    }
    let cut: ToolCache<Cut> = ToolCache::new("/repo", 100).views(true);
    cut.execute(&bash("cat a.py"), |_| Ok::<_, ()>(Cut("import os\n[... cut]".into())))
        .unwrap();
    assert!(
        cut.get(&bash("sed -n 1p a.py")).is_none(),
        "a cut output teaches nothing"
    );

    // Views are off by default: an executor must say its outputs are raw.
    let off: ToolCache = ToolCache::new("/repo", 100);
    runs(&off, &bash("cat a.py"), FILE);
    assert!(off.get(&bash("sed -n 1p a.py")).is_none());

    // Without a known directory, a relative read is not cached, so not learned.
    let t = tools();
    let nowhere = |c: &str| ToolCall::new("bash", json!({ "command": c }));
    runs(&t, &nowhere("cat a.py"), FILE);
    assert!(t.get(&nowhere("sed -n 1p a.py")).is_none());
    // Not a plain pipeline: not a view, whatever it prints.
    runs(&t, &bash("cat a.py 2>&1"), FILE);
    assert!(t.get(&bash("sed -n 1p a.py")).is_none());
}

#[test]
fn views_stay_in_their_workspace() {
    let t: ToolCache = ToolCache::new("/repo", 1_000).views(true);
    let a = t.workspace("a", "/repo").unwrap();
    let b = t.workspace("b", "/repo").unwrap();
    a.execute(&bash("cat a.py"), |_| Ok::<_, ()>(FILE.into())).unwrap();
    assert!(a.get(&bash("sed -n 1p a.py")).is_some());
    assert!(b.get(&bash("sed -n 1p a.py")).is_none());
    assert!(t.get(&bash("sed -n 1p a.py")).is_none());
}

#[test]
fn begin_and_complete_learn_too() {
    let t = tools();
    let p = t.begin(&bash("nl -ba a.py"));
    let numbered: String = FILE
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{:6}\t{l}\n", i + 1))
        .collect();
    assert!(t.complete(p, &Ok::<Arc<str>, ()>(numbered.into())));
    assert_eq!(&*cached(&t, &bash("grep -n def a.py")).value, "3:def f():\n");
    // A write between begin and complete: neither the result nor the content is kept.
    let t = tools();
    let p = t.begin(&bash("cat a.py"));
    t.invalidate_file("a.py");
    assert!(!t.complete(p, &Ok::<Arc<str>, ()>(FILE.into())));
    assert!(t.get(&bash("sed -n 1p a.py")).is_none());
}

#[test]
fn learned_content_counts_in_the_byte_budget() {
    use depcache::tool::Stored;
    use depcache::Cache;
    let cache = Cache::builder()
        .max_entries(100)
        .max_weight(10_000)
        .weigher(|_k: &depcache::tool::ToolKey, v: &Stored<Arc<str>>| v.weigh(|o| o.len() as u64))
        .build()
        .unwrap();
    let t: ToolCache = ToolCache::with_cache("/repo", cache).views(true);
    let big: String = (0..2_000).map(|i| format!("line {i}\n")).collect();
    // The output (~17 kB) and the content are both over budget: neither stays.
    runs(&t, &bash("cat big.txt"), &big);
    assert!(t.get(&bash("sed -n 1p big.txt")).is_none());
    let small: String = (0..100).map(|i| format!("line {i}\n")).collect();
    runs(&t, &bash("cat small.txt"), &small);
    assert_eq!(t.get(&bash("sed -n 100p small.txt")).as_deref(), Some("line 99\n"));
}

#[test]
fn structured_read_tools_declare_their_format() {
    use depcache::tool::Policy;
    let t = tools();
    t.set_policy(
        Policy::defaults().merged(
            Policy::from_toml_str(
                r#"
            [tools.read_file]
            kind = "read"
            view = { format = "raw", offset_arg = "offset", offset_base = 0, limit_arg = "limit" }

            [tools.view_lines]
            kind = "read"
            view = { format = "cat_n", offset_arg = "start", end_arg = "end" }
            "#,
            )
            .unwrap(),
        ),
    );
    let read = |args: serde_json::Value| ToolCall::new("read_file", args);
    // A whole read teaches the file.
    assert!(runs(&t, &read(json!({"path": "a.py"})), FILE));
    let served = cached(&t, &read(json!({"path": "a.py", "offset": 2, "limit": 2})));
    assert_eq!(&*served.value, "def f():\n    return os.sep\n");
    assert!(matches!(served.source, Source::View(_)));
    // Another tool's format, from the same knowledge: `cat -n` lines.
    let v = ToolCall::new("view_lines", json!({"path": "a.py", "start": 3, "end": 4}));
    assert_eq!(&*cached(&t, &v).value, "     3\tdef f():\n     4\t    return os.sep\n");
    // And a shell view too: one file, one knowledge.
    assert_eq!(&*cached(&t, &bash("sed -n 6p a.py")).value, "f()\n");
    // A partial structured read teaches its lines, and where the file ends
    // when it shows fewer lines than asked.
    let t2 = tools();
    t2.set_policy(t.policy().as_ref().clone());
    assert!(runs(
        &t2,
        &read(json!({"path": "b.py", "offset": 10, "limit": 5})),
        "k\nl\n"
    ));
    assert_eq!(&*cached(&t2, &bash("tail -n 1 b.py")).value, "l\n");
    assert!(runs(&t2, &bash("sed -n 1p b.py"), "a\n"), "line 1 is unknown");
    // Undeclared read tools teach nothing.
    let plain = tools();
    runs(&plain, &read(json!({"path": "a.py"})), FILE);
    assert!(plain.get(&bash("sed -n 1p a.py")).is_none());
}

#[cfg(feature = "async")]
#[tokio::test]
async fn async_execution_learns_and_answers_views() {
    let t = tools();
    let ws = t.workspace("w", "/repo").unwrap();
    ws.execute_async(&bash("cat a.py"), |_| async { Ok::<Arc<str>, ()>(FILE.into()) })
        .await
        .unwrap();
    let out = ws
        .execute_async(&bash("sed -n 2,3p a.py"), |c| async move {
            if c.name == "bash" {
                panic!("{c:?} ran: it is a view of what cat showed")
            }
            Ok::<Arc<str>, ()>("unreachable".into())
        })
        .await
        .unwrap();
    assert_eq!(&*out, "\ndef f():\n");
    // The home workspace learned nothing.
    assert!(t.get(&bash("sed -n 2,3p a.py")).is_none());
}
