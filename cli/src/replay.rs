//! Replays agent traces through a [`ToolCache`] and checks every hit.
//!
//! Each session of a trace runs on a worker thread, its calls in order; sessions
//! run concurrently and share the trace's cache. Where the trace's sessions ran
//! in sandboxes of their own ([`Sandbox::PerSession`]), each session replays in
//! a [`Workspace`] of its own; otherwise all sessions share the cache's default
//! workspace, and its results. Where the trace's shell outputs are raw
//! ([`Header::raw_shell_output`](depcache::trace::Header::raw_shell_output)),
//! views of known file content are on, and learn only from outputs the
//! recording did not cut.
//!
//! A **stale serve** is a hit whose cached output differs from the truth for the
//! call it answers: the recorded output when the trace has one; otherwise a
//! simulated output, built per workspace from a file system that versions every
//! path a *fixed model* says a call writes (the built-in policy, with unknown
//! tools opaque), so that a hit must reflect every write before it. The model
//! does not trust the replayed policy: a hit that it calls stale only through
//! calls the replayed policy alone declares harmless is counted apart, as
//! relying on the policy. Beside the hits, the report gives the ceiling (exact
//! repeats whose recorded output did not change) and the part of it that no
//! write or opaque call separates.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use depcache::tool::Workspace;
use depcache::tool::{Decision, Policy, Source, Stored, ToolCache, ToolCall, ToolKey, ToolPolicy, WsPath};
use depcache::trace::{Sandbox, Trace, TraceCall};
use depcache::{Cache, Dep, DepPath, Scope};
use hdrhistogram::Histogram;

/// How the cache is used, to compare policies in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// No cache: every call runs.
    NoCache,
    /// depcache with its default policies (targeted invalidation).
    Depcache,
    /// Naive: any write or opaque call flushes the whole cache.
    FlushOnWrite,
    /// Naive: every shell command is opaque (flushes everything); no parsing.
    ShellOpaque,
    /// Naive: shell commands are cacheable reads and never invalidate anything.
    ShellNeverWrites,
    /// depcache with a watcher on the directory the calls really run in
    /// (real execution only): writes and opaque commands sync on it instead
    /// of flushing, and project commands are cacheable reads.
    DepcacheSync,
    /// depcache without a watcher (real execution only): every opaque
    /// command flushes its workspace.
    DepcacheFlush,
}

impl Mode {
    /// Every mode, in report order.
    pub const ALL: [Mode; 5] = [
        Mode::NoCache,
        Mode::Depcache,
        Mode::FlushOnWrite,
        Mode::ShellOpaque,
        Mode::ShellNeverWrites,
    ];

    /// The modes of a real execution, side by side.
    pub const REAL: [Mode; 2] = [Mode::DepcacheSync, Mode::DepcacheFlush];

    /// True for the modes that use depcache's own policies.
    pub fn is_depcache(self) -> bool {
        matches!(self, Mode::Depcache | Mode::DepcacheSync | Mode::DepcacheFlush)
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::NoCache => "no cache",
            Mode::Depcache => "depcache",
            Mode::FlushOnWrite => "flush on write",
            Mode::ShellOpaque => "shell all opaque",
            Mode::ShellNeverWrites => "shell never writes",
            Mode::DepcacheSync => "depcache, sync",
            Mode::DepcacheFlush => "depcache, flush",
        }
    }
}

/// Settings of a replay.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads (sessions run one per worker at a time).
    pub threads: usize,
    /// Cache capacity (entries).
    pub capacity: usize,
    /// Optional byte budget (outputs weighed by length).
    pub max_bytes: Option<u64>,
    /// Optional TTL.
    pub ttl: Option<Duration>,
    /// Policy table (default: [`Policy::defaults`]). Hits are judged by a
    /// fixed model that does not trust it: [`Policy::defaults`] with unknown
    /// tools opaque.
    pub policy: Policy,
    /// How to use the cache.
    pub mode: Mode,
    /// Where the sessions ran; `None`: as each trace's header says
    /// ([`Header::sandbox`](depcache::trace::Header::sandbox)). Real execution
    /// decides by itself: one workspace for [`Real::Shared`], one per session
    /// for [`Real::PerSession`].
    pub sandbox: Option<Sandbox>,
    /// Execute the calls for real instead of replaying recorded outputs (and
    /// check every hit against a fresh execution).
    pub real: Option<Real>,
}

/// Runs tool calls for real, for [`Options::real`].
pub trait Executor: Send + Sync {
    /// Runs `call`: its output, or why it has none (a failed call is not cached).
    fn run(&self, call: &ToolCall) -> Result<String, RunError>;

    /// The directory the calls really touch, which stands for the trace's
    /// workspace: [`Mode::DepcacheSync`] watches it.
    fn watch_root(&self) -> Option<&std::path::Path> {
        None
    }
}

