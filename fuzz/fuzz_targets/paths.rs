#![no_main]
//! `DepPath` normalization against a reference (see `paths.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    depcache_fuzz::paths::check_paths_bytes(data);
});
