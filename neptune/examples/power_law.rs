//! Writes a generated power-law graph as Neptune Gremlin CSV and, with `--bench N`, times the
//! engine on it: bulk load and N 1-hop, 2-hop and filtered 3-hop counts from the same persons
//! the Kùzu peer script queries (`benches/scripts/neptune_kuzu.py`). Prints one JSON line.
//!
//! ```text
//! cargo run --release -p nubis-neptune --example power_law -- 1000000 /tmp/pl --bench 200
//! ```

use std::collections::HashMap;
use std::time::Instant;

use nubis_core::{Env, ManualClock};
use nubis_neptune::generate::PowerLaw;
use nubis_neptune::loader::{LoadRequest, load_csv};
use nubis_neptune::store::Graph;
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
    };
    let t = Instant::now();
    let mut g = Graph::new();
    load_csv(&mut g, v.as_bytes(), "vertices.csv", &req);
    let s = load_csv(&mut g, e.as_bytes(), "edges.csv", &req);
    g.compact();
    let load_s = t.elapsed().as_secs_f64();
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
    println!("{out}");
}
