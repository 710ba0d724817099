#!/usr/bin/env bash
# A/B of the core operations in one process: the library in this checkout
# against BASE (a commit), alternating rounds, medians per measure.
#
#   docs/ab/run.sh BASE [ROUNDS]
#
# Builds under $AB_DIR (default /tmp/depcache-ab): BASE's tree, with its
# package renamed `depcache_base`, and a binary that links both versions.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
base="${1:?usage: docs/ab/run.sh BASE [ROUNDS]}"
rounds="${2:-9}"
dir="${AB_DIR:-/tmp/depcache-ab}"
rm -rf "$dir/base" && mkdir -p "$dir/base" "$dir/ab/src"
git -C "$repo" archive "$base" | tar -x -C "$dir/base"
rm -rf "$dir/base/.cargo"
# The base as a plain package of another name (no workspace, bins or benches).
python3 - "$dir/base/Cargo.toml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('name = "depcache"\nversion', 'name = "depcache_base"\nversion', 1)
s = re.sub(r'\[workspace\].*?(?=\n\[(?!workspace))', '', s, flags=re.S)
s = re.sub(r'\[\[(bin|bench)\]\].*?\n\n', '', s, flags=re.S)
open(p, 'w').write(s + '\n[workspace]\n')
PY
cat > "$dir/ab/Cargo.toml" <<TOML
[package]
name = "ab"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
new = { package = "depcache", path = "$repo", default-features = false }
base = { package = "depcache_base", path = "$dir/base", default-features = false }

[profile.release]
debug = 1

[workspace]
TOML
cp "$repo/docs/ab/main.rs" "$dir/ab/src/main.rs"
(cd "$dir/ab" && CARGO_TARGET_DIR="$dir/target" cargo build --release --quiet)
"$dir/target/release/ab" "$rounds"
