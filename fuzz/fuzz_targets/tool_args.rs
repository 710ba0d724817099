#![no_main]
//! Tool calls with arbitrary JSON arguments: classification and canonical keys
//! (see `json.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    depcache_fuzz::json::check_tool_args_bytes(data);
});