/// Why a real call has no output of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// A command exited with a non-zero code (`grep` that found nothing):
    /// an answer like any other, which an agent sees and the cache keeps
    /// (as `<exit N>` and the standard output; it teaches no view).
    Exit {
        /// The exit code (-1: killed by a signal).
        code: i32,
        /// What it printed.
        stdout: String,
    },
    /// It could not run (a missing file for a file tool, no command).
    Failed(String),
    /// It ran past the harness's timeout and was killed.
    TimedOut,
    /// Not run: it would reach the network (what it would do).
    Skipped(String),
}

/// Opens the directory each session runs in, for [`Real::PerSession`].
pub trait Sessions: Send + Sync {
    /// An executor in a fresh directory of its own for `session`; `None` if
    /// there is none for it (the session is skipped and counted).
    fn open(&self, session: &str) -> Result<Option<Arc<dyn Executor>>, String>;
}

/// Real execution, for [`Options::real`].
#[derive(Clone)]
pub enum Real {
    /// Every session in one directory: one workspace.
    Shared(Arc<dyn Executor>),
    /// Each session in a directory of its own: one workspace each.
    PerSession(Arc<dyn Sessions>),
}

impl std::fmt::Debug for Real {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Real::Shared(_) => f.write_str("Real::Shared(..)"),
            Real::PerSession(_) => f.write_str("Real::PerSession(..)"),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 4,
            capacity: 10_000,
            max_bytes: None,
            ttl: None,
            policy: Policy::defaults(),
            mode: Mode::Depcache,
            sandbox: None,
            real: None,
        }
    }
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Report {
    /// The mode's name.
    pub mode: String,
    /// Calls replayed.
    pub calls: u64,
    /// Calls that were cacheable reads under the mode.
    pub lookups: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Hits answered as views of known file content (part of `hits`).
    pub views: u64,
    /// Hits whose output differed from the truth.
    pub stale_serves: u64,
    /// Hits that the fixed model calls stale only through calls the replayed
    /// policy declares harmless (traces without outputs): they rely on the
    /// policy being right.
    pub policy_reliant_hits: u64,
    /// Cacheable calls whose recorded output equals that of the same call's
    /// previous occurrence in its workspace: the exact repeats a cache that
    /// knew the truth could serve.
    pub ceiling: u64,
    /// The part of `ceiling` that no write or opaque call (by the fixed
    /// model) separates from the previous occurrence: the repeats a cache can
    /// serve without a file watcher.
    pub reachable: u64,
    /// Hits checked against recorded outputs (the rest against the simulation).
    pub checked_recorded: u64,
    /// Invalidation calls made.
    pub invalidations: u64,
    /// Entries they removed.
    pub entries_invalidated: u64,
    /// Cache operation latency per call (classification, lookup, insert,
    /// invalidation; the tool's own run time excluded), nanoseconds: p50, p99, max.
    pub latency_ns: [u64; 3],
    /// Wall time, seconds.
    pub seconds: f64,
    /// Calls per second.
    pub calls_per_sec: f64,
    /// Up to 5 examples of stale serves: (session, line, tool).
    pub stale_examples: Vec<(String, usize, String)>,
    /// Real execution: hits whose fresh output differed but varies by itself
    /// (two fresh runs differ, or one timed out): not counted stale.
    pub varying: u64,
    /// Real execution: calls not run because they would reach the network.
    pub skipped_network: u64,
    /// Real execution: calls killed at the harness's timeout.
    pub timeouts: u64,
    /// Real execution: sessions skipped, with no directory to run in.
    pub sessions_missing: u64,
    /// Real execution, sync mode: sessions whose directory was watched (the
    /// others ran flushing: the watcher could not start).
    pub sessions_watched: u64,
    /// Real execution, sync mode: syncs that caught up.
    pub syncs: u64,
    /// Real execution, sync mode: syncs that flushed instead (the watcher
    /// could not show it had caught up in time).
    pub sync_flushes: u64,
    /// Seconds the tools ran (real execution, or durations the trace records).
    pub tool_seconds: f64,
    /// Seconds of tool time the hits saved: what each hit's own fresh run
    /// took (real execution), or the duration the trace records for it.
    pub saved_seconds: f64,
}

impl Report {
    /// Adds another report's call counts (not its timing) to this one.
    fn absorb(&mut self, other: Report) {
        self.calls += other.calls;
        self.lookups += other.lookups;
        self.hits += other.hits;
        self.stale_serves += other.stale_serves;
        self.views += other.views;
        self.policy_reliant_hits += other.policy_reliant_hits;
        self.ceiling += other.ceiling;
        self.reachable += other.reachable;
        self.checked_recorded += other.checked_recorded;
        self.stale_examples.extend(other.stale_examples);
        self.varying += other.varying;
        self.skipped_network += other.skipped_network;
        self.timeouts += other.timeouts;
        self.sessions_missing += other.sessions_missing;
        self.sessions_watched += other.sessions_watched;
        self.syncs += other.syncs;
        self.sync_flushes += other.sync_flushes;
        self.tool_seconds += other.tool_seconds;
        self.saved_seconds += other.saved_seconds;
    }

