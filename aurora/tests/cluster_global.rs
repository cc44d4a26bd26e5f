//! Global Database: secondary regions with storage lag, switchover, failover with RPO.

use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::global::GlobalDatabase;
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::{Env, ManualClock, Region};

fn global() -> (ManualClock, GlobalDatabase) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let primary = Cluster::create(
        &env,
        ClusterConfig::new("east"),
        Driver::Manual(clock.clone()),
    )
    .unwrap();
    let g = GlobalDatabase::new("orders", Region::from_static("us-east-1"), primary);
    (clock, g)
}

fn count(s: &mut nubis_aurora::cluster::ClusterSession) -> Value {
    s.execute("SELECT count(*) FROM t").unwrap().remove(0).rows[0][0].clone()
}

#[test]
fn a_secondary_region_lags_by_the_storage_lag_and_refuses_writes() {
    let (_clock, g) = global();
    let (_, primary) = g.primary();
    let mut w = primary.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    w.execute("INSERT INTO t VALUES (1)").unwrap();
    let west = Region::from_static("us-west-2");
    g.add_secondary(west.clone(), "west", Duration::from_millis(800), 1)
        .unwrap();
    let mut r = g.connect_secondary(&west).unwrap();
    assert_eq!(count(&mut r), Value::Int8(1));
    w.execute("INSERT INTO t VALUES (2)").unwrap();
    primary.advance(Duration::from_millis(100));
    assert_eq!(count(&mut r), Value::Int8(1));
    assert!(g.lag(&west).unwrap() >= Duration::from_millis(100));
    primary.advance(Duration::from_millis(800));
    assert_eq!(count(&mut r), Value::Int8(2));
    assert_eq!(
        r.execute("INSERT INTO t VALUES (3)")
            .unwrap_err()
            .sqlstate(),
        "25006"
    );
    // At most five secondary regions.
    for (i, region) in ["eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1"]
        .iter()
        .enumerate()
    {
        g.add_secondary(
            Region::from_static(region),
            &format!("s{i}"),
            Duration::from_millis(100),
            1,
        )
        .unwrap();
    }
    assert!(
        g.add_secondary(
            Region::from_static("sa-east-1"),
            "s9",
            Duration::from_millis(100),
            1
        )
        .is_err()
    );
}

#[test]
fn switchover_loses_nothing_and_the_old_primary_follows() {
    let (_clock, g) = global();
    let (_, primary) = g.primary();
    let mut w = primary.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    let west = Region::from_static("us-west-2");
    g.add_secondary(west.clone(), "west", Duration::from_secs(1), 1)
        .unwrap();
    for i in 0..20 {
        w.execute(&format!("INSERT INTO t VALUES ({i})")).unwrap();
    }
    let report = g.switchover(&west).unwrap();
    assert_eq!(report.rpo.lost_records, 0);
    assert_eq!(report.rpo.rpo, Duration::ZERO);
    assert!(
        report.duration >= Duration::from_secs(1),
        "drained for {:?}",
        report.duration
    );
    // Old sessions are terminated; the new primary has every row and takes writes.
    assert_eq!(w.execute("SELECT 1").unwrap_err().sqlstate(), "57P01");
    let (region, new_primary) = g.primary();
    assert_eq!(region, west);
    let mut w = new_primary.connect(Endpoint::Cluster).unwrap();
    assert_eq!(count(&mut w), Value::Int8(20));
    w.execute("INSERT INTO t VALUES (100)").unwrap();
    // The old primary region is now a secondary and catches up.
    let east = Region::from_static("us-east-1");
    assert!(g.secondaries().iter().any(|(r, _)| *r == east));
    new_primary.advance(Duration::from_millis(1100));
    let mut r = g.connect_secondary(&east).unwrap();
    assert_eq!(count(&mut r), Value::Int8(21));
}

#[test]
fn failover_in_an_outage_reports_the_rpo() {
    let (_clock, g) = global();
    let (_, primary) = g.primary();
    let mut w = primary.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    let west = Region::from_static("us-west-2");
    g.add_secondary(west.clone(), "west", Duration::from_secs(1), 1)
        .unwrap();
    w.execute("INSERT INTO t VALUES (1)").unwrap();
    primary.advance(Duration::from_millis(1100));
    // These commits are durable in us-east-1 but still in flight to us-west-2.
    for i in 2..6 {
        w.execute(&format!("INSERT INTO t VALUES ({i})")).unwrap();
    }
    let report = g.failover(&west).unwrap();
    assert!(report.rpo.lost_records > 0);
    assert!(report.rpo.rpo > Duration::ZERO && report.rpo.rpo <= Duration::from_secs(1));
    let (_, new_primary) = g.primary();
    let mut w = new_primary.connect(Endpoint::Cluster).unwrap();
    assert_eq!(count(&mut w), Value::Int8(1));
    w.execute("INSERT INTO t VALUES (7)").unwrap();
    // The old primary region follows the new primary; detaching it leaves a standalone cluster.
    let east = Region::from_static("us-east-1");
    assert_eq!(g.secondaries().len(), 1);
    let (standalone, _) = g.remove_secondary(&east).unwrap();
    assert!(g.secondaries().is_empty());
    let mut s = standalone.connect(Endpoint::Cluster).unwrap();
    assert_eq!(count(&mut s), Value::Int8(1));
    s.execute("INSERT INTO t VALUES (8)").unwrap();
}
