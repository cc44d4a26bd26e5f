#!/usr/bin/env bash
# Runs the Lambda criterion benches of two revisions back to back on the same machine state, so
# that a change is judged by the ratio (the shared 2-core machine's load swings between runs).
# Each revision's benches/benches/lambda.rs is built in a standalone crate that depends on that
# revision's nubis-core and nubis-lambda only (no other engine to compile).
#
# Usage: benches/scripts/lambda_compare.sh <base-rev> [criterion filter]   (e.g. 34926d4 lambda/)
# Prints `uptime` before each run, then each benchmark's estimate.
set -euo pipefail
base="${1:?base revision}"
filter="${2:-lambda/}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-lambda}"
work="$(mktemp -d /tmp/lambda-compare.XXXXXX)"
trap 'git -C "$repo" worktree remove --force "$work/base" >/dev/null 2>&1 || true' EXIT
git -C "$repo" worktree add --detach "$work/base" "$base" >/dev/null

build() { # <name> <source tree> -> path of the bench binary
  local dir="$2/lbench-$1"
  mkdir -p "$dir/benches"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "lbench-$1"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
nubis-core = { path = "$2/core" }
nubis-lambda = { path = "$2/lambda" }
[dev-dependencies]
criterion = { version = "0.8", default-features = false, features = ["cargo_bench_support"] }
tokio = { version = "1", features = ["rt-multi-thread"] }
serde_json = "1"
[[bench]]
name = "lambda"
harness = false
[workspace]
TOML
  cp "$repo/Cargo.lock" "$dir/"
  cp "$2/benches/benches/lambda.rs" "$dir/benches/lambda.rs"
  (cd "$dir" && cargo bench --bench lambda --no-run --message-format=json 2>/dev/null) \
    | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4
}

# The bench finds the `lambda_runtime` fixture at ../lambda/tests/fixtures from its crate.
old_bin="$(build old "$work/base")"
new_bin="$(build new "$repo")"
for which in old new; do
  bin="${which}_bin"
  dir="$work/base/lbench-old"; [ "$which" = new ] && dir="$repo/lbench-new"
  echo "== $which: $(uptime)"
  (cd "$dir" && "${!bin}" --bench "$filter" --warm-up-time 1 --measurement-time 3) 2>&1 \
    | awk '/^lambda\// {name=$1} /time:/ {print name, $4, $5}'
done
rm -rf "$repo/lbench-new"
