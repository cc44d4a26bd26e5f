//! Uncommitted DDL is invisible to other sessions, with real threads: a statement of another
//! transaction waits until the DDL's transaction ends, then sees the catalog it leaves
//! (committed: the new table; rolled back: none). The wait obeys `lock_timeout` (manual clock)
//! and deadlock detection (40P01), like a row-lock wait.
//!
//! No sleeps: a test learns that a wait has begun from `Database::lock_waits`.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nubis_aurora::{Aurora, Database, Session, Value};
use nubis_core::{Env, ManualClock, ServiceError};

fn setup() -> (Aurora, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let aurora = Aurora::new(Env::with_clock(clock.shared()));
    let mut s = aurora.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO t VALUES (1, 1)")
        .unwrap();
    (aurora, clock)
}

fn until_waiting(db: &Arc<Database>, n: usize) {
    while db.lock_waits() < n {
        thread::yield_now();
    }
}

type Outcome = (
    Session,
    nubis_aurora::Result<Vec<nubis_aurora::QueryResult>>,
);

fn spawn(
    db: &Arc<Database>,
    setup: &'static str,
    sql: &'static str,
) -> thread::JoinHandle<Outcome> {
    let mut s = db.session();
    if !setup.is_empty() {
        s.execute(setup).unwrap();
    }
    thread::spawn(move || {
        let r = s.execute(sql);
        (s, r)
    })
}

fn val(s: &mut Session, sql: &str) -> Value {
    s.execute(sql).unwrap().remove(0).rows.remove(0).remove(0)
}

#[test]
fn a_new_table_appears_to_others_only_at_commit() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; CREATE TABLE n (x int); INSERT INTO n VALUES (7)")
        .unwrap();
    let h = spawn(&db, "", "SELECT x FROM n");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].rows, vec![vec![Value::Int4(7)]]);
    assert_eq!(db.lock_waits(), 0);
}

#[test]
fn a_rolled_back_drop_leaves_the_table_to_the_waiter() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; DROP TABLE t").unwrap();
    let h = spawn(&db, "", "SELECT v FROM t WHERE id = 1");
    until_waiting(&db, 1);
    a.execute("ROLLBACK").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].rows, vec![vec![Value::Int4(1)]]);
}

#[test]
fn a_committed_drop_makes_the_waiter_fail_with_undefined_table() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; DROP TABLE t").unwrap();
    let h = spawn(&db, "", "INSERT INTO t VALUES (2, 2)");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap_err().code(), "42P01");
}

#[test]
fn a_prepared_point_select_does_not_read_past_uncommitted_ddl() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut b = db.session();
    let p = b.prepare("SELECT v FROM t WHERE id = $1").unwrap();
    let mut a = db.session();
    a.execute("BEGIN; ALTER TABLE t RENAME TO t2").unwrap();
    let h = thread::spawn(move || {
        let r = b.execute_prepared(&p, &[Value::Int4(1)]);
        (b, r)
    });
    until_waiting(&db, 1);
    a.execute("ROLLBACK").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap().rows, vec![vec![Value::Int4(1)]]);
}

#[test]
fn lock_timeout_ends_the_wait_for_ddl() {
    let (aurora, clock) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; ALTER TABLE t ADD COLUMN w int").unwrap();
    let h = spawn(&db, "SET lock_timeout = '1s'", "SELECT * FROM t");
    until_waiting(&db, 1);
    clock.advance(Duration::from_millis(1100));
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap_err().code(), "55P03");
    a.execute("COMMIT").unwrap();
    assert_eq!(val(&mut a, "SELECT count(w) FROM t"), Value::Int8(0));
}

#[test]
fn waiting_for_ddl_that_waits_for_you_is_a_deadlock() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut b = db.session();
    b.execute("BEGIN; UPDATE t SET v = 2 WHERE id = 1").unwrap();
    let mut a = db.session();
    a.execute("BEGIN; CREATE INDEX t_v ON t (v)").unwrap();
    // A waits for B's row lock …
    let h = thread::spawn(move || {
        let r = a.execute("UPDATE t SET v = 3 WHERE id = 1");
        (a, r)
    });
    until_waiting(&db, 1);
    // … and B's next statement would wait for A's DDL: B is the one closing the cycle.
    let e = b.execute("SELECT 1").unwrap_err();
    assert_eq!(e.code(), "40P01");
    b.execute("ROLLBACK").unwrap();
    let (mut a, r) = h.join().unwrap();
    r.unwrap();
    a.execute("COMMIT").unwrap();
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 1"), Value::Int4(3));
}
