#!/usr/bin/env python3
"""Neptune engine vs Kùzu, side by side, on the same generated power-law graph and queries.

Usage: python3 benches/scripts/neptune_kuzu.py [EDGES] [RUNS]   (defaults: 1000000 edges, 5 runs)
Set NEPTUNE_POWER_LAW_BIN to a built `power_law` example to skip `cargo run`.

Generates the graph with the engine's `power_law` example (Neptune Gremlin CSV), times the engine
(bulk load; 1-hop, 2-hop and filtered 3-hop counts from 200 persons, median per query) and then
Kùzu (PyPI `kuzu`, one thread) on the same data and the same persons, and prints medians over
RUNS runs and the ratios. Both sides check they count the same totals.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import kuzu

EDGES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
QUERIES = 200
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def persons(n, count):
    i, out = 0, []
    for _ in range(count):
        i = (i * 2654435761 + 12345) % n
        out.append(f"p{i}")
    return out


def run_engine(d):
    # NEPTUNE_POWER_LAW_BIN runs a prebuilt example binary instead of `cargo run` (useful when
    # another build holds the target directory's lock).
    prebuilt = os.environ.get("NEPTUNE_POWER_LAW_BIN")
    args = [str(EDGES), d, "--bench", str(QUERIES)]
    cmd = [prebuilt, *args] if prebuilt else ["cargo", "run", "-q", "--release", "-p", "nubis-neptune", "--example", "power_law", "--", *args]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_kuzu(d):
    persons_csv, posts_csv, knows_csv, created_csv = (os.path.join(d, f) for f in ("k_person.csv", "k_post.csv", "k_knows.csv", "k_created.csv"))
    if not os.path.exists(knows_csv):
        with open(os.path.join(d, "vertices.csv")) as f, open(persons_csv, "w") as pf, open(posts_csv, "w") as qf:
            r = csv.reader(f)
            next(r)
            for vid, label, age in r:
                (pf.write(f"{vid},{age}\n") if label == "person" else qf.write(f"{vid}\n"))
        with open(os.path.join(d, "edges.csv")) as f, open(knows_csv, "w") as kf, open(created_csv, "w") as cf:
            r = csv.reader(f)
            next(r)
            for _, a, b, label in r:
                (kf if label == "knows" else cf).write(f"{a},{b}\n")
    db_dir = tempfile.mkdtemp(prefix="kuzu-")
    db = kuzu.Database(os.path.join(db_dir, "db"))
    conn = kuzu.Connection(db, num_threads=1)
    conn.execute("CREATE NODE TABLE Person(id STRING, age INT64, PRIMARY KEY(id))")
    conn.execute("CREATE NODE TABLE Post(id STRING, PRIMARY KEY(id))")
    conn.execute("CREATE REL TABLE Knows(FROM Person TO Person)")
    conn.execute("CREATE REL TABLE Created(FROM Person TO Post)")
    t = time.perf_counter()
    conn.execute(f"COPY Person FROM '{persons_csv}' (HEADER=false)")
    conn.execute(f"COPY Post FROM '{posts_csv}' (HEADER=false)")
    conn.execute(f"COPY Knows FROM '{knows_csv}' (HEADER=false)")
    conn.execute(f"COPY Created FROM '{created_csv}' (HEADER=false)")
    load = time.perf_counter() - t
    out = {"load_seconds": load, "load_edges_per_second": EDGES / load}
    n_persons = max(EDGES // 10, 2)
    ids = persons(n_persons, QUERIES)
    qs = {
        "hop1": "MATCH (a:Person {id: $id})-[:Knows]->(b:Person) RETURN count(*)",
        "hop2": "MATCH (a:Person {id: $id})-[:Knows]->(b:Person)-[:Knows]->(c:Person) RETURN count(*)",
        "hop3_filtered": "MATCH (a:Person {id: $id})-[:Knows]->(b:Person)-[:Knows]->(c:Person)-[:Created]->(p:Post) WHERE b.age > 40 RETURN count(*)",
    }
    for name, q in qs.items():
        stmt = conn.prepare(q)
        times, total = [], 0
        for pid in ids:
            t = time.perf_counter()
            res = conn.execute(stmt, {"id": pid})
            total += res.get_next()[0]
            times.append((time.perf_counter() - t) * 1e3)
        out[f"{name}_median_ms"] = statistics.median(times)
        out[f"{name}_total"] = total
    return out


def main():
    d = tempfile.mkdtemp(prefix="neptune-kuzu-")
    eng, kz = [], []
    for _ in range(RUNS):
        eng.append(run_engine(d))
        kz.append(run_kuzu(d))
    keys = ["load_edges_per_second", "hop1_median_ms", "hop2_median_ms", "hop3_filtered_median_ms"]
    print(f"edges={EDGES} runs={RUNS} queries={QUERIES} adjacency_bytes_per_edge={eng[0]['adjacency_bytes_per_edge']:.2f} total_bytes_per_edge={eng[0]['total_bytes_per_edge']:.2f}")
    for k in ("hop1_total", "hop2_total", "hop3_filtered_total"):
        if eng[0][k] != kz[0][k]:
            print(f"WARNING: {k} differs: engine {eng[0][k]} kuzu {kz[0][k]}")
    print(f"{'metric':28} {'nubis':>14} {'kuzu':>14} {'ratio':>8}")
    for k in keys:
        a = statistics.median(r[k] for r in eng)
        b = statistics.median(r[k] for r in kz)
        ratio = (a / b) if k.startswith("load") else (b / a if a else float("inf"))
        print(f"{k:28} {a:14.4f} {b:14.4f} {ratio:7.2f}x")
    print("ratio > 1 means nubis is faster")


if __name__ == "__main__":
    main()
