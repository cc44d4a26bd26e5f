//! Aurora clusters on the replicated volume: the sysbench-like point select and point update
//! through one writer, N writers on disjoint keys, writers on overlapping keys (conflict rate),
//! reader lag under load and failover time.
//!
//! `realtime` runs the same point update on the system clock (`Driver::RealTime`: every commit
//! really waits the volume's 2 ms quorum round), through 1–16 sessions on one writer (group
//! commit lets their waits overlap) and through 1 and 2 multi-master writers, and prints
//! commits per second as `realtime:` lines.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-cluster cargo bench -p nubis-benches --bench aurora_cluster`
//! (`-- realtime` for the system-clock figures alone).
//! Criterion measures wall time (the CPU cost of the engine plus the simulated six-copy fleet);
//! figures on the cluster's manual clock (commit latency, lag, failover) are printed once as
//! `clock:` lines and the conflict rate as a `stat:` line.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterSession, Driver, Endpoint};
use nubis_core::{Clock, Env, ManualClock};

const ROWS: i64 = 10_000;

fn cluster(config: ClusterConfig) -> (ManualClock, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(&env, config, Driver::Manual(clock.clone())).expect("cluster");
    (clock, c)
}

fn load(s: &mut ClusterSession) {
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

fn one_writer(c: &mut Criterion) {
    let (clock, cl) = cluster(ClusterConfig::new("bench"));
    let mut s = cl.connect(Endpoint::Cluster).expect("connect");
    load(&mut s);
    let mut g = c.benchmark_group("aurora_cluster/one_writer");
    g.throughput(Throughput::Elements(1));
    let mut i = 0i64;
    g.bench_function("point_select", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            black_box(
                s.execute_with(
                    "SELECT c FROM sbtest WHERE id = $1",
                    &[Value::Int4(i as i32)],
                )
                .expect("select"),
            );
        })
    });
    g.bench_function("point_update_commit_at_vdl", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            black_box(
                s.execute_with(
                    "UPDATE sbtest SET k = k + 1 WHERE id = $1",
                    &[Value::Int4(i as i32)],
                )
                .expect("update"),
            );
        })
    });
    g.finish();
    let t0 = clock.now();
    for j in 0..100 {
        s.execute_with(
            "UPDATE sbtest SET k = k + 1 WHERE id = $1",
            &[Value::Int4(j)],
        )
        .expect("update");
    }
    let per = clock.now().duration_since(t0).unwrap_or_default() / 100;
    println!("clock: one-row update transaction latency (commit at the VDL) = {per:?}");
}

