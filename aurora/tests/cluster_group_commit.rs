//! Group commit on one writer: sessions wait for the VDL without holding the instance, commits
//! share quorum rounds, every answered statement is durable, and a writer crash in the middle of
//! concurrent commits loses no acknowledged commit and shows no unacknowledged one.

use std::sync::mpsc;
use std::time::Duration;

use nubis_aurora::Value;
use nubis_aurora::cluster::{Cluster, ClusterConfig, ClusterSession, Driver, Endpoint};
use nubis_aurora::volume::{KvApply, PageWrite, Volume, VolumeConfig};
use nubis_core::{Clock, Env, ManualClock};

const THREADS: usize = 4;

fn cluster(readers: &[(&str, u32)]) -> (ManualClock, Cluster) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let c = Cluster::create(
        &env,
        ClusterConfig::new("gc"),
        Driver::Manual(clock.clone()),
    )
    .unwrap();
    for (name, tier) in readers {
        c.add_reader(name, *tier).unwrap();
    }
    (clock, c)
}

fn int(s: &mut ClusterSession, sql: &str) -> i64 {
    match &s.execute(sql).unwrap()[0].rows[0][0] {
        Value::Int4(n) => i64::from(*n),
        Value::Int8(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

fn setup(c: &Cluster) {
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    s.execute("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)")
        .unwrap();
    let rows: Vec<String> = (0..THREADS).map(|i| format!("({i}, 0)")).collect();
    s.execute(&format!("INSERT INTO counters VALUES {}", rows.join(",")))
        .unwrap();
}

#[test]
fn mini_transactions_queued_between_ticks_travel_as_one_round() {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let mut v = Volume::create(&env, VolumeConfig::default(), KvApply).unwrap();
    let w = v.open_writer().unwrap().instance;
    let sent = v.stats().messages_sent;
    let receipts: Vec<_> = (0..5u8)
        .map(|i| {
            v.enqueue(w, &[PageWrite::new(7, KvApply::put(&[i], b"v"))])
                .unwrap()
        })
        .collect();
    assert_eq!(v.queued_mtrs(), 5);
    assert_eq!(
        v.stats().messages_sent,
        sent,
        "nothing is sent before a tick"
    );
    v.tick();
    assert_eq!(v.queued_mtrs(), 0);
    // One message per copy of the protection group carries all five mini-transactions.
    assert_eq!(v.stats().messages_sent - sent, 6);
    v.settle(Duration::from_micros(100), 1000, |d| clock.advance(d));
    let last = receipts.last().unwrap().commit_lsn;
    assert!(v.is_durable(last));
    let acks = v.take_commit_acks(w).unwrap();
    assert_eq!(
        acks.len(),
        5,
        "each mini-transaction is acknowledged on its own"
    );
    let page = v.read_page(w, 7).unwrap().page;
    assert_eq!(page.len(), 5);
}

#[test]
fn a_crashed_writer_never_sends_what_it_only_queued() {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let mut v = Volume::create(&env, VolumeConfig::default(), KvApply).unwrap();
    let w = v.open_writer().unwrap().instance;
    let kept = v
        .submit(w, &[PageWrite::new(1, KvApply::put(b"a", b"1"))])
        .unwrap();
    v.settle(Duration::from_micros(100), 1000, |d| clock.advance(d));
    assert!(v.is_durable(kept.commit_lsn));
    v.enqueue(w, &[PageWrite::new(1, KvApply::put(b"b", b"2"))])
        .unwrap();
    v.crash_instance(w).unwrap();
    v.tick();
    let w2 = v.open_writer().unwrap().instance;
    clock.advance(Duration::from_millis(50));
    v.settle(Duration::from_micros(100), 1000, |d| clock.advance(d));
    let page = v.read_page(w2, 1).unwrap().page;
    assert_eq!(
        page.get(b"a".as_slice()).map(Vec::as_slice),
        Some(b"1".as_slice())
    );
    assert_eq!(page.get(b"b".as_slice()), None);
}

#[test]
fn concurrent_sessions_on_one_writer_are_each_answered_only_when_durable() {
    let (clock, c) = cluster(&[]);
    setup(&c);
    let per = 40;
    let t0 = clock.now();
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut s = c.connect(Endpoint::Cluster).unwrap();
                for _ in 0..per {
                    s.execute_with(
                        "UPDATE counters SET n = n + 1 WHERE id = $1",
                        &[Value::Int4(i as i32)],
                    )
                    .unwrap();
                    let point = s.durable_point().unwrap();
                    assert!(
                        c.with_volume(|v| v.vdl()) >= point,
                        "answered before durable"
                    );
                    // A read is answered only once what it could see is durable too.
                    s.execute("SELECT sum(n) FROM counters").unwrap();
                    let point = s.durable_point().unwrap();
                    assert!(c.with_volume(|v| v.vdl()) >= point);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = clock.now().duration_since(t0).unwrap();
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    assert_eq!(
        int(&mut s, "SELECT sum(n) FROM counters"),
        (THREADS * per) as i64
    );
    for i in 0..THREADS {
        assert_eq!(
            int(&mut s, &format!("SELECT n FROM counters WHERE id = {i}")),
            per as i64
        );
    }
    // Only the commit leader moves the manual clock: however the threads interleaved, the
    // clock never ran faster than one quorum round per commit.
    assert!(
        elapsed <= Duration::from_millis(3 * (THREADS * per) as u64),
        "{elapsed:?}"
    );
}

#[test]
fn a_writer_crash_during_concurrent_commits_keeps_every_acknowledged_one() {
    let (_clock, c) = cluster(&[("gc-r1", 0)]);
    setup(&c);
    c.advance(Duration::from_millis(20));
    let (progress, acks) = mpsc::channel::<()>();
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let c = c.clone();
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut s = c.connect(Endpoint::Cluster).unwrap();
                let (mut acked, mut in_doubt) = (0i64, 0i64);
                for _ in 0..10_000 {
                    match s.execute_with(
                        "UPDATE counters SET n = n + 1 WHERE id = $1",
                        &[Value::Int4(i as i32)],
                    ) {
                        Ok(_) => {
                            acked += 1;
                            let _ = progress.send(());
                        }
                        Err(e) => {
                            assert_eq!(e.sqlstate(), "57P01", "{e}");
                            // The statement may or may not have reached four copies.
                            in_doubt = 1;
                            break;
                        }
                    }
                }
                (acked, in_doubt)
            })
        })
        .collect();
    drop(progress);
    for _ in 0..THREADS * 15 {
        acks.recv().unwrap();
    }
    let report = c.crash_instance("gc-instance-1").unwrap().unwrap();
    assert_eq!(report.new_writer, "gc-r1");
    let outcomes: Vec<(i64, i64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut s = c.connect(Endpoint::Cluster).unwrap();
    for (i, (acked, in_doubt)) in outcomes.iter().enumerate() {
        let n = int(&mut s, &format!("SELECT n FROM counters WHERE id = {i}"));
        assert!(
            n >= *acked && n <= acked + in_doubt,
            "thread {i}: {acked} acknowledged (+{in_doubt} in doubt), {n} survived"
        );
    }
}