    /// hits / lookups.
    pub fn hit_ratio(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.hits as f64 / self.lookups as f64
        }
    }
}

/// Shell tools: their calls are what `ShellNeverWrites` caches blindly.
fn is_shell_tool(policy: &Policy, name: &str) -> bool {
    matches!(policy.get(name), ToolPolicy::Opaque | ToolPolicy::Shell(_))
        && matches!(
            name,
            "bash"
                | "run"
                | "run_command"
                | "execute_bash"
                | "shell"
                | "execute"
                | "exec"
                | "terminal"
                | "run_terminal_cmd"
        )
}

/// The simulated file system of a trace without recorded outputs: a version per
/// path that calls wrote, and an epoch bumped by opaque calls. `current` moves
/// when a write starts; `published` when it (and its invalidations) finished.
#[derive(Default)]
struct SimFs(Mutex<SimState>);

#[derive(Default)]
struct SimState {
    current: BTreeMap<DepPath, u64>,
    published: BTreeMap<DepPath, u64>,
    epoch: u64,
    epoch_published: u64,
    clock: u64,
}

/// Does a write of `p` reach a dependency (by the invalidation rules)?
fn reaches(p: &DepPath, d: &Dep<DepPath>) -> bool {
    match d.scope {
        Scope::Exact => p.contains(&d.dep),
        Scope::Subtree => p.contains(&d.dep) || d.dep.contains(p),
    }
}

impl SimFs {
    fn state(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn begin_write(&self, paths: &[DepPath]) -> u64 {
        let mut s = self.state();
        s.clock += 1;
        let v = s.clock;
        for p in paths {
            s.current.insert(p.clone(), v);
        }
        v
    }

    fn end_write(&self, paths: &[DepPath], v: u64) {
        let mut s = self.state();
        for p in paths {
            let e = s.published.entry(p.clone()).or_default();
            *e = (*e).max(v);
        }
    }

    fn begin_opaque(&self) -> u64 {
        let mut s = self.state();
        s.epoch += 1;
        s.epoch
    }

    fn end_opaque(&self, e: u64) {
        let mut s = self.state();
        s.epoch_published = s.epoch_published.max(e);
    }

    /// The output of a read now: the epoch and every written path its
    /// dependencies reach, with its current version.
    fn render(&self, key: &ToolKey, deps: &[Dep<DepPath>]) -> String {
        let s = self.state();
        let mut out = format!("{}\u{1}{}", s.epoch, key);
        for (p, v) in s.current.iter().filter(|(p, _)| deps.iter().any(|d| reaches(p, d))) {
            out.push_str(&format!("\u{1}{v}\u{2}{}", p.as_path().display()));
        }
        out
    }

    /// What a lookup starting now must see: the published epoch and versions.
    fn floor(&self, deps: &[Dep<DepPath>]) -> (u64, Vec<(String, u64)>) {
        let s = self.state();
        let paths = s
            .published
            .iter()
            .filter(|(p, _)| deps.iter().any(|d| reaches(p, d)))
            .map(|(p, v)| (p.as_path().display().to_string(), *v))
            .collect();
        (s.epoch_published, paths)
    }

    /// True if `output` (from `render`) is older than `floor`.
    fn is_stale(output: &str, floor: &(u64, Vec<(String, u64)>)) -> bool {
        let mut parts = output.split('\u{1}');
        let epoch: u64 = parts.next().and_then(|e| e.parse().ok()).unwrap_or(0);
        if epoch < floor.0 {
            return true;
        }
        let seen: HashMap<&str, u64> = parts
            .skip(1)
            .filter_map(|x| x.split_once('\u{2}'))
            .filter_map(|(v, p)| v.parse().ok().map(|v| (p, v)))
            .collect();
        floor
            .1
            .iter()
            .any(|(p, v)| seen.get(p.as_str()).copied().unwrap_or(0) < *v)
    }
}

struct Shared<'a> {
    tools: ToolCache<Out>,
    /// The fixed model's classification, for the simulated truth: the
    /// built-in policy, with unknown tools opaque.
    truth: ToolCache<Out>,
    opts: &'a Options,
    /// Real mode: reads share it, writes and opaque calls take it alone, so a
    /// hit's verification run is not raced by another session's write.
    gate: std::sync::RwLock<()>,
    /// Calls done so far (all traces), and whom to tell.
    done: &'a AtomicUsize,
    progress: &'a (dyn Fn(usize) + Sync),
    lat: Mutex<Histogram<u64>>,
    counts: Mutex<Report>,
}

