//! Cache operations as fuzz input, over a small fixed tree of paths.

use arbitrary::Arbitrary;
use depcache::model::{Limits, PathDep};
use depcache::{Dep, DepPath, Scope};

/// Paths entries and tickets may depend on. Closed under `parent`: every
/// ancestor of one of them is one of them. Two roots: the workspace (`""`) and `/`.
pub const DEP_PATHS: [&str; 9] = ["", "a", "a/b", "a/b/c", "a/d", "e", "e/f", "/", "/t"];

/// Invalidation targets: the dependencies, plus paths no entry depends on (below a
/// leaf, beside everything, below nothing tracked, and a relative `..`).
pub const TARGETS: [&str; 14] = [
    "", "a", "a/b", "a/b/c", "a/d", "e", "e/f", "/", "/t", "a/b/x", "z", "/t/u", "e/f/g/h", "..",
];

/// Number of distinct keys operations use.
pub const KEYS: u8 = 6;

/// How many dependencies (or targets) one operation names at most.
pub const MAX_DEPS: usize = 4;

/// One dependency of an insert or a ticket.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct DepSpec {
    pub path: u8,
    pub subtree: bool,
}

impl DepSpec {
    pub fn path(&self) -> &'static str {
        DEP_PATHS[usize::from(self.path) % DEP_PATHS.len()]
    }

    pub fn scope(&self) -> Scope {
        if self.subtree {
            Scope::Subtree
        } else {
            Scope::Exact
        }
    }

    pub fn dep(&self) -> Dep<DepPath> {
        Dep {
            dep: DepPath::new(self.path()),
            scope: self.scope(),
        }
    }
}

/// The dependencies an operation names (the first `MAX_DEPS`), as the model
/// spells them.
pub fn model_deps(specs: &[DepSpec]) -> Vec<PathDep> {
    few(specs).iter().map(|d| (d.path(), d.scope())).collect()
}

/// An invalidation target.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Target(pub u8);

impl Target {
    pub fn path(&self) -> &'static str {
        TARGETS[usize::from(self.0) % TARGETS.len()]
    }
}

/// One cache operation.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    Insert {
        key: u8,
        weight: u8,
        deps: Vec<DepSpec>,
    },
    Get {
        key: u8,
    },
    Contains {
        key: u8,
    },
    Remove {
        key: u8,
    },
    Invalidate {
        target: Target,
    },
    InvalidateMany {
        targets: Vec<Target>,
    },
    MarkStale {
        target: Target,
    },
    MarkStaleMany {
        targets: Vec<Target>,
    },
    InvalidateAll,
    Ticket {
        slot: bool,
        deps: Vec<DepSpec>,
    },
    InsertWithTicket {
        slot: bool,
        key: u8,
        weight: u8,
    },
    DropTicket {
        slot: bool,
    },
    /// Moves the clock forward by this many milliseconds (times 16).
    Advance {
        ms16: u8,
    },
    Purge,
}

/// Settings of the cache under test.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Config {
    /// `max_entries` is `1 + capacity % 8`.
    pub capacity: u8,
    /// `max_weight` is `1 + w % 6`.
    pub max_weight: Option<u8>,
    /// Weigh entries by their value's weight (0..=3) instead of 1 each.
    pub weigher: bool,
    /// TTL of `1 + t % 4` seconds.
    pub ttl: Option<u8>,
    /// Reclaim retired objects in batches of one: a removed entry's memory
    /// goes back to the allocator as soon as the guards that might read it
    /// are gone, so that AddressSanitizer sees a read the reclamation
    /// protocol failed to cover (with the default batch, memory lingers
    /// for a hundred retirements and such a read goes unseen).
    pub reclaim_one: bool,
}

impl Config {
    pub fn capacity(&self) -> usize {
        1 + usize::from(self.capacity % 8)
    }
    pub fn max_weight(&self) -> Option<u64> {
        self.max_weight.map(|w| 1 + u64::from(w % 6))
    }
    pub fn ttl_nanos(&self) -> Option<u64> {
        self.ttl.map(|t| (1 + u64::from(t % 4)) * 1_000_000_000)
    }
    /// What the model needs of these settings (its clock counts nanoseconds).
    pub fn limits(&self) -> Limits {
        Limits {
            capacity: self.capacity(),
            max_weight: self.max_weight(),
            ttl: self.ttl_nanos(),
        }
    }
    /// The weight of a value of weight byte `w`.
    pub fn weight_of(&self, w: u8) -> u64 {
        if self.weigher {
            u64::from(w % 4)
        } else {
            1
        }
    }
}

/// A whole `ops` input.
#[derive(Arbitrary, Debug)]
pub struct Input {
    pub config: Config,
    pub ops: Vec<Op>,
}

/// The value stored: the key it was inserted under, a unique id, its weight byte.
pub type Val = (u8, u32, u8);

pub type TestCache = depcache::Cache<u8, Val, DepPath>;

/// Builds the cache of `config` on `clock`.
pub fn build(config: &Config, clock: &depcache::ManualClock) -> TestCache {
    let mut b = depcache::Cache::builder().max_entries(config.capacity()).clock(clock);
    if let Some(w) = config.max_weight() {
        b = b.max_weight(w);
    }
    if config.weigher {
        b = b.weigher(|_k: &u8, v: &Val| u64::from(v.2 % 4));
    }
    if let Some(t) = config.ttl_nanos() {
        b = b.ttl(std::time::Duration::from_nanos(t));
    }
    if config.reclaim_one {
        b = b.reclaim_batch(1);
    }
    b.build().expect("valid settings")
}

/// The first `MAX_DEPS` items.
pub fn few<T: Copy>(v: &[T]) -> &[T] {
    &v[..v.len().min(MAX_DEPS)]
}
