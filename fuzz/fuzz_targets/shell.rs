#![no_main]
//! The shell classifier on arbitrary text (see `shell.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Without the classifier in this checkout (see build.rs), nothing to fuzz.
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(data);
    #[cfg(not(depcache_shell))]
    let _ = data;
});
