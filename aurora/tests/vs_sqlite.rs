//! Property test: random integer tables and queries (filters, arithmetic, grouping, joins,
//! ordering) give the same rows in Aurora and in SQLite, on the subset where the two agree
//! (integers, NULLs, truncating division avoided by using only + - *).

use proptest::prelude::*;
use rusqlite::Connection;

#[derive(Debug, Clone)]
struct Case {
    rows_a: Vec<(i64, Option<i64>, Option<i64>)>,
    rows_b: Vec<(i64, Option<i64>)>,
    query: String,
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("a.x".to_string()),
        Just("a.y".to_string()),
        Just("a.id".to_string()),
        (-5i64..5).prop_map(|v| v.to_string()),
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        (
            inner.clone(),
            prop_oneof![Just("+"), Just("-"), Just("*")],
            inner,
        )
            .prop_map(|(l, op, r)| format!("({l} {op} {r})"))
    })
}

fn predicate() -> impl Strategy<Value = String> {
    (
        expr(),
        prop_oneof![Just("="), Just("<"), Just(">="), Just("<>")],
        expr(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(l, op, r, neg, null_check)| {
            let p = format!("{l} {op} {r}");
            let p = if neg { format!("NOT ({p})") } else { p };
            if null_check {
                format!("({p} OR a.y IS NULL)")
            } else {
                p
            }
        })
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        (expr(), predicate()).prop_map(|(e, p)| format!("SELECT a.id, {e} FROM a WHERE {p}")),
        predicate().prop_map(|p| format!(
            "SELECT a.x, count(*), sum(a.y), min(a.id), max(a.y) FROM a WHERE {p} GROUP BY a.x"
        )),
        predicate().prop_map(|p| format!("SELECT a.id, b.v FROM a JOIN b ON a.x = b.k WHERE {p}")),
        predicate()
            .prop_map(|p| format!("SELECT a.id, b.v FROM a LEFT JOIN b ON a.x = b.k AND {p}")),
        predicate().prop_map(|p| format!("SELECT DISTINCT a.x FROM a WHERE {p}")),
        predicate().prop_map(|p| format!(
            "SELECT a.id FROM a WHERE a.x IN (SELECT b.k FROM b WHERE b.v > 0) AND {p}"
        )),
        predicate().prop_map(|p| format!("SELECT count(*) FROM a WHERE {p} HAVING count(*) > 0")),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let a = proptest::collection::vec(
        (
            proptest::option::of(-3i64..3),
            proptest::option::of(-10i64..10),
        ),
        0..12,
    );
    let b = proptest::collection::vec((-3i64..3, proptest::option::of(-10i64..10)), 0..8);
    (a, b, query()).prop_map(|(a, b, query)| Case {
        rows_a: a
            .into_iter()
            .enumerate()
            .map(|(i, (x, y))| (i as i64, x, y))
            .collect(),
        rows_b: b.into_iter().collect(),
        query,
    })
}

fn lit(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "NULL".into())
}

fn canon_sqlite(conn: &Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            let mut out = Vec::new();
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i)?;
                out.push(match v {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => format!("{f}"),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => "blob".into(),
                });
            }
            Ok(out.join("|"))
        })
        .map_err(|e| e.to_string())?;
    let mut v: Vec<String> = rows.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    v.sort();
    Ok(v)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn aurora_agrees_with_sqlite(c in case()) {
        let conn = Connection::open_in_memory().unwrap();
        let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
        let mut s = aurora.session();
        let ddl = "CREATE TABLE a (id bigint PRIMARY KEY, x bigint, y bigint); CREATE TABLE b (k bigint, v bigint)";
        conn.execute_batch(ddl).unwrap();
        s.execute(ddl).unwrap();
        for (id, x, y) in &c.rows_a {
            let sql = format!("INSERT INTO a VALUES ({id}, {}, {})", lit(*x), lit(*y));
            conn.execute(&sql, []).unwrap();
            s.execute(&sql).unwrap();
        }
        for (k, v) in &c.rows_b {
            let sql = format!("INSERT INTO b VALUES ({k}, {})", lit(*v));
            conn.execute(&sql, []).unwrap();
            s.execute(&sql).unwrap();
        }
        let expected = canon_sqlite(&conn, &c.query);
        let got = s.execute(&c.query).map(|r| {
            let mut v: Vec<String> = r[0].rows.iter().map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("|")).collect();
            v.sort();
            v
        });
        match (expected, got) {
            (Ok(e), Ok(g)) => prop_assert_eq!(e, g, "query: {}", c.query),
            (Err(_), Err(_)) => {}
            (e, g) => prop_assert!(false, "query {} disagreed: sqlite {:?} aurora {:?}", c.query, e, g.map_err(|e| e.to_string())),
        }
    }

    #[test]
    fn the_front_end_never_panics(sql in "[a-zA-Z0-9 ,*()'=<>+\\-.;:$_\\[\\]]{0,80}") {
        let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
        let mut s = aurora.session();
        let _ = s.execute("CREATE TABLE t (a int, b text)");
        let _ = s.execute(&sql);
    }
}
