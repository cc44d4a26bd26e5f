//! A sysbench-like OLTP workload, in process, against Aurora and against SQLite (in memory,
//! prepared statements) on the same data: point select, range select (100 rows), update by
//! primary key (one-row autocommit transactions), insert, and a two-table join with aggregate.
//!
//! `cargo run --release -p nubis-aurora --example sysbench -- [rows] [runs] [workloads]`
//! (defaults 1000000, 3, all) prints ops/s for each engine (median of the runs) and the
//! Aurora/SQLite ratio; `workloads` is a comma-separated subset of the names printed (for
//! profiling one of them).
#![allow(clippy::disallowed_methods)] // Wall-clock timing is what a benchmark measures.

use std::time::Instant;

use nubis_aurora::Value;
use rusqlite::Connection;

fn rng(state: &mut u64, n: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % n
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

struct Work {
    name: &'static str,
    ops: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let only: Option<Vec<String>> = args
        .get(2)
        .map(|a| a.split(',').map(str::to_string).collect());
    let items = rows / 10;

    // Aurora.
    let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
    let mut s = aurora.session();
    s.execute("CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c text NOT NULL, pad text NOT NULL); CREATE INDEX sbtest_k ON sbtest (k)").unwrap();
    s.execute("CREATE TABLE items (id int PRIMARY KEY, sb_id int NOT NULL, qty int NOT NULL); CREATE INDEX items_sb ON items (sb_id)").unwrap();
    let t0 = Instant::now();
    s.execute("BEGIN").unwrap();
    let ins = s
        .prepare("INSERT INTO sbtest VALUES ($1, $2, $3, $4)")
        .unwrap();
    for i in 0..rows as i32 {
        let c = Value::text(format!("{:0>20}-{}", i, i % 97));
        s.execute_prepared(
            &ins,
            &[Value::Int4(i), Value::Int4(i % 1000), c, Value::text("pad")],
        )
        .unwrap();
    }
    let ins_items = s.prepare("INSERT INTO items VALUES ($1, $2, $3)").unwrap();
    for i in 0..items as i32 {
        s.execute_prepared(
            &ins_items,
            &[
                Value::Int4(i),
                Value::Int4((i * 7) % rows as i32),
                Value::Int4(i % 13),
            ],
        )
        .unwrap();
    }
    s.execute("COMMIT").unwrap();
    println!(
        "aurora: loaded {rows} rows + {items} items in {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    // SQLite.
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE sbtest (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, c TEXT NOT NULL, pad TEXT NOT NULL); CREATE INDEX sbtest_k ON sbtest (k);
        CREATE TABLE items (id INTEGER PRIMARY KEY, sb_id INTEGER NOT NULL, qty INTEGER NOT NULL); CREATE INDEX items_sb ON items (sb_id);").unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut st = conn
            .prepare("INSERT INTO sbtest VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for i in 0..rows as i64 {
            st.execute(rusqlite::params![
                i,
                i % 1000,
                format!("{:0>20}-{}", i, i % 97),
                "pad"
            ])
            .unwrap();
        }
        let mut st = conn
            .prepare("INSERT INTO items VALUES (?1, ?2, ?3)")
            .unwrap();
        for i in 0..items as i64 {
            st.execute(rusqlite::params![i, (i * 7) % rows as i64, i % 13])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();

    let works = [
        Work {
            name: "point_select",
            ops: 200_000,
        },
        Work {
            name: "range_select_100",
            ops: 20_000,
        },
        Work {
            name: "update_by_pk",
            ops: 100_000,
        },
        Work {
            name: "insert",
            ops: 100_000,
        },
        Work {
            name: "join_aggregate",
            ops: 5_000,
        },
    ];
    let mut next_id = rows as i64;
    println!(
        "{:<18} {:>14} {:>14} {:>8}",
        "workload", "aurora ops/s", "sqlite ops/s", "ratio"
    );
    for w in &works {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == w.name))
        {
            continue;
        }
        let (mut a_rates, mut s_rates) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let mut seed = 0x2545_F491_4F6C_DD1D ^ (run as u64 + 1);
            let start = Instant::now();
            match w.name {
                "point_select" => {
                    let p = s.prepare("SELECT c FROM sbtest WHERE id = $1").unwrap();
                    for _ in 0..w.ops {
                        let r = s
                            .execute_prepared(&p, &[Value::Int4(rng(&mut seed, rows) as i32)])
                            .unwrap();
                        assert_eq!(r.rows.len(), 1);
                    }
                }
                "range_select_100" => {
                    let p = s
                        .prepare("SELECT c FROM sbtest WHERE id BETWEEN $1 AND $1 + 99")
                        .unwrap();
                    for _ in 0..w.ops {
                        s.execute_prepared(&p, &[Value::Int4(rng(&mut seed, rows - 100) as i32)])
                            .unwrap();
                    }
                }
                "update_by_pk" => {
                    let p = s
                        .prepare("UPDATE sbtest SET k = k + 1 WHERE id = $1")
                        .unwrap();
                    for _ in 0..w.ops {
                        s.execute_prepared(&p, &[Value::Int4(rng(&mut seed, rows) as i32)])
                            .unwrap();
                    }
                }
                "insert" => {
                    let p = s
                        .prepare("INSERT INTO sbtest VALUES ($1, $2, $3, $4)")
                        .unwrap();
                    for _ in 0..w.ops {
                        next_id += 1;
                        s.execute_prepared(
                            &p,
                            &[
                                Value::Int4(next_id as i32),
                                Value::Int4(1),
                                Value::text("c"),
                                Value::text("p"),
                            ],
                        )
                        .unwrap();
                    }
                }
                _ => {
                    let p = s.prepare("SELECT count(*), sum(i.qty) FROM sbtest s JOIN items i ON i.sb_id = s.id WHERE s.id BETWEEN $1 AND $1 + 99").unwrap();
                    for _ in 0..w.ops {
                        s.execute_prepared(&p, &[Value::Int4(rng(&mut seed, rows - 100) as i32)])
                            .unwrap();
                    }
                }
            }
            a_rates.push(w.ops as f64 / start.elapsed().as_secs_f64());

            let mut seed = 0x2545_F491_4F6C_DD1D ^ (run as u64 + 1);
            let start = Instant::now();
            match w.name {
                "point_select" => {
                    let mut st = conn
                        .prepare_cached("SELECT c FROM sbtest WHERE id = ?1")
                        .unwrap();
                    for _ in 0..w.ops {
                        let _c: String = st
                            .query_row([rng(&mut seed, rows) as i64], |r| r.get(0))
                            .unwrap();
                    }
                }
                "range_select_100" => {
                    let mut st = conn
                        .prepare_cached("SELECT c FROM sbtest WHERE id BETWEEN ?1 AND ?1 + 99")
                        .unwrap();
                    for _ in 0..w.ops {
                        let rows_v: Vec<String> = st
                            .query_map([rng(&mut seed, rows - 100) as i64], |r| r.get(0))
                            .unwrap()
                            .collect::<Result<_, _>>()
                            .unwrap();
                        assert_eq!(rows_v.len(), 100);
                    }
                }
                "update_by_pk" => {
                    let mut st = conn
                        .prepare_cached("UPDATE sbtest SET k = k + 1 WHERE id = ?1")
                        .unwrap();
                    for _ in 0..w.ops {
                        st.execute([rng(&mut seed, rows) as i64]).unwrap();
                    }
                }
                "insert" => {
                    let mut st = conn
                        .prepare_cached("INSERT INTO sbtest VALUES (?1, ?2, ?3, ?4)")
                        .unwrap();
                    for k in 0..w.ops {
                        st.execute(rusqlite::params![
                            (rows + 1_000_000 * (run as u64 + 1) + k) as i64,
                            1,
                            "c",
                            "p"
                        ])
                        .unwrap();
                    }
                }
                _ => {
                    let mut st = conn.prepare_cached("SELECT count(*), sum(i.qty) FROM sbtest s JOIN items i ON i.sb_id = s.id WHERE s.id BETWEEN ?1 AND ?1 + 99").unwrap();
                    for _ in 0..w.ops {
                        let _: i64 = st
                            .query_row([rng(&mut seed, rows - 100) as i64], |r| r.get(0))
                            .unwrap();
                    }
                }
            }
            s_rates.push(w.ops as f64 / start.elapsed().as_secs_f64());
        }
        let (a, q) = (median(a_rates), median(s_rates));
        println!("{:<18} {:>14.0} {:>14.0} {:>8.2}", w.name, a, q, a / q);
    }
}
