#![no_main]
//! The operations of `ops` split over two threads (see `threads.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: depcache_fuzz::threads::Input| {
    depcache_fuzz::threads::check_threads(&input);
});
