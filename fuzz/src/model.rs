//! The `ops` check: every operation runs on the cache and on the library's
//! reference model (`depcache::model`), and every observation is compared
//! after every step.
//!
//! The model is exact while nothing can be evicted. An insert may evict when
//! the slots are full or the weight budget is exceeded; which entry the CLOCK
//! hand takes is the cache's choice, so after such an insert the model drops
//! the visible keys the cache lost and checks that the `evictions` counter
//! explains them (`Model::reconcile`). Invisible entries the hand may have
//! reclaimed are counted through `len`; if some were, the model no longer
//! knows which, and this check resolves it with a `purge` (checked to reclaim
//! exactly the rest), so that every step ends with the model settled and
//! every observation exact.

use depcache::model::{Counts, Model, Outcome};
use depcache::{DepPath, InsertError, ManualClock, Ticket};

use crate::ops::{build, few, model_deps, DepSpec, Input, Op, TestCache, Val, DEP_PATHS, KEYS, TARGETS};

/// Operations per input (longer inputs are cut: every step is checked in full,
/// so long inputs are slow, and short ones reach the same states).
pub const MAX_OPS: usize = 192;

type OpsModel = Model<u8, Val>;

/// Panics with a disagreement the model reports at `step`.
fn or_fail<T>(step: usize) -> impl FnOnce(String) -> T {
    move |e| panic!("step {step}: {e}")
}

/// Runs an `ops` input; panics on the first disagreement.
pub fn check_ops(input: &Input) {
    let clock = ManualClock::new();
    let cache = build(&input.config, &clock);
    let mut model = OpsModel::new(input.config.limits());
    let mut tickets: [Option<Ticket<u8, Val, DepPath>>; 2] = [None, None];
    for (step, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        let id = step as u32;
        match op {
            Op::Insert { key, weight, deps } => {
                let k = key % KEYS;
                let v = (k, id, *weight);
                let w = input.config.weight_of(*weight);
                let room = model.may_evict(w);
                cache.insert(k, v, few(deps).iter().map(DepSpec::dep));
                let outcome = model.insert(k, v, model_deps(deps), w);
                model_insert(&mut model, &cache, outcome, room, step);
            }
            Op::Get { key } => {
                let k = key % KEYS;
                let got = cache.get(&k);
                let want = model.get(k, cache.len()).unwrap_or_else(or_fail(step));
                assert_eq!(got, want, "step {step}: get({k})");
            }
            Op::Contains { key } => {
                let k = key % KEYS;
                let want = model.value(k).is_some();
                assert_eq!(cache.contains_key(&k), want, "step {step}: contains_key({k})");
            }
            Op::Remove { key } => {
                let k = key % KEYS;
                let got = cache.remove(&k);
                let want = model.remove(k, cache.len()).unwrap_or_else(or_fail(step));
                assert_eq!(got, want, "step {step}: remove({k})");
            }
            Op::Invalidate { target } => {
                let t = target.path();
                let got = cache.invalidate(DepPath::new(t));
                let want = model.invalidate(&[t], cache.len()).unwrap_or_else(or_fail(step));
                assert_eq!(got, want, "step {step}: invalidate({t:?})");
            }
            Op::InvalidateMany { targets } => {
                let ts: Vec<&str> = few(targets).iter().map(|t| t.path()).collect();
                let ds: Vec<DepPath> = ts.iter().map(DepPath::new).collect();
                let got = cache.invalidate_many(&ds);
                let want = model.invalidate(&ts, cache.len()).unwrap_or_else(or_fail(step));
                assert_eq!(got, want, "step {step}: invalidate_many({ts:?})");
            }
            Op::MarkStale { target } => {
                let t = target.path();
                cache.mark_stale(DepPath::new(t));
                model.mark_stale(&[t]);
            }
            Op::MarkStaleMany { targets } => {
                let ts: Vec<&str> = few(targets).iter().map(|t| t.path()).collect();
                let ds: Vec<DepPath> = ts.iter().map(DepPath::new).collect();
                cache.mark_stale_many(&ds);
                model.mark_stale(&ts);
            }
            Op::InvalidateAll => {
                cache.invalidate_all();
                model.invalidate_all();
            }
            Op::Ticket { slot, deps } => {
                let s = usize::from(*slot);
                // Replacing a ticket drops the old one first.
                tickets[s] = None;
                tickets[s] = Some(cache.ticket(few(deps).iter().map(DepSpec::dep)));
                model.new_ticket(s, model_deps(deps));
                assert_eq!(
                    tickets[s].as_ref().map(Ticket::is_valid),
                    Some(true),
                    "step {step}: fresh ticket"
                );
            }
            Op::InsertWithTicket { slot, key, weight } => {
                let s = usize::from(*slot);
                let (Some(t), Some(valid)) = (tickets[s].take(), model.ticket_valid(s)) else {
                    continue;
                };
                assert_eq!(t.is_valid(), valid, "step {step}: ticket validity");
                let k = key % KEYS;
                let v = (k, id, *weight);
                let w = input.config.weight_of(*weight);
                let room = model.may_evict(w);
                let got = cache.insert_with_ticket(k, v, t);
                let outcome = model.insert_with_ticket(s, k, v, w);
                let want = match outcome {
                    Outcome::Published(_) => Ok(()),
                    Outcome::Stale => Err("stale"),
                    Outcome::TooHeavy => Err("too heavy"),
                };
                let got = match &got {
                    Ok(()) => Ok(()),
                    Err(InsertError::TooHeavy { value, .. }) if *value == v => Err("too heavy"),
                    Err(InsertError::Stale(value)) if *value == v => Err("stale"),
                    Err(_) => Err("other"),
                };
                assert_eq!(got, want, "step {step}: insert_with_ticket({k})");
                model_insert(&mut model, &cache, outcome, room, step);
            }
            Op::DropTicket { slot } => {
                let s = usize::from(*slot);
                tickets[s] = None;
                model.drop_ticket(s);
            }
            Op::Advance { ms16 } => {
                let d = u64::from(*ms16) * 16_000_000;
                clock.advance(std::time::Duration::from_nanos(d));
                model.advance(d);
            }
            Op::Purge => {
                assert_eq!(cache.purge(), model.purge(), "step {step}: purge");
            }
        }
        for (s, t) in tickets.iter().enumerate() {
            assert_eq!(
                t.as_ref().map(Ticket::is_valid),
                model.ticket_valid(s),
                "step {step}: ticket {s} validity"
            );
        }
        compare(&mut model, &cache, step, tickets.iter().all(Option::is_none));
    }
}

