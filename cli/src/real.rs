//! `--real DIR`: run the calls against a copy of a directory, for real.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use depcache::tool::ToolCall;
use depcache_cli::replay::Executor;
use serde_json::Value;

/// Executes the common file tools, and shell commands with `sh -c`, inside `dir`
/// (paths under the trace's workspace are mapped into it).
pub struct FsExecutor {
    pub dir: PathBuf,
    pub workspace: PathBuf,
}

const SHELL_TIMEOUT: Duration = Duration::from_secs(10);

impl FsExecutor {
    fn map(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        match p.strip_prefix(&self.workspace) {
            Ok(rel) => self.dir.join(rel),
            Err(_) if p.is_absolute() => p.to_path_buf(),
            Err(_) => self.dir.join(p),
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
    fn run(&self, call: &ToolCall) -> Result<String, String> {
        let err = |e: std::io::Error| e.to_string();
        match call.name.as_str() {
            "read_file" | "read" | "view" | "cat" => {
                std::fs::read_to_string(self.path_arg(call).ok_or("no path")?).map_err(err)
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
                let m = globset::Glob::new(pat).map_err(|e| e.to_string())?.compile_matcher();
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
                let path = self.path_arg(call).ok_or("no path")?;
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
                let path = self.path_arg(call).ok_or("no path")?;
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(err)?;
                }
                std::fs::write(&path, Self::str_arg(call, "content").unwrap_or("")).map_err(err)?;
                Ok("ok".into())
            }
            "remove_file" | "delete_file" => std::fs::remove_file(self.path_arg(call).ok_or("no path")?)
                .map(|_| "ok".into())
                .map_err(err),
            "bash" | "run_command" | "run" | "execute_bash" => {
                let mut cmd = Self::str_arg(call, "command").ok_or("no command")?.to_string();
                if let Some(Value::Array(a)) = call.args.get("args") {
                    for x in a.iter().filter_map(Value::as_str) {
                        cmd.push(' ');
                        cmd.push_str(x);
                    }
                }
                let cwd = Self::str_arg(call, "cwd")
                    .map(|c| self.map(c))
                    .unwrap_or_else(|| self.dir.clone());
                shell(&cmd, if cwd.is_dir() { &cwd } else { &self.dir })
            }
            other => Err(format!("tool {other} cannot run in --real mode")),
        }
    }

    fn watch_root(&self) -> Option<&Path> {
        Some(&self.dir)
    }
}

fn shell(cmd: &str, cwd: &Path) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => {
                let mut out = String::new();
                if let Some(mut o) = child.stdout.take() {
                    let _ = o.read_to_string(&mut out);
                }
                return if status.success() {
                    Ok(out)
                } else {
                    Err(format!("exit {status}: {out}"))
                };
            }
            None if start.elapsed() > SHELL_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("timed out".into());
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
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
                #[cfg(unix)]
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
