//! Writes a generated power-law graph as Neptune Gremlin CSV and, with `--bench N`, times the
//! engine on it: bulk load and N 1-hop, 2-hop and filtered 3-hop counts from the same persons
//! the Kùzu peer script queries (`benches/scripts/neptune_kuzu.py`). Prints one JSON line.
//!
//! ```text
//! cargo run --release -p nubis-neptune --example power_law -- 1000000 /tmp/pl --bench 200 [--threads N]
//! ```
//!
//! `--threads N` resolves the edge file on N threads (default: the loader's own choice, a thread
//! per vCPU for a large file).

use std::collections::HashMap;
use std::time::Instant;

use nubis_core::{Env, ManualClock};
use nubis_neptune::generate::PowerLaw;
use nubis_neptune::loader::{LoadRequest, Parallelism, load_csv, load_csv_threads};
use nubis_neptune::store::{Direction, Graph};
use nubis_neptune::{Database, DbOptions};

/// The person sequence both engines query: an LCG over person indexes.
fn persons(n: usize, count: usize) -> Vec<String> {
    let mut i: u64 = 0;
    (0..count)
        .map(|_| {
            i = (i * 2_654_435_761 + 12_345) % n as u64;
            format!("p{i}")
        })
        .collect()
}

/// CPU time of this thread in seconds (Linux `schedstat`; 0 elsewhere). Under a loaded machine
/// wall time mostly measures the other processes, so load figures are given in both.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

/// CPU time of the whole process (every thread, finished ones included) in seconds, from
/// `/proc/self/stat` (clock ticks of 10 ms; 0 elsewhere).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15, so 11 and 12 after the state.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

// Benchmarks measure wall time; the engine itself never reads it.
#[allow(clippy::disallowed_methods)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let edges: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/neptune-power-law".into());
    let bench: Option<usize> = args
        .iter()
        .position(|a| a == "--bench")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let threads: Option<usize> = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let spec = PowerLaw { edges, seed: 42 };
    let (v, e) = spec.csv();
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(format!("{dir}/vertices.csv"), &v).is_err()
        || std::fs::write(format!("{dir}/edges.csv"), &e).is_err()
    {
        eprintln!("cannot write to {dir}");
        std::process::exit(1);
    }
    let Some(n) = bench else { return };
    let req = LoadRequest {
        source: "s3://bench/".into(),
        format: "csv".into(),
        fail_on_error: true,
        update_single_cardinality_properties: false,
        parallelism: Parallelism::High,
    };
    let (t, c0) = (Instant::now(), cpu_seconds());
    let mut g = Graph::new();
    load_csv(&mut g, v.as_bytes(), "vertices.csv", &req);
    let c1 = cpu_seconds();
    let (te, p1) = (Instant::now(), process_cpu_seconds());
    let s = match threads {
        Some(n) => load_csv_threads(&mut g, e.as_bytes(), "edges.csv", &req, n),
        None => load_csv(&mut g, e.as_bytes(), "edges.csv", &req),
    };
    // A large edge file compacts as it loads; compact here only if it did not.
    if g.needs_compaction() || g.edge_count() < 1 << 16 {
        g.compact();
    }
    let (edge_wall, edge_process_cpu) = (te.elapsed().as_secs_f64(), process_cpu_seconds() - p1);
    let load_s = t.elapsed().as_secs_f64();
    let c2 = cpu_seconds();
    let (vertex_cpu, edge_cpu) = (c1 - c0, c2 - c1);
    let mem = g.memory();
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let db = Database::new(env.clock.clone(), env.ids.clone(), DbOptions::default());
    db.publish(g);
    let ids = persons(spec.persons(), n);
    let none = HashMap::new();
    let mut out = serde_json::json!({
        "edges": edges,
        "loaded_edges": s.edges,
        "load_seconds": load_s,
        "load_edges_per_second": s.edges as f64 / load_s,
        "load_cpu_seconds": vertex_cpu + edge_cpu,
        "load_edges_per_cpu_second": s.edges as f64 / (vertex_cpu + edge_cpu),
        "edge_file_cpu_seconds": edge_cpu,
        "edge_file_edges_per_cpu_second": s.edges as f64 / edge_cpu,
        "edge_file_threads": threads,
        "edge_file_wall_seconds": edge_wall,
        "edge_file_edges_per_second": s.edges as f64 / edge_wall,
        "edge_file_process_cpu_seconds": edge_process_cpu,
        "edge_file_edges_per_process_cpu_second": s.edges as f64 / edge_process_cpu,
        "adjacency_bytes_per_edge": mem.adjacency as f64 / edges as f64,
        "total_bytes_per_edge": (mem.adjacency + mem.edge_columns + mem.edge_ids_and_props + mem.vertices) as f64 / edges as f64,
    });
    for (name, q) in [
        ("hop1", "g.V('{}').out('knows').count()"),
        ("hop2", "g.V('{}').out('knows').out('knows').count()"),
        (
            "hop3_filtered",
            "g.V('{}').out('knows').has('age', gt(40)).out('knows').out('created').count()",
        ),
    ] {
        let mut times = Vec::new();
        let mut total = 0i64;
        for id in &ids {
            let t = Instant::now();
            let r = db.execute(&q.replace("{}", id), &none, "bench", None);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if let Ok(r) = r {
                total += r.values.first().and_then(|v| v.as_i64()).unwrap_or(0);
            }
        }
        out[format!("{name}_median_ms")] = serde_json::json!(median(times));
        out[format!("{name}_total")] = serde_json::json!(total);
    }
    // Raw expansion: every person's out-edges, edges visited per CPU second.
    let snap = db.snapshot();
    let persons_n = spec.persons() as u32;
    let mut visited = 0u64;
    let mut sum = 0u64;
    let c = cpu_seconds();
    let mut rounds = 0;
    while rounds < 3 || (cpu_seconds() - c) < 0.5 {
        for v in 0..persons_n {
            snap.for_each_adjacent(v, Direction::Out, &[], &mut |n, _| {
                sum = sum.wrapping_add(u64::from(n));
                visited += 1;
            });
        }
        rounds += 1;
    }
    let secs = cpu_seconds() - c;
    out["expansion_edges_per_cpu_second"] = serde_json::json!(visited as f64 / secs);
    out["expansion_checksum"] = serde_json::json!(sum % 1000);
    // Shortest path over `knows` between pairs of the same person sequence.
    let knows = snap.symbols().lookup("knows").unwrap_or(0);
    let mut times = Vec::new();
    let mut found = 0;
    for pair in ids.chunks(2) {
        let (Some(a), Some(b)) = (
            pair.first()
                .and_then(|p| snap.vertex_by_id(&nubis_neptune::Value::str(p))),
            pair.get(1)
                .and_then(|p| snap.vertex_by_id(&nubis_neptune::Value::str(p))),
        ) else {
            continue;
        };
        let t = Instant::now();
        let p = snap.shortest_path(a, b, Direction::Out, &[knows]);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found += usize::from(p.is_some());
    }
    out["shortest_path_median_ms"] = serde_json::json!(median(times));
    out["shortest_path_found"] = serde_json::json!(found);
    println!("{out}");
}
