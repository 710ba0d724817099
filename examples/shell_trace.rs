//! How the shell classifier sees real agents' shell commands.
//!
//! ```text
//! cargo run --example shell_trace                          # testdata/agent/*.jsonl
//! cargo run --example shell_trace -- --config shell.toml   # with a ShellConfig (TOML)
//! cargo run --example shell_trace -- --show opaque         # also list every opaque command
//! ```
//!
//! Reads the agent traces in `testdata/agent/` (format `depcache-trace/1`;
//! sources and licenses in `testdata/README.md`), classifies every shell call
//! (tools `bash`, `run`, `run_command`) with [`classify`] (a command string,
//! with its `cwd`) or [`classify_argv`] (a `command` with an `args` array, run
//! without a shell), and prints per trace how many are reads, writes and
//! opaque, then the 20 most common first words of the opaque commands with
//! their most common reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use depcache::tool::shell::{classify, classify_argv, ShellClass, ShellConfig};
use serde_json::Value;

const SHELL_TOOLS: &[&str] = &["bash", "run", "run_command"];

#[derive(Default)]
struct Counts {
    calls: usize,
    read: usize,
    read_no_deps: usize,
    write: usize,
    opaque: usize,
    /// Project commands (`pytest`): reads only while a watcher runs.
    project: usize,
}

impl Counts {
    fn add(&mut self, c: &ShellClass) {
        self.calls += 1;
        match c {
            ShellClass::Read { deps } => {
                self.read += 1;
                if deps.is_empty() {
                    self.read_no_deps += 1;
                }
            }
            ShellClass::Project { .. } => self.project += 1,
            ShellClass::Write { .. } => self.write += 1,
            ShellClass::Opaque { .. } => self.opaque += 1,
        }
    }

    fn line(&self, name: &str) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.calls.max(1) as f64;
        format!(
            "{name:<28} {:>6} {:>6} ({:>5.1}%) {:>6} ({:>5.1}%) {:>6} ({:>5.1}%)   {} reads read no file, {} project commands",
            self.calls,
            self.read,
            pct(self.read),
            self.write,
            pct(self.write),
            self.opaque,
            pct(self.opaque),
            self.read_no_deps,
            self.project,
        )
    }
}

/// The word that names what runs: the program, or for `bash -c SCRIPT` the
/// first word of the script (after `cd DIR &&` and assignments).
fn first_word(words: &[String]) -> String {
    let mut i = 0;
    while i < words.len() && words[i].contains('=') && !words[i].starts_with('-') {
        i += 1;
    }
    let Some(w) = words.get(i) else {
        return String::new();
    };
    let base = w.rsplit('/').next().unwrap_or(w);
    if matches!(base, "bash" | "sh") {
        if let Some(pos) = words.iter().position(|a| a.starts_with('-') && a.contains('c')) {
            if let Some(script) = words.get(pos + 1) {
                return first_word(&split_script(script));
            }
        }
    }
    if base == "cd" {
        // `cd DIR && cmd`: what runs is `cmd`.
        if let Some(and) = words.iter().position(|a| a == "&&") {
            return first_word(&words[and + 1..]);
        }
    }
    base.to_string()
}

/// A rough split of a script into words (for the report only, not for
/// classification).
fn split_script(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '(').to_string())
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut config = ShellConfig::default();
    let mut show_opaque = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => {
                let path = args.next().ok_or("--config needs a file")?;
                config = toml::from_str(&std::fs::read_to_string(path)?)?;
            }
            "--show" => show_opaque = args.next().as_deref() == Some("opaque"),
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join("agent");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();

    let mut total = Counts::default();
    let mut opaque_words: HashMap<String, (usize, HashMap<String, usize>)> = HashMap::new();
    println!(
        "{:<28} {:>6} {:>15} {:>15} {:>15}",
        "trace", "shell", "read", "write", "opaque"
    );
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let mut lines = text.lines();
        let header: Value = serde_json::from_str(lines.next().ok_or("empty trace")?)?;
        let root = PathBuf::from(header["workspace"].as_str().unwrap_or("."));
        let mut counts = Counts::default();
        for line in lines {
            let call: Value = serde_json::from_str(line)?;
            let tool = call["tool"].as_str().unwrap_or("");
            if !SHELL_TOOLS.contains(&tool) {
                continue;
            }
            let a = &call["args"];
            let Some(command) = a["command"].as_str() else { continue };
            let cwd = a["cwd"].as_str();
            let (class, words) = match a["args"].as_array() {
                Some(rest) => {
                    let mut argv = vec![command.to_string()];
                    argv.extend(
                        rest.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
                    );
                    (classify_argv(&argv, cwd, &root, &config), argv)
                }
                None => (classify(command, cwd, &root, &config), split_script(command)),
            };
            counts.add(&class);
            total.add(&class);
            if let ShellClass::Opaque { reason } = &class {
                let e = opaque_words.entry(first_word(&words)).or_default();
                e.0 += 1;
                *e.1.entry(reason.clone()).or_default() += 1;
                if show_opaque {
                    let shown: String = words.join(" ").chars().take(100).collect();
                    println!("  opaque: {shown:<100}  {reason}");
                }
            }
        }
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        println!("{}", counts.line(&name));
    }
    println!("{}", total.line("all"));

    let mut top: Vec<_> = opaque_words.into_iter().collect();
    top.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    println!("\nmost common opaque commands (first word: count, most common reason):");
    for (word, (n, reasons)) in top.iter().take(20) {
        let (reason, _) = reasons
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .expect("an opaque word has a reason");
        let reason: String = reason.chars().take(90).collect();
        println!("  {word:<22} {n:>5}  {reason}");
    }
    Ok(())
}
