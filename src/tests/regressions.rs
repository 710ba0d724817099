//! Regressions: deterministic reproductions of two races the stress runs
//! (`tests/stress.rs`) found: a refused stale insert destroyed the valid entry
//! it displaced, and invalidation counts were lost when lookups, the TTL or
//! another invalidation raced the counting. A key whose `Hash` pauses the
//! thread opens the window, or, inside an invalidation, the test hook
//! [`after_bumps`](crate::hooks::after_bumps).

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use crate::{Cache, DepPath, ManualClock};

thread_local! {
    /// Armed on one thread: its next key hash says "paused" and waits for "resume".
    static GATE: RefCell<Option<(Sender<()>, Receiver<()>)>> = const { RefCell::new(None) };
}

/// A key whose `Hash` can pause the calling thread. `insert_with_ticket`
/// hashes none before `entries.insert`, after registering the entry and
/// before publishing it. (`invalidate` hashes the keys it found before its
/// generation bumps: its window after them is opened by
/// `crate::hooks::after_bumps` instead.)
#[derive(Clone, Debug, PartialEq, Eq)]
struct K(u32);

impl Hash for K {
    fn hash<H: Hasher>(&self, h: &mut H) {
        if let Some((paused, resume)) = GATE.with(|g| g.borrow_mut().take()) {
            paused.send(()).unwrap();
            resume.recv().unwrap();
        }
        self.0.hash(h);
    }
}

/// Where `paused` stops its operation.
#[derive(Clone, Copy)]
enum At {
    /// The thread's first key hash.
    KeyHash,
    /// An eager invalidation's generation bumps, before it removes anything.
    AfterBumps,
}

/// Runs `op` on a thread that pauses at `at`; runs `meanwhile` during the
/// pause; resumes it and returns what `op` returned.
fn paused<T: Send>(at: At, op: impl FnOnce() -> T + Send, meanwhile: impl FnOnce()) -> T {
    let (paused_tx, paused_rx) = channel();
    let (resume_tx, resume_rx) = channel();
    std::thread::scope(|s| {
        let x = s.spawn(move || {
            match at {
                At::KeyHash => GATE.with(|g| *g.borrow_mut() = Some((paused_tx, resume_rx))),
                At::AfterBumps => crate::hooks::after_bumps(move || {
                    paused_tx.send(()).unwrap();
                    resume_rx.recv().unwrap();
                }),
            }
            op()
        });
        paused_rx.recv().unwrap();
        meanwhile();
        resume_tx.send(()).unwrap();
        x.join().unwrap()
    })
}

fn two_entries_on_a(c: &Cache<K, u32, DepPath>) {
    c.insert(K(1), 1, [DepPath::new("a")]);
    c.insert(K(2), 2, [DepPath::new("a")]);
}

/// BUG 1a. Two invalidations of "a" race; both entries were visible before
/// either. Whichever is linearized first must return 2, the other 0. Observed:
/// 1 and 0 — the second entry is counted by neither (each sees the other's
/// bump and takes the entry for one made invisible lazily before it).
#[test]
fn bug_racing_invalidations_lose_a_count() {
    let c: Cache<K, u32, DepPath> = Cache::new(16);
    two_entries_on_a(&c);
    let mut y = usize::MAX;
    let x = paused(
        At::AfterBumps,
        || c.invalidate(DepPath::new("a")),
        || y = c.invalidate(DepPath::new("a")),
    );
    assert_eq!(c.len(), 0);
    assert_eq!(x + y, 2, "first invalidate returned {x}, second {y}");
}

/// BUG 1b. A `get` between the bumps and the removal loop reclaims an entry
/// the invalidation made invisible; the invalidation then does not count it.
/// Either order of the two calls gives 2; observed 1.
#[test]
fn bug_get_steals_a_count() {
    let c: Cache<K, u32, DepPath> = Cache::new(16);
    two_entries_on_a(&c);
    let x = paused(
        At::AfterBumps,
        || c.invalidate(DepPath::new("a")),
        || {
            assert_eq!(c.get(&K(1)), None);
            assert_eq!(c.get(&K(2)), None);
        },
    );
    assert_eq!(c.len(), 0);
    assert_eq!(x, 2, "invalidate returned {x}; both entries were visible before it");
}

/// BUG 1c. Same window: the TTL is checked when the loop reaches the entry,
/// not at the bumps, so an entry visible at the bumps is not counted.
#[test]
fn bug_expiry_after_the_bumps_loses_a_count() {
    let clock = ManualClock::new();
    let c: Cache<K, u32, DepPath> = Cache::builder()
        .max_entries(16)
        .ttl(Duration::from_secs(10))
        .clock(&clock)
        .build()
        .unwrap();
    two_entries_on_a(&c);
    let x = paused(
        At::AfterBumps,
        || c.invalidate(DepPath::new("a")),
        || clock.advance(Duration::from_secs(20)),
    );
    assert_eq!(x, 2, "invalidate returned {x}; both entries were visible at its bumps");
}

/// BUG 2. `insert_with_ticket(k, 2)` on deps "b" pauses just before
/// publishing while `invalidate("b")` runs. Sequentially either the insert is
/// first (Ok; the invalidation removes 2 and returns 1) or the invalidation
/// is (it returns 0; the insert is refused as stale and `k` keeps its valid
/// value 1). Observed: Err(Stale), 0, and `k` has lost value 1 — the refused
/// insert replaced it in the map (`entries.insert` kills the old entry) before
/// its re-check failed.
#[test]
fn bug_refused_stale_insert_destroys_the_valid_entry() {
    let c: Cache<K, u32, DepPath> = Cache::new(16);
    c.insert(K(1), 1, [DepPath::new("a")]);
    let t = c.ticket([DepPath::new("b")]);
    let mut n = usize::MAX;
    let r = paused(
        At::KeyHash,
        || c.insert_with_ticket(K(1), 2, t),
        || n = c.invalidate(DepPath::new("b")),
    );
    let after = c.get(&K(1));
    let insert_first = r.is_ok() && n == 1 && after.is_none();
    let invalidate_first = r.is_err() && n == 0 && after == Some(1);
    assert!(
        insert_first || invalidate_first,
        "no linearization explains insert_with_ticket -> {r:?}, invalidate -> {n}, get -> {after:?}"
    );
}
