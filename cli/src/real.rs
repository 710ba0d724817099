//! Real execution for `replay --real DIR` and `replay --real-repos DIR`: the
//! calls of a trace run for real in a copy of a directory, the trace's
//! workspace mapped into it.
//!
//! The harness is careful with the machine it runs on: every command has a
//! timeout (its whole process group is killed), commands that reach the
//! network (`pip install`, `git push`, `curl`) are skipped and counted, and
//! every copy is deleted when its session ends.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use depcache::tool::ToolCall;
use serde_json::Value;

use crate::replay::{Executor, RunError, Sessions};

/// Executes the common file tools, and shell commands with `bash -c`, inside
/// a directory; paths under the trace's workspace (in arguments and in
/// command texts) are mapped into it.
pub struct FsExecutor {
    /// Where the calls run.
    pub dir: PathBuf,
    /// The trace's workspace root, which `dir` stands for.
    pub workspace: PathBuf,
    /// Longest a command may run.
    pub timeout: Duration,
    /// The copy `dir` is in, deleted with the executor.
    _copy: Option<tempfile::TempDir>,
}

impl FsExecutor {
    /// An executor in `dir` (used in place) standing for `workspace`.
    pub fn new(dir: PathBuf, workspace: PathBuf, timeout: Duration) -> Self {
        FsExecutor {
            dir,
            workspace,
            timeout,
            _copy: None,
        }
    }

    /// An executor in a fresh copy of `from`, deleted when it is dropped.
    pub fn in_copy_of(from: &Path, workspace: PathBuf, timeout: Duration) -> Result<Self, String> {
        let copy = copy_tree(from)?;
        let dir = std::fs::canonicalize(copy.path()).unwrap_or_else(|_| copy.path().to_path_buf());
        Ok(FsExecutor {
            dir,
            workspace,
            timeout,
            _copy: Some(copy),
        })
    }

    fn map(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        match p.strip_prefix(&self.workspace) {
            Ok(rel) => self.dir.join(rel),
            Err(_) if p.is_absolute() => p.to_path_buf(),
            Err(_) => self.dir.join(p),
        }
    }

    /// `text` with the workspace's root spelled as the directory.
    fn map_text(&self, text: &str) -> String {
        match self.workspace.to_str() {
            Some(ws) if ws.len() > 1 => text.replace(ws, &self.dir.to_string_lossy()),
            _ => text.to_string(),
        }
    }

    fn path_arg(&self, call: &ToolCall) -> Option<PathBuf> {
        ["path", "filePath", "file_path", "dirPath", "directory", "dir"]
            .iter()
            .find_map(|k| call.args.get(*k).and_then(Value::as_str))
            .map(|p| self.map(p))
    }

    fn str_arg<'a>(call: &'a ToolCall, k: &str) -> Option<&'a str> {
        call.args.get(k).and_then(Value::as_str)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

