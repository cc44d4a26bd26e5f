//! A statement waiting for a row lock on a cluster writer gives the instance's execution lock up
//! for the wait: the lock holder's COMMIT on the same instance ends the wait instead of queueing
//! behind it, both commits are durable and in order, and the waiter sees the holder's row.

use std::sync::mpsc;
use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
use nubis_core::{Env, ManualClock};

#[test]
fn the_lock_holders_commit_on_the_same_instance_ends_a_row_lock_wait() {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(&env, ClusterConfig::new("lw"), Driver::Manual(clock)).unwrap();
    let mut holder = c.connect(Endpoint::Cluster).unwrap();
    holder
        .execute("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL); INSERT INTO t VALUES (1, 0)")
        .unwrap();
    holder
        .execute("BEGIN; UPDATE t SET n = 1 WHERE id = 1")
        .unwrap();
    let db = holder.database().clone();

    let (tx, rx) = mpsc::channel();
    let waiter = {
        let c = c.clone();
        std::thread::spawn(move || {
            let mut s = c.connect(Endpoint::Cluster).unwrap();
            let r = s.execute("UPDATE t SET n = n + 10 WHERE id = 1");
            tx.send(r.map(|r| r[0].rows_affected)).unwrap();
        })
    };
    // The waiter is asleep on the row lock (not merely queued on the instance).
    while db.lock_waits() == 0 {
        std::thread::yield_now();
    }
    let (done_tx, done_rx) = mpsc::channel();
    let committer = std::thread::spawn(move || {
        let r = holder.execute("COMMIT").map(|_| ());
        done_tx.send(r).unwrap();
        holder
    });
    // Bounded only so that a regression fails instead of hanging the suite.
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the holder's COMMIT waited for the row-lock waiter")
        .unwrap();
    let mut holder = committer.join().unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap(),
        1
    );
    waiter.join().unwrap();
    let rows = holder.execute("SELECT n FROM t WHERE id = 1").unwrap();
    assert_eq!(rows[0].rows, vec![vec![Value::Int4(11)]]);
    // Both commits are on the volume: a writer rebuilt from pages sees the same row.
    c.crash_instance("lw-instance-1").unwrap();
    c.restart_instance("lw-instance-1").unwrap();
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    let rows = s.execute("SELECT n FROM t WHERE id = 1").unwrap();
    assert_eq!(rows[0].rows, vec![vec![Value::Int4(11)]]);
}
