#!/usr/bin/env bash
# Runs depcache's loom models (README.md): the protocol models, the broken-variant
# check, the known-bug expectations and the loom DPOR canary.
#
#   ./run.sh                          # LOOM_MAX_PREEMPTIONS=2 (default; a few minutes on 2 cores, mostly the build)
#   LOOM_MAX_PREEMPTIONS=3 ./run.sh   # deeper (see README.md for timings)
#   ./run.sh --test models m3         # extra arguments go to `cargo test`
#
# Environment: CARGO_TARGET_DIR (default: target-loom next to the repository, so
# the loom build does not thrash the main one), LOOM_MAX_PREEMPTIONS (default 2),
# DEPCACHE_LOOM_EXTENDED=1 (also the slow three-thread single-flight model),
# LOOM_LOG=trace LOOM_LOCATION=1 (print interleavings; see README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg depcache_loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd "$here/../.." && pwd)/target-loom}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"

echo "loom models: LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
start=$(date +%s)
if [ "$#" -gt 0 ]; then
    cargo test --release "$@" -- --nocapture
else
    # --nocapture: each model prints how many interleavings it explored and how long it took.
    cargo test --release --tests -- --nocapture --test-threads "${LOOM_TEST_THREADS:-2}"
fi
echo "loom models: done in $(($(date +%s) - start)) s"
