#!/usr/bin/env bash
# Server CPU time per request over HTTP: less sensitive to a loaded machine than ops/s, since it
# counts what the server spends, not how long it waited for a core.
#
# Usage: benches/scripts/dynamo_cpu.sh <name> <port> <workload put|get|query> <connections> <seconds> -- <server command...>
# Starts the server, creates the load generator's table, reads the server's utime+stime from
# /proc/<pid>/stat, drives the workload with benches/scripts/dynamo_loadgen.rs, reads it again
# and prints: name, workload, connections, ops/s, server CPU µs per request, load average.
# Example:
#   benches/scripts/dynamo_cpu.sh nubis 18000 put 1 5 -- target/release/nubis serve --port 18000
#   benches/scripts/dynamo_cpu.sh dynalite 18001 put 1 5 -- node_modules/.bin/dynalite --port 18001
set -euo pipefail
NAME=$1 PORT=$2 W=$3 C=$4 SECS=$5
shift 5
[ "$1" = "--" ] && shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${DYNAMO_PEERS_DIR:-/tmp/nubis-dynamo-peers}
mkdir -p "$WORK"
[ -x "$WORK/loadgen" ] || rustc -O -o "$WORK/loadgen" "$ROOT/benches/scripts/dynamo_loadgen.rs"
"$@" >"$WORK/$NAME-cpu.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$WORK/loadgen" "$PORT" setup >/dev/null
# Fields 14 and 15 of /proc/<pid>/stat: user and system time in clock ticks (all threads).
ticks() { awk '{print $14, $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
read -r U0 S0 < <(ticks)
OPS=$("$WORK/loadgen" "$PORT" "$W" "$C" "$SECS")
read -r U1 S1 < <(ticks)
awk -v n="$NAME" -v w="$W" -v c="$C" -v ops="$OPS" -v s="$SECS" -v u="$((U1 - U0))" -v k="$((S1 - S0))" -v hz="$HZ" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" \
  'BEGIN { req = ops * s; if (req < 1) req = 1; printf "%s %s c=%s: %d ops/s, server CPU %.1f µs/request (user %.1f, system %.1f; %d requests), load %s\n", n, w, c, ops, (u + k) / hz / req * 1e6, u / hz / req * 1e6, k / hz / req * 1e6, req, load }'
