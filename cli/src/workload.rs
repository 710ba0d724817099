//! A generated agent workload: several sessions over a synthetic repository,
//! with the read / grep / list / edit / shell mix of coding agents and a skewed
//! popularity of files (a few hot files take most reads).
//!
//! ```
//! use depcache_cli::workload::{generate, Shape};
//!
//! let trace = generate(&Shape { sessions: 2, calls_per_session: 50, ..Shape::default() });
//! assert_eq!(trace.calls.len(), 100);
//! ```

use serde_json::json;

use depcache::trace::{Header, Sandbox, Trace, TraceCall, FORMAT};

/// The shape of a generated workload.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Agent sessions (they share one repository).
    pub sessions: usize,
    /// Calls per session.
    pub calls_per_session: usize,
    /// Directories in the repository.
    pub dirs: usize,
    /// Files per directory.
    pub files_per_dir: usize,
    /// Popularity skew: file `i` of `n` is drawn as `n * u^skew` (1 = uniform).
    pub skew: i32,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            sessions: 8,
            calls_per_session: 5_000,
            dirs: 24,
            files_per_dir: 40,
            skew: 3,
            seed: 42,
        }
    }
}

/// xorshift64*: small, fast, deterministic; statistical quality is plenty for
/// drawing a workload.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Generates the workload as a trace (no recorded outputs: replays check it
/// against the simulated file system).
pub fn generate(shape: &Shape) -> Trace {
    let mut calls = Vec::with_capacity(shape.sessions * shape.calls_per_session);
    let n_files = (shape.dirs * shape.files_per_dir).max(1);
    for s in 0..shape.sessions {
        let mut rng = Rng(shape
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(s as u64 + 1)
            | 1);
        let session = format!("agent-{s}");
        for i in 0..shape.calls_per_session {
            let f = ((rng.unit().powi(shape.skew.max(1)) * n_files as f64) as usize).min(n_files - 1);
            let d = f / shape.files_per_dir.max(1);
            let file = format!("src/m{d}/f{}.py", f % shape.files_per_dir.max(1));
            let dir = format!("src/m{d}");
            let roll = rng.below(100);
            let (tool, args) = match roll {
                0..=44 => ("read_file", json!({ "path": file })),
                45..=54 => ("list_directory", json!({ "path": dir })),
                55..=62 => (
                    "grep",
                    json!({ "pattern": format!("def f{}", rng.below(8)), "path": dir }),
                ),
                63..=65 => ("grep", json!({ "pattern": format!("TODO{}", rng.below(4)) })),
                66..=68 => ("glob", json!({ "pattern": format!("src/m{d}/*.py") })),
                69..=76 => ("edit", json!({ "path": file, "old": "a", "new": format!("b{i}") })),
                77..=79 => (
                    "write",
                    json!({ "path": format!("{dir}/new{}.py", rng.below(50)), "content": "x" }),
                ),
                80..=87 => ("bash", json!({ "command": format!("cat {file}"), "cwd": "/repo" })),
                88..=91 => (
                    "bash",
                    json!({ "command": format!("grep -rn 'import' {dir}"), "cwd": "/repo" }),
                ),
                92..=94 => ("git_status", json!({})),
                95..=96 => (
                    "bash",
                    json!({ "command": format!("sed -i 's/a/b/' {file}"), "cwd": "/repo" }),
                ),
                // Shell calls name their directory, as mini-swe-agent's do: a
                // persistent shell that does not is cached far less (see
                // `ShellPolicy::persistent_cwd`).
                _ => ("bash", json!({ "command": "python -m pytest -q", "cwd": "/repo" })),
            };
            calls.push(TraceCall {
                session: session.clone(),
                tool: tool.to_string(),
                args,
                output: None,
                ok: true,
                duration: None,
                line: calls.len() + 2,
            });
        }
    }
    // Interleave sessions as a real multi-agent log would be.
    calls.sort_by_key(|c| (c.line - 2) % shape.calls_per_session.max(1));
    Trace {
        header: Header {
            format: FORMAT.to_string(),
            workspace: "/repo".to_string(),
            source: Some(format!("depcache built-in workload {shape:?}")),
            sandbox: Sandbox::Shared,
            raw_shell_output: false,
        },
        calls,
        skipped: 0,
    }
}

/// Writes the synthetic repository of `shape` under `dir` (files are not
/// overwritten if they exist), for replaying the workload against real files.
pub fn materialize(shape: &Shape, dir: &std::path::Path) -> std::io::Result<()> {
    for d in 0..shape.dirs {
        let sub = dir.join(format!("src/m{d}"));
        std::fs::create_dir_all(&sub)?;
        for f in 0..shape.files_per_dir {
            let path = sub.join(format!("f{f}.py"));
            if !path.exists() {
                let body: String = (0..8)
                    .map(|i| format!("def f{i}():\n    return {d} * {f}  # TODO{}\n", i % 4))
                    .collect();
                std::fs::write(path, format!("import os\n{body}"))?;
            }
        }
    }
    Ok(())
}
