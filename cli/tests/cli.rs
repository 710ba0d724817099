//! The `depcache` command: argument parsing, error messages, and end-to-end
//! replays of the agent traces with zero stale serves.

use std::io::Write;
use std::process::{Command, Output};

fn depcache(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depcache"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn trace_file(lines: &[&str]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

const HEADER: &str = r#"{"format": "depcache-trace/1", "workspace": "/ws"}"#;

#[test]
fn replays_the_agent_traces_with_zero_stale_serves() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/agent");
    for trace in [
        "mini-swe-agent-20.jsonl",
        "openhands-3.jsonl",
        "voder-dry-aged-deps.jsonl",
    ] {
        let o = depcache(&["replay", "--json", &format!("{dir}/{trace}")]);
        assert!(o.status.success(), "{trace}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("--json prints JSON");
        let results = v["results"].as_array().unwrap();
        let ours = results.iter().find(|r| r["mode"] == "depcache").unwrap();
        assert_eq!(ours["stale_serves"], 0, "{trace}: {ours}");
        assert!(ours["calls"].as_u64().unwrap() > 0);
        // The checker can fail: the naive policy that never invalidates for shell
        // commands serves stale outputs on the traces with shell writes.
        if trace != "openhands-3.jsonl" {
            let naive = results.iter().find(|r| r["mode"] == "shell never writes").unwrap();
            assert!(naive["stale_serves"].as_u64().unwrap() > 0, "{trace}: {naive}");
        }
    }
}

/// The depcache row of `replay --json` on `trace` with `threads`.
fn ours(trace: &str, threads: &str) -> serde_json::Value {
    let o = depcache(&["replay", "--json", "--threads", threads, trace]);
    assert!(o.status.success(), "{trace}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("--json prints JSON");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "depcache")
        .unwrap()
        .clone()
}

#[test]
fn sandboxed_sessions_replay_alike_at_any_thread_count_and_get_every_reachable_repeat() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/agent");
    for trace in ["mini-swe-agent-20.jsonl", "openhands-3.jsonl"] {
        let path = format!("{dir}/{trace}");
        let (one, four) = (ours(&path, "1"), ours(&path, "4"));
        for k in ["hits", "views", "stale_serves", "ceiling", "reachable"] {
            assert_eq!(one[k], four[k], "{trace} {k}: {one} vs {four}");
        }
        assert_eq!(one["stale_serves"], 0, "{trace}: {one}");
        // Every exact repeat that no write or opaque command separates is a hit.
        let exact = one["hits"].as_u64().unwrap() - one["views"].as_u64().unwrap();
        assert_eq!(exact, one["reachable"].as_u64().unwrap(), "{trace}: {one}");
        assert!(one["reachable"].as_u64().unwrap() <= one["ceiling"].as_u64().unwrap());
    }
    // mini-swe-agent's outputs are raw: views learn from them, checked byte for
    // byte against what the agent saw.
    let mini = ours(&format!("{dir}/mini-swe-agent-20.jsonl"), "4");
    assert!(mini["views"].as_u64().unwrap() >= 10, "{mini}");
}

#[test]
fn hits_that_rely_on_a_policy_declaration_are_reported_apart() {
    // The project declares `check_traceability` read-only; it rewrites the
    // report the agent reads next. Without outputs, the replay cannot know who
    // is right: the fixed model calls the tool opaque, so the hit is reported
    // as relying on the policy, not as fresh.
    let mut pol = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(
        pol,
        "[tools.check_traceability]\nkind = \"read\"\nworkspace_if_no_path = true\nscope = \"subtree\""
    )
    .unwrap();
    let f = trace_file(&[
        HEADER,
        r#"{"tool": "read_file", "args": {"path": "report.md"}}"#,
        r#"{"tool": "check_traceability", "args": {}}"#,
        r#"{"tool": "read_file", "args": {"path": "report.md"}}"#,
    ]);
    let o = depcache(&[
        "replay",
        "--json",
        "--policy",
        pol.path().to_str().unwrap(),
        f.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ours = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "depcache")
        .unwrap()
        .clone();
    assert_eq!(ours["stale_serves"], 0, "{ours}");
    assert_eq!(ours["policy_reliant_hits"], 1, "{ours}");
    // Without the declaration, the unknown tool is never cached and its hit
    // on the read is still one that relies on "unknown tools write nothing".
    let o = depcache(&["replay", "--json", f.path().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ours = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "depcache")
        .unwrap()
        .clone();
    assert_eq!(ours["policy_reliant_hits"], 1, "{ours}");
}

#[test]
fn built_in_workload_prints_a_table() {
    let o = depcache(&["replay", "--sessions", "2", "--calls", "300", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for row in [
        "no cache",
        "depcache",
        "flush on write",
        "shell all opaque",
        "shell never writes",
    ] {
        assert!(out.contains(row), "missing {row:?} in\n{out}");
    }
    assert!(out.contains("600 calls"), "{out}");
}

#[test]
fn errors_name_the_file_and_line() {
    let f = trace_file(&[HEADER, r#"{"tool": "read_file", "args": {"path": "a"}}"#, "not json"]);
    let p = f.path().to_str().unwrap();
    let o = depcache(&["replay", p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("{p}:3: not a JSON object")),
        "{}",
        stderr(&o)
    );

    let f2 = trace_file(&[HEADER, r#"{"args": {}}"#]);
    let o = depcache(&["replay", f2.path().to_str().unwrap()]);
    assert!(stderr(&o).contains(":2: field `tool` is missing"), "{}", stderr(&o));

    let f3 = trace_file(&[r#"{"format": "depcache-trace/7"}"#]);
    let o = depcache(&["replay", f3.path().to_str().unwrap()]);
    assert!(stderr(&o).contains("unknown trace format"), "{}", stderr(&o));

    let o = depcache(&["replay", "/no/such/trace.jsonl"]);
    assert!(
        stderr(&o).contains("/no/such/trace.jsonl: cannot open"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn lenient_skips_and_counts_bad_lines() {
    let f = trace_file(&[
        HEADER,
        "garbage",
        r#"{"tool": "read_file", "args": {"path": "a"}}"#,
        "[1]",
    ]);
    let o = depcache(&["replay", "--lenient", f.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2 bad lines skipped"), "{}", stdout(&o));
}

#[test]
fn bad_arguments_are_refused() {
    assert!(!depcache(&["replay", "--threads", "0"]).status.success());
    let o = depcache(&["replay", "--ttl", "-1"]);
    assert!(!o.status.success());
    let o = depcache(&["replay", "--capacity", "many"]);
    assert!(stderr(&o).contains("--capacity"), "{}", stderr(&o));
    let o = depcache(&["replay", "--policy", "/no/such/policy.toml"]);
    assert!(stderr(&o).contains("/no/such/policy.toml"), "{}", stderr(&o));
    let o = depcache(&["replay", "--real", "/no/such/dir"]);
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
}

#[test]
fn policy_file_makes_a_project_command_a_read() {
    let mut pol = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(
        pol,
        "[tools.lint]\nkind = \"read\"\nscope = \"subtree\"\nworkspace_if_no_path = true"
    )
    .unwrap();
    let f = trace_file(&[
        HEADER,
        r#"{"tool": "lint", "args": {}, "output": "clean"}"#,
        r#"{"tool": "lint", "args": {}, "output": "clean"}"#,
    ]);
    let o = depcache(&[
        "replay",
        "--json",
        "--policy",
        pol.path().to_str().unwrap(),
        f.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ours = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "depcache")
        .unwrap()
        .clone();
    assert_eq!(
        (ours["lookups"].as_u64(), ours["hits"].as_u64()),
        (Some(2), Some(1)),
        "{ours}"
    );
}

/// A tiny `depcache bench`: one small size, short measurements, quick trace sizes.
const TINY_BENCH: &[&str] = &[
    "bench",
    "--quick",
    "--sizes",
    "1000",
    "--secs",
    "0.05",
    "--threads",
    "1,2",
];

fn positive(v: &serde_json::Value, what: &str) -> f64 {
    let x = v.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    assert!(x.is_finite() && x > 0.0, "{what}: {x}");
    x
}

fn fraction(v: &serde_json::Value, what: &str) -> f64 {
    let x = v.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    assert!((0.0..=1.0).contains(&x), "{what}: {x} not in [0, 1]");
    x
}

#[test]
fn bench_quick_prints_the_table() {
    let o = depcache(TINY_BENCH);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for section in [
        "get hit",
        "zipf mix",
        "invalidate by dependency",
        "hit ratio on the classic traces",
    ] {
        assert!(out.contains(section), "missing {section:?} in\n{out}");
    }
    let rows = |prefix: &str| out.lines().filter(|l| l.starts_with(prefix)).count();
    for cache in [
        "depcache ",
        "depcache pin()",
        "moka ",
        "quick_cache ",
        "papaya ",
        "papaya pin()/call",
    ] {
        // get hit at 1 and 2 threads (+ the zipf mix, papaya and pin() excepted)
        assert!(rows(&format!("1        {cache}")) >= 1, "{cache} at 1 thread:\n{out}");
        assert!(rows(&format!("2        {cache}")) >= 1, "{cache} at 2 threads:\n{out}");
    }
    for cache in ["depcache ", "moka ", "quick_cache "] {
        assert_eq!(
            rows(&format!("1000      {cache}")),
            1,
            "invalidation row of {cache}:\n{out}"
        );
    }
    for trace in ["lirs-cs.trace", "lirs-loop.trace", "lirs-2_pools.trace", "arc-OLTP.lis"] {
        assert!(rows(trace) >= 1, "{trace}:\n{out}");
    }
    // depcache's invalidations removed exactly their 10 entries each time.
    let line = out.lines().find(|l| l.starts_with("1000      depcache ")).unwrap();
    let removed = line.split_whitespace().last().unwrap();
    let (got, expected) = removed.split_once('/').unwrap();
    assert_eq!(got, expected, "{line}");
}

#[test]
fn bench_json_has_finite_positive_ratios_and_sane_counts() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("charts");
    let mut args = TINY_BENCH.to_vec();
    args.extend(["--json", "--plot", plots.to_str().unwrap()]);
    let o = depcache(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("--json prints JSON");
    assert_eq!(v["settings"]["threads"], serde_json::json!([1, 2]));

    for section in ["get_hit", "zipf"] {
        let runs = v[section].as_array().unwrap();
        assert_eq!(runs.len(), 2, "{section}");
        for run in runs {
            let peers: &[&str] = if section == "get_hit" {
                &["moka", "quick_cache", "papaya", "papaya pin()/call"]
            } else {
                &["moka", "quick_cache"]
            };
            for peer in peers {
                positive(&run["ratios"][peer], &format!("{section} ratio vs {peer}"));
            }
            for r in run["results"].as_array().unwrap() {
                positive(&r["ops_per_sec"], &format!("{section} {}", r["cache"]));
                if section == "zipf" {
                    fraction(&r["hit_ratio"], &format!("zipf hit ratio of {}", r["cache"]));
                }
            }
        }
    }

    let inval = v["invalidate"].as_array().unwrap();
    assert_eq!(inval.len(), 1);
    assert_eq!(inval[0]["entries"], 1000);
    for peer in ["moka", "quick_cache"] {
        positive(&inval[0]["ratios"][peer], &format!("invalidation ratio vs {peer}"));
    }
    let result = |cache: &str| {
        inval[0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["cache"] == cache)
            .unwrap_or_else(|| panic!("no invalidation result for {cache}"))
            .clone()
    };
    for cache in ["depcache", "moka", "quick_cache"] {
        let r = result(cache);
        let reps = r["reps"].as_u64().unwrap();
        assert!(reps >= 2, "{r}");
        assert_eq!(r["expected_removed"].as_u64(), Some(10 * reps), "{r}");
        positive(&r["median_ns"], &format!("{cache} median"));
        assert!(r["p99_ns"].as_u64() >= r["median_ns"].as_u64(), "{r}");
        // Every entry of the dependency is either checked gone or reported left.
        assert_eq!(
            r["removed"].as_u64().unwrap() + r["left_in_place"].as_u64().unwrap(),
            10 * reps,
            "{r}"
        );
    }
    // depcache and quick_cache remove exactly the 10 entries, every time.
    for cache in ["depcache", "quick_cache"] {
        let r = result(cache);
        assert_eq!(r["removed"], r["expected_removed"], "{r}");
        assert_eq!(r["wrong_len"], 0, "{r}");
    }
    assert_eq!(result("depcache")["wrong_count"], 0);

    let classic = v["classic"].as_array().unwrap();
    assert!(classic.len() >= 4);
    for c in classic {
        assert!(c["refs"].as_u64().unwrap() > 0, "{c}");
        for cache in ["depcache", "LRU", "moka", "quick_cache"] {
            fraction(&c["hit_ratio"][cache], &format!("{} {cache}", c["trace"]));
        }
    }

    for chart in ["invalidate.svg", "get_hit.svg", "zipf.svg", "hit_ratio.svg"] {
        let text = std::fs::read_to_string(plots.join(chart)).unwrap_or_else(|e| panic!("{chart}: {e}"));
        assert!(text.starts_with("<svg") || text.starts_with("<?xml"), "{chart}");
        assert!(text.contains("</svg>") && text.contains("depcache"), "{chart}");
    }
}

#[test]
fn bench_refuses_bad_arguments() {
    let o = depcache(&["bench", "--sizes", "abc"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--sizes") && stderr(&o).contains("not a number of entries"),
        "{}",
        stderr(&o)
    );

    let o = depcache(&["bench", "--sizes", "1005"]);
    assert!(stderr(&o).contains("multiple of 10"), "{}", stderr(&o));

    let o = depcache(&["bench", "--threads", "0"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--threads") && stderr(&o).contains("from 1 to 256"),
        "{}",
        stderr(&o)
    );

    let o = depcache(&["bench", "--secs=-1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--secs"), "{}", stderr(&o));

    let o = depcache(&["bench", "--only", "everything"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--only"), "{}", stderr(&o));

    let o = depcache(&["bench", "--only", "classic", "--traces", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("in /no/such/dir"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--traces DIR"), "{}", stderr(&o));

    // --plot into a file: refused before anything runs.
    let file = tempfile::NamedTempFile::new().unwrap();
    let o = depcache(&["bench", "--only", "invalidate", "--plot", file.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: --plot:"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[test]
fn recorded_durations_give_the_time_hits_saved() {
    let f = trace_file(&[
        HEADER,
        r#"{"tool": "read_file", "args": {"path": "a.py"}, "output": "x", "duration_ms": 1500}"#,
        r#"{"tool": "read_file", "args": {"path": "a.py"}, "output": "x", "duration_ms": 250}"#,
        r#"{"tool": "read_file", "args": {"path": "b.py"}, "output": "y", "duration_ms": 40}"#,
    ]);
    let r = ours(f.path().to_str().unwrap(), "1");
    assert_eq!(r["hits"], 1, "{r}");
    assert!((r["saved_seconds"].as_f64().unwrap() - 0.25).abs() < 1e-9, "{r}");
    assert!((r["tool_seconds"].as_f64().unwrap() - 1.54).abs() < 1e-9, "{r}");
    let o = depcache(&["replay", f.path().to_str().unwrap()]);
    assert!(stdout(&o).contains("hits saved 0.2 s"), "{}", stdout(&o));
}