/// Replays `traces`, each through its own cache (its own workspace); calls
/// `progress` with the number of calls done so far, from worker threads.
pub fn replay(traces: &[Trace], opts: &Options, progress: &(dyn Fn(usize) + Sync)) -> Report {
    let start = Instant::now();
    let mut total = Report {
        mode: opts.mode.name().to_string(),
        ..Default::default()
    };
    let mut lat = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let done = AtomicUsize::new(0);
    for trace in traces {
        let cache = {
            let mut b = Cache::builder().max_entries(opts.capacity.max(1));
            if let Some(m) = opts.max_bytes {
                b = b
                    .max_weight(m.max(1))
                    .weigher(|k: &ToolKey, v: &Stored<Out>| k.args().len() as u64 + v.weigh(|o| o.text.len() as u64));
            }
            if let Some(t) = opts.ttl.filter(|t| !t.is_zero()) {
                b = b.ttl(t);
            }
            b.build().unwrap_or_else(|_| Cache::new(opts.capacity))
        };
        // A real executor's outputs are the commands' exact standard output.
        let raw = trace.header.raw_shell_output || opts.real.is_some();
        let tools = ToolCache::with_cache(&trace.header.workspace, cache).views(raw);
        tools.set_policy(opts.policy.clone());
        // One shared directory, watched in sync mode (per-session
        // directories are watched by their sessions).
        let watcher = match (&opts.real, opts.mode) {
            (Some(Real::Shared(exec)), Mode::DepcacheSync) => exec
                .watch_root()
                .and_then(|dir| tools.watch_dir(dir, depcache::watch::WatchConfig::default()).ok()),
            _ => None,
        };
        let watched = u64::from(watcher.is_some());
        let truth = ToolCache::new(&trace.header.workspace, 1);
        truth.set_policy(Policy {
            unknown: ToolPolicy::Opaque,
            ..Policy::defaults()
        });
        let shared = Shared {
            tools,
            truth,
            opts,
            gate: std::sync::RwLock::new(()),
            done: &done,
            progress,
            lat: Mutex::new(Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")),
            counts: Mutex::new(Report::default()),
        };
        // Sessions in first-appearance order, each with its calls in order.
        let mut order = Vec::new();
        let mut sessions: HashMap<&str, Vec<&TraceCall>> = HashMap::new();
        for c in &trace.calls {
            sessions
                .entry(c.session.as_str())
                .or_insert_with(|| {
                    order.push(c.session.as_str());
                    Vec::new()
                })
                .push(c);
        }
        let sandbox = match (&opts.real, opts.sandbox) {
            (Some(Real::Shared(_)), _) => Sandbox::Shared,
            (Some(Real::PerSession(_)), _) => Sandbox::PerSession,
            (None, Some(s)) => s,
            (None, None) => trace.header.sandbox,
        };
        let common = Arc::new(SimFs::default());
        let common_agreed = Arc::new(SimFs::default());
        let mut lanes = VecDeque::new();
        for name in &order {
            let Some(calls) = sessions.remove(name) else { continue };
            let lane = match sandbox {
                Sandbox::Shared => Lane {
                    ws: shared.tools.default_workspace(),
                    truth: shared.truth.default_workspace(),
                    sim: common.clone(),
                    agreed: common_agreed.clone(),
                    calls,
                },
                Sandbox::PerSession => {
                    let root = &trace.header.workspace;
                    match (shared.tools.workspace(name, root), shared.truth.workspace(name, root)) {
                        (Ok(ws), Ok(truth)) => Lane {
                            ws,
                            truth,
                            sim: Arc::new(SimFs::default()),
                            agreed: Arc::new(SimFs::default()),
                            calls,
                        },
                        // One name, one root: cannot fail; if it did, share.
                        _ => Lane {
                            ws: shared.tools.default_workspace(),
                            truth: shared.truth.default_workspace(),
                            sim: common.clone(),
                            agreed: common_agreed.clone(),
                            calls,
                        },
                    }
                }
            };
            lanes.push_back(lane);
        }
        let queue = Mutex::new(lanes);
        std::thread::scope(|s| {
            for _ in 0..opts.threads.max(1) {
                s.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(lane) = next else { break };
                    run_session(&shared, &lane);
                });
            }
        });
        let stats = shared.tools.stats();
        let c = shared.counts.into_inner().unwrap_or_else(|p| p.into_inner());
        total.absorb(c);
        total.sessions_watched += watched;
        if let Some(w) = &watcher {
            total.syncs += w.handler().stats().syncs;
            total.sync_flushes += w.handler().stats().sync_flushes;
        }
        total.invalidations += stats.invalidation_calls;
        total.entries_invalidated += stats.entries_invalidated;
        let _ = lat.add(&*shared.lat.lock().unwrap_or_else(|p| p.into_inner()));
    }
    total.stale_examples.truncate(5);
    total.seconds = start.elapsed().as_secs_f64();
    total.calls_per_sec = if total.seconds > 0.0 {
        total.calls as f64 / total.seconds
    } else {
        0.0
    };
    if !lat.is_empty() {
        total.latency_ns = [lat.value_at_quantile(0.5), lat.value_at_quantile(0.99), lat.max()];
    }
    total
}