/// After the model's side of an insert (`outcome`), what the CLOCK hand did:
/// nothing if it could not run (`may_evict` false), else reconciled, and the
/// invisible entries it may have left are purged.
fn model_insert(model: &mut OpsModel, cache: &TestCache, outcome: Outcome<u8>, may_evict: bool, step: usize) {
    let Outcome::Published(published) = outcome else {
        return;
    };
    let observed = Counts::of(&cache.stats());
    if !may_evict {
        assert_eq!(
            observed.evictions,
            model.counts().evictions,
            "step {step}: eviction with free slots and weight to spare"
        );
        assert!(
            model.expirations().contains(&observed.expirations),
            "step {step}: the hand ran with free slots"
        );
        return;
    }
    let reclaimed = model
        .reconcile(&published, &observed, cache.len(), |k| cache.contains_key(k))
        .unwrap_or_else(|e| panic!("step {step}: {e}"));
    if reclaimed > 0 {
        // Some were reclaimed, we do not know which: reclaim the rest. Which of
        // them had expired is as unknown, so `purge`'s expirations are a range
        // (checked by `compare`).
        let want = model.purge();
        assert_eq!(cache.purge(), want, "step {step}: purge after the hand reclaimed");
    }
}

/// Compares every observation that has no side effect.
fn compare(model: &mut OpsModel, cache: &TestCache, step: usize, quiescent: bool) {
    for k in 0..KEYS {
        assert_eq!(
            cache.contains_key(&k),
            model.value(k).is_some(),
            "step {step}: contains_key({k}) after the step"
        );
    }
    let s = cache.stats();
    if let Err(e) = model.check_counts(&Counts::of(&s)) {
        panic!("step {step}: statistics: {e}");
    }
    assert_eq!(cache.len(), model.len(), "step {step}: len");
    assert_eq!(s.live_entries, model.len() as u64, "step {step}: stats.live_entries");
    let (Some(weight), Some(nodes)) = (model.weight(), model.nodes()) else {
        panic!("step {step}: the model does not know which entries are resident");
    };
    assert_eq!(s.weight, weight, "step {step}: stats.weight");
    assert_eq!(
        s.index_nodes,
        nodes.len() as u64,
        "step {step}: index nodes, want {nodes:?}"
    );
    for p in TARGETS.iter().chain(DEP_PATHS.iter()) {
        assert_eq!(
            cache.tracks(&DepPath::new(p)),
            nodes.contains(p),
            "step {step}: tracks({p:?})"
        );
    }
    assert!(cache.len() <= cache.capacity(), "step {step}: len over capacity");
    if let Some(m) = model.limits().max_weight {
        assert!(s.weight <= m, "step {step}: weight {} over {m}", s.weight);
    }
    if quiescent {
        if let Err(e) = cache.check_invariants() {
            panic!("step {step}: check_invariants: {e}");
        }
    }
}
