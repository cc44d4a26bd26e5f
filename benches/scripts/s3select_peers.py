#!/usr/bin/env python3
"""S3 Select side by side with DuckDB and Polars (one thread each).

Writes the same rows as CSV, JSON lines and Parquet (about SIZE_MB of CSV, default 1024),
times the four queries of issue 5 through the Nubis engine in-process (the `s3select` bench
binary in peer mode) and through DuckDB (`SET threads=1`) and Polars (`POLARS_MAX_THREADS=1`),
checks the answers agree, and prints a table of medians, MB/s and ratios.

Usage: python3 benches/scripts/s3select_peers.py [SIZE_MB] [WORKDIR]
Needs: pip install duckdb polars
"""
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

SIZE_MB = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
WORK = sys.argv[2] if len(sys.argv) > 2 else "/tmp/s3select_peers"
RUNS = int(os.environ.get("S3SELECT_RUNS", "5"))
WORDS = ["alpha", "bravo", "zebra", "delta", "echo", "foxtrot", "golf", "hotel"]
MASK = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def row(i):
    """Row i, exactly as benches/benches/s3select.rs generates it."""
    h = ((i * 0x9E3779B97F4A7C15) & MASK) >> 16
    note = f"{WORDS[h % 8]} {WORDS[(h >> 3) % 8]} {WORDS[(h >> 6) % 7]}"
    return [
        str(i),
        f"name_{h % 1_000_003:x}",
        f"cat_{h % 50}",
        f"{(h >> 8) % 1000}.{(h >> 20) % 100:02d}",
        str((h >> 12) % 100),
        f"2024-{(h >> 4) % 12 + 1:02d}-{(h >> 9) % 28 + 1:02d}T{(h >> 14) % 24:02d}:{(h >> 18) % 60:02d}:00Z",
        note,
    ]


def generate():
    os.makedirs(WORK, exist_ok=True)
    csv_path = os.path.join(WORK, "data.csv")
    target = SIZE_MB << 20
    if not (os.path.exists(csv_path) and abs(os.path.getsize(csv_path) - target) < target // 50 + 4096):
        with open(csv_path, "w") as f:
            f.write("id,name,category,price,qty,ts,note\n")
            size, i, buf = 0, 0, []
            while size < target:
                line = ",".join(row(i)) + "\n"
                buf.append(line)
                size += len(line)
                i += 1
                if len(buf) >= 100_000:
                    f.write("".join(buf))
                    buf = []
            f.write("".join(buf))
    jsonl = os.path.join(WORK, "data.jsonl")
    pq = os.path.join(WORK, "data.parquet")
    if not os.path.exists(jsonl) or os.path.getmtime(jsonl) < os.path.getmtime(csv_path):
        con = duckdb.connect()
        con.execute(f"COPY (SELECT id, name, category, CAST(price AS DOUBLE) AS price, qty, ts, note FROM read_csv('{csv_path}', types={{'ts': 'VARCHAR'}})) TO '{jsonl}' (FORMAT JSON)")
        con.execute(f"COPY (SELECT id, name, category, CAST(price AS DOUBLE) AS price, qty, ts, note FROM read_csv('{csv_path}', types={{'ts': 'VARCHAR'}})) TO '{pq}' (FORMAT PARQUET, ROW_GROUP_SIZE 122880)")
    return csv_path, jsonl, pq


def timed(fn):
    times, answer = [], None
    for _ in range(RUNS):
        t = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], answer


def duckdb_runs(paths):
    con = duckdb.connect()
    con.execute("SET threads=1")
    out = []
    for fmt, path in paths.items():
        src = {"csv": f"read_csv('{path}', types={{'ts': 'VARCHAR'}})", "jsonl": f"read_json('{path}', format='newline_delimited')", "parquet": f"read_parquet('{path}')"}[fmt]
        qs = {
            "count": f"SELECT COUNT(*) FROM {src}",
            "filter": f"SELECT COUNT(*) FROM (SELECT id, name FROM {src} WHERE category = 'cat_7' AND CAST(qty AS INT) > 90)",
            "sum_avg": f"SELECT SUM(CAST(price AS DOUBLE)), AVG(CAST(qty AS INT)) FROM {src}",
            "like": f"SELECT COUNT(*) FROM {src} WHERE note LIKE '%zebra%'",
        }
        for name, sql in qs.items():
            med, ans = timed(lambda: con.execute(sql).fetchone())
            out.append({"engine": "duckdb", "format": fmt, "threads": 1, "query": name, "bytes": os.path.getsize(path), "median_s": med, "answer": list(ans)})
    return out


def polars_runs(paths):
    out = []
    for fmt, path in paths.items():
        scan = {"csv": lambda: pl.scan_csv(path, schema_overrides={"ts": pl.Utf8}), "jsonl": lambda: pl.scan_ndjson(path), "parquet": lambda: pl.scan_parquet(path)}[fmt]
        qs = {
            "count": lambda: scan().select(pl.len()).collect().row(0),
            "filter": lambda: scan().filter((pl.col("category") == "cat_7") & (pl.col("qty").cast(pl.Int64) > 90)).select("id", "name").collect().height,
            "sum_avg": lambda: scan().select(pl.col("price").cast(pl.Float64).sum(), pl.col("qty").cast(pl.Int64).mean()).collect().row(0),
            "like": lambda: scan().filter(pl.col("note").str.contains("zebra", literal=True)).select(pl.len()).collect().row(0),
        }
        for name, q in qs.items():
            med, ans = timed(q)
            out.append({"engine": "polars", "format": fmt, "threads": 1, "query": name, "bytes": os.path.getsize(path), "median_s": med, "answer": ans if isinstance(ans, int) else list(ans)})
    return out


def nubis_runs():
    env = dict(os.environ, S3SELECT_PEER_DIR=WORK, S3SELECT_RUNS=str(RUNS))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    cmd = ["cargo", "bench", "-p", "nubis-benches", "--bench", "s3select"]
    proc = subprocess.run(cmd, cwd=REPO, env=dict(env, CARGO_TARGET_DIR=target), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main():
    csv_path, jsonl, pq = generate()
    paths = {"csv": csv_path, "jsonl": jsonl, "parquet": pq}
    results = nubis_runs() + duckdb_runs(paths) + polars_runs(paths)
    for r in results:
        r["mb_per_s"] = r["bytes"] / r["median_s"] / 1e6
    print(f"{'format':8} {'query':8} {'engine':8} {'thr':>3} {'median s':>9} {'MB/s':>8} {'vs duckdb':>9} {'vs polars':>9}  answer")
    for fmt in ["csv", "jsonl", "parquet"]:
        for q in ["count", "filter", "sum_avg", "like"]:
            base = {r["engine"]: r for r in results if r["format"] == fmt and r["query"] == q and r["threads"] == 1}
            for r in [r for r in results if r["format"] == fmt and r["query"] == q]:
                d = base.get("duckdb", {}).get("median_s")
                p = base.get("polars", {}).get("median_s")
                rd = f"{d / r['median_s']:.2f}x" if d else "-"
                rp = f"{p / r['median_s']:.2f}x" if p else "-"
                print(f"{fmt:8} {q:8} {r['engine']:8} {r['threads']:>3} {r['median_s']:>9.3f} {r['mb_per_s']:>8.0f} {rd:>9} {rp:>9}  {r['answer']}")
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
