//! The sysbench-like point-update workload that the `aurora_cluster` benchmark and the
//! `cluster_throughput` example both drive: a `sbtest` table of [`ROWS`] rows, and sessions
//! spread over one or more writers, each updating keys of its own (disjoint) or 64 shared keys
//! (overlapping, so multi-master writers conflict).
//!
//! Guarantee: a run counts every statement exactly once, as a commit or as a multi-master
//! conflict (40001, retryable); any other error ends the run with that error.

use std::time::Duration;

use crate::value::Value;

use super::error::ClusterResult;
use super::{Cluster, ClusterSession, Endpoint};

/// Rows of the `sbtest` table.
pub const ROWS: i64 = 10_000;

/// Keys the overlapping workload updates (all writers share them).
pub const OVERLAPPING_KEYS: usize = 64;

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunStats {
    /// Statements that committed.
    pub commits: u64,
    /// Statements that lost a multi-master conflict (40001).
    pub conflicts: u64,
    /// Seconds on the cluster's clock the run took.
    pub seconds: f64,
}

impl RunStats {
    /// Commits per second on the clock.
    pub fn rate(&self) -> f64 {
        self.commits as f64 / self.seconds.max(f64::EPSILON)
    }

    /// Conflicts per statement, in percent.
    pub fn conflict_percent(&self) -> f64 {
        100.0 * self.conflicts as f64 / (self.commits + self.conflicts).max(1) as f64
    }
}

/// How long (or how much) each session works.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Until this much time passed on the cluster's clock (use with `Driver::RealTime`).
    For(Duration),
    /// This many statements per session (any clock).
    Statements(usize),
}

/// Creates `sbtest` and loads [`ROWS`] rows through `s`.
pub fn load(s: &mut ClusterSession) -> ClusterResult<()> {
    s.execute("CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c text NOT NULL)")?;
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("({i}, {}, 'row-{i}')", i % 97))
            .collect();
        s.execute(&format!("INSERT INTO sbtest VALUES {}", values.join(",")))?;
    }
    Ok(())
}

/// The key session `n` of `total` updates in its `j`-th statement.
fn key(n: usize, total: usize, j: usize, overlapping: bool) -> i32 {
    let k = if overlapping {
        (j * 31 + n * 7) % OVERLAPPING_KEYS
    } else {
        let range = ROWS as usize / total.max(1);
        n * range + (j * 131) % range.max(1)
    };
    k as i32
}

/// Runs `sessions` threads per writer in `writers` (session `n` on writer `n % writers`), each
/// updating its keys until `budget` is spent.
pub fn run(
    cl: &Cluster,
    writers: &[String],
    sessions: usize,
    overlapping: bool,
    budget: Budget,
) -> ClusterResult<RunStats> {
    let clock = cl.env().clock.clone();
    let t0 = clock.now();
    let total = writers.len() * sessions;
    let handles: Vec<_> = (0..total)
        .map(|n| {
            let cl = cl.clone();
            let writer = writers[n % writers.len()].clone();
            let clock = clock.clone();
            std::thread::spawn(move || -> ClusterResult<(u64, u64)> {
                let mut s = cl.connect(Endpoint::Instance(writer))?;
                let (mut ok, mut conflicts) = (0u64, 0u64);
                for j in 1.. {
                    let more = match budget {
                        Budget::For(d) => clock.now() < t0 + d,
                        Budget::Statements(count) => j <= count,
                    };
                    if !more {
                        break;
                    }
                    match s.execute_with(
                        "UPDATE sbtest SET k = k + 1 WHERE id = $1",
                        &[Value::Int4(key(n, total, j, overlapping))],
                    ) {
                        Ok(_) => ok += 1,
                        Err(e) if e.sqlstate() == "40001" => conflicts += 1,
                        Err(e) => return Err(e),
                    }
                }
                Ok((ok, conflicts))
            })
        })
        .collect();
    let mut stats = RunStats::default();
    for h in handles {
        let (ok, conflicts) = h.join().map_err(|_| super::ClusterError::Rebuild {
            reason: "a workload session panicked".into(),
        })??;
        stats.commits += ok;
        stats.conflicts += conflicts;
    }
    stats.seconds = clock
        .now()
        .duration_since(t0)
        .unwrap_or_default()
        .as_secs_f64();
    Ok(stats)
}

/// A multi-master cluster named `name` with `writers` writers (`<name>-instance-1..`) and the
/// table loaded; returns the cluster and its writers' names.
pub fn multi_master(
    env: &nubis_core::Env,
    name: &str,
    writers: usize,
    driver: super::Driver,
) -> ClusterResult<(Cluster, Vec<String>)> {
    let cl = Cluster::create(env, super::ClusterConfig::new(name).multi_master(), driver)?;
    let names: Vec<String> = (1..=writers)
        .map(|i| format!("{name}-instance-{i}"))
        .collect();
    for n in names.iter().skip(1) {
        cl.add_writer(n)?;
    }
    load(&mut cl.connect(Endpoint::Cluster)?)?;
    // Let every writer hear of the table before the run.
    cl.advance(Duration::from_millis(50));
    Ok((cl, names))
}

/// The load average (`/proc/loadavg`'s first three fields), to print next to a figure taken on a
/// shared machine; empty where there is none.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
