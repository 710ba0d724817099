#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 60), after replaying the
# committed corpus (fuzz/corpus/<target>/); exits non-zero if any target crashed.
#
#   fuzz/run.sh [SECONDS]
#
# Nightly with AddressSanitizer when `cargo +nightly` works; otherwise stable
# without a sanitizer (`-s none`). Override with FUZZ_SANITIZER=none|address|...
# New corpus entries and crash artifacts go to $FUZZ_WORK (default
# <target dir>/fuzz-work), never into the committed corpus. One process per
# target, one at a time (the machines have 2 cores). FUZZ_TARGETS="ops trace"
# runs a subset.
set -uo pipefail
cd "$(dirname "$0")"

secs="${1:-60}"
targets=(${FUZZ_TARGETS:-ops ops_threads paths tool_args shell trace})

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked || exit 1
fi
if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
  sanitizer="${FUZZ_SANITIZER:-address}"
else
  echo "no nightly toolchain: stable, without a sanitizer"
  toolchain=()
  sanitizer="${FUZZ_SANITIZER:-none}"
fi
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
work="${FUZZ_WORK:-$target_dir/fuzz-work}"
export CARGO_TARGET_DIR="$target_dir"

cargo "${toolchain[@]}" fuzz build -s "$sanitizer" || exit 1

failed=()
found=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "corpus/$t"
  log="$work/$t.log"
  echo "=== $t: replaying corpus/$t ($(ls "corpus/$t" | wc -l) inputs), then ${secs}s of fuzzing"
  # -runs=0: every committed input once, no mutation.
  if ! cargo "${toolchain[@]}" fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
    -runs=0 -artifact_prefix="$work/artifacts/$t/" >"$log" 2>&1; then
    tail -n 40 "$log"
    failed+=("$t (corpus replay)")
    continue
  fi
  # New inputs go to the work corpus (first directory); the committed one is read only.
  if ! cargo "${toolchain[@]}" fuzz run -s "$sanitizer" "$t" "$work/corpus/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$t/" >>"$log" 2>&1; then
    tail -n 40 "$log"
    if [ "${FUZZ_FINDS_FATAL:-1}" = 1 ]; then
      failed+=("$t")
    else
      found+=("$t")
    fi
  fi
  # The last status line: runs, coverage, features, corpus, exec/s.
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
  summary+=("$t: ${last:-no status line}")
  echo "$t: ${last:-no status line}"
done

echo
echo "=== summary (logs and artifacts in $work)"
printf '%s\n' "${summary[@]}"
if [ "${#found[@]}" -gt 0 ]; then
  echo "NEW FINDS (not fatal: FUZZ_FINDS_FATAL=0): ${found[*]}; reproducers in $work/artifacts" >&2
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#targets[@]} targets ran without a crash"
