//! Aurora Serverless v2: scaling on measured load, throttling, auto-pause, resume, metering.

use std::time::Duration;

use nubis_aurora::cluster::serverless::{ServerlessConfig, WORK_PER_ACU_SECOND};
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::{Clock, Env, ManualClock, UsageUnit};

fn serverless(min: f64, max: f64) -> (ManualClock, Env, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(
        &env,
        ClusterConfig::new("sls"),
        Driver::Manual(clock.clone()),
    )
    .unwrap();
    c.set_serverless(ServerlessConfig {
        min_acu: min,
        max_acu: max,
        seconds_until_auto_pause: 300,
    })
    .unwrap();
    (clock, env, c)
}

#[test]
fn scaling_configuration_is_validated() {
    let (_c, _e, c) = serverless(0.5, 4.0);
    for (min, max, pause) in [
        (0.25, 4.0, 300),
        (2.0, 1.0, 300),
        (0.5, 300.0, 300),
        (0.0, 0.5, 300),
        (0.0, 4.0, 10),
    ] {
        assert!(
            c.set_serverless(ServerlessConfig {
                min_acu: min,
                max_acu: max,
                seconds_until_auto_pause: pause
            })
            .is_err(),
            "{min} {max} {pause}"
        );
    }
}

#[test]
fn capacity_limits_throughput_and_scales_up_with_load() {
    let (clock, env, c) = serverless(0.5, 8.0);
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .unwrap();
    s.execute("INSERT INTO t VALUES (1, 0)").unwrap();
    assert_eq!(c.serverless_status().unwrap().capacity, 0.5);
    // Run point selects for 10 seconds of clock time, as fast as capacity allows.
    let start = clock.now();
    let mut done = 0u64;
    let mut per_second = Vec::new();
    let mut second_start = (start, 0u64);
    while clock.now().duration_since(start).unwrap() < Duration::from_secs(10) {
        s.execute("SELECT v FROM t WHERE id = 1").unwrap();
        done += 1;
        if clock.now().duration_since(second_start.0).unwrap() >= Duration::from_secs(1) {
            per_second.push(done - second_start.1);
            second_start = (clock.now(), done);
        }
    }
    let status = c.serverless_status().unwrap();
    assert!(status.throttled > 0, "never throttled");
    assert!(status.capacity > 0.5, "did not scale: {status:?}");
    // Throughput grew with capacity, and never beat what the billed capacity allows: each
    // statement costs 1 unit plus 2 for its row.
    assert!(
        *per_second.last().unwrap() > 2 * per_second[0],
        "{per_second:?}"
    );
    // Metering: one ACU-seconds record per second, with the capacity of that second.
    let records: Vec<_> = env
        .meter
        .records()
        .into_iter()
        .filter(|r| r.unit == UsageUnit::AcuSeconds)
        .collect();
    assert!(records.len() >= 10);
    assert_eq!(records[0].quantity, 0.5);
    assert!(
        records
            .iter()
            .all(|r| r.service == "rds" && r.resource.ends_with(":cluster:sls"))
    );
    assert!(records.iter().any(|r| r.quantity > 0.5));
    let billed: f64 = records.iter().map(|r| r.quantity).sum();
    assert!(
        (done * 3) as f64 <= billed * WORK_PER_ACU_SECOND + 3.0 * WORK_PER_ACU_SECOND,
        "{done} statements on {billed} ACU-s"
    );
    // Idle: capacity comes back down to the minimum.
    drop(s);
    c.advance(Duration::from_secs(30));
    assert_eq!(c.serverless_status().unwrap().capacity, 0.5);
}

#[test]
fn min_zero_pauses_after_idle_and_resumes_on_connect() {
    let (clock, env, c) = serverless(0.0, 4.0);
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    s.execute("CREATE TABLE t (id int)").unwrap();
    s.execute("INSERT INTO t VALUES (1)").unwrap();
    drop(s);
    c.advance(Duration::from_secs(299));
    assert!(!c.serverless_status().unwrap().paused);
    c.advance(Duration::from_secs(2));
    let st = c.serverless_status().unwrap();
    assert!(st.paused);
    assert_eq!(st.capacity, 0.0);
    let metered = env.meter.total(UsageUnit::AcuSeconds, None);
    c.advance(Duration::from_secs(600));
    assert_eq!(
        env.meter.total(UsageUnit::AcuSeconds, None),
        metered,
        "a paused cluster is not billed"
    );
    // The next connection resumes it, which takes time on the clock; data is intact.
    let before = clock.now();
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    assert!(clock.now().duration_since(before).unwrap() >= Duration::from_secs(15));
    assert!(!c.serverless_status().unwrap().paused);
    assert_eq!(
        s.execute("SELECT count(*) FROM t").unwrap()[0].rows[0][0],
        nubis_aurora::Value::Int8(1)
    );
}

#[test]
fn modify_current_capacity_sets_capacity_and_holds_it() {
    let (_clock, _env, c) = serverless(0.5, 64.0);
    assert_eq!(c.modify_current_capacity(8.0).unwrap(), 0.5);
    c.advance(Duration::from_secs(60));
    assert_eq!(c.serverless_status().unwrap().capacity, 8.0);
    assert!(c.modify_current_capacity(3.3).is_err());
    c.advance(Duration::from_secs(900));
    assert_eq!(c.serverless_status().unwrap().capacity, 0.5);
}