impl Executor for FsExecutor {
    fn run(&self, call: &ToolCall) -> Result<String, RunError> {
        let err = |e: std::io::Error| RunError::Failed(e.to_string());
        let no_path = || RunError::Failed("no path".into());
        match call.name.as_str() {
            "read_file" | "read" | "view" | "cat" => {
                std::fs::read_to_string(self.path_arg(call).ok_or_else(no_path)?).map_err(err)
            }
            "list_directory" | "ls" => {
                let dir = self.path_arg(call).unwrap_or_else(|| self.dir.clone());
                let mut names: Vec<String> = std::fs::read_dir(dir)
                    .map_err(err)?
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                Ok(names.join("\n"))
            }
            "grep" | "search_file_content" | "search" => {
                let pat = Self::str_arg(call, "pattern").unwrap_or("");
                let mut files = Vec::new();
                walk(&self.path_arg(call).unwrap_or_else(|| self.dir.clone()), &mut files);
                let mut out = String::new();
                for f in files {
                    let Ok(text) = std::fs::read_to_string(&f) else {
                        continue;
                    };
                    for (i, l) in text.lines().enumerate().filter(|(_, l)| l.contains(pat)) {
                        out.push_str(&format!(
                            "{}:{}:{l}\n",
                            f.strip_prefix(&self.dir).unwrap_or(&f).display(),
                            i + 1
                        ));
                    }
                }
                Ok(out)
            }
            "glob" | "find_files" => {
                let pat = Self::str_arg(call, "pattern").unwrap_or("*");
                let m = globset::Glob::new(pat)
                    .map_err(|e| RunError::Failed(e.to_string()))?
                    .compile_matcher();
                let mut files = Vec::new();
                walk(&self.dir, &mut files);
                let hits: Vec<String> = files
                    .iter()
                    .filter_map(|f| f.strip_prefix(&self.dir).ok())
                    .filter(|r| m.is_match(r))
                    .map(|r| r.display().to_string())
                    .collect();
                Ok(hits.join("\n"))
            }
            "git_status" | "get_git_status" => {
                let mut files = Vec::new();
                walk(&self.dir, &mut files);
                let mut out = String::new();
                for f in files {
                    let m = std::fs::metadata(&f).map_err(err)?;
                    out.push_str(&format!(
                        "{} {}\n",
                        f.strip_prefix(&self.dir).unwrap_or(&f).display(),
                        m.len()
                    ));
                }
                Ok(out)
            }
            "edit" | "modify_file" | "str_replace" => {
                let path = self.path_arg(call).ok_or_else(no_path)?;
                let mut text = std::fs::read_to_string(&path).map_err(err)?;
                let old = Self::str_arg(call, "old")
                    .or(Self::str_arg(call, "old_str"))
                    .unwrap_or("");
                let new = Self::str_arg(call, "new")
                    .or(Self::str_arg(call, "new_str"))
                    .unwrap_or("");
                match text.find(old).filter(|_| !old.is_empty()) {
                    Some(i) => text.replace_range(i..i + old.len(), new),
                    None => text.push_str(new),
                }
                std::fs::write(&path, text).map_err(err)?;
                Ok("ok".into())
            }
            "write" | "write_file" | "generate_file" | "create_file" => {
                let path = self.path_arg(call).ok_or_else(no_path)?;
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(err)?;
                }
                std::fs::write(&path, Self::str_arg(call, "content").unwrap_or("")).map_err(err)?;
                Ok("ok".into())
            }
            "remove_file" | "delete_file" => std::fs::remove_file(self.path_arg(call).ok_or_else(no_path)?)
                .map(|_| "ok".into())
                .map_err(err),
            "bash" | "run_command" | "run" | "execute_bash" => {
                let mut cmd = Self::str_arg(call, "command")
                    .ok_or_else(|| RunError::Failed("no command".into()))?
                    .to_string();
                if let Some(Value::Array(a)) = call.args.get("args") {
                    for x in a.iter().filter_map(Value::as_str) {
                        cmd.push(' ');
                        cmd.push_str(x);
                    }
                }
                if let Some(what) = network_use(&cmd) {
                    return Err(RunError::Skipped(what.to_string()));
                }
                let cwd = Self::str_arg(call, "cwd")
                    .map(|c| self.map(c))
                    .unwrap_or_else(|| self.dir.clone());
                let cwd = if cwd.is_dir() { cwd } else { self.dir.clone() };
                shell(&self.map_text(&cmd), &cwd, self.timeout)
            }
            other => Err(RunError::Failed(format!("tool {other} cannot run in --real mode"))),
        }
    }

    fn watch_root(&self) -> Option<&Path> {
        Some(&self.dir)
    }
}

/// What in `cmd` would reach the network, if anything: package installs,
/// git's remote commands, downloads, remote shells. Looks at the program of
/// each simple command (after `;`, `&&`, `|`, ...; past `sudo`, `env`,
/// `timeout N` and assignments), so `grep curl .` is not a download.
pub fn network_use(cmd: &str) -> Option<&'static str> {
    const PAIRS: &[(&str, &str, &str)] = &[
        ("pip", "install", "pip install"),
        ("pip", "download", "pip download"),
        ("pip", "wheel", "pip wheel"),
        ("git", "push", "git push"),
        ("git", "pull", "git pull"),
        ("git", "fetch", "git fetch"),
        ("git", "clone", "git clone"),
        ("git", "ls-remote", "git ls-remote"),
        ("git", "submodule", "git submodule"),
        ("npm", "install", "npm install"),
        ("npm", "i", "npm install"),
        ("npm", "ci", "npm ci"),
        ("yarn", "add", "yarn add"),
        ("conda", "install", "conda install"),
        ("apt", "install", "apt install"),
        ("apt-get", "install", "apt-get install"),
        ("apt-get", "update", "apt-get update"),
        ("cargo", "install", "cargo install"),
        ("uv", "pip", "uv pip"),
    ];
    const ALONE: &[&str] = &["curl", "wget", "ssh", "scp", "rsync", "nc", "telnet", "ftp"];
    for segment in cmd.split(|c: char| ";&|()`\n".contains(c)) {
        let words: Vec<&str> = segment
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .collect();
        let mut i = 0;
        // Wrappers and assignments before the program.
        while let Some(w) = words.get(i) {
            match *w {
                "sudo" | "env" | "nohup" | "command" | "exec" => i += 1,
                "timeout" => i += 2,
                w if w.contains('=') && !w.starts_with('-') => i += 1,
                _ => break,
            }
        }
        let mut program = words.get(i).copied().unwrap_or("");
        // `python -m pip install`: the module is the program.
        if program.starts_with("python") && words.get(i + 1) == Some(&"-m") {
            i += 2;
            program = words.get(i).copied().unwrap_or("");
        }
        let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        if let Some(a) = ALONE.iter().find(|a| **a == program) {
            return Some(a);
        }
        // The verb within the next three words (`pip -q install`).
        let next = &words[(i + 1).min(words.len())..(i + 4).min(words.len())];
        if let Some((_, _, what)) = PAIRS.iter().find(|(p, v, _)| *p == program && next.contains(v)) {
            return Some(what);
        }
    }
    None
}

