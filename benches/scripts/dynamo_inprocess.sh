#!/bin/sh
# In-process DynamoDB benches (GetItem, PutItem, UpdateItem, Query10) built against the
# nubis-dynamo crate alone, for A/B comparisons on a loaded machine.
#
# It runs the `bench` group of benches/benches/dynamo.rs unchanged, but in a throwaway crate that
# depends only on nubis-core and nubis-dynamo, so a release build does not compile every other
# engine (what `cargo bench -p nubis-benches --bench dynamo` does). Figures are the same code
# path; only the build is smaller.
#
# Usage: benches/scripts/dynamo_inprocess.sh [REV] [criterion args...]
#   REV  a git revision of the dynamo crate to measure (default: the working tree)
# Example (before/after, back to back):
#   benches/scripts/dynamo_inprocess.sh 34926d4 --warm-up-time 1 --measurement-time 3
#   benches/scripts/dynamo_inprocess.sh HEAD --warm-up-time 1 --measurement-time 3
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
rev=${1:-}
[ $# -gt 0 ] && shift
work=${DYNAMO_BENCH_DIR:-/tmp/nubis-dynamo-inprocess}
mkdir -p "$work/bench/benches" "$work/bench/src"
if [ -n "$rev" ]; then
    # That revision's crate, with its workspace-inherited fields spelled out.
    rm -rf "$work/dynamo"
    git -C "$repo" archive "$rev" dynamo | tar -x -C "$work"
    cat > "$work/dynamo/Cargo.toml" <<EOF
[package]
name = "nubis-dynamo"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
nubis-core = { path = "$repo/core" }
base64 = "0.22"
imbl = "6"
parking_lot = "0.12"
serde = { version = "1", features = ["derive", "rc"] }
serde_json = "1"
thiserror = "2"
EOF
    dynamo="$work/dynamo"
else
    dynamo="$repo/dynamo"
fi
cat > "$work/bench/Cargo.toml" <<EOF
[package]
name = "dynamo-inprocess"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
nubis-core = { path = "$repo/core" }
nubis-dynamo = { path = "$dynamo" }

[dev-dependencies]
criterion = { version = "0.8", default-features = false, features = ["cargo_bench_support"] }

[[bench]]
name = "dynamo"
harness = false
EOF
: > "$work/bench/src/lib.rs"
cp "$repo/Cargo.lock" "$work/bench/Cargo.lock"
# The per-request group only (the CreateBackup bench loads a million items).
sed -e 's/criterion_group!(benches, bench, backup);/criterion_group!(benches, bench);/' \
    "$repo/benches/benches/dynamo.rs" > "$work/bench/benches/dynamo.rs"
echo "load: $(uptime)"
cd "$work/bench"
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$work/target} cargo bench --bench dynamo -- --noplot "$@"
echo "load: $(uptime)"
