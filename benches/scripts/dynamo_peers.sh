#!/usr/bin/env bash
# DynamoDB over HTTP, side by side: `nubis serve` vs dynalite (npm) vs moto's server (PyPI),
# driven by the same PutItem / GetItem / Query workload from benches/scripts/dynamo_loadgen.rs.
#
# Usage: benches/scripts/dynamo_peers.sh [seconds-per-run] [runs]
# Prints a Markdown table of medians (ops/s) and the ratios Nubis/peer; also writes it to
# target/dynamo_peers.md, with the load average before and after. Installs dynalite (npm) into
# a scratch directory and moto[server] (PyPI) into a virtualenv ($MOTO_VENV, default
# /work/dynamo-venv) if missing; nothing is installed system-wide.
set -euo pipefail
SECS=${1:-3}
RUNS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${DYNAMO_PEERS_DIR:-/tmp/nubis-dynamo-peers}
mkdir -p "$WORK"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

echo "building nubis (release) and the load generator" >&2
(cd "$ROOT" && cargo build --release -q -p nubis --bin nubis --no-default-features --features dynamo)
rustc -O -o "$WORK/loadgen" "$ROOT/benches/scripts/dynamo_loadgen.rs"
NUBIS="$CARGO_TARGET_DIR/release/nubis"

if [ ! -x "$WORK/node_modules/.bin/dynalite" ]; then
  (cd "$WORK" && npm install --silent dynalite >/dev/null 2>&1)
fi
MOTO_VENV=${MOTO_VENV:-/work/dynamo-venv}
if [ ! -x "$MOTO_VENV/bin/moto_server" ]; then
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet 'moto[server]' >/dev/null 2>&1
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

start() { # name port command...
  local name=$1 port=$2; shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port"
  "$WORK/loadgen" "$port" setup
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start nubis 18000 "$NUBIS" serve --port 18000
start dynalite 18001 "$WORK/node_modules/.bin/dynalite" --port 18001 --host 127.0.0.1
start moto 18002 "$MOTO_VENV/bin/moto_server" -p 18002
LOAD_BEFORE=$(uptime)

declare -A R
for name in nubis:18000 dynalite:18001 moto:18002; do
  n=${name%%:*}; port=${name##*:}
  for w in put get query; do
    for c in 1 16; do
      vals=$(for _ in $(seq 1 "$RUNS"); do "$WORK/loadgen" "$port" "$w" "$c" "$SECS"; done)
      R[$n,$w,$c]=$(echo "$vals" | median)
      echo "$n $w c=$c: ${R[$n,$w,$c]} ops/s (runs: $(echo $vals | tr '\n' ' '))" >&2
    done
  done
done

OUT="$CARGO_TARGET_DIR/dynamo_peers.md"
{
  echo "| workload | conns | nubis ops/s | dynalite ops/s | moto ops/s | nubis/dynalite | nubis/moto |"
  echo "|---|---|---|---|---|---|---|"
  for w in put get query; do
    for c in 1 16; do
      a=${R[nubis,$w,$c]}; b=${R[dynalite,$w,$c]}; m=${R[moto,$w,$c]}
      echo "| $w | $c | $a | $b | $m | $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.1f", (b>0)?a/b:0}')× | $(awk -v a="$a" -v b="$m" 'BEGIN{printf "%.0f", (b>0)?a/b:0}')× |"
    done
  done
  echo
  echo "load before: $LOAD_BEFORE"
  echo "load after:  $(uptime)"
} | tee "$OUT"
