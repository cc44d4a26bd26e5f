#!/usr/bin/env bash
# pgwire throughput: the same sysbench-like workload (point select, update by primary key,
# insert) through pgbench against an Aurora cluster's PostgreSQL endpoint in `nubis serve` and
# against a throwaway PostgreSQL 15 on a loopback port. Prints the median tps of N runs per
# workload and peer, and the ratio nubis/PostgreSQL.
#
# Usage: benches/scripts/aurora_pgwire.sh [rows=10000] [seconds=5] [runs=5] [clients=1]
# Needs: pgbench and psql (Debian postgresql-client), PostgreSQL 15 server binaries
# (/usr/lib/postgresql/15/bin) for the peer; run as root the peer runs as user `postgres`.
# NUBIS_BIN=path skips the release build of `nubis`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-10000}
SECS=${2:-5}
RUNS=${3:-5}
CLIENTS=${4:-1}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-aurora-pg-rel}"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
command -v pgbench >/dev/null || { echo "pgbench not found (Debian postgresql-client)"; exit 1; }

WORK=$(mktemp -d /tmp/aurora_pgwire.XXXXXX)
NUBIS_PID=""
cleanup() {
  [ -n "$NUBIS_PID" ] && kill "$NUBIS_PID" 2>/dev/null || true
  if [ -f "$WORK/pg/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- nubis serve and a cluster -------------------------------------------------------------
if [ -z "${NUBIS_BIN:-}" ]; then
  cargo build --release -q -p nubis --bin nubis --no-default-features --features aurora
  NUBIS_BIN="$CARGO_TARGET_DIR/release/nubis"
fi
HTTP_PORT=$(free_port)
"$NUBIS_BIN" serve --port "$HTTP_PORT" >"$WORK/nubis.log" 2>&1 &
NUBIS_PID=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$HTTP_PORT/_nubis/health" >/dev/null && break; sleep 0.1; done
rds() {
  curl -s "http://127.0.0.1:$HTTP_PORT/" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0" \
    -H "Content-Type: application/x-www-form-urlencoded" -d "Version=2014-10-31&$1"
}
rds "Action=CreateDBCluster&DBClusterIdentifier=bench&Engine=aurora-postgresql&MasterUsername=postgres" >/dev/null
rds "Action=CreateDBInstance&DBInstanceIdentifier=bench-1&DBClusterIdentifier=bench&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large" >/dev/null
AURORA_PORT=$(rds "Action=DescribeDBClusters&DBClusterIdentifier=bench" | sed -n 's:.*<Port>\([0-9]*\)</Port>.*:\1:p')
[ -n "$AURORA_PORT" ] || { echo "no cluster port"; cat "$WORK/nubis.log"; exit 1; }

# --- PostgreSQL 15 peer ------------------------------------------------------------------------
PG_PORT=""
if [ -x "$PGBIN/initdb" ] && { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }; then
  mkdir -p "$WORK/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$WORK" "$WORK/pg"
  as_pg "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
  PG_PORT=$(free_port)
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c shared_buffers=128MB" start >/dev/null
else
  echo "skipping the PostgreSQL peer: no $PGBIN/initdb or no non-root user to run it as"
fi

# --- schema, data and workload scripts -------------------------------------------------------
setup_sql="DROP TABLE IF EXISTS sbtest1;
CREATE TABLE sbtest1 (id serial PRIMARY KEY, k int NOT NULL DEFAULT 0, c text NOT NULL, pad text NOT NULL);
INSERT INTO sbtest1 (k, c, pad) SELECT g % 1000, 'c-' || g::text, 'pad-' || g::text FROM generate_series(1, $ROWS) AS s(g);"
cat >"$WORK/point_select.sql" <<EOF
\set id random(1, $ROWS)
SELECT c FROM sbtest1 WHERE id = :id;
EOF
cat >"$WORK/update_pk.sql" <<EOF
\set id random(1, $ROWS)
UPDATE sbtest1 SET k = k + 1 WHERE id = :id;
EOF
cat >"$WORK/insert.sql" <<EOF
\set k random(1, 1000)
INSERT INTO sbtest1 (k, c, pad) VALUES (:k, 'new', 'row');
EOF

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
bench() { # host port workload -> median tps
  local host=$1 port=$2 w=$3 out=()
  for _ in $(seq "$RUNS"); do
    PGPASSWORD=x pgbench -n -h "$host" -p "$port" -U postgres -M prepared -c "$CLIENTS" -j "$CLIENTS" \
      -T "$SECS" -f "$WORK/$w.sql" postgres 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
  done | median
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); rows=$ROWS seconds=$SECS runs=$RUNS clients=$CLIENTS"
PGPASSWORD=x psql -X -q -h 127.0.0.1 -p "$AURORA_PORT" -U postgres -d postgres -c "$setup_sql" >/dev/null
[ -n "$PG_PORT" ] && psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$setup_sql" >/dev/null
printf '%-14s %14s %14s %8s\n' workload nubis_tps postgres_tps ratio
for w in point_select update_pk insert; do
  a=$(bench 127.0.0.1 "$AURORA_PORT" "$w")
  if [ -n "$PG_PORT" ]; then
    p=$(bench 127.0.0.1 "$PG_PORT" "$w")
    printf '%-14s %14s %14s %8s\n' "$w" "$a" "$p" "$(awk -v a="$a" -v p="$p" 'BEGIN {printf "%.3f", (p > 0) ? a / p : 0}')"
  else
    printf '%-14s %14s %14s %8s\n' "$w" "$a" - -
  fi
done
