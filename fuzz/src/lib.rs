//! Shared code of the fuzz targets: operation sequences and the sequential
//! reference model of the cache (`ops`, `ops_threads`), a reference path
//! normalizer (`paths`), JSON generators and rewriters (`tool_args`), the
//! conservative write detector (`shell`) and the trace checks (`trace`).
//!
//! Each target is a thin `fuzz_target!` around one `check_*` function here, so
//! the regression tests in `tests/` replay inputs through exactly the same code
//! on stable Rust, without libFuzzer.

pub mod json;
pub mod model;
pub mod ops;
pub mod paths;
#[cfg(depcache_shell)]
pub mod shell;
pub mod threads;
pub mod trace;
