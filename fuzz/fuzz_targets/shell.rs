#![no_main]
//! The shell classifier on arbitrary text (see `shell.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    depcache_fuzz::shell::check_shell_bytes(data);
});
