#![no_main]
//! The trace reader on arbitrary lines (see `trace.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    depcache_fuzz::trace::check_trace(data);
});