/// One session's calls and the workspace they run in.
struct Lane<'t, 'c> {
    ws: Workspace<'c, Out>,
    truth: Workspace<'c, Out>,
    /// The simulated file system of the workspace (shared by its sessions):
    /// every change the fixed model sees.
    sim: Arc<SimFs>,
    /// The changes that the replayed policy sees too.
    agreed: Arc<SimFs>,
    calls: Vec<&'t TraceCall>,
}

/// A replayed output: the text, and whether the executor cut it (the
/// recorded traces wrap cut outputs in `<warning>` / `<elided_chars>`, and
/// OpenHands in `<response clipped>`): a cut output teaches no view.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Out {
    text: Arc<str>,
    complete: bool,
}

impl Out {
    fn new(text: &str) -> Out {
        const CUT: [&str; 4] = ["<elided_chars>", "<output_head>", "<warning>", "<response clipped>"];
        Out {
            complete: !CUT.iter().any(|m| text.contains(m)),
            text: text.into(),
        }
    }
}

impl depcache::tool::ToolOutput for Out {
    fn bytes(&self) -> Option<&[u8]> {
        Some(self.text.as_bytes())
    }

    fn shared_bytes(&self) -> Option<Arc<[u8]>> {
        Some(Arc::from(self.text.clone()))
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        std::str::from_utf8(bytes).ok().map(Out::new)
    }

    fn is_complete(&self) -> bool {
        self.complete
    }
}

/// What a call does to the simulated file systems.
enum Effect {
    Write(u64, Vec<DepPath>),
    Opaque(u64),
}

impl Effect {
    fn begin(sim: &SimFs, d: &Decision) -> Option<Effect> {
        match d {
            Decision::Write { paths } => Some(Effect::Write(sim.begin_write(paths), paths.clone())),
            Decision::Opaque => Some(Effect::Opaque(sim.begin_opaque())),
            _ => None,
        }
    }

    fn end(self, sim: &SimFs) {
        match self {
            Effect::Write(v, paths) => sim.end_write(&paths, v),
            Effect::Opaque(e) => sim.end_opaque(e),
        }
    }
}

/// True if the replayed policy's decision `ours` invalidates at least what the
/// fixed model's `model` changes.
fn covers(ours: &Decision, model: &Decision) -> bool {
    match (ours, model) {
        (_, Decision::Read { .. } | Decision::Uncached { .. }) => true,
        (Decision::Opaque, _) => true,
        (Decision::Write { paths: ours }, Decision::Write { paths: theirs }) => {
            theirs.iter().all(|t| ours.iter().any(|o| o.contains(t)))
        }
        _ => false,
    }
}

/// The executor of a session's real calls, and its watcher (sync mode, a
/// directory of its own); `None` if the session has no directory (counted).
fn open_real(sh: &Shared<'_>, lane: &Lane<'_, '_>, local: &mut Report) -> Option<RealSession> {
    let session = lane.calls.first().map_or("", |c| c.session.as_str());
    let exec = match sh.opts.real.as_ref()? {
        Real::Shared(exec) => {
            return Some(RealSession {
                exec: exec.clone(),
                watcher: None,
                gate: true,
            })
        }
        Real::PerSession(sessions) => match sessions.open(session) {
            Ok(Some(exec)) => exec,
            Ok(None) => {
                local.sessions_missing += 1;
                return None;
            }
            Err(e) => {
                eprintln!("session {session}: {e}");
                local.sessions_missing += 1;
                return None;
            }
        },
    };
    let watcher = match (sh.opts.mode, exec.watch_root()) {
        (Mode::DepcacheSync, Some(dir)) => lane.ws.watch_dir(dir, depcache::watch::WatchConfig::default()).ok(),
        _ => None,
    };
    local.sessions_watched += u64::from(watcher.is_some());
    Some(RealSession {
        exec,
        watcher,
        gate: false,
    })
}

/// A session's real execution.
struct RealSession {
    exec: Arc<dyn Executor>,
    /// Dropped before the executor (whose directory it watches).
    watcher: Option<depcache::watch::Watcher>,
    /// The directory is shared with other sessions: take the gate.
    gate: bool,
}

impl RealSession {
    /// Counts its watcher's syncs into `report`.
    fn count_syncs(&self, report: &mut Report) {
        if let Some(w) = &self.watcher {
            let stats = w.handler().stats();
            report.syncs += stats.syncs;
            report.sync_flushes += stats.sync_flushes;
        }
    }
}

impl Drop for RealSession {
    fn drop(&mut self) {
        // Stop watching before the executor may delete the directory.
        self.watcher.take();
    }
}