/// Runs `cmd` with `bash -c` in `cwd`: its standard output if it exits 0.
/// After `timeout` its whole process group is killed.
pub fn shell(cmd: &str, cwd: &Path, timeout: Duration) -> Result<String, RunError> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| RunError::Failed(e.to_string()))?;
    // Read while it runs: a full pipe would block it until the timeout.
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| RunError::Failed("no stdout".into()))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return Err(RunError::Failed(e.to_string())),
        }
    };
    // The group: bash and whatever it started, background jobs included
    // (they would hold the pipe open and outlive the session's copy).
    kill_group(&child);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        return Err(RunError::TimedOut);
    };
    let out = reader.join().unwrap_or_default();
    let out = String::from_utf8_lossy(&out).into_owned();
    if status.success() {
        Ok(out)
    } else {
        Err(RunError::Exit {
            code: status.code().unwrap_or(-1),
            stdout: out,
        })
    }
}

/// Kills the process group that `child` leads (it was spawned with
/// `process_group(0)`, so the group's id is its pid).
fn kill_group(child: &std::process::Child) {
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    if pgid <= 1 {
        return; // never 0 (our own group) or 1 (everything)
    }
    // SAFETY: killpg takes plain integers; it touches no memory of ours. The
    // group was created for this child alone and is never our own (checked
    // above: pgid > 1, and the child's group is not ours since it was made
    // with setpgid(0, 0) in the child). A group with no member left fails
    // with ESRCH, which is ignored.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Copies `from` into a new temporary directory (symlinks are copied as links).
pub fn copy_tree(from: &Path) -> Result<tempfile::TempDir, String> {
    let to = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        for e in std::fs::read_dir(from)? {
            let e = e?;
            let (src, dst) = (e.path(), to.join(e.file_name()));
            let ty = e.file_type()?;
            if ty.is_dir() {
                std::fs::create_dir_all(&dst)?;
                copy(&src, &dst)?;
            } else if ty.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
            } else {
                std::fs::copy(&src, &dst)?;
            }
        }
        Ok(())
    }
    copy(from, to.path()).map_err(|e| format!("{}: cannot copy: {e}", from.display()))?;
    Ok(to)
}

/// `--real-repos DIR`: each session runs in a fresh copy of `DIR/<session>`.
pub struct RepoSessions {
    /// One directory per session, named as the session.
    pub dir: PathBuf,
    /// The trace's workspace root, which each copy stands for.
    pub workspace: PathBuf,
    /// Longest a command may run.
    pub timeout: Duration,
}

impl Sessions for RepoSessions {
    fn open(&self, session: &str) -> Result<Option<Arc<dyn Executor>>, String> {
        // A session name is one path component, never a way out of `dir`.
        if session.is_empty() || session.contains('/') || session == "." || session == ".." {
            return Ok(None);
        }
        let from = self.dir.join(session);
        if !from.is_dir() {
            return Ok(None);
        }
        let exec = FsExecutor::in_copy_of(&from, self.workspace.clone(), self.timeout)?;
        Ok(Some(Arc::new(exec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_commands_are_recognized() {
        for cmd in [
            "pip install -e .",
            "cd /testbed && python -m pip install numpy",
            "git push origin main",
            "curl -s https://example.com | head",
            "/usr/bin/wget x",
            "npm i left-pad",
            "timeout 60 pip3 install x",
            "cd a && sudo apt-get update",
        ] {
            assert!(network_use(cmd).is_some(), "{cmd}");
        }
        for cmd in [
            "pip list",
            "git status",
            "grep -rn curl .",
            "python install.py",
            "cat pip.txt",
            "echo 'pip install x'",
        ] {
            assert_eq!(network_use(cmd), None, "{cmd}");
        }
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let r = shell(
            "sleep 30 & sleep 30; echo never",
            dir.path(),
            Duration::from_millis(200),
        );
        assert_eq!(r, Err(RunError::TimedOut));
        let big = shell(
            "head -c 1000000 /dev/zero | tr '\\0' a",
            dir.path(),
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(big.len(), 1_000_000, "a large output does not block the command");
        assert_eq!(
            shell("echo no; exit 3", dir.path(), Duration::from_secs(5)),
            Err(RunError::Exit {
                code: 3,
                stdout: "no\n".into()
            })
        );
    }

    #[test]
    fn workspace_paths_map_into_the_copy() {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("a.txt"), "hi\n").unwrap();
        let e = FsExecutor::in_copy_of(src.path(), "/testbed".into(), Duration::from_secs(5)).unwrap();
        let copy = e.dir.clone();
        let call = ToolCall::new(
            "bash",
            serde_json::json!({"command": "cat /testbed/a.txt", "cwd": "/testbed"}),
        );
        assert_eq!(e.run(&call).unwrap(), "hi\n");
        drop(e);
        assert!(!copy.exists(), "the copy is deleted with its executor");
    }
}
