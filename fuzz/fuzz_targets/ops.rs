#![no_main]
//! Arbitrary sequences of cache operations against the sequential reference
//! model, compared after every step, plus `check_invariants` (see `model.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: depcache_fuzz::ops::Input| {
    depcache_fuzz::model::check_ops(&input);
});
