//! Allocations per insert: an insert whose dependency's node exists
//! allocates its entry and, amortized, next to nothing else (registration
//! sets that grow, the collector's retirement batches).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use depcache::Cache;

struct Counting;

thread_local! {
    /// Allocations made by this thread (a `const` thread-local: no
    /// allocation to reach it from inside the allocator).
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    // SAFETY: `unsafe` as the trait declares it; the caller's contract is
    // passed on to `System` unchanged.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: as `alloc`.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    // SAFETY: as `alloc`.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn an_insert_on_an_existing_node_allocates_its_entry_and_little_else() {
    const CAP: u64 = 10_000;
    let c: Cache<u64, u64, u64> = Cache::new(CAP as usize);
    // Full, every entry on one of 100 dependencies: every node stays populated.
    for k in 0..CAP {
        c.insert(k, k, [k % 100]);
    }
    // Warm up: registration sets reach their steady size.
    for k in CAP..3 * CAP {
        c.insert(k, k, [k % 100]);
    }
    let nodes = c.stats().index_nodes;
    let before = allocs();
    let n = 5 * CAP;
    for k in 3 * CAP..3 * CAP + n {
        c.insert(k, k, [k % 100]);
    }
    let per_insert = (allocs() - before) as f64 / n as f64;
    eprintln!("{per_insert:.4} allocations per insert");
    assert_eq!(c.stats().index_nodes, nodes, "a node was created or dropped");
    assert!(
        (1.0..1.1).contains(&per_insert),
        "{per_insert:.3} allocations per evicting insert (the entry is 1)"
    );
    // Without a dependency: the entry alone.
    let bare: Cache<u64, u64, u64> = Cache::new(CAP as usize);
    for k in 0..3 * CAP {
        bare.insert(k, k, [0u64; 0]);
    }
    let before = allocs();
    for k in 3 * CAP..3 * CAP + n {
        bare.insert(k, k, [0u64; 0]);
    }
    let per_insert = (allocs() - before) as f64 / n as f64;
    eprintln!("{per_insert:.4} allocations per insert");
    assert!(
        (1.0..1.1).contains(&per_insert),
        "{per_insert:.3} allocations per evicting insert without a dependency"
    );
}