/// A real call's result as the cache keeps it: a non-zero exit is an answer
/// (marked, and teaching no view); only a call that could not run is not.
fn answer(r: Result<String, RunError>) -> Result<Out, RunError> {
    match r {
        Ok(o) => Ok(Out::new(&o)),
        Err(RunError::Exit { code, stdout }) => Ok(Out {
            text: format!("<exit {code}>\n{stdout}").into(),
            complete: false,
        }),
        Err(e) => Err(e),
    }
}

/// How a hit compares with a fresh run of its call: run again when they
/// differ, to tell a stale serve from output that varies by itself. Also
/// returns how long the first fresh run took (the tool time the hit saved).
fn verify(exec: &dyn Executor, call: &ToolCall, served: &str) -> (Verdict, Duration) {
    let started = Instant::now();
    let fresh = answer(exec.run(call)).map(|o| o.text);
    let took = started.elapsed();
    if fresh.as_deref() == Ok(served) {
        return (Verdict::Fresh, took);
    }
    if matches!(fresh, Err(RunError::TimedOut)) {
        return (Verdict::Varies, took);
    }
    let again = answer(exec.run(call)).map(|o| o.text);
    if again == fresh {
        if std::env::var_os("DEPCACHE_DEBUG_STALE").is_some() {
            eprintln!("stale {}\n--- served\n{served}\n--- fresh\n{fresh:?}", call.name);
        }
        (Verdict::Stale, took)
    } else {
        (Verdict::Varies, took)
    }
}

