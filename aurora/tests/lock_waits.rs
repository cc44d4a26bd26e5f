//! Row-lock waits with real threads, as PostgreSQL behaves: a writer meeting a row held by a
//! running transaction blocks until that transaction ends; READ COMMITTED then re-checks the
//! row, REPEATABLE READ fails with 40001; `lock_timeout` (on the manual clock), deadlocks
//! (40P01), and `SELECT … FOR UPDATE [NOWAIT | SKIP LOCKED]`.
//!
//! No sleeps: a test learns that a wait has begun from `Database::lock_waits`, and timeouts
//! move on the manual clock.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nubis_aurora::{Aurora, Database, Session, Value};
use nubis_core::{Env, ManualClock, ServiceError};

fn setup() -> (Aurora, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let aurora = Aurora::new(Env::with_clock(clock.shared()));
    let mut s = aurora.session();
    s.execute(
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
         INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)",
    )
    .unwrap();
    (aurora, clock)
}

/// Spins (yielding, no sleeping) until `n` transactions wait for a row lock.
fn until_waiting(db: &Arc<Database>, n: usize) {
    while db.lock_waits() < n {
        thread::yield_now();
    }
}

fn val(s: &mut Session, sql: &str) -> Value {
    s.execute(sql).unwrap().remove(0).rows.remove(0).remove(0)
}

/// Runs `sql` on a new session of `db` in a thread.
fn spawn(
    db: &Arc<Database>,
    setup: &'static str,
    sql: &'static str,
) -> thread::JoinHandle<(
    Session,
    nubis_aurora::Result<Vec<nubis_aurora::QueryResult>>,
)> {
    let mut s = db.session();
    if !setup.is_empty() {
        s.execute(setup).unwrap();
    }
    thread::spawn(move || {
        let r = s.execute(sql);
        (s, r)
    })
}

#[test]
fn read_committed_update_waits_then_rechecks_the_new_row() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = v + 10 WHERE id = 1")
        .unwrap();
    let h = spawn(&db, "", "UPDATE t SET v = v * 2 WHERE id = 1");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].tag, "UPDATE 1");
    // The waiter applied its change to the committed row: (1 + 10) * 2.
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 1"), Value::Int4(22));
    assert_eq!(db.lock_waits(), 0);
}

#[test]
fn read_committed_recheck_drops_a_row_that_no_longer_matches() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = 50 WHERE id = 2")
        .unwrap();
    let h = spawn(&db, "", "UPDATE t SET v = v + 100 WHERE v = 2");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].tag, "UPDATE 0");
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 2"), Value::Int4(50));
}

#[test]
fn a_deleted_row_is_skipped_after_the_wait() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; DELETE FROM t WHERE id = 3").unwrap();
    let h = spawn(&db, "", "DELETE FROM t WHERE id = 3");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].tag, "DELETE 0");
}

#[test]
fn repeatable_read_fails_when_the_holder_commits_and_goes_on_when_it_aborts() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = 7 WHERE id = 1").unwrap();
    let h = spawn(
        &db,
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1",
        "UPDATE t SET v = 8 WHERE id = 1",
    );
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.code(), "40001");
    assert_eq!(
        e.to_string(),
        "could not serialize access due to concurrent update"
    );

    a.execute("BEGIN; UPDATE t SET v = 9 WHERE id = 2").unwrap();
    let h = spawn(
        &db,
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1",
        "UPDATE t SET v = 10 WHERE id = 2; COMMIT",
    );
    until_waiting(&db, 1);
    a.execute("ROLLBACK").unwrap();
    let (_, r) = h.join().unwrap();
    r.unwrap();
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 2"), Value::Int4(10));
}

#[test]
fn lock_timeout_ends_the_wait_on_the_manual_clock() {
    let (aurora, clock) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = 0 WHERE id = 1").unwrap();
    let h = spawn(
        &db,
        "SET lock_timeout = '2s'",
        "UPDATE t SET v = 1 WHERE id = 1",
    );
    until_waiting(&db, 1);
    clock.advance(Duration::from_millis(1500));
    assert_eq!(db.lock_waits(), 1);
    clock.advance(Duration::from_millis(600));
    let (mut b, r) = h.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.code(), "55P03");
    assert_eq!(e.to_string(), "canceling statement due to lock timeout");
    assert_eq!(val(&mut b, "SHOW lock_timeout"), Value::text("2s"));
    assert_eq!(
        b.execute("SET lock_timeout = 'soon'").unwrap_err().code(),
        "22023"
    );
    a.execute("COMMIT").unwrap();
}

