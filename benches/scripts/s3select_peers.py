#!/usr/bin/env python3
"""S3 Select side by side with DuckDB and Polars (one thread each).

Writes the same rows as CSV, JSON lines and Parquet (about SIZE_MB of CSV, default 1024) under
WORKDIR (default /work/s3data), times the four queries of issue 5 through the Nubis engine
in-process (the `select_bench` example of nubis-s3select, on 1 and 2 threads) and through DuckDB
(`SET threads=1`) and Polars (`POLARS_MAX_THREADS=1`), checks that every engine gives the same
answer, and prints a table of medians, MB/s and ratios (results also in WORKDIR/results.json).

Usage: python3 benches/scripts/s3select_peers.py [SIZE_MB] [WORKDIR]
Env:   S3SELECT_RUNS (default 5), S3SELECT_THREADS (default 1,2), S3SELECT_FORMATS
       (default csv,jsonl,parquet), CARGO_TARGET_DIR, S3SELECT_BENCH_BIN (a prebuilt
       select_bench binary instead of building it).
Needs: pip install duckdb polars pyarrow (e.g. in a throwaway venv).
"""
import json
import math
import os
import subprocess
import sys
import time

os.environ["POLARS_MAX_THREADS"] = "1"

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

SIZE_MB = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
WORK = sys.argv[2] if len(sys.argv) > 2 else "/work/s3data"
RUNS = int(os.environ.get("S3SELECT_RUNS", "5"))
FORMATS = os.environ.get("S3SELECT_FORMATS", "csv,jsonl,parquet").split(",")
WORDS = ["alpha", "bravo", "zebra", "delta", "echo", "foxtrot", "golf", "hotel"]
MASK = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def row(i):
    """Row i, exactly as benches/benches/s3select.rs generates it."""
    h = ((i * 0x9E3779B97F4A7C15) & MASK) >> 16
    note = f"{WORDS[h % 8]} {WORDS[(h >> 3) % 8]} {WORDS[(h >> 6) % 7]}"
    return (
        f"{i},name_{h % 1_000_003:x},cat_{h % 50},{(h >> 8) % 1000}.{(h >> 20) % 100:02d},"
        f"{(h >> 12) % 100},2024-{(h >> 4) % 12 + 1:02d}-{(h >> 9) % 28 + 1:02d}T"
        f"{(h >> 14) % 24:02d}:{(h >> 18) % 60:02d}:00Z,{note}\n"
    )


