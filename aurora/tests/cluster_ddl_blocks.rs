//! DDL inside a transaction block on a cluster: readers get the block's tables, columns and
//! rows exactly as the writer committed them, and nothing of a rolled-back block.

use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::{Env, ManualClock};

fn cluster() -> Cluster {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(&env, ClusterConfig::new("db"), Driver::Manual(clock)).unwrap();
    c.add_reader("r1", 1).unwrap();
    c
}

fn rows(s: &mut nubis_aurora::cluster::ClusterSession, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap().pop().unwrap().rows
}

#[test]
fn a_block_that_creates_a_table_and_fills_it_reaches_readers_whole() {
    let c = cluster();
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE old (id int PRIMARY KEY)").unwrap();
    w.execute("INSERT INTO old VALUES (1)").unwrap();
    w.execute("BEGIN").unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .unwrap();
    w.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        .unwrap();
    w.execute("ALTER TABLE old ADD COLUMN note text DEFAULT 'n'")
        .unwrap();
    w.execute("INSERT INTO old VALUES (2, 'm')").unwrap();
    w.execute("COMMIT").unwrap();
    c.advance(Duration::from_millis(50));
    let mut r = c.connect(Endpoint::Reader).unwrap();
    assert_eq!(
        rows(&mut r, "SELECT id, v FROM t ORDER BY id"),
        rows(&mut w, "SELECT id, v FROM t ORDER BY id")
    );
    assert_eq!(
        rows(&mut r, "SELECT id, note FROM old ORDER BY id"),
        rows(&mut w, "SELECT id, note FROM old ORDER BY id")
    );
}

#[test]
fn a_rolled_back_block_keeps_its_ddl_on_writer_and_readers_alike() {
    // On a cluster, a block's DDL commits with its statement (docs/aurora.md): the writer and
    // its readers agree on the tables after a ROLLBACK, and the block's rows are gone on both.
    let c = cluster();
    let mut w = c.connect(Endpoint::Cluster).unwrap();
    w.execute("BEGIN").unwrap();
    w.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    w.execute("INSERT INTO t VALUES (1)").unwrap();
    w.execute("ROLLBACK").unwrap();
    w.execute("CREATE TABLE u (id int PRIMARY KEY)").unwrap();
    w.execute("INSERT INTO u VALUES (7)").unwrap();
    c.advance(Duration::from_millis(50));
    let mut r = c.connect(Endpoint::Reader).unwrap();
    assert!(rows(&mut w, "SELECT id FROM t").is_empty());
    assert!(rows(&mut r, "SELECT id FROM t").is_empty());
    assert_eq!(rows(&mut r, "SELECT id FROM u"), vec![vec![Value::Int4(7)]]);
}