fn run_session(sh: &Shared<'_>, lane: &Lane<'_, '_>) {
    let mut local = Report::default();
    let calls = &lane.calls;
    let (done, progress) = (sh.done, sh.progress);
    // Before anything is classified: a project command is a read only while watched.
    let real = open_real(sh, lane, &mut local);
    if sh.opts.real.is_some() && real.is_none() {
        // Relaxed: a progress counter; nothing is read through it.
        done.fetch_add(calls.len(), Ordering::Relaxed);
        sh.counts.lock().unwrap_or_else(|p| p.into_inner()).absorb(local);
        return;
    }
    let mut lat = Vec::with_capacity(calls.len());
    // The last recorded output of each cacheable call, and how many changes
    // the fixed model had seen then, for the ceiling and the reachable repeats.
    let mut seen: HashMap<ToolKey, (Arc<str>, usize)> = HashMap::new();
    // What the fixed model says each write or opaque call of the session changed.
    let mut changes: Vec<Option<Vec<DepPath>>> = Vec::new();
    for (step, tc) in calls.iter().enumerate() {
        let call = tc.to_call().by(tc.session.clone(), step as u64);
        // The fixed model's classification: the built-in policy, trusting no
        // declaration of the replayed one.
        let truth_decision = lane.truth.classify(&call);
        let decision = lane.ws.classify(&call);
        // The truth this call is checked against: its recorded output, or what a
        // lookup starting now must at least reflect of the simulated changes.
        let floor = match (&tc.output, &truth_decision) {
            (None, Decision::Read { deps, .. }) => Some((lane.sim.floor(deps), lane.agreed.floor(deps))),
            _ => None,
        };
        let effects = match &tc.output {
            None => Some((
                Effect::begin(&lane.sim, &truth_decision),
                covers(&decision, &truth_decision)
                    .then(|| Effect::begin(&lane.agreed, &truth_decision))
                    .flatten(),
            )),
            Some(_) => None,
        };
        let _gate = real.as_ref().filter(|r| r.gate).map(|_| match truth_decision {
            Decision::Read { .. } | Decision::Uncached { .. } => {
                Gate::Shared(sh.gate.read().unwrap_or_else(|p| p.into_inner()))
            }
            _ => Gate::Alone(sh.gate.write().unwrap_or_else(|p| p.into_inner())),
        });
        let ran = std::cell::Cell::new(false);
        // Why the real call has no output, if it has none.
        let failure: std::cell::Cell<Option<RunError>> = std::cell::Cell::new(None);
        // Time spent in the (simulated or real) tool, subtracted from the cache's latency.
        let in_tool = std::cell::Cell::new(Duration::ZERO);
        let run = |_: &ToolCall| {
            ran.set(true);
            let started = Instant::now();
            let _timer = Defer(|| in_tool.set(in_tool.get() + started.elapsed()));
            if let Some(r) = &real {
                return answer(r.exec.run(&tc.to_call())).map_err(|e| failure.set(Some(e)));
            }
            if !tc.ok {
                return Err(());
            }
            Ok::<Out, ()>(match (&tc.output, &truth_decision) {
                (Some(o), _) => Out::new(o),
                (None, Decision::Read { key, deps }) => Out {
                    text: format!("{}\u{3}{}", lane.sim.render(key, deps), lane.agreed.render(key, deps)).into(),
                    complete: false,
                },
                (None, _) => Out::new(""),
            })
        };
        let t0 = Instant::now();
        let mut lookup = false;
        let mut viewed = false;
        if let (Decision::Read { key, deps }, Some(o), true) = (&decision, &tc.output, tc.ok) {
            if let Some((prev, at)) = seen.insert(key.clone(), (o.as_str().into(), changes.len())) {
                if *prev == **o {
                    local.ceiling += 1;
                    // Reachable without a watcher: nothing since then that the
                    // fixed model says may have changed what it read.
                    let untouched = changes[at..].iter().all(|c| match c {
                        None => false,
                        Some(paths) => !paths.iter().any(|p| deps.iter().any(|d| reaches(p, d))),
                    });
                    local.reachable += u64::from(untouched);
                }
            }
        }
        match &truth_decision {
            Decision::Write { paths } => changes.push(Some(paths.clone())),
            Decision::Opaque => changes.push(None),
            _ => {}
        }
        let result: Result<Out, ()> = match sh.opts.mode {
            Mode::NoCache => {
                lookup = matches!(decision, Decision::Read { .. });
                run(&call)
            }
            Mode::Depcache | Mode::DepcacheSync | Mode::DepcacheFlush => {
                lookup = matches!(decision, Decision::Read { .. });
                lane.ws.serve_decided(&call, decision, run).map(|s| {
                    viewed = matches!(s.source, Source::View(_));
                    s.value
                })
            }
            Mode::FlushOnWrite => match decision {
                Decision::Write { .. } | Decision::Opaque => {
                    lane.ws.flush();
                    let r = run(&call);
                    lane.ws.flush();
                    r
                }
                d => {
                    lookup = matches!(d, Decision::Read { .. });
                    lane.ws.execute_decided(&call, d, run)
                }
            },
            Mode::ShellOpaque => {
                if is_shell_tool(&sh.opts.policy, &tc.tool) {
                    lane.ws.flush();
                    let r = run(&call);
                    lane.ws.flush();
                    r
                } else {
                    lookup = matches!(decision, Decision::Read { .. });
                    lane.ws.execute_decided(&call, decision, run)
                }
            }
            Mode::ShellNeverWrites => {
                if is_shell_tool(&sh.opts.policy, &tc.tool) {
                    match lane.ws.canonical_key(&call) {
                        Ok(key) => {
                            lookup = true;
                            let dep = Dep::exact(WsPath::top(lane.ws.id()));
                            sh.tools
                                .cache()
                                .try_get_or_insert_with(key, [dep], || run(&call).map(Stored::new))
                                .map(|s| s.value().cloned().unwrap_or_else(|| Out::new("")))
                        }
                        Err(_) => run(&call),
                    }
                } else {
                    lookup = matches!(decision, Decision::Read { .. });
                    lane.ws.execute_decided(&call, decision, run)
                }
            }
        };
        lat.push(t0.elapsed().saturating_sub(in_tool.get()));
        match failure.take() {
            Some(RunError::Skipped(_)) => local.skipped_network += 1,
            Some(RunError::TimedOut) => local.timeouts += 1,
            _ => {}
        }
        if ran.get() {
            local.tool_seconds += match (&real, tc.duration) {
                (Some(_), _) => in_tool.get().as_secs_f64(),
                (None, Some(d)) => d.as_secs_f64(),
                (None, None) => 0.0,
            };
        }
        if let Some((all, agreed)) = effects {
            if let Some(e) = all {
                e.end(&lane.sim);
            }
            if let Some(e) = agreed {
                e.end(&lane.agreed);
            }
        }
        local.calls += 1;
        if std::env::var_os("DEPCACHE_DEBUG_CALLS").is_some() {
            debug_call(sh.opts.mode, tc, step, &lane.ws.classify(&call), lookup, ran.get());
        }
        if lookup {
            local.lookups += 1;
            if !ran.get() {
                local.hits += 1;
                local.views += u64::from(viewed);
                let verdict = match (&result, &tc.output, &floor) {
                    (Ok(v), _, _) if real.is_some() => {
                        let exec = &*real.as_ref().map(|r| r.exec.clone()).expect("checked just before");
                        let (verdict, took) = verify(exec, &tc.to_call(), &v.text);
                        local.saved_seconds += took.as_secs_f64();
                        verdict
                    }
                    (Ok(v), Some(o), _) => {
                        local.checked_recorded += 1;
                        if *v.text != **o && std::env::var_os("DEPCACHE_DEBUG_STALE").is_some() {
                            eprintln!(
                                "stale {}:{} {} (view: {viewed})\n--- served\n{}\n--- recorded\n{o}",
                                tc.session, tc.line, tc.tool, v.text
                            );
                        }
                        Verdict::of(*v.text != **o)
                    }
                    (Ok(v), None, Some((all, agreed))) => {
                        let (model, ours) = v.text.split_once('\u{3}').unwrap_or((&v.text, ""));
                        if SimFs::is_stale(ours, agreed) {
                            Verdict::Stale
                        } else if SimFs::is_stale(model, all) {
                            Verdict::ReliesOnPolicy
                        } else {
                            Verdict::Fresh
                        }
                    }
                    // A hit of a call the fixed model does not cache (a naive
                    // mode's shell "read"): it must not be stale either, but
                    // without outputs there is nothing to compare.
                    _ => Verdict::Fresh,
                };
                if real.is_none() {
                    local.saved_seconds += tc.duration.map_or(0.0, |d| d.as_secs_f64());
                }
                match verdict {
                    Verdict::Fresh => {}
                    Verdict::Varies => local.varying += 1,
                    Verdict::ReliesOnPolicy => local.policy_reliant_hits += 1,
                    Verdict::Stale => {
                        local.stale_serves += 1;
                        if local.stale_examples.len() < 5 {
                            local
                                .stale_examples
                                .push((tc.session.clone(), tc.line, tc.tool.clone()));
                        }
                    }
                }
            }
        }
        // Relaxed: a progress counter; nothing is read through it.
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(256) {
            progress(n);
        }
    }
    {
        let mut h = sh.lat.lock().unwrap_or_else(|p| p.into_inner());
        for d in lat {
            h.saturating_record(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1));
        }
    }
    if let Some(r) = &real {
        r.count_syncs(&mut local);
    }
    let mut c = sh.counts.lock().unwrap_or_else(|p| p.into_inner());
    c.absorb(local);
}