def generate():
    os.makedirs(WORK, exist_ok=True)
    csv_path = os.path.join(WORK, "data.csv")
    target = SIZE_MB << 20
    if not (os.path.exists(csv_path) and abs(os.path.getsize(csv_path) - target) < target // 50 + 4096):
        print(f"writing {csv_path} ({SIZE_MB} MB)", file=sys.stderr)
        with open(csv_path + ".tmp", "w") as f:
            f.write("id,name,category,price,qty,ts,note\n")
            size, i = 0, 0
            while size < target:
                chunk = "".join(row(j) for j in range(i, i + 100_000))
                f.write(chunk)
                size += len(chunk)
                i += 100_000
        os.replace(csv_path + ".tmp", csv_path)
    jsonl = os.path.join(WORK, "data.jsonl")
    pq = os.path.join(WORK, "data.parquet")
    src = f"read_csv('{csv_path}', header=true, types={{'id': 'BIGINT', 'qty': 'BIGINT', 'price': 'DOUBLE', 'ts': 'VARCHAR'}})"
    con = duckdb.connect()
    for path, opts in [(jsonl, "FORMAT JSON"), (pq, "FORMAT PARQUET, ROW_GROUP_SIZE 122880")]:
        if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(csv_path):
            print(f"writing {path}", file=sys.stderr)
            con.execute(f"COPY (SELECT * FROM {src}) TO '{path}' ({opts})")
    return {"csv": csv_path, "jsonl": jsonl, "parquet": pq}


def timed(fn):
    """Median wall and CPU seconds (this process, all threads) of RUNS calls, and the answer."""
    times, cpu, answer = [], [], None
    for _ in range(RUNS):
        t, c = time.perf_counter(), time.process_time()
        answer = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    times.sort()
    cpu.sort()
    return times[len(times) // 2], cpu[len(cpu) // 2], answer


def duckdb_runs(paths):
    con = duckdb.connect()
    con.execute("SET threads=1")
    out = []
    for fmt, path in paths.items():
        src = {
            "csv": f"read_csv('{path}', header=true, types={{'ts': 'VARCHAR'}})",
            "jsonl": f"read_json('{path}', format='newline_delimited')",
            "parquet": f"read_parquet('{path}')",
        }[fmt]
        qs = {
            "count": f"SELECT COUNT(*) FROM {src}",
            # The rows themselves are fetched, as Nubis writes them out: counting them instead
            # would let DuckDB's optimiser drop the projected columns without reading them.
            "filter": f"SELECT id, name FROM {src} WHERE category = 'cat_7' AND CAST(qty AS INT) > 90",
            "sum_avg": f"SELECT SUM(CAST(price AS DOUBLE)), AVG(CAST(qty AS INT)) FROM {src}",
            "like": f"SELECT COUNT(*) FROM {src} WHERE note LIKE '%zebra%'",
        }
        for name, sql in qs.items():
            if name == "filter":
                med, cpu, ans = timed(lambda: (len(con.execute(sql).fetchall()),))
            else:
                med, cpu, ans = timed(lambda: con.execute(sql).fetchone())
            out.append({"engine": "duckdb", "format": fmt, "threads": 1, "query": name,
                        "bytes": os.path.getsize(path), "median_s": med, "median_cpu_s": cpu, "answer": list(ans)})
            print(json.dumps(out[-1]), file=sys.stderr)
    return out


def polars_runs(paths):
    out = []
    for fmt, path in paths.items():
        def scan(fmt=fmt, path=path):
            if fmt == "csv":
                return pl.scan_csv(path, schema_overrides={"ts": pl.Utf8})
            if fmt == "jsonl":
                return pl.scan_ndjson(path)
            return pl.scan_parquet(path)
        qs = {
            "count": lambda: scan().select(pl.len()).collect().row(0),
            "filter": lambda: scan().filter((pl.col("category") == "cat_7") & (pl.col("qty").cast(pl.Int64) > 90)).select("id", "name").collect().height,
            "sum_avg": lambda: scan().select(pl.col("price").cast(pl.Float64).sum(), pl.col("qty").cast(pl.Int64).mean()).collect().row(0),
            "like": lambda: scan().filter(pl.col("note").str.contains("zebra", literal=True)).select(pl.len()).collect().row(0),
        }
        for name, q in qs.items():
            med, cpu, ans = timed(q)
            out.append({"engine": "polars", "format": fmt, "threads": 1, "query": name,
                        "bytes": os.path.getsize(path), "median_s": med, "median_cpu_s": cpu,
                        "answer": [ans] if isinstance(ans, int) else list(ans)})
            print(json.dumps(out[-1]), file=sys.stderr)
    return out


def nubis_runs():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    env = dict(os.environ, S3SELECT_RUNS=str(RUNS), S3SELECT_FORMATS=",".join(FORMATS), CARGO_TARGET_DIR=target)
    exe = os.environ.get("S3SELECT_BENCH_BIN")
    if not exe:
        build = ["cargo", "build", "--release", "-q", "-p", "nubis-s3select", "--example", "select_bench"]
        subprocess.run(build, cwd=REPO, env=env, check=True)
        exe = os.path.join(target, "release", "examples", "select_bench")
    out = []
    with subprocess.Popen([exe, WORK], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            if line.startswith("{"):
                r = json.loads(line)
                print(line.strip(), file=sys.stderr)
                a = r["answer"]
                r["answer"] = [int(a.split()[0])] if a.endswith(" rows") else [float(x) for x in a.split(",")]
                out.append(r)
    if proc.returncode != 0:
        sys.exit(f"select_bench failed with {proc.returncode}")
    return out


def same(a, b):
    return len(a) == len(b) and all(math.isclose(float(x), float(y), rel_tol=1e-9) for x, y in zip(a, b))


def main():
    paths = {f: p for f, p in generate().items() if f in FORMATS}
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results = nubis_runs() + duckdb_runs(paths) + polars_runs(paths)
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    mismatches = 0
    print(f"load before: {load}\nload after:  {load_after}\nruns per figure: {RUNS} (median)")
    print("wall = median wall seconds; cpu = median CPU seconds of the process (all threads);")
    print("MB/s/core = bytes / cpu; ratios compare CPU seconds with the one-thread peer (> 1: Nubis uses less)")
    print(f"{'format':8} {'query':8} {'engine':7} {'thr':>3} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'MB/s/core':>9} {'Mrows/cpu-s':>11} {'vs duckdb':>9} {'vs polars':>9}  answer")
    rows = {}
    for r in results:
        if r["query"] == "count" and r["engine"] == "duckdb":
            rows[r["format"]] = r["answer"][0]
    for fmt in FORMATS:
        for q in ["count", "filter", "sum_avg", "like"]:
            here = [r for r in results if r["format"] == fmt and r["query"] == q]
            base = {r["engine"]: r for r in here if r["threads"] == 1}
            ref = base.get("duckdb", {}).get("answer")
            for r in here:
                cpu = max(r["median_cpu_s"], 0.01)
                mbs = r["bytes"] / r["median_s"] / 1e6
                d = base.get("duckdb", {}).get("median_cpu_s")
                p = base.get("polars", {}).get("median_cpu_s")
                rd = f"{d / cpu:.2f}x" if d else "-"
                rp = f"{p / cpu:.2f}x" if p else "-"
                ok = ref is None or same(r["answer"], ref)
                mismatches += not ok
                mrows = rows.get(fmt, 0) / cpu / 1e6
                print(f"{fmt:8} {q:8} {r['engine']:7} {r['threads']:>3} {r['median_s']:>7.3f} {r['median_cpu_s']:>7.3f} {mbs:>7.0f} {r['bytes'] / cpu / 1e6:>9.0f} {mrows:>11.1f} {rd:>9} {rp:>9}  {r['answer']}{'' if ok else '  MISMATCH'}")
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump({"load_before": load, "load_after": load_after, "results": results}, f, indent=1)
    if mismatches:
        sys.exit(f"{mismatches} answers differ from DuckDB's")


if __name__ == "__main__":
    main()
