//! Neptune engine benchmarks on a generated power-law (LDBC-like) graph.
//!
//! `cargo bench -p nubis-benches --bench neptune` runs at 1 M edges; set `NEPTUNE_BENCH_EDGES`
//! for other sizes (the `benches/scripts/neptune_bench.sh` script passes 10 M and 100 M).
//! Groups: bulk load of Gremlin CSV (edges/s), 1-hop and 2-hop neighbourhood counts from random
//! persons, a filtered 3-hop path count, and shortest path (BFS over `knows`). Memory per edge
//! is printed once (criterion measures time only).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nubis_core::{Env, ManualClock};
use nubis_neptune::generate::PowerLaw;
use nubis_neptune::loader::{LoadRequest, Parallelism, load_csv};
use nubis_neptune::store::{Direction, Graph};
use nubis_neptune::{Database, DbOptions};

fn edges() -> usize {
    std::env::var("NEPTUNE_BENCH_EDGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn db_with(g: Graph) -> Database {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let db = Database::new(env.clock.clone(), env.ids.clone(), DbOptions::default());
    db.publish(g);
    db
}

fn bench(c: &mut Criterion) {
    let n = edges();
    let spec = PowerLaw { edges: n, seed: 42 };
    let (vcsv, ecsv) = spec.csv();
    let req = LoadRequest {
        source: "s3://bench/".into(),
        format: "csv".into(),
        fail_on_error: true,
        update_single_cardinality_properties: false,
        parallelism: Parallelism::High,
    };

    let mut group = c.benchmark_group("neptune_bulk_load");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("csv_{n}_edges"), |b| {
        b.iter(|| {
            let mut g = Graph::new();
            load_csv(&mut g, vcsv.as_bytes(), "v.csv", &req);
            let s = load_csv(&mut g, ecsv.as_bytes(), "e.csv", &req);
            // A large edge file is compacted as it loads (into a fresh graph, built straight
            // into the adjacency); compact only what is left in the delta.
            if g.needs_compaction() {
                g.compact();
            }
            black_box(s.edges)
        })
    });
    group.finish();

    let g = spec.graph();
    let m = g.memory();
    let per = |b: usize| b as f64 / n as f64;
    eprintln!(
        "neptune memory at {n} edges: adjacency {:.1} B/edge (both directions), edge columns {:.1} B/edge, edge ids+props {:.1} B/edge, vertices {:.1} B/edge",
        per(m.adjacency),
        per(m.edge_columns),
        per(m.edge_ids_and_props),
        per(m.vertices)
    );
    let persons = spec.persons();
    let knows = g.symbols().lookup("knows").unwrap_or(0);
    let db = db_with(g);
    let none = HashMap::new();
    let mut i = 0usize;
    let mut next_person = || {
        i = (i * 2_654_435_761 + 12_345) % persons;
        format!("p{i}")
    };

    let mut group = c.benchmark_group("neptune_queries");
    for (name, q) in [
        ("1hop_count", "g.V('{}').out('knows').count()"),
        ("2hop_count", "g.V('{}').out('knows').out('knows').count()"),
        (
            "3hop_filtered_count",
            "g.V('{}').out('knows').has('age', gt(40)).out('knows').out('created').count()",
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let q = q.replace("{}", &next_person());
                black_box(
                    db.execute(&q, &none, "bench", None)
                        .map(|r| r.values.len())
                        .unwrap_or(0),
                )
            })
        });
    }
    let snap = db.snapshot();
    group.bench_function("shortest_path_knows", |b| {
        b.iter(|| {
            let a = snap
                .vertex_by_id(&nubis_neptune::Value::str(&next_person()))
                .unwrap_or(0);
            let z = snap
                .vertex_by_id(&nubis_neptune::Value::str(&next_person()))
                .unwrap_or(0);
            black_box(
                snap.shortest_path(a, z, Direction::Out, &[knows])
                    .map(|p| p.len()),
            )
        })
    });
    group.finish();

    // Raw neighbour expansion rate (edges visited per second) through the adjacency API.
    let mut group = c.benchmark_group("neptune_expansion");
    let total: u64 = (0..persons as u32)
        .map(|v| snap.degree(v, Direction::Out, &[]) as u64)
        .sum();
    group.throughput(Throughput::Elements(total));
    group.bench_function("out_all_persons", |b| {
        b.iter(|| {
            let mut s = 0u64;
            for v in 0..persons as u32 {
                snap.for_each_adjacent(v, Direction::Out, &[], &mut |n, _| {
                    s = s.wrapping_add(u64::from(n))
                });
            }
            black_box(s)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
