//! Memory per entry: depcache against moka, quick_cache and a raw papaya map.
//!
//! A counting global allocator tracks the bytes live on the heap. For each cache
//! we build it empty with room for N entries, insert N entries (u64 key, u64
//! value) and report the heap bytes per resident entry beyond the 16 bytes of
//! key and value. depcache entries carry one dependency each, in two layouts:
//! (a) every entry its own dependency, (b) 10 entries per dependency. moka,
//! quick_cache and papaya keep no dependencies (for comparison only).
//!
//! Two counts: the bytes the caches ask for (`Layout::size`), and an estimate
//! of what glibc's malloc hands out for them on 64-bit Linux: a chunk of
//! `size + 8` rounded up to 16, at least 32 (so a 104-byte request and a
//! 96-byte one both take 112). The second is what shrinking a struct actually
//! saves; over-aligned requests are estimated the same way.
//!
//! Run: `cargo run --release -p depcache-cli --example memory [N]` (default N = 100000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use depcache::{Cache, DepPath};

struct Counting;

/// Bytes allocated and not freed. Every access is Relaxed: a statistic read after
/// the measured work has finished on this thread; it orders no other data.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The glibc chunk estimate of the same allocations (Relaxed, as `LIVE`).
static CHUNKS: AtomicUsize = AtomicUsize::new(0);

/// glibc malloc's chunk for a request of `size` bytes (64-bit): the request
/// plus an 8-byte header, rounded up to 16, and never under 32.
fn chunk(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

fn count(add: usize, sub: usize) {
    LIVE.fetch_add(add, Ordering::Relaxed);
    LIVE.fetch_sub(sub, Ordering::Relaxed);
    CHUNKS.fetch_add(if add > 0 { chunk(add) } else { 0 }, Ordering::Relaxed);
    CHUNKS.fetch_sub(if sub > 0 { chunk(sub) } else { 0 }, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; we only count sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        count(0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size, layout.size());
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn chunks() -> usize {
    CHUNKS.load(Ordering::Relaxed)
}

/// Bytes of key + value.
const PAYLOAD: usize = 16;

struct Row {
    name: String,
    empty: usize,
    full: usize,
    /// `full` in glibc chunks.
    full_chunks: usize,
    len: usize,
}

/// Builds a cache with `build`, fills it with `fill` (which returns the number
/// of resident entries), and measures the heap at each step.
fn measure<C>(name: &str, build: impl FnOnce() -> C, fill: impl FnOnce(&C) -> usize) -> Row {
    let (base, base_chunks) = (live(), chunks());
    let cache = build();
    let empty = live() - base;
    let len = fill(&cache);
    let full = live() - base;
    let full_chunks = chunks() - base_chunks;
    drop(cache);
    Row {
        name: name.to_string(),
        empty,
        full,
        full_chunks,
        len,
    }
}

fn depcache_u64(n: u64, per_dep: u64) -> impl FnOnce(&Cache<u64, u64, u64>) -> usize {
    move |c| {
        for k in 0..n {
            c.insert(k, k, [k / per_dep]);
        }
        c.len()
    }
}

fn depcache_path(n: u64, per_dep: u64) -> impl FnOnce(&Cache<u64, u64, DepPath>) -> usize {
    move |c| {
        for k in 0..n {
            let f = k / per_dep;
            c.insert(k, k, [DepPath::new(format!("src/d{}/f{f}.rs", f / 100))]);
        }
        c.len()
    }
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let cap = n as usize;
    let rows = vec![
        measure(
            "depcache, u64 dep, (a) 1 entry/dep",
            || Cache::<u64, u64, u64>::new(cap),
            depcache_u64(n, 1),
        ),
        measure(
            "depcache, u64 dep, (b) 10 entries/dep",
            || Cache::<u64, u64, u64>::new(cap),
            depcache_u64(n, 10),
        ),
        measure(
            "depcache, DepPath dep, (a) 1 entry/file",
            || Cache::<u64, u64, DepPath>::new(cap),
            depcache_path(n, 1),
        ),
        measure(
            "depcache, DepPath dep, (b) 10 entries/file",
            || Cache::<u64, u64, DepPath>::new(cap),
            depcache_path(n, 10),
        ),
        measure(
            "moka::sync::Cache (no deps)",
            || moka::sync::Cache::<u64, u64>::new(n),
            |c| {
                for k in 0..n {
                    c.insert(k, k);
                }
                c.run_pending_tasks();
                c.entry_count() as usize
            },
        ),
        measure(
            "quick_cache::sync::Cache (no deps)",
            || quick_cache::sync::Cache::<u64, u64>::new(cap),
            |c| {
                for k in 0..n {
                    c.insert(k, k);
                }
                c.len()
            },
        ),
        measure(
            "papaya::HashMap + foldhash (no deps, unbounded)",
            || papaya::HashMap::<u64, u64, _>::with_hasher(foldhash::fast::RandomState::default()),
            |m| {
                let g = m.pin();
                for k in 0..n {
                    g.insert(k, k);
                }
                g.len()
            },
        ),
    ];

    println!("N = {n} inserts, u64 key + u64 value ({PAYLOAD} B) per entry");
    println!();
    println!(
        "| cache | resident | empty (B) | full (B) | B/entry total | B/entry beyond key+value | same, in glibc chunks |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let per = r.full as f64 / r.len.max(1) as f64;
        let per_chunks = r.full_chunks as f64 / r.len.max(1) as f64;
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} | {:.0} |",
            r.name,
            r.len,
            r.empty,
            r.full,
            per,
            per - PAYLOAD as f64,
            per_chunks - PAYLOAD as f64
        );
    }
    println!();
    let fixed = |f: &dyn Fn() -> Box<dyn std::any::Any>| {
        let base = live();
        let c = f();
        let b = live() - base;
        drop(c);
        b
    };
    println!(
        "Fixed cost of an empty cache with room for 1 entry: depcache {} B, moka {} B, quick_cache {} B.",
        fixed(&|| Box::new(Cache::<u64, u64, u64>::new(1))),
        fixed(&|| Box::new(moka::sync::Cache::<u64, u64>::new(1))),
        fixed(&|| Box::new(quick_cache::sync::Cache::<u64, u64>::new(1))),
    );
    println!();
    println!("empty = heap right after building with room for N (depcache preallocates its CLOCK ring,");
    println!("free-slot bitmap and bucket heads); full = after the N inserts, including not-yet-reclaimed");
    println!("garbage. glibc chunks: each allocation as malloc rounds it (size + 8 up to 16, min 32).");
    println!("DepPath rows include the path strings and the directory nodes of the index.");
}
