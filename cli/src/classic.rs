//! The classic block traces (`testdata/classic/`): reader, cache policies under
//! test and single-threaded replay, for the hit-ratio comparison.
//!
//! One source of truth for `depcache bench`, `examples/hit_ratio.rs` and
//! `tests/hit_ratio.rs` (all in this package).
//!
//! Each trace is replayed single-threaded: a `get`, and on a miss an insert of
//! the block. Dependencies play no part in the hit ratio, so depcache's entries
//! get an arbitrary one (`block % 64`). Sizes: OLTP at the cache sizes of the ARC
//! paper's table (Megiddo & Modha, FAST 2003), so its LRU column can be checked
//! against the published one; the LIRS traces at fractions of their footprint.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{self, BufRead, BufReader, Read};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A deterministic hasher, so that hash-dependent policies (moka's frequency
/// sketch, quick_cache's ghost set) give the same numbers on every run.
pub type FixedHash = BuildHasherDefault<DefaultHasher>;

/// The directory holding the classic traces: the repository's `testdata/classic`.
pub fn classic_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository")
        .join("testdata")
        .join("classic")
}

/// How a trace file spells its references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One block number per line (the LIRS traces). Lines that are empty or a
    /// lone `*` (a separator in some of these files) are skipped.
    Lirs,
    /// ARC `.lis`: `start count ignored request#` per line; the request touches
    /// blocks `start .. start+count`.
    Arc,
}

impl Format {
    /// `.lis` (optionally gzipped) is ARC; anything else one block per line.
    pub fn of(path: &Path) -> Format {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = name.strip_suffix(".gz").unwrap_or(name);
        if name.ends_with(".lis") {
            Format::Arc
        } else {
            Format::Lirs
        }
    }
}

/// Streams the block numbers of a trace, one reference at a time.
pub struct TraceReader<R> {
    input: R,
    format: Format,
    line: String,
    line_no: usize,
    /// Blocks of the current ARC request not yet handed out.
    pending: Range<u64>,
}

impl<R: BufRead> TraceReader<R> {
    /// Reads references spelled as `format` from `input`.
    pub fn new(input: R, format: Format) -> Self {
        TraceReader {
            input,
            format,
            line: String::new(),
            line_no: 0,
            pending: 0..0,
        }
    }

    fn bad(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line {}: {what}: {:?}", self.line_no, self.line.trim_end()),
        )
    }

    /// Reads lines until one yields references; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            self.line.clear();
            if self.input.read_line(&mut self.line)? == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            let text = self.line.trim();
            if text.is_empty() || text == "*" {
                continue;
            }
            match self.format {
                Format::Lirs => {
                    let block: u64 = text.parse().map_err(|_| self.bad("not a block number"))?;
                    self.pending = block..block + 1;
                }
                Format::Arc => {
                    let mut fields = text.split_whitespace();
                    let mut next = || fields.next().and_then(|f| f.parse::<u64>().ok());
                    let (Some(start), Some(count)) = (next(), next()) else {
                        return Err(self.bad("expected `start count ...`"));
                    };
                    let end = start.checked_add(count).ok_or_else(|| self.bad("range overflows"))?;
                    self.pending = start..end;
                }
            }
            if !self.pending.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = io::Result<u64>;

    fn next(&mut self) -> Option<io::Result<u64>> {
        if self.pending.is_empty() {
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        self.pending.next().map(Ok)
    }
}

/// Opens a trace file (gunzipping `.gz`), its format taken from its name.
pub fn open(path: &Path) -> io::Result<TraceReader<BufReader<Box<dyn Read>>>> {
    let file = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let raw: Box<dyn Read> = if path.extension().is_some_and(|x| x == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(TraceReader::new(BufReader::new(raw), Format::of(path)))
}

/// Every reference of a trace, or its first `limit`.
pub fn load(path: &Path, limit: Option<usize>) -> io::Result<Vec<u64>> {
    open(path)?.take(limit.unwrap_or(usize::MAX)).collect()
}

/// Distinct blocks referenced.
pub fn footprint(keys: &[u64]) -> usize {
    keys.iter().collect::<HashSet<_>>().len()
}

/// A cache under test, as the replay sees it.
pub trait Policy {
    /// The name the reports print.
    fn name(&self) -> &'static str;
    /// One reference: true on a hit; on a miss the block is inserted.
    fn access(&mut self, block: u64) -> bool;
}

/// depcache (CLOCK).
pub struct Depcache(depcache::Cache<u64, (), u64, FixedHash>);

impl Depcache {
    /// A cache of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        let cache = depcache::Cache::builder()
            .max_entries(capacity)
            .hasher(FixedHash::default())
            .build()
            .expect("valid capacity");
        Depcache(cache)
    }
}

impl Policy for Depcache {
    fn name(&self) -> &'static str {
        "depcache"
    }
    fn access(&mut self, block: u64) -> bool {
        if self.0.get(&block).is_some() {
            return true;
        }
        self.0.insert(block, (), [block % 64]);
        false
    }
}

/// Exact LRU (the `lru` crate).
pub struct Lru(lru::LruCache<u64, (), FixedHash>);

impl Lru {
    /// A cache of `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).expect("capacity > 0");
        Lru(lru::LruCache::with_hasher(cap, FixedHash::default()))
    }
}