/// `writers` threads, each updating its own key range through its own writer.
fn run_writers(
    cl: &Cluster,
    writers: usize,
    per_writer: usize,
    overlapping: bool,
) -> (usize, usize) {
    let names: Vec<String> = (1..=writers).map(|i| format!("mm-instance-{i}")).collect();
    let handles: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(w, name)| {
            let cl = cl.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                let mut s = cl.connect(Endpoint::Instance(name)).expect("connect");
                let (mut ok, mut conflicts) = (0, 0);
                let range = ROWS as usize / writers;
                for n in 0..per_writer {
                    let key = if overlapping {
                        (n * 31 + w * 7) % 64
                    } else {
                        w * range + (n * 131) % range
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
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

fn multi_master(c: &mut Criterion) {
    let mut g = c.benchmark_group("aurora_cluster/multi_master");
    for writers in [1usize, 2] {
        let (_clock, cl) = cluster(ClusterConfig::new("mm").multi_master());
        for i in 2..=writers {
            cl.add_writer(&format!("mm-instance-{i}")).expect("writer");
        }
        let mut s = cl.connect(Endpoint::Cluster).expect("connect");
        load(&mut s);
        drop(s);
        cl.advance(Duration::from_millis(50));
        let per = 200;
        g.throughput(Throughput::Elements((writers * per) as u64));
        g.bench_function(format!("{writers}_writers_disjoint_keys"), |b| {
            b.iter(|| black_box(run_writers(&cl, writers, per, false)))
        });
        if writers == 2 {
            let (ok, conflicts) = run_writers(&cl, writers, 500, true);
            println!(
                "stat: 2 writers on 64 overlapping keys: {ok} committed, {conflicts} conflicts (40001), conflict rate {:.1}%",
                100.0 * conflicts as f64 / (ok + conflicts) as f64
            );
            let (ok, conflicts) = run_writers(&cl, writers, 500, false);
            println!("stat: 2 writers on disjoint keys: {ok} committed, {conflicts} conflicts");
        }
    }
    g.finish();
}

fn lag_and_failover(_c: &mut Criterion) {
    let (clock, cl) = cluster(ClusterConfig::new("lag"));
    cl.add_reader("lag-r1", 0).expect("reader");
    let mut s = cl.connect(Endpoint::Cluster).expect("connect");
    load(&mut s);
    let mut worst = Duration::ZERO;
    for j in 0..500 {
        s.execute_with(
            "UPDATE sbtest SET k = k + 1 WHERE id = $1",
            &[Value::Int4(j)],
        )
        .expect("update");
        worst = worst.max(cl.replica_lag("lag-r1").expect("lag"));
    }
    println!(
        "clock: reader lag under a continuous update load: max {worst:?} (stream latency 10 ms)"
    );
    let t0 = clock.now();
    let report = cl
        .crash_instance("lag-instance-1")
        .expect("crash")
        .expect("failover");
    println!(
        "clock: failover after a writer crash ({} rows): {:?} until the new writer accepted work (quorum recovery {:?}, {} pages read)",
        ROWS,
        clock.now().duration_since(t0).unwrap_or_default(),
        report.recovery.duration,
        report.pages_read
    );
}

/// Sessions per writer, each updating its own keys on the system clock for `secs` seconds;
/// returns (commits, conflicts, seconds).
fn realtime_run(
    cl: &Cluster,
    writers: &[String],
    sessions: usize,
    overlapping: bool,
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
                    let key = if overlapping {
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
    let secs = clock
        .now()
        .duration_since(t0)
        .unwrap_or_default()
        .as_secs_f64();
    (ok, conflicts, secs)
}

fn realtime(c: &mut Criterion) {
    // Only when asked for (`-- realtime`) or when running everything.
    let _ = c;
    let secs = std::env::var("REALTIME_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let env = Env::default();
    let cl = Cluster::create(&env, ClusterConfig::new("rt"), Driver::RealTime).expect("cluster");
    let mut s = cl.connect(Endpoint::Cluster).expect("connect");
    load(&mut s);
    drop(s);
    let writer = vec!["rt-instance-1".to_string()];
    let mut one = 0.0;
    for sessions in [1usize, 2, 4, 8, 16] {
        let (ok, _, t) = realtime_run(&cl, &writer, sessions, false, secs);
        let rate = ok as f64 / t;
        if sessions == 1 {
            one = rate;
        }
        println!(
            "realtime: one writer, {sessions:>2} sessions, disjoint keys: {rate:>8.0} commits/s ({:.2}x one session)",
            rate / one.max(1.0)
        );
    }
    let mut base = 0.0;
    for writers in [1usize, 2] {
        let cl = Cluster::create(
            &env,
            ClusterConfig::new("rtmm").multi_master(),
            Driver::RealTime,
        )
        .expect("cluster");
        let names: Vec<String> = (1..=writers)
            .map(|i| format!("rtmm-instance-{i}"))
            .collect();
        for name in names.iter().skip(1) {
            cl.add_writer(name).expect("writer");
        }
        let mut s = cl.connect(Endpoint::Cluster).expect("connect");
        load(&mut s);
        drop(s);
        cl.advance(Duration::from_millis(50));
        let (ok, _, t) = realtime_run(&cl, &names, 4, false, secs);
        let rate = ok as f64 / t;
        if writers == 1 {
            base = rate;
        }
        println!(
            "realtime: {writers} multi-master writer(s) x 4 sessions, disjoint keys: {rate:>8.0} commits/s ({:.2}x one writer)",
            rate / base.max(1.0)
        );
        if writers == 2 {
            let (ok, conflicts, t) = realtime_run(&cl, &names, 4, true, secs);
            println!(
                "realtime: 2 multi-master writers x 4 sessions, 64 overlapping keys: {:>8.0} commits/s, {conflicts} conflicts (40001) of {} updates = {:.1}%",
                ok as f64 / t,
                ok + conflicts,
                100.0 * conflicts as f64 / (ok + conflicts).max(1) as f64
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    targets = one_writer, multi_master, lag_and_failover
}
criterion_group!(realtime_benches, realtime);

fn main() {
    // `cargo bench --bench aurora_cluster -- realtime` runs the system-clock figures alone.
    let only_realtime = std::env::args().skip(1).any(|a| a == "realtime");
    if !only_realtime {
        benches();
    }
    realtime_benches();
    Criterion::default().configure_from_args().final_summary();
}
