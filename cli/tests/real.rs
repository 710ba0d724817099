//! `depcache replay --real-repos`: each session of a trace runs for real in
//! a copy of its own repository (made here, on the spot); sync mode and flush
//! mode side by side; every hit re-run and compared.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn depcache(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depcache"))
        .args(args)
        .output()
        .expect("runs")
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@localhost")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@localhost")
        .output()
        .expect("git runs");
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Two small repositories, one per session (`s1`, `s2`); a third session
/// has none.
fn repos() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [("s1", "1"), ("s2", "2")] {
        let r = dir.path().join(name);
        std::fs::create_dir_all(r.join("src")).unwrap();
        std::fs::write(r.join("a.py"), format!("a = {value}\n")).unwrap();
        std::fs::write(r.join("src/b.py"), "b = 0\n").unwrap();
        git(&r, &["init", "-q"]);
        git(&r, &["add", "-A"]);
        git(&r, &["commit", "-qm", "base"]);
    }
    dir
}

fn bash(session: &str, command: &str) -> String {
    serde_json::json!({"session": session, "tool": "bash", "args": {"command": command, "cwd": "/testbed"}}).to_string()
}

fn trace(calls: &[String]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
    writeln!(
        f,
        r#"{{"format": "depcache-trace/1", "workspace": "/testbed", "sandbox": "per-session"}}"#
    )
    .unwrap();
    for c in calls {
        writeln!(f, "{c}").unwrap();
    }
    f
}

fn results(o: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(&o.stdout)).expect("--json prints JSON");
    v["results"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], mode: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode} row"))
}

#[test]
fn sync_mode_serves_across_opaque_commands_and_nothing_stale() {
    let repos = repos();
    let mut calls = Vec::new();
    for s in ["s1", "s2", "s3"] {
        calls.extend([
            bash(s, "cat a.py"),
            // Opaque: it writes a file that no read here depends on.
            bash(s, "python3 -c \"open('log.txt','w').write('x')\" || echo x > log.txt"),
            bash(s, "cat a.py"),
            bash(s, "grep -rn b src"),
            bash(s, "python3 -c 'pass' || true"),
            bash(s, "grep -rn b src"),
            bash(s, "cat /testbed/a.py"),
            // A write of what the reads depend on: they must run again.
            bash(s, "sed -i 's/= /= 1/' a.py"),
            bash(s, "cat a.py"),
            bash(s, "cat a.py"),
            bash(s, "curl -s http://192.0.2.1/ || true"),
            // Output that varies by itself: a new process id each run.
            bash(s, "cat /proc/self/stat | cut -d' ' -f1"),
            bash(s, "cat /proc/self/stat | cut -d' ' -f1"),
        ]);
    }
    let t = trace(&calls);
    let o = depcache(&[
        "replay",
        "--json",
        "--timeout",
        "20",
        "--real-repos",
        repos.path().to_str().unwrap(),
        t.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = results(&o);
    let (sync, flush) = (row(&rows, "depcache, sync"), row(&rows, "depcache, flush"));
    for r in [sync, flush] {
        assert_eq!(r["stale_serves"], 0, "{r}");
        assert_eq!(r["sessions_missing"], 1, "s3 has no repository: {r}");
        assert_eq!(r["skipped_network"], 2, "curl, once per session: {r}");
        assert_eq!(r["calls"], 26, "the two sessions with a repository: {r}");
    }
    assert_eq!(sync["sessions_watched"], 2, "{sync}");
    assert_eq!(flush["sessions_watched"], 0, "{flush}");
    let hits = |r: &serde_json::Value| r["hits"].as_u64().unwrap();
    assert!(
        hits(sync) >= 2 * hits(flush) && hits(sync) >= 8,
        "sync {} hits, flush {}: {sync} {flush}",
        hits(sync),
        hits(flush)
    );
    // The original repositories are untouched; the copies are gone.
    assert_eq!(
        std::fs::read_to_string(repos.path().join("s1/a.py")).unwrap(),
        "a = 1\n"
    );
    assert!(!repos.path().join("s1/log.txt").exists());
}

#[test]
fn a_wrong_policy_is_caught_as_stale() {
    let repos = repos();
    // The policy says python3 reads nothing and writes nothing: wrong.
    let mut pol = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(
        pol,
        "[tools.bash]\nkind = \"shell\"\npersistent_cwd = false\n[tools.bash.config.readers.python3]\nno_paths = true"
    )
    .unwrap();
    let t = trace(&[
        bash("s1", "cat a.py"),
        bash("s1", "python3 -c \"open('a.py','w').write('changed')\""),
        bash("s1", "cat a.py"),
    ]);
    let o = depcache(&[
        "replay",
        "--json",
        "--policy",
        pol.path().to_str().unwrap(),
        "--real-repos",
        repos.path().to_str().unwrap(),
        t.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "a stale serve fails the run");
    let rows = results(&o);
    assert_eq!(row(&rows, "depcache, flush")["stale_serves"], 1);
}

#[test]
fn real_repos_needs_a_directory_and_a_trace() {
    let o = depcache(&["replay", "--real-repos", "/no/such/dir", "x.jsonl"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--real-repos /no/such/dir: not a directory"));
    let dir = tempfile::tempdir().unwrap();
    let o = depcache(&["replay", "--real-repos", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs a trace"));
    let o = depcache(&[
        "replay",
        "--timeout",
        "0",
        "--real-repos",
        dir.path().to_str().unwrap(),
        "x",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--timeout must be a positive"));
}