impl Policy for Lru {
    fn name(&self) -> &'static str {
        "LRU"
    }
    fn access(&mut self, block: u64) -> bool {
        if self.0.get(&block).is_some() {
            return true;
        }
        self.0.put(block, ());
        false
    }
}

/// moka's `sync::Cache` (TinyLFU admission, LRU eviction). Its policy work is
/// buffered; running it after every insert keeps the cache at its capacity, as
/// a single-threaded simulation should (otherwise it briefly holds more).
pub struct Moka(moka::sync::Cache<u64, (), FixedHash>);

impl Moka {
    /// A cache of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Moka(
            moka::sync::Cache::builder()
                .max_capacity(capacity as u64)
                .build_with_hasher(FixedHash::default()),
        )
    }
}

impl Policy for Moka {
    fn name(&self) -> &'static str {
        "moka"
    }
    fn access(&mut self, block: u64) -> bool {
        if self.0.get(&block).is_some() {
            return true;
        }
        self.0.insert(block, ());
        self.0.run_pending_tasks();
        false
    }
}

/// quick_cache (CLOCK-Pro-like hot/cold/ghost), the unsharded `unsync::Cache`:
/// the `sync` one splits its capacity over shards by core count, which would
/// make the numbers depend on the machine.
pub struct QuickCache(quick_cache::unsync::Cache<u64, (), quick_cache::UnitWeighter, FixedHash>);

impl QuickCache {
    /// A cache of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        QuickCache(quick_cache::unsync::Cache::with(
            capacity,
            capacity as u64,
            quick_cache::UnitWeighter,
            FixedHash::default(),
            Default::default(),
        ))
    }
}

impl Policy for QuickCache {
    fn name(&self) -> &'static str {
        "quick_cache"
    }
    fn access(&mut self, block: u64) -> bool {
        if self.0.get(&block).is_some() {
            return true;
        }
        self.0.insert(block, ());
        false
    }
}

/// The policies compared, each at `capacity`.
pub fn policies(capacity: usize) -> Vec<Box<dyn Policy>> {
    vec![
        Box::new(Depcache::new(capacity)),
        Box::new(Lru::new(capacity)),
        Box::new(Moka::new(capacity)),
        Box::new(QuickCache::new(capacity)),
    ]
}

/// Hits over references.
#[derive(Clone, Copy, Debug, Default)]
pub struct HitRatio {
    /// References that hit.
    pub hits: u64,
    /// References replayed.
    pub refs: u64,
}

impl HitRatio {
    /// In percent.
    pub fn percent(&self) -> f64 {
        if self.refs == 0 {
            0.0
        } else {
            100.0 * self.hits as f64 / self.refs as f64
        }
    }
}

/// Replays `keys` through `policy`.
pub fn replay(policy: &mut dyn Policy, keys: &[u64]) -> HitRatio {
    let mut hits = 0;
    for &k in keys {
        hits += u64::from(policy.access(k));
    }
    HitRatio {
        hits,
        refs: keys.len() as u64,
    }
}

/// Cache sizes for one trace.
pub enum Sizes {
    /// Absolute sizes (as published).
    Fixed(&'static [usize]),
    /// Fractions of the footprint.
    OfFootprint(&'static [f64]),
}

/// A classic trace and the cache sizes it is replayed at.
pub struct Spec {
    /// File name in [`classic_dir`].
    pub file: &'static str,
    /// Sizes of the full comparison.
    pub sizes: Sizes,
    /// Sizes of a quick run.
    pub quick_sizes: Sizes,
}

/// Fractions of the footprint for the LIRS traces.
pub const FRACTIONS: &[f64] = &[0.1, 0.25, 0.5, 0.75];

/// The classic traces compared, with their sizes.
pub const SPECS: &[Spec] = &[
    Spec {
        file: "lirs-cs.trace.gz",
        sizes: Sizes::OfFootprint(FRACTIONS),
        quick_sizes: Sizes::OfFootprint(&[0.25, 0.5]),
    },
    Spec {
        file: "lirs-loop.trace.gz",
        sizes: Sizes::OfFootprint(FRACTIONS),
        quick_sizes: Sizes::OfFootprint(&[0.5]),
    },
    Spec {
        file: "lirs-2_pools.trace.gz",
        sizes: Sizes::OfFootprint(FRACTIONS),
        quick_sizes: Sizes::OfFootprint(&[0.25]),
    },
    // The ARC paper's Table for OLTP uses 1000, 2000, 5000, 10000 and 15000.
    Spec {
        file: "arc-OLTP.lis.gz",
        sizes: Sizes::Fixed(&[1000, 2000, 5000, 10000, 15000]),
        quick_sizes: Sizes::Fixed(&[1000]),
    },
];

/// The cache sizes of `spec` for a trace of `footprint` distinct blocks, each
/// with its label (the fraction of the footprint, or empty for absolute sizes).
pub fn sizes(spec: &Sizes, footprint: usize) -> Vec<(usize, String)> {
    match spec {
        Sizes::Fixed(s) => s.iter().map(|&n| (n, String::new())).collect(),
        Sizes::OfFootprint(f) => f
            .iter()
            .map(|&x| {
                (
                    ((footprint as f64 * x).round() as usize).max(1),
                    format!("{:.0}%", x * 100.0),
                )
            })
            .collect(),
    }
}
