//! The invariant checker, for tests and fuzzing: call it at quiescence (no
//! operation in flight, no ticket outstanding).

use core::hash::{BuildHasher, Hash};

use super::Cache;
use crate::index::LIVE;
use crate::sync::Arc;
use crate::Dependency;

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + core::fmt::Debug + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Checks the cache's structural invariants; `Err` says which one broke.
    /// Compiled for this crate's tests, fuzzing, loom, and builds with
    /// `--cfg depcache_checks` (not a feature: a dependent cannot turn it on).
    ///
    /// - every resident entry is LIVE, sits in its CLOCK slot, and is registered
    ///   on the node of each of its dependencies, which is in the index;
    /// - every registration and every slot holds a resident entry (no dangling key);
    /// - every node is pinned exactly by its entries and children (no tickets at
    ///   quiescence), so none is empty, and is its parent's child;
    /// - `len` and the weight match the resident entries and respect the bounds.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let sh = &*self.shared;
        let guard = sh.guard();
        let mut resident = Vec::new();
        sh.entries
            .for_each(&guard, |e| resident.push((e.key.clone(), e.to_arc())));
        let mut weight = 0u64;
        let mut pins: std::collections::HashMap<usize, usize> = Default::default();
        for (k, e) in &resident {
            if &e.key != k {
                return Err(format!("entry under key {k:?} has key {:?}", e.key));
            }
            if e.state() != LIVE {
                return Err(format!("resident entry {k:?} is in state {}", e.state()));
            }
            match sh.ring.load(e.slot(), &guard) {
                Some(s) if Arc::ptr_eq(&s, e) => {}
                _ => return Err(format!("entry {k:?} is not in its slot {}", e.slot())),
            }
            weight += sh.weight_of(e);
            for s in e.stamps.iter() {
                let registered = s
                    .node
                    .dependents()
                    .get(&e.id(), &guard, |r| r.is(e) && r.subtree() == s.subtree());
                if registered != Some(true) {
                    return Err(format!(
                        "entry {k:?} is missing from the reverse index of {:?}",
                        s.node.dep
                    ));
                }
                match sh.index.get(&s.node.dep, &guard) {
                    Some(n) if Arc::ptr_eq(&n, &s.node) => {}
                    _ => {
                        return Err(format!(
                            "entry {k:?} depends on {:?}, whose node left the index",
                            s.node.dep
                        ))
                    }
                }
                *pins.entry(Arc::as_ptr(&s.node) as usize).or_default() += 1;
            }
        }
        let is_resident =
            |e: &Arc<crate::index::Entry<K, V, D>>| sh.entries.get(&e.key, &guard).is_some_and(|x| x.is(e));
        for i in 0..sh.ring.capacity() {
            if let Some(e) = sh.ring.load(i, &guard) {
                if !is_resident(&e) {
                    return Err(format!(
                        "slot {i} holds entry {:?} (state {}), which is not resident",
                        e.key,
                        e.state()
                    ));
                }
            }
        }
        let mut nodes = Vec::new();
        sh.index
            .nodes
            .for_each(&guard, |n| nodes.push((n.dep.clone(), n.to_arc())));
        if sh.index.len() != nodes.len() {
            return Err(format!(
                "the index counts {} nodes but links {}",
                sh.index.len(),
                nodes.len()
            ));
        }
        for (_, n) in &nodes {
            if let Some(p) = &n.parent {
                *pins.entry(Arc::as_ptr(p) as usize).or_default() += 1;
            }
        }
        for (d, n) in &nodes {
            if n.is_retired() {
                return Err(format!("retired node {d:?} is still in the index"));
            }
            let mut bad = None;
            n.dependents().for_each(&guard, |r| {
                let e = r.entry();
                if !is_resident(&e) {
                    bad = Some(format!(
                        "node {d:?} lists {:?}, which is not resident (dangling key)",
                        e.key
                    ));
                }
            });
            if let Some(b) = bad {
                return Err(b);
            }
            let expect = pins.get(&(Arc::as_ptr(n) as usize)).copied().unwrap_or(0);
            if n.pins() != expect {
                return Err(format!(
                    "node {d:?} has {} pins, expected {expect} (entries + children)",
                    n.pins()
                ));
            }
            if expect == 0 {
                return Err(format!("node {d:?} has no dependents and no children"));
            }
            if let Some(p) = &n.parent {
                if p.children().get(d, &guard, |c| Arc::ptr_eq(c, n)) != Some(true) {
                    return Err(format!("node {d:?} is missing from its parent's children"));
                }
            }
        }
        let len = self.len();
        if len != resident.len() {
            return Err(format!("len() is {len}, but {} entries are resident", resident.len()));
        }
        if len > sh.ring.capacity() {
            return Err(format!("{len} entries exceed max_entries {}", sh.ring.capacity()));
        }
        sh.ring.check_free()?;
        let w = if sh.weighs() {
            // Relaxed: checked at quiescence.
            sh.weight.load(crate::sync::Ordering::Relaxed)
        } else {
            len as u64
        };
        if w != weight {
            return Err(format!("weight counter is {w}, resident entries weigh {weight}"));
        }
        if let Some(max) = sh.max_weight {
            if w > max {
                return Err(format!("weight {w} exceeds max_weight {max}"));
            }
        }
        if sh.flights.len() != 0 {
            return Err(format!("{} single-flight computations left behind", sh.flights.len()));
        }
        Ok(())
    }
}