/// `DEPCACHE_DEBUG_CALLS=1`: one line per call on stderr (mode, session,
/// step, decision, hit or miss, the command), to see where hits are lost.
fn debug_call(mode: Mode, tc: &TraceCall, step: usize, decision: &Decision, lookup: bool, ran: bool) {
    let kind = match decision {
        Decision::Read { .. } => "read",
        Decision::Write { .. } => "write",
        Decision::Opaque => "opaque",
        Decision::Uncached { .. } => "uncached",
    };
    let outcome = match (lookup, ran) {
        (false, _) => "-",
        (true, true) => "miss",
        (true, false) => "HIT",
    };
    let command: String = tc
        .args
        .get("command")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    eprintln!(
        "call {:?} {} {step} {kind} {outcome} {command:?}",
        mode.name(),
        tc.session
    );
}

/// How a hit compares with the truth.
enum Verdict {
    Fresh,
    /// Stale by the fixed model, but only through calls the replayed policy
    /// declares harmless (a command it calls read-only, say).
    ReliesOnPolicy,
    Stale,
    /// Real execution: differs from a fresh run, but the call's output varies by itself.
    Varies,
}

impl Verdict {
    fn of(differs: bool) -> Verdict {
        if differs {
            Verdict::Stale
        } else {
            Verdict::Fresh
        }
    }
}

/// Runs a closure when dropped.
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// A hold on the real-mode gate (held only for its drop).
#[allow(dead_code)]
enum Gate<'a> {
    Shared(std::sync::RwLockReadGuard<'a, ()>),
    Alone(std::sync::RwLockWriteGuard<'a, ()>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Answers with `outputs` in turn, then repeats the last.
    struct Scripted {
        outputs: Vec<Result<String, RunError>>,
        next: AtomicU64,
    }

    impl Executor for Scripted {
        fn run(&self, _: &ToolCall) -> Result<String, RunError> {
            // Relaxed: one thread.
            let i = self.next.fetch_add(1, Ordering::Relaxed) as usize;
            self.outputs[i.min(self.outputs.len() - 1)].clone()
        }
    }

    fn verdict(served: &str, outputs: Vec<Result<String, RunError>>) -> Verdict {
        let exec = Scripted {
            outputs,
            next: AtomicU64::new(0),
        };
        verify(&exec, &ToolCall::new("bash", serde_json::json!({})), served).0
    }

    #[test]
    fn a_hit_is_stale_only_if_two_fresh_runs_agree_against_it() {
        assert!(matches!(verdict("a", vec![Ok("a".into())]), Verdict::Fresh));
        assert!(matches!(verdict("a", vec![Ok("b".into())]), Verdict::Stale));
        assert!(matches!(
            verdict("a", vec![Ok("b".into()), Ok("c".into())]),
            Verdict::Varies
        ));
        assert!(matches!(verdict("a", vec![Err(RunError::TimedOut)]), Verdict::Varies));
        let gone = RunError::Failed("no such file".into());
        assert!(
            matches!(verdict("a", vec![Err(gone)]), Verdict::Stale),
            "the file is gone"
        );
        let exit = |code| {
            Err(RunError::Exit {
                code,
                stdout: String::new(),
            })
        };
        assert!(matches!(verdict("<exit 1>\n", vec![exit(1)]), Verdict::Fresh));
        assert!(matches!(verdict("<exit 1>\n", vec![exit(2)]), Verdict::Stale));
    }
}
