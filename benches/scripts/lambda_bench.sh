#!/usr/bin/env bash
# Runs the Lambda criterion benches and prints each benchmark's median.
#
# No side-by-side peer runs here: the usual local Lambda peers (the AWS Runtime Interface
# Emulator, SAM CLI `sam local`, moto's Lambda) all run functions in Docker containers or ship as
# prebuilt binaries, neither of which this machine can fetch or run. The floors instead are a direct
# call of the same handler closure (`lambda/in_process/direct_call_floor`) and one bare loopback
# TCP round trip (`lambda/floor/loopback_round_trip`; a warm process invocation needs two).
#
# Usage: benches/scripts/lambda_bench.sh [criterion filter]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-lambda}"
cargo bench -p nubis-benches --no-default-features --features lambda --bench lambda -- "${1:-}" 2>&1 | tee /tmp/lambda-bench.out \
  | awk '/^lambda\// {name=$1} /time:/ {print name, $4, $5}'
