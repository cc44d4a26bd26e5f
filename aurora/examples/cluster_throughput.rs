//! Commits per second through one writer on the system clock (`Driver::RealTime`: every commit
//! really waits the volume's 2 ms quorum round), with 1–16 concurrent sessions updating disjoint
//! keys, and through one and two multi-master writers on disjoint and on overlapping keys
//! (conflict rate). Prints one line per configuration with the load average, for before/after
//! comparisons on a shared machine. The workload is [`nubis_aurora::cluster::workload`], the one
//! the `aurora_cluster` benchmark runs.
//!
//! Run: `cargo run --release -p nubis-aurora --example cluster_throughput -- [seconds=3] [sessions per writer=4]`

use std::time::Duration;

use nubis_aurora::cluster::workload::{self, Budget};
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterResult, Driver, Endpoint};
use nubis_core::Env;

fn main() -> ClusterResult<()> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let per_writer: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    let budget = Budget::For(Duration::from_secs(secs));
    let env = Env::default();
    let cl = Cluster::create(&env, ClusterConfig::new("rt"), Driver::RealTime)?;
    workload::load(&mut cl.connect(Endpoint::Cluster)?)?;
    let writer = vec!["rt-instance-1".to_string()];
    for sessions in [1usize, 4, 16] {
        let r = workload::run(&cl, &writer, sessions, false, budget)?;
        println!(
            "one writer, {sessions:>2} sessions, disjoint keys: {:>7.0} commits/s (load {})",
            r.rate(),
            workload::load_average()
        );
    }
    let mut one = 0.0;
    for writers in [1usize, 2] {
        let (cl, names) = workload::multi_master(&env, "mm", writers, Driver::RealTime)?;
        let r = workload::run(&cl, &names, per_writer, false, budget)?;
        if writers == 1 {
            one = r.rate();
        }
        println!(
            "{writers} multi-master writer(s) x {per_writer} sessions, disjoint keys: {:>7.0} commits/s ({:.2}x one writer) (load {})",
            r.rate(),
            r.rate() / one.max(1.0),
            workload::load_average()
        );
        if writers == 2 {
            let r = workload::run(&cl, &names, per_writer, true, budget)?;
            println!(
                "2 multi-master writers x {per_writer} sessions, {} overlapping keys: {:>7.0} commits/s, {} of {} updates got 40001 ({:.1}%) (load {})",
                workload::OVERLAPPING_KEYS,
                r.rate(),
                r.conflicts,
                r.commits + r.conflicts,
                r.conflict_percent(),
                workload::load_average()
            );
        }
    }
    Ok(())
}
