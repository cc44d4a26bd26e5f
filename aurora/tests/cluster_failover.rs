//! A single-master cluster on the replicated volume: durability at the VDL, readers with lag,
//! storage faults, writer crashes and failover.

use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::{Env, ManualClock};

fn cluster(readers: &[(&str, u32)]) -> (ManualClock, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(
        &env,
        ClusterConfig::new("db"),
        Driver::Manual(clock.clone()),
    )
    .unwrap();
    for (name, tier) in readers {
        c.add_reader(name, *tier).unwrap();
    }
    (clock, c)
}

fn count(s: &mut nubis_aurora::cluster::ClusterSession, sql: &str) -> i64 {
    match &s.execute(sql).unwrap()[0].rows[0][0] {
        Value::Int8(n) => *n,
        other => panic!("not a count: {other:?}"),
    }
}

#[test]
fn a_commit_returns_only_once_durable_and_readers_follow_with_lag() {
    let (clock, c) = cluster(&[("r1", 1)]);
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL)")
        .unwrap();
    let before = clock.shared();
    let t0 = nubis_core::Clock::now(&*before);
    w.execute("INSERT INTO t (v) VALUES ('a'), ('b')").unwrap();
    // The commit waited for four of six copies: a cross-zone round trip on the clock.
    let waited = nubis_core::Clock::now(&*before).duration_since(t0).unwrap();
    assert!(
        waited >= Duration::from_millis(2),
        "commit returned after {waited:?}"
    );
    let vdl = c.with_volume(|v| v.vdl());
    assert!(vdl > 0);
    // The reader has not heard of it yet: the log stream takes 10 ms.
    let mut r = c.connect(Endpoint::Reader).unwrap();
    assert_eq!(r.instance(), "r1");
    assert!(
        c.replica_lag("r1").unwrap() > Duration::ZERO
            || count(&mut r, "SELECT count(*) FROM t") == 2
    );
    c.advance(Duration::from_millis(20));
    assert_eq!(count(&mut r, "SELECT count(*) FROM t"), 2);
    assert_eq!(c.replica_lag("r1").unwrap(), Duration::ZERO);
    let e = r.execute("INSERT INTO t (v) VALUES ('x')").unwrap_err();
    assert_eq!(e.sqlstate(), "25006");
    assert_eq!(
        e.to_string(),
        "cannot execute INSERT in a read-only transaction"
    );
    // Updates and deletes flow too.
    w.execute("UPDATE t SET v = 'z' WHERE id = 1").unwrap();
    w.execute("DELETE FROM t WHERE id = 2").unwrap();
    c.advance(Duration::from_millis(20));
    let rows = r.execute("SELECT id, v FROM t ORDER BY id").unwrap();
    assert_eq!(rows[0].rows, vec![vec![Value::Int4(1), Value::text("z")]]);
}

#[test]
fn losing_an_az_keeps_writing_and_losing_write_quorum_fails_cleanly() {
    let (_clock, c) = cluster(&[]);
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE k (id int PRIMARY KEY, v int)")
        .unwrap();
    w.execute("INSERT INTO k VALUES (1, 1)").unwrap();
    c.with_volume(|v| v.fail_az(2)).unwrap();
    w.execute("INSERT INTO k VALUES (2, 2)").unwrap();
    // AZ + one more node: four copies are no longer reachable, the write is refused up front.
    let extra = c.with_volume(|v| v.nodes_in_az(0)).unwrap()[0];
    c.with_volume(|v| v.stop_node(extra)).unwrap();
    let e = w.execute("INSERT INTO k VALUES (3, 3)").unwrap_err();
    assert_eq!(e.sqlstate(), "58030", "{e}");
    assert!(e.is_retryable());
    // The instance reopened from storage: old sessions must reconnect; nothing was lost and the
    // refused row is nowhere.
    let e = w.execute("SELECT 1").unwrap_err();
    assert_eq!(e.sqlstate(), "57P01");
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    assert_eq!(count(&mut w, "SELECT count(*) FROM k"), 2);
    c.with_volume(|v| v.start_node(extra)).unwrap();
    c.with_volume(|v| v.restore_az(2)).unwrap();
    w.execute("INSERT INTO k VALUES (3, 3)").unwrap();
    assert_eq!(count(&mut w, "SELECT count(*) FROM k"), 3);
}