#[test]
fn deadlocks_are_detected() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    let mut b = db.session();
    a.execute("BEGIN; UPDATE t SET v = 100 WHERE id = 1")
        .unwrap();
    b.execute("BEGIN; UPDATE t SET v = 200 WHERE id = 2")
        .unwrap();
    let h = thread::spawn(move || {
        let r = a.execute("UPDATE t SET v = 101 WHERE id = 2");
        (a, r)
    });
    until_waiting(&db, 1);
    let e = b.execute("UPDATE t SET v = 201 WHERE id = 1").unwrap_err();
    assert_eq!(e.code(), "40P01");
    assert_eq!(e.to_string(), "deadlock detected");
    // The victim's transaction is rolled back at once, so the other goes on.
    let (mut a, r) = h.join().unwrap();
    r.unwrap();
    a.execute("COMMIT").unwrap();
    assert_eq!(b.execute("COMMIT").unwrap()[0].tag, "ROLLBACK");
    assert_eq!(
        val(&mut a, "SELECT v FROM t WHERE id = 2"),
        Value::Int4(101)
    );
    assert_eq!(
        val(&mut a, "SELECT v FROM t WHERE id = 1"),
        Value::Int4(100)
    );
}

#[test]
fn an_insert_waits_for_a_running_insert_of_the_same_key() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; INSERT INTO t VALUES (10, 1)").unwrap();
    let h = spawn(&db, "", "INSERT INTO t VALUES (10, 2)");
    until_waiting(&db, 1);
    a.execute("ROLLBACK").unwrap();
    let (_, r) = h.join().unwrap();
    r.unwrap();

    a.execute("BEGIN; INSERT INTO t VALUES (11, 1)").unwrap();
    let h = spawn(&db, "", "INSERT INTO t VALUES (11, 2)");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap_err().code(), "23505");

    a.execute("BEGIN; INSERT INTO t VALUES (12, 1)").unwrap();
    let h = spawn(
        &db,
        "",
        "INSERT INTO t VALUES (12, 5) ON CONFLICT (id) DO UPDATE SET v = t.v + excluded.v",
    );
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].tag, "INSERT 0 1");
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 12"), Value::Int4(6));
}

#[test]
fn select_for_update_nowait_and_skip_locked() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    let mut b = db.session();
    let r = a
        .execute("BEGIN; SELECT id FROM t WHERE id <= 2 ORDER BY id FOR UPDATE")
        .unwrap();
    assert_eq!(r[1].rows, vec![vec![Value::Int4(1)], vec![Value::Int4(2)]]);
    assert_eq!(r[1].columns.len(), 1);
    let e = b
        .execute("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT")
        .unwrap_err();
    assert_eq!(e.code(), "55P03");
    assert_eq!(
        e.to_string(),
        "could not obtain lock on row in relation \"t\""
    );
    // The job-queue pattern: the first row nobody holds.
    let r = b
        .execute("SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")
        .unwrap();
    assert_eq!(r[0].rows, vec![vec![Value::Int4(3)]]);
    // Plain reads and FOR SHARE of an unlocked row do not wait.
    assert_eq!(
        b.execute("SELECT v FROM t WHERE id = 1").unwrap()[0]
            .rows
            .len(),
        1
    );
    b.execute("SELECT v FROM t WHERE id = 3 FOR SHARE").unwrap();
    // A writer waits for a FOR UPDATE lock too.
    let h = spawn(&db, "", "UPDATE t SET v = 42 WHERE id = 2");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].tag, "UPDATE 1");
    // Locking clauses PostgreSQL refuses.
    assert_eq!(
        b.execute("SELECT count(*) FROM t GROUP BY v FOR UPDATE")
            .unwrap_err()
            .code(),
        "0A000"
    );
}

#[test]
fn select_for_update_waits_and_sees_the_committed_row() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = 77 WHERE id = 3")
        .unwrap();
    let h = spawn(&db, "BEGIN", "SELECT v FROM t WHERE id = 3 FOR UPDATE");
    until_waiting(&db, 1);
    a.execute("COMMIT").unwrap();
    let (mut b, r) = h.join().unwrap();
    assert_eq!(r.unwrap()[0].rows, vec![vec![Value::Int4(77)]]);
    // b holds the row now: a's update waits until b ends.
    let h = thread::spawn(move || {
        let r = a.execute("UPDATE t SET v = 78 WHERE id = 3");
        (a, r)
    });
    until_waiting(&db, 1);
    b.execute("COMMIT").unwrap();
    let (mut a, r) = h.join().unwrap();
    r.unwrap();
    assert_eq!(val(&mut a, "SELECT v FROM t WHERE id = 3"), Value::Int4(78));
}

#[test]
fn an_error_in_a_block_releases_its_locks_at_once() {
    let (aurora, _) = setup();
    let db = aurora.database("postgres");
    let mut a = db.session();
    a.execute("BEGIN; UPDATE t SET v = 5 WHERE id = 1").unwrap();
    assert!(a.execute("SELECT 1/0").is_err());
    // Without waiting for a's ROLLBACK, another writer gets the row.
    let mut b = db.session();
    b.execute("UPDATE t SET v = 6 WHERE id = 1").unwrap();
    assert_eq!(a.execute("SELECT 1").unwrap_err().code(), "25P02");
    a.execute("ROLLBACK").unwrap();
    assert_eq!(val(&mut b, "SELECT v FROM t WHERE id = 1"), Value::Int4(6));
}
