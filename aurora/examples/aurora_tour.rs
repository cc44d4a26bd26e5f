//! A tour of Aurora on Nubis: a three-AZ volume losing an AZ, two writers committing, a Global
//! Database failing over, and a serverless cluster scaling up, pausing and resuming, with its
//! metering. Everything runs on a manual clock, so the times printed are the protocol's.
//!
//! `cargo run -p nubis-aurora --example aurora_tour`

use std::time::Duration;

use nubis_aurora::cluster::global::GlobalDatabase;
use nubis_aurora::cluster::serverless::ServerlessConfig;
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterError, Driver, Endpoint};
use nubis_core::{Clock, Env, ManualClock, Region, UsageUnit};

fn main() -> Result<(), ClusterError> {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let drive = || Driver::Manual(clock.clone());

    println!("== 1. One volume, six copies in three AZs; lose an AZ");
    let c = Cluster::create(&env, ClusterConfig::new("tour"), drive())?;
    c.add_reader("tour-reader", 1)?;
    let mut w = c.connect(Endpoint::Cluster)?;
    w.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty int)")?;
    let t0 = clock.now();
    w.execute("INSERT INTO orders (item, qty) VALUES ('disk', 2)")?;
    println!(
        "commit acknowledged at the VDL after {:?} on the clock",
        clock.now().duration_since(t0).unwrap_or_default()
    );
    c.with_volume(|v| v.fail_az(2))?;
    w.execute("INSERT INTO orders (item, qty) VALUES ('cpu', 1)")?;
    println!("AZ 2 down: the write still reached 4 of 6 copies");
    let extra = c.with_volume(|v| v.nodes_in_az(0))?[0];
    c.with_volume(|v| v.stop_node(extra))?;
    match w.execute("INSERT INTO orders (item, qty) VALUES ('ram', 4)") {
        Err(e) => println!(
            "AZ + 1 node down: refused before anything was sent: {} ({})",
            e,
            e.sqlstate()
        ),
        Ok(_) => println!("unexpected: a write without a quorum"),
    }
    c.with_volume(|v| v.start_node(extra))?;
    c.with_volume(|v| v.restore_az(2))?;
    let mut r = c.connect(Endpoint::Reader)?;
    c.advance(Duration::from_millis(20));
    let rows = r.execute("SELECT item, qty FROM orders ORDER BY id")?;
    println!(
        "reader {} sees {} rows, lag {:?}",
        r.instance(),
        rows[0].rows.len(),
        c.replica_lag("tour-reader")?
    );
    let report = c.crash_instance("tour-instance-1")?;
    if let Some(f) = report {
        println!(
            "writer crashed: {} promoted in {:?} (quorum recovery {:?}, no redo replay)",
            f.new_writer, f.duration, f.recovery.duration
        );
    }

    println!("\n== 2. Two writers on one volume");
    let mm = Cluster::create(&env, ClusterConfig::new("mm").multi_master(), drive())?;
    mm.add_writer("mm-instance-2")?;
    let mut a = mm.connect(Endpoint::Instance("mm-instance-1".into()))?;
    let mut b = mm.connect(Endpoint::Instance("mm-instance-2".into()))?;
    a.execute("CREATE TABLE stock (sku int PRIMARY KEY, n int)")?;
    let values: Vec<String> = (0..128).map(|k| format!("({k}, 100)")).collect();
    a.execute(&format!("INSERT INTO stock VALUES {}", values.join(",")))?;
    mm.advance(Duration::from_millis(20));
    a.execute("UPDATE stock SET n = n - 1 WHERE sku = 1")?;
    b.execute("UPDATE stock SET n = n - 1 WHERE sku = 100")?;
    println!("disjoint pages: both writers committed");
    a.execute("UPDATE stock SET n = n - 5 WHERE sku = 2")?;
    match b.execute("UPDATE stock SET n = n - 7 WHERE sku = 2") {
        Err(e) => println!(
            "same page: the second writer lost with {} ({}), retryable: {}",
            e.sqlstate(),
            e,
            e.is_retryable()
        ),
        Ok(_) => println!("no conflict (the peer had already seen the change)"),
    }
    mm.advance(Duration::from_millis(20));
    let n = b.execute("SELECT n FROM stock WHERE sku = 2")?;
    println!("the winner's value is on both writers: {}", n[0].rows[0][0]);

    println!("\n== 3. A Global Database failing over");
    let primary = Cluster::create(&env, ClusterConfig::new("east"), drive())?;
    let g = GlobalDatabase::new("global", Region::from_static("us-east-1"), primary.clone());
    let west = Region::from_static("us-west-2");
    g.add_secondary(west.clone(), "west", Duration::from_millis(800), 1)?;
    let mut p = primary.connect(Endpoint::Cluster)?;
    p.execute("CREATE TABLE t (id int)")?;
    p.execute("INSERT INTO t VALUES (1)")?;
    primary.advance(Duration::from_secs(1));
    p.execute("INSERT INTO t VALUES (2)")?;
    primary.advance(Duration::from_millis(300));
    println!("secondary lag 300 ms after a commit: {:?}", g.lag(&west)?);
    let f = g.failover(&west)?;
    println!(
        "region outage: {} promoted; RPO {:?} ({} records lost)",
        f.new_primary, f.rpo.rpo, f.rpo.lost_records
    );
    let (_, np) = g.primary();
    let mut s = np.connect(Endpoint::Cluster)?;
    println!(
        "rows in the new primary: {}",
        s.execute("SELECT count(*) FROM t")?[0].rows[0][0]
    );
    let f = g.switchover(&Region::from_static("us-east-1"))?;
    println!(
        "planned switchover back to {}: RPO {:?}, took {:?}",
        f.new_primary, f.rpo.rpo, f.duration
    );

    println!("\n== 4. Serverless v2: scale up, pause, resume");
    let sls = Cluster::create(&env, ClusterConfig::new("sls"), drive())?;
    sls.set_serverless(ServerlessConfig {
        min_acu: 0.0,
        max_acu: 8.0,
        seconds_until_auto_pause: 300,
    })?;
    let mut s = sls.connect(Endpoint::Cluster)?;
    s.execute("CREATE TABLE k (id int PRIMARY KEY)")?;
    s.execute("INSERT INTO k VALUES (1)")?;
    let start = clock.now();
    while clock.now().duration_since(start).unwrap_or_default() < Duration::from_secs(5) {
        s.execute("SELECT id FROM k WHERE id = 1")?;
    }
    let st = sls
        .serverless_status()
        .ok_or_else(|| ClusterError::Invalid {
            message: "not serverless".into(),
        })?;
    println!(
        "under load: {} ACU, {} statements throttled",
        st.capacity, st.throttled
    );
    drop(s);
    sls.advance(Duration::from_secs(400));
    println!(
        "idle 400 s: paused = {}",
        sls.serverless_status().is_some_and(|s| s.paused)
    );
    let before = clock.now();
    let mut s = sls.connect(Endpoint::Cluster)?;
    println!(
        "resumed on connect after {:?}; rows: {}",
        clock.now().duration_since(before).unwrap_or_default(),
        s.execute("SELECT count(*) FROM k")?[0].rows[0][0]
    );
    let records: Vec<_> = env
        .meter
        .records()
        .into_iter()
        .filter(|r| r.unit == UsageUnit::AcuSeconds && r.resource.ends_with(":sls"))
        .collect();
    println!(
        "metering: {} per-second records, {:.1} ACU-seconds in total",
        records.len(),
        records.iter().map(|r| r.quantity).sum::<f64>()
    );
    Ok(())
}