#[test]
fn a_writer_crash_fails_over_to_the_lowest_tier_reader_without_losing_commits() {
    let (_clock, c) = cluster(&[("r-tier2", 2), ("r-tier0", 0), ("r-tier1", 1)]);
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE acct (id serial PRIMARY KEY, owner text, balance numeric NOT NULL)")
        .unwrap();
    for i in 0..50 {
        w.execute(&format!(
            "INSERT INTO acct (owner, balance) VALUES ('u{i}', {i}.50)"
        ))
        .unwrap();
    }
    w.execute("BEGIN").unwrap();
    w.execute("UPDATE acct SET balance = 0").unwrap();
    // Crash with an open transaction: it must vanish.
    let report = c.crash_instance("db-instance-1").unwrap().unwrap();
    assert_eq!(report.new_writer, "r-tier0");
    assert!(report.recovery.duration > Duration::ZERO);
    assert!(report.duration >= report.recovery.duration);
    let e = w.execute("COMMIT").unwrap_err();
    assert_eq!(e.sqlstate(), "57P01");
    let mut w2 = c.connect(Endpoint::Cluster).unwrap();
    assert_eq!(w2.instance(), "r-tier0");
    assert_eq!(
        count(&mut w2, "SELECT count(*) FROM acct WHERE balance > 0"),
        50
    );
    // The sequence resumes past every value handed out before the crash.
    w2.execute("INSERT INTO acct (owner, balance) VALUES ('new', 1)")
        .unwrap();
    let r = w2.execute("SELECT max(id) FROM acct").unwrap();
    assert!(matches!(r[0].rows[0][0], Value::Int4(n) if n > 50));
    // The old writer is back as a reader and follows the new writer.
    let roles = c.instances();
    assert!(roles.iter().any(
        |(n, role, _, _)| n == "db-instance-1" && *role == nubis_aurora::cluster::Role::Reader
    ));
    c.advance(Duration::from_millis(50));
    let mut old = c
        .connect(Endpoint::Instance("db-instance-1".into()))
        .unwrap();
    assert_eq!(count(&mut old, "SELECT count(*) FROM acct"), 51);
    // A planned failover to a named reader.
    let f = c.failover(Some("r-tier2")).unwrap();
    assert_eq!(f.old_writer.as_deref(), Some("r-tier0"));
    assert_eq!(w2.execute("SELECT 1").unwrap_err().sqlstate(), "57P01");
    let mut w3 = c.connect(Endpoint::Cluster).unwrap();
    assert_eq!(w3.instance(), "r-tier2");
    assert_eq!(count(&mut w3, "SELECT count(*) FROM acct"), 51);
}

#[test]
fn a_crashed_writer_without_readers_restarts_in_place_by_reading_pages() {
    let (_clock, c) = cluster(&[]);
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY, tags text[], doc jsonb, at timestamptz)")
        .unwrap();
    w.execute("CREATE INDEX t_at ON t (at)").unwrap();
    w.execute(
        "INSERT INTO t VALUES (1, ARRAY['a','b'], '{\"k\": [1, 2]}', '2026-01-01 00:00:00+00')",
    )
    .unwrap();
    w.execute("ALTER TABLE t ADD COLUMN n numeric DEFAULT 1.25")
        .unwrap();
    w.execute("BEGIN; SAVEPOINT s; INSERT INTO t VALUES (2, NULL, NULL, NULL, 2); ROLLBACK TO SAVEPOINT s; INSERT INTO t VALUES (3, NULL, NULL, NULL, 3); COMMIT").unwrap();
    let report = c.crash_instance("db-instance-1").unwrap().unwrap();
    assert_eq!(report.new_writer, "db-instance-1");
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    let r = w
        .execute("SELECT id, tags, doc->'k', n FROM t ORDER BY id")
        .unwrap();
    assert_eq!(r[0].rows.len(), 2);
    assert_eq!(r[0].rows[0][0], Value::Int4(1));
    assert_eq!(r[0].rows[1][0], Value::Int4(3));
    assert_eq!(r[0].rows[0][3].to_string(), "1.25");
    // Indexes came back from their pages.
    let r = w
        .execute("SELECT id FROM t WHERE at = '2026-01-01 00:00:00+00'")
        .unwrap();
    assert_eq!(r[0].rows, vec![vec![Value::Int4(1)]]);
    w.execute("UPDATE t SET n = 9 WHERE id = 3").unwrap();
    assert_eq!(
        w.execute("INSERT INTO t (id) VALUES (1)")
            .unwrap_err()
            .sqlstate(),
        "23505"
    );
}

#[test]
fn rows_rolled_back_stay_updatable() {
    let (_clock, c) = cluster(&[]);
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .unwrap();
    w.execute("INSERT INTO t VALUES (1, 1)").unwrap();
    w.execute("BEGIN").unwrap();
    w.execute("UPDATE t SET v = 2 WHERE id = 1").unwrap();
    w.execute("ROLLBACK").unwrap();
    w.execute("UPDATE t SET v = 3 WHERE id = 1").unwrap();
    let r = w.execute("SELECT v FROM t").unwrap();
    assert_eq!(r[0].rows, vec![vec![Value::Int4(3)]]);
}

#[test]
fn reader_limits_and_tiers_are_enforced() {
    let (_clock, c) = cluster(&[]);
    for i in 0..15 {
        c.add_reader(&format!("r{i}"), 1).unwrap();
    }
    assert!(c.add_reader("r15", 1).is_err());
    assert!(c.add_reader("db-instance-1", 1).is_err());
    let (_clock, c) = cluster(&[]);
    assert!(c.add_reader("x", 16).is_err());
    assert!(c.failover(None).is_err());
}
