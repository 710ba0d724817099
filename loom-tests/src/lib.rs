//! Shared helpers for depcache's loom models (the models are in `tests/`).
//!
//! Build and run only with `RUSTFLAGS="--cfg depcache_loom"`: that cfg swaps every
//! atomic, `Arc`, lock and map of depcache for loom's (see `run.sh`).

use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use std::sync::Arc as StdArc;
use std::time::{Duration, Instant};

use depcache::Cache;

pub mod models;

#[cfg(not(depcache_loom))]
compile_error!("depcache-loom-tests must be built with RUSTFLAGS=\"--cfg depcache_loom\" (see run.sh)");

/// What one model run explored.
#[derive(Debug, Clone, Copy)]
pub struct Explored {
    /// Executions (interleavings) loom ran.
    pub executions: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// Loom's builder, as configured by the environment (`LOOM_MAX_PREEMPTIONS`,
/// `LOOM_MAX_BRANCHES`, `LOOM_LOG`, `LOOM_LOCATION`, `LOOM_CHECKPOINT_FILE`, ...),
/// with a larger default branch budget: one cache operation is dozens of loom
/// steps (every atomic, lock and `Arc` clone), more than loom's default 1,000
/// allows for a whole model.
pub fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        b.max_branches = 100_000;
    }
    b
}

/// Runs `f` under every interleaving `b` allows; prints how many it explored.
///
/// Like `loom::model`, it installs a `tracing` subscriber so that `LOOM_LOG=trace`
/// prints the failing interleaving (with `LOOM_LOCATION=1`, with source lines).
pub fn check_with<F>(name: &str, b: &loom::model::Builder, f: F) -> Explored
where
    F: Fn() + Sync + Send + 'static,
{
    let subscriber = tracing_subscriber::fmt::Subscriber::builder()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
        .with_test_writer()
        .without_time()
        .finish();
    let count = StdArc::new(AtomicUsize::new(0));
    let c = count.clone();
    let start = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        b.check(move || {
            c.fetch_add(1, StdOrdering::Relaxed);
            f();
        })
    });
    let explored = Explored {
        executions: count.load(StdOrdering::Relaxed),
        elapsed: start.elapsed(),
    };
    eprintln!(
        "loom model {name}: {} executions in {:.2?} (preemption bound {:?})",
        explored.executions, explored.elapsed, b.preemption_bound
    );
    explored
}

/// [`check_with`] with [`builder`].
pub fn check<F>(name: &str, f: F) -> Explored
where
    F: Fn() + Sync + Send + 'static,
{
    check_with(name, &builder(), f)
}

/// The end-of-model checks every model makes once its threads are joined:
///
/// - `check_invariants` (every resident entry is LIVE, in its slot, registered on
///   each dependency's node; no dangling registration or slot; pins exact; no
///   flight left; `len` and the bounds);
/// - every resident entry is visible: the models only use eager invalidation,
///   whose removals "show at once" in `len`, so an entry that `len` counts but
///   `get` refuses is a stale entry some invalidation should have removed.
///   (`keys` must list every key the model inserts.)
pub fn assert_quiescent<K, V, D>(cache: &Cache<K, V, D>, keys: &[K])
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + std::fmt::Debug + 'static,
    V: Clone + Send + Sync + 'static,
    D: depcache::Dependency,
{
    if let Err(e) = cache.check_invariants() {
        panic!("invariant broken at quiescence: {e}");
    }
    let resident = cache.len();
    let visible = keys.iter().filter(|k| cache.contains_key(*k)).count();
    assert_eq!(
        resident, visible,
        "{resident} entries resident but {visible} visible: a stale entry survived its invalidation"
    );
}

/// Runs a model that must fail and returns loom's panic message: the failing
/// interleaving was found. Panics if every interleaving passed.
pub fn expect_failure<F>(name: &str, f: F) -> String
where
    F: Fn() + Sync + Send + 'static,
{
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(name, f)));
    match outcome {
        Ok(explored) => panic!(
            "loom explored {} executions of {name} and found no failure",
            explored.executions
        ),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic)".into());
            eprintln!(
                "loom model {name}: failed as expected: {}",
                msg.lines().next().unwrap_or("")
            );
            msg
        }
    }
}
