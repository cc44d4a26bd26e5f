#!/usr/bin/env bash
# Runs the Neptune criterion benches at a given size: benches/scripts/neptune_bench.sh [EDGES]
# (default 1000000; the issue's larger points are 10000000 and 100000000).
set -euo pipefail
cd "$(dirname "$0")/../.."
NEPTUNE_BENCH_EDGES="${1:-1000000}" cargo bench -p nubis-benches --no-default-features --features neptune --bench neptune -- "${@:2}"
