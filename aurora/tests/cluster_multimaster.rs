//! Multi-master: several writers on one volume, optimistic page-level conflicts.

use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterSession, Driver, Endpoint};
use nubis_core::{Env, ManualClock};

fn mm() -> (ManualClock, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(
        &env,
        ClusterConfig::new("mm").multi_master(),
        Driver::Manual(clock.clone()),
    )
    .unwrap();
    c.add_writer("mm-instance-2").unwrap();
    (clock, c)
}

fn rows(s: &mut ClusterSession, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap().remove(0).rows
}

#[test]
fn writers_on_disjoint_pages_never_conflict_and_see_each_other() {
    let (_clock, c) = mm();
    let mut a = c
        .connect(Endpoint::Instance("mm-instance-1".into()))
        .unwrap();
    let mut b = c
        .connect(Endpoint::Instance("mm-instance-2".into()))
        .unwrap();
    a.execute("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)")
        .unwrap();
    c.advance(Duration::from_millis(20));
    // Rows 0..63 are heap page 0, 64..127 page 1: seed both through one writer.
    let values: Vec<String> = (0..128).map(|k| format!("({k}, 0)")).collect();
    a.execute(&format!("INSERT INTO kv VALUES {}", values.join(", ")))
        .unwrap();
    c.advance(Duration::from_millis(20));
    let mut conflicts = 0;
    for round in 0..20 {
        // Writer A owns keys 0..63, writer B keys 64..127 (different heap pages).
        for (s, base) in [(&mut a, 0), (&mut b, 64)] {
            match s.execute(&format!(
                "UPDATE kv SET v = v + 1 WHERE k = {}",
                base + round
            )) {
                Ok(_) => {}
                Err(e) => {
                    eprintln!("round {round} base {base}: {e:?}");
                    assert_eq!(e.sqlstate(), "40001");
                    conflicts += 1;
                }
            }
        }
    }
    // Index pages are hashed by key: a rare false conflict on a shared bucket is possible,
    // heap conflicts are not.
    assert!(conflicts <= 2, "{conflicts} conflicts on disjoint rows");
    c.advance(Duration::from_millis(20));
    let total_a = rows(&mut a, "SELECT sum(v) FROM kv");
    let total_b = rows(&mut b, "SELECT sum(v) FROM kv");
    assert_eq!(total_a, total_b);
    assert_eq!(total_a[0][0], Value::Int8(40 - conflicts));
}

#[test]
fn the_second_writer_of_a_page_loses_with_40001_and_the_winner_is_kept() {
    let (_clock, c) = mm();
    let mut a = c
        .connect(Endpoint::Instance("mm-instance-1".into()))
        .unwrap();
    let mut b = c
        .connect(Endpoint::Instance("mm-instance-2".into()))
        .unwrap();
    a.execute("CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL)")
        .unwrap();
    a.execute("INSERT INTO acct VALUES (1, 100), (2, 100)")
        .unwrap();
    c.advance(Duration::from_millis(20));
    // Both start transactions on the same row; A's statement reaches storage first.
    b.execute("BEGIN").unwrap();
    a.execute("UPDATE acct SET balance = balance - 10 WHERE id = 1")
        .unwrap();
    // B has not applied A's change yet (A's page LSN is newer than what B read): conflict.
    let e = b
        .execute("UPDATE acct SET balance = balance - 20 WHERE id = 1")
        .unwrap_err();
    assert_eq!(e.sqlstate(), "40001");
    assert!(e.is_retryable());
    // The transaction block is aborted until ROLLBACK.
    assert_eq!(b.execute("SELECT 1").unwrap_err().sqlstate(), "25P02");
    assert_eq!(b.execute("ROLLBACK").unwrap()[0].tag, "ROLLBACK");
    // Retry after catching up: succeeds, and builds on the winner's value.
    c.advance(Duration::from_millis(20));
    b.execute("UPDATE acct SET balance = balance - 20 WHERE id = 1")
        .unwrap();
    c.advance(Duration::from_millis(20));
    for s in [&mut a, &mut b] {
        assert_eq!(
            rows(s, "SELECT balance FROM acct ORDER BY id"),
            vec![vec![Value::Int4(70)], vec![Value::Int4(100)]]
        );
    }
    // An autocommit loser leaves nothing behind either.
    a.execute("UPDATE acct SET balance = 1 WHERE id = 2")
        .unwrap();
    let e = b
        .execute("UPDATE acct SET balance = 2 WHERE id = 2")
        .unwrap_err();
    assert_eq!(e.sqlstate(), "40001");
    c.advance(Duration::from_millis(20));
    for s in [&mut a, &mut b] {
        assert_eq!(
            rows(s, "SELECT balance FROM acct WHERE id = 2"),
            vec![vec![Value::Int4(1)]]
        );
    }
}

#[test]
fn concurrent_inserts_of_one_key_cannot_both_commit() {
    let (_clock, c) = mm();
    let mut a = c
        .connect(Endpoint::Instance("mm-instance-1".into()))
        .unwrap();
    let mut b = c
        .connect(Endpoint::Instance("mm-instance-2".into()))
        .unwrap();
    a.execute("CREATE TABLE u (k text PRIMARY KEY)").unwrap();
    c.advance(Duration::from_millis(20));
    a.execute("INSERT INTO u VALUES ('same')").unwrap();
    let e = b.execute("INSERT INTO u VALUES ('same')").unwrap_err();
    assert_eq!(e.sqlstate(), "40001");
    c.advance(Duration::from_millis(20));
    assert_eq!(
        b.execute("INSERT INTO u VALUES ('same')")
            .unwrap_err()
            .sqlstate(),
        "23505"
    );
    assert_eq!(
        rows(&mut b, "SELECT count(*) FROM u"),
        vec![vec![Value::Int8(1)]]
    );
}

#[test]
fn a_crashed_writer_leaves_the_others_writing_and_rejoins() {
    let (_clock, c) = mm();
    let mut a = c
        .connect(Endpoint::Instance("mm-instance-1".into()))
        .unwrap();
    a.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    a.execute("INSERT INTO t VALUES (1)").unwrap();
    c.advance(Duration::from_millis(20));
    assert!(c.crash_instance("mm-instance-2").unwrap().is_none());
    a.execute("INSERT INTO t VALUES (2)").unwrap();
    c.restart_instance("mm-instance-2").unwrap();
    let mut b = c
        .connect(Endpoint::Instance("mm-instance-2".into()))
        .unwrap();
    assert_eq!(
        rows(&mut b, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]]
    );
    b.execute("INSERT INTO t VALUES (3)").unwrap();
    c.advance(Duration::from_millis(20));
    assert_eq!(
        rows(&mut a, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(3)]]
    );
    assert!(c.failover(None).is_err());
}
