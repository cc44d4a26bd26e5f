//! Aurora SQL engine: prepared point select, range select, update by primary key, insert and a
//! two-table join with aggregate, on a 100k-row table (the 1M-row side-by-side run against
//! SQLite is `benches/scripts/aurora_sysbench.sh`).

use criterion::{Criterion, criterion_group, criterion_main};
use nubis_aurora::Value;

const ROWS: i32 = 100_000;

fn setup() -> nubis_aurora::Session {
    let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
    let mut s = aurora.session();
    s.execute("CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c text NOT NULL); CREATE TABLE items (id int PRIMARY KEY, sb_id int NOT NULL, qty int NOT NULL); CREATE INDEX items_sb ON items (sb_id)").unwrap();
    s.execute("BEGIN").unwrap();
    let ins = s.prepare("INSERT INTO sbtest VALUES ($1, $2, $3)").unwrap();
    for i in 0..ROWS {
        s.execute_prepared(
            &ins,
            &[
                Value::Int4(i),
                Value::Int4(i % 1000),
                Value::text(format!("row-{i}")),
            ],
        )
        .unwrap();
    }
    let ins = s.prepare("INSERT INTO items VALUES ($1, $2, $3)").unwrap();
    for i in 0..ROWS / 10 {
        s.execute_prepared(
            &ins,
            &[
                Value::Int4(i),
                Value::Int4((i * 7) % ROWS),
                Value::Int4(i % 13),
            ],
        )
        .unwrap();
    }
    s.execute("COMMIT").unwrap();
    s
}

fn bench(c: &mut Criterion) {
    let mut s = setup();
    let mut n: i32 = 0;
    let mut next = || {
        n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345) & 0x7fff_ffff;
        n % (ROWS - 100)
    };
    let point = s.prepare("SELECT c FROM sbtest WHERE id = $1").unwrap();
    c.bench_function("aurora/point_select", |b| {
        b.iter(|| s.execute_prepared(&point, &[Value::Int4(next())]).unwrap())
    });
    let range = s
        .prepare("SELECT c FROM sbtest WHERE id BETWEEN $1 AND $1 + 99")
        .unwrap();
    c.bench_function("aurora/range_select_100", |b| {
        b.iter(|| s.execute_prepared(&range, &[Value::Int4(next())]).unwrap())
    });
    let update = s
        .prepare("UPDATE sbtest SET k = k + 1 WHERE id = $1")
        .unwrap();
    c.bench_function("aurora/update_by_pk", |b| {
        b.iter(|| s.execute_prepared(&update, &[Value::Int4(next())]).unwrap())
    });
    let insert = s.prepare("INSERT INTO sbtest VALUES ($1, 1, 'x')").unwrap();
    let mut id = ROWS;
    c.bench_function("aurora/insert", |b| {
        b.iter(|| {
            id += 1;
            s.execute_prepared(&insert, &[Value::Int4(id)]).unwrap()
        })
    });
    let join = s.prepare("SELECT count(*), sum(i.qty) FROM sbtest s JOIN items i ON i.sb_id = s.id WHERE s.id BETWEEN $1 AND $1 + 99").unwrap();
    c.bench_function("aurora/join_aggregate", |b| {
        b.iter(|| s.execute_prepared(&join, &[Value::Int4(next())]).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
