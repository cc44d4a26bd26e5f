#!/bin/bash
# Before/after CPU seconds of two select_bench binaries over the peer script's files.
# Usage: benches/scripts/s3select_compare.sh OLD_BIN NEW_BIN DIR
# (build each with `cargo build --release -p nubis-s3select --example select_bench` at the two
# commits and copy target/release/examples/select_bench aside). Prints, per format and query,
# the lower of two runs of user+system CPU seconds, which includes reading the file (also
# printed, as the cost of `SELECT * ... LIMIT 1`).
set -eu
OLD=$1 NEW=$2 DIR=$3
cd "$DIR"
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
Q=("SELECT COUNT(*) FROM S3Object"
   "SELECT s.id, s.name FROM S3Object s WHERE s.category = 'cat_7' AND CAST(s.qty AS INT) > 90"
   "SELECT SUM(CAST(s.price AS FLOAT)), AVG(CAST(s.qty AS INT)) FROM S3Object s"
   "SELECT COUNT(*) FROM S3Object s WHERE s.note LIKE '%zebra%'"
   "SELECT * FROM S3Object LIMIT 1")
N=(count filter sum_avg like read-only)
cpu() {
  local best=999 t
  for _ in 1 2; do
    /usr/bin/time -o "$TMP" -f "%U %S" "$1" "$2" "$3" >/dev/null 2>&1 || true
    t=$(tail -1 "$TMP" | awk '{print $1+$2}')
    best=$(awk -v a="$best" -v b="$t" 'BEGIN{print (b<a)?b:a}')
  done
  echo "$best"
}
uptime
for f in ${FORMATS:-csv jsonl parquet}; do
  for i in 0 1 2 3 4; do
    echo "$f ${N[$i]} old=$(cpu "$OLD" "data.$f" "${Q[$i]}") new=$(cpu "$NEW" "data.$f" "${Q[$i]}")"
  done
done
