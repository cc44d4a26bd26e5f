#!/usr/bin/env bash
# Sysbench-like OLTP workload on 1M rows: Aurora vs SQLite (rusqlite, bundled, in memory),
# same process, same data, prepared statements; prints median ops/s of 3 runs and the ratio.
# Usage: benches/scripts/aurora_sysbench.sh [rows] [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-aurora}"
exec cargo run --release -p nubis-aurora --example sysbench -- "${1:-1000000}" "${2:-3}"
