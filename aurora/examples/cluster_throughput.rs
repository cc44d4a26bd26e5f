//! Commits per second through one writer on the system clock (`Driver::RealTime`: every commit
//! really waits the volume's 2 ms quorum round), with 1–16 concurrent sessions updating disjoint
//! keys, and through two multi-master writers. Prints one line per configuration with the load
//! average, for before/after comparisons on a shared machine.
//!
//! Run: `cargo run --release -p nubis-aurora --example cluster_throughput -- [seconds=3]`

use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::Env;

const ROWS: i64 = 10_000;

fn load(cl: &Cluster) {
    let mut s = cl.connect(Endpoint::Cluster).expect("connect");
    s.execute("CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c text NOT NULL)")
        .expect("create");
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("({i}, {}, 'row-{i}')", i % 97))
            .collect();
        s.execute(&format!("INSERT INTO sbtest VALUES {}", values.join(",")))
            .expect("load");
    }
}

/// (commits, conflicts, seconds) of `sessions` threads per writer for `secs` seconds.
fn run(
    cl: &Cluster,
    writers: &[String],
    sessions: usize,
    overlap: bool,
    secs: u64,
) -> (u64, u64, f64) {
    let clock = cl.env().clock.clone();
    let t0 = clock.now();
    let end = t0 + Duration::from_secs(secs);
    let total = writers.len() * sessions;
    let handles: Vec<_> = (0..total)
        .map(|n| {
            let cl = cl.clone();
            let writer = writers[n % writers.len()].clone();
            let clock = clock.clone();
            std::thread::spawn(move || {
                let mut s = cl.connect(Endpoint::Instance(writer)).expect("connect");
                let range = ROWS as usize / total;
                let (mut ok, mut conflicts, mut j) = (0u64, 0u64, 0usize);
                while clock.now() < end {
                    j += 1;
                    let key = if overlap {
                        (j * 31 + n * 7) % 64
                    } else {
                        n * range + (j * 131) % range
                    };
                    match s.execute_with(
                        "UPDATE sbtest SET k = k + 1 WHERE id = $1",
                        &[Value::Int4(key as i32)],
                    ) {
                        Ok(_) => ok += 1,
                        Err(e) if e.sqlstate() == "40001" => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                (ok, conflicts)
            })
        })
        .collect();
    let (ok, conflicts) = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let t = clock
        .now()
        .duration_since(t0)
        .unwrap_or_default()
        .as_secs_f64();
    (ok, conflicts, t)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let env = Env::default();
    let cl = Cluster::create(&env, ClusterConfig::new("rt"), Driver::RealTime).expect("cluster");
    load(&cl);
    let writer = vec!["rt-instance-1".to_string()];
    for sessions in [1usize, 4, 16] {
        let (ok, _, t) = run(&cl, &writer, sessions, false, secs);
        println!(
            "one writer, {sessions:>2} sessions, disjoint keys: {:>7.0} commits/s (load {})",
            ok as f64 / t,
            loadavg()
        );
    }
    for writers in [1usize, 2] {
        let cl = Cluster::create(
            &env,
            ClusterConfig::new("mm").multi_master(),
            Driver::RealTime,
        )
        .expect("cluster");
        let names: Vec<String> = (1..=writers).map(|i| format!("mm-instance-{i}")).collect();
        for name in names.iter().skip(1) {
            cl.add_writer(name).expect("writer");
        }
        load(&cl);
        cl.advance(Duration::from_millis(50));
        let (ok, _, t) = run(&cl, &names, 4, false, secs);
        println!(
            "{writers} multi-master writer(s) x 4 sessions, disjoint keys: {:>7.0} commits/s (load {})",
            ok as f64 / t,
            loadavg()
        );
        if writers == 2 {
            let (ok, conflicts, t) = run(&cl, &names, 4, true, secs);
            println!(
                "2 multi-master writers x 4 sessions, 64 overlapping keys: {:>7.0} commits/s, {conflicts} of {} updates got 40001 ({:.1}%) (load {})",
                ok as f64 / t,
                ok + conflicts,
                100.0 * conflicts as f64 / (ok + conflicts).max(1) as f64,
                loadavg()
            );
        }
    }
}
