//! Aurora clusters on the replicated volume: the sysbench-like point select and point update
//! through one writer, N writers on disjoint keys, writers on overlapping keys (conflict rate),
//! reader lag under load and failover time.
//!
//! `realtime` runs the same point update on the system clock (`Driver::RealTime`: every commit
//! really waits the volume's 2 ms quorum round), through 1–16 sessions on one writer (group
//! commit lets their waits overlap) and through 1 and 2 multi-master writers, and prints
//! commits per second as `realtime:` lines.
//!
//! The workload is `nubis_aurora::cluster::workload`, shared with the `cluster_throughput`
//! example.
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
use nubis_aurora::cluster::workload::{self, Budget, ROWS};
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterSession, Driver, Endpoint};
use nubis_core::{Clock, Env, ManualClock};

fn cluster(config: ClusterConfig) -> (ManualClock, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(&env, config, Driver::Manual(clock.clone())).expect("cluster");
    (clock, c)
}

fn load(s: &mut ClusterSession) {
    workload::load(s).expect("load");
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

fn multi_master(c: &mut Criterion) {
    let mut g = c.benchmark_group("aurora_cluster/multi_master");
    for writers in [1usize, 2] {
        let clock = ManualClock::at_default_epoch();
        let env = Env::with_clock(clock.shared());
        let (cl, names) =
            workload::multi_master(&env, "mm", writers, Driver::Manual(clock)).expect("cluster");
        let per = 200;
        g.throughput(Throughput::Elements((writers * per) as u64));
        g.bench_function(format!("{writers}_writers_disjoint_keys"), |b| {
            b.iter(|| {
                black_box(
                    workload::run(&cl, &names, 1, false, Budget::Statements(per)).expect("run"),
                )
            })
        });
        if writers == 2 {
            let r =
                workload::run(&cl, &names, 1, true, Budget::Statements(500)).expect("overlapping");
            println!(
                "stat: 2 writers on {} overlapping keys: {} committed, {} conflicts (40001), conflict rate {:.1}%",
                workload::OVERLAPPING_KEYS,
                r.commits,
                r.conflicts,
                r.conflict_percent()
            );
            let r =
                workload::run(&cl, &names, 1, false, Budget::Statements(500)).expect("disjoint");
            println!(
                "stat: 2 writers on disjoint keys: {} committed, {} conflicts",
                r.commits, r.conflicts
            );
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

fn realtime(c: &mut Criterion) {
    // Only when asked for (`-- realtime`) or when running everything.
    let _ = c;
    let secs = std::env::var("REALTIME_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let budget = Budget::For(Duration::from_secs(secs));
    let env = Env::default();
    let cl = Cluster::create(&env, ClusterConfig::new("rt"), Driver::RealTime).expect("cluster");
    load(&mut cl.connect(Endpoint::Cluster).expect("connect"));
    let writer = vec!["rt-instance-1".to_string()];
    let mut one = 0.0;
    for sessions in [1usize, 2, 4, 8, 16] {
        let rate = workload::run(&cl, &writer, sessions, false, budget)
            .expect("run")
            .rate();
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
        let (cl, names) =
            workload::multi_master(&env, "rtmm", writers, Driver::RealTime).expect("cluster");
        let rate = workload::run(&cl, &names, 4, false, budget)
            .expect("run")
            .rate();
        if writers == 1 {
            base = rate;
        }
        println!(
            "realtime: {writers} multi-master writer(s) x 4 sessions, disjoint keys: {rate:>8.0} commits/s ({:.2}x one writer)",
            rate / base.max(1.0)
        );
        if writers == 2 {
            let r = workload::run(&cl, &names, 4, true, budget).expect("overlapping");
            println!(
                "realtime: 2 multi-master writers x 4 sessions, {} overlapping keys: {:>8.0} commits/s, {} conflicts (40001) of {} updates = {:.1}%",
                workload::OVERLAPPING_KEYS,
                r.rate(),
                r.conflicts,
                r.commits + r.conflicts,
                r.conflict_percent()
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
