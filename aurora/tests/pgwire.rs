//! The PostgreSQL wire endpoint of RDS clusters, driven by `tokio-postgres` and by a raw
//! protocol client (status bytes, malformed frames).
#![cfg(feature = "http")]

use std::collections::HashMap;
use std::sync::Arc;

use nubis_aurora::cluster::Driver;
use nubis_aurora::rds::{Rds, RdsService};
use nubis_core::{Env, ManualClock};
use nubis_wire::Service;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, SimpleQueryMessage};

struct Api {
    rds: Arc<Rds>,
    svc: RdsService,
}

fn api() -> Api {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let rds = Arc::new(Rds::new(env, Driver::Manual(clock)));
    let svc = RdsService::new(rds.clone());
    Api { rds, svc }
}

impl Api {
    fn call(&self, form: &str) -> String {
        let params: HashMap<String, String> = nubis_wire::parse_form(form.as_bytes())
            .into_iter()
            .collect();
        match self.svc.handle("us-east-1", &params, "req") {
            Ok(body) => body,
            Err(e) => panic!("{form}: {e}"),
        }
    }

    /// A cluster with a writer (and `readers` readers); returns (writer host, reader host, port).
    fn cluster(&self, id: &str, password: Option<&str>, readers: usize) -> (String, String, u16) {
        let pw = password.map_or(String::new(), |p| format!("&MasterUserPassword={p}"));
        self.call(&format!(
            "Action=CreateDBCluster&DBClusterIdentifier={id}&Engine=aurora-postgresql&MasterUsername=admin&DatabaseName=app{pw}"
        ));
        for i in 0..=readers {
            self.call(&format!(
                "Action=CreateDBInstance&DBInstanceIdentifier={id}-{i}&DBClusterIdentifier={id}&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large"
            ));
        }
        let v = self.rds.describe_cluster("us-east-1", id).unwrap();
        (v.endpoint, v.reader_endpoint, v.port)
    }
}

async fn connect(
    host: &str,
    port: u16,
    extra: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(
        &format!("host={host} port={port} user=admin {extra}"),
        NoTls,
    )
    .await?;
    tokio::spawn(conn);
    Ok(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_runs_ddl_dml_prepared_statements_and_transactions() {
    let api = api();
    let (host, _, port) = api.cluster("pg1", Some("secret-pw1"), 0);
    assert_eq!(host, "127.0.0.1");
    assert_ne!(port, 5432);
    let c = connect(&host, port, "password=secret-pw1 dbname=app")
        .await
        .unwrap();

    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, big bigint, score float8, ok boolean, blob bytea, tags int[], price numeric(10,2), at timestamptz, doc jsonb)",
    )
    .await
    .unwrap();
    let insert = c
        .prepare("INSERT INTO t (id, name, big, score, ok, blob, tags) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .await
        .unwrap();
    let n = c
        .execute(
            &insert,
            &[
                &1i32,
                &"one",
                &10_000_000_000i64,
                &1.5f64,
                &true,
                &vec![1u8, 2, 255],
                &vec![1i32, 2, 3],
            ],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    c.execute(
        &insert,
        &[
            &2i32,
            &"two",
            &None::<i64>,
            &2.25f64,
            &false,
            &Vec::<u8>::new(),
            &Vec::<i32>::new(),
        ],
    )
    .await
    .unwrap();
    c.execute(
        "UPDATE t SET price = 19.99, at = '2024-05-01 10:00:00+00', doc = '{\"a\": [1, 2]}' WHERE id = $1",
        &[&1i32],
    )
    .await
    .unwrap();

    // Binary results of every type, parameters typed from their context.
    let row = c
        .query_one(
            "SELECT id, name, big, score, ok, blob, tags, price::text, at::text, doc->>'a' FROM t WHERE id = $1",
            &[&1i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, &str>(1), "one");
    assert_eq!(row.get::<_, i64>(2), 10_000_000_000);
    assert_eq!(row.get::<_, f64>(3), 1.5);
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, Vec<u8>>(5), vec![1, 2, 255]);
    assert_eq!(row.get::<_, Vec<i32>>(6), vec![1, 2, 3]);
    assert_eq!(row.get::<_, &str>(7), "19.99");
    assert_eq!(row.get::<_, &str>(8), "2024-05-01 10:00:00+00");
    assert_eq!(row.get::<_, &str>(9), "[1, 2]");
    let big: Option<i64> = c
        .query_one("SELECT big FROM t WHERE id = $1", &[&2i32])
        .await
        .unwrap()
        .get(0);
    assert_eq!(big, None);

    // Typed parameters in ranges, IN lists, ANY, LIMIT.
    let rows = c
        .query(
            "SELECT id FROM t WHERE score BETWEEN $1 AND $2 AND name = ANY($3) ORDER BY id LIMIT $4",
            &[&1.0f64, &3.0f64, &vec!["one", "two"], &10i64],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>(),
        vec![1, 2]
    );

    // RETURNING is described before it runs.
    let row = c
        .query_one(
            "INSERT INTO t (id, name) VALUES ($1, $2) RETURNING id, upper(name)",
            &[&3i32, &"three"],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, &str>(1)), (3, "THREE"));

    // Command tags through the simple protocol.
    let msgs = c
        .simple_query("UPDATE t SET ok = true; SELECT count(*) FROM t")
        .await
        .unwrap();
    let tags: Vec<u64> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![3, 1]);
    let count = msgs.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("3"));

    // Errors carry their SQLSTATE.
    let e = c
        .execute(
            &insert,
            &[
                &1i32,
                &"dup",
                &None::<i64>,
                &None::<f64>,
                &None::<bool>,
                &None::<Vec<u8>>,
                &None::<Vec<i32>>,
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::UNIQUE_VIOLATION));
    let e = c.query("SELECT * FROM missing", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_TABLE));
    let e = c.batch_execute("SELEC 1").await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::SYNTAX_ERROR));

    // A transaction rolled back leaves nothing; a committed one stays.
    let mut c = c;
    let tx = c.transaction().await.unwrap();
    tx.execute(
        "INSERT INTO t (id, name) VALUES ($1, $2)",
        &[&10i32, &"gone"],
    )
    .await
    .unwrap();
    assert_eq!(
        tx.query("SELECT id FROM t WHERE id = 10", &[])
            .await
            .unwrap()
            .len(),
        1
    );
    tx.rollback().await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute(
        "INSERT INTO t (id, name) VALUES ($1, $2)",
        &[&11i32, &"kept"],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let ids: Vec<i32> = c
        .query("SELECT id FROM t WHERE id >= $1 ORDER BY id", &[&10i32])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![11]);

    // A second connection sees committed data (same writer).
    let c2 = connect(&host, port, "password=secret-pw1 dbname=postgres")
        .await
        .unwrap();
    let n: i64 = c2
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_databases_readers_and_lifecycle() {
    let api = api();
    let (host, reader, port) = api.cluster("pg2", Some("secret-pw2"), 1);
    let e = connect(&host, port, "password=wrong-pw dbname=app")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD));
    let e = connect(&host, port, "password=secret-pw2 dbname=nope")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INVALID_CATALOG_NAME));

    let w = connect(&host, port, "password=secret-pw2 dbname=app")
        .await
        .unwrap();
    w.batch_execute("CREATE TABLE k (id int PRIMARY KEY); INSERT INTO k VALUES (1)")
        .await
        .unwrap();
    // The reader endpoint reaches a reader: reads work, writes are refused as on a standby.
    if reader != host {
        let r = connect(&reader, port, "password=secret-pw2 dbname=app")
            .await
            .unwrap();
        let e = r
            .batch_execute("INSERT INTO k VALUES (2)")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
    }
    let listeners = api.svc.listeners();
    assert!(listeners.iter().all(|l| l.protocol == "postgresql"));
    assert_eq!(
        listeners.iter().filter(|l| l.resource == "pg2").count(),
        if reader != host { 2 } else { 1 }
    );
    assert!(listeners.iter().any(|l| l.resource == "pg2-1"));

    // Instance endpoints reach that instance.
    let inst = api.rds.describe_instance("us-east-1", "pg2-0").unwrap();
    let i = connect(&inst.address, inst.port, "password=secret-pw2 dbname=app")
        .await
        .unwrap();
    assert_eq!(
        i.query_one("SELECT count(*) FROM k", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1
    );

    // Deleting the cluster closes its endpoints.
    api.call("Action=DeleteDBInstance&DBInstanceIdentifier=pg2-1");
    api.call("Action=DeleteDBInstance&DBInstanceIdentifier=pg2-0");
    api.call("Action=DeleteDBCluster&DBClusterIdentifier=pg2");
    assert!(
        connect(&host, port, "password=secret-pw2 dbname=app")
            .await
            .is_err()
    );
    assert!(api.svc.listeners().is_empty());
}

/// A raw frontend: startup, Query messages, and the backend's replies as (type, body).
struct Raw(TcpStream);

impl Raw {
    async fn start(port: u16, user: &str) -> (Raw, Vec<(u8, Vec<u8>)>) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut body = Vec::new();
        body.extend_from_slice(&196_608i32.to_be_bytes());
        for kv in ["user", user, "database", "postgres", ""] {
            body.extend_from_slice(kv.as_bytes());
            body.push(0);
        }
        let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        msg.extend(body);
        s.write_all(&msg).await.unwrap();
        let mut raw = Raw(s);
        let startup = raw.until_ready().await;
        (raw, startup)
    }

    async fn send(&mut self, tag: u8, body: &[u8]) {
        let mut msg = vec![tag];
        msg.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        msg.extend_from_slice(body);
        self.0.write_all(&msg).await.unwrap();
    }

    async fn query(&mut self, sql: &str) -> Vec<(u8, Vec<u8>)> {
        let mut body = sql.as_bytes().to_vec();
        body.push(0);
        self.send(b'Q', &body).await;
        self.until_ready().await
    }

    async fn read(&mut self) -> Option<(u8, Vec<u8>)> {
        let tag = self.0.read_u8().await.ok()?;
        let len = self.0.read_i32().await.ok()?;
        let mut body = vec![0; (len - 4).max(0) as usize];
        self.0.read_exact(&mut body).await.ok()?;
        Some((tag, body))
    }

    async fn until_ready(&mut self) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(m) = self.read().await {
            let done = m.0 == b'Z';
            out.push(m);
            if done {
                break;
            }
        }
        out
    }
}

fn status(msgs: &[(u8, Vec<u8>)]) -> u8 {
    msgs.last()
        .map_or(0, |(t, b)| if *t == b'Z' { b[0] } else { 0 })
}

fn error_code(msgs: &[(u8, Vec<u8>)]) -> Option<String> {
    let (_, body) = msgs.iter().find(|(t, _)| *t == b'E')?;
    body.split(|b| *b == 0)
        .find(|f| f.first() == Some(&b'C'))
        .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_for_query_reports_the_transaction_state_and_bad_frames_do_not_panic() {
    let api = api();
    let (_, _, port) = api.cluster("pg3", None, 0);
    let (mut raw, startup) = Raw::start(port, "admin").await;
    assert_eq!(status(&startup), b'I');
    assert_eq!(
        status(&raw.query("CREATE TABLE s (id int PRIMARY KEY)").await),
        b'I'
    );
    assert_eq!(status(&raw.query("BEGIN").await), b'T');
    let m = raw
        .query("INSERT INTO s VALUES (1); INSERT INTO s VALUES (1)")
        .await;
    assert_eq!(error_code(&m).as_deref(), Some("23505"));
    assert_eq!(status(&m), b'E');
    let m = raw.query("SELECT 1").await;
    assert_eq!(error_code(&m).as_deref(), Some("25P02"));
    assert_eq!(status(&m), b'E');
    assert_eq!(status(&raw.query("ROLLBACK").await), b'I');
    // Tags as PostgreSQL writes them.
    let m = raw.query("INSERT INTO s VALUES (1), (2); UPDATE s SET id = id + 10; DELETE FROM s WHERE id = 11; SELECT * FROM s").await;
    let tags: Vec<String> = m
        .iter()
        .filter(|(t, _)| *t == b'C')
        .map(|(_, b)| String::from_utf8_lossy(&b[..b.len() - 1]).into_owned())
        .collect();
    assert_eq!(tags, ["INSERT 0 2", "UPDATE 2", "DELETE 1", "SELECT 1"]);
    // An implicit transaction: a failing statement undoes the earlier ones of the message.
    let m = raw
        .query("INSERT INTO s VALUES (50); INSERT INTO s VALUES (12)")
        .await;
    assert_eq!(error_code(&m).as_deref(), Some("23505"));
    assert_eq!(status(&m), b'I');
    let m = raw.query("SELECT count(*) FROM s WHERE id = 50").await;
    let row = m.iter().find(|(t, _)| *t == b'D').unwrap();
    assert_eq!(&row.1[row.1.len() - 1..], b"0");
    // Unknown role with trust authentication.
    let (mut s, startup) = Raw::start(port, "nobody").await;
    assert_eq!(error_code(&startup).as_deref(), Some("28000"));
    assert_eq!(s.read().await, None);

    // Malformed frames: an extended-protocol Bind to a missing statement, a Bind with a bad
    // parameter format code, a truncated binary parameter, garbage message types.
    let mut parse = b"\0SELECT $1::int4\0".to_vec();
    parse.extend_from_slice(&0i16.to_be_bytes());
    raw.send(b'P', &parse).await;
    let mut bind = b"\0\0".to_vec();
    bind.extend_from_slice(&1i16.to_be_bytes());
    bind.extend_from_slice(&7i16.to_be_bytes());
    bind.extend_from_slice(&1i16.to_be_bytes());
    bind.extend_from_slice(&2i32.to_be_bytes());
    bind.extend_from_slice(&[0, 1]);
    bind.extend_from_slice(&0i16.to_be_bytes());
    raw.send(b'B', &bind).await;
    raw.send(b'E', b"\0\0\0\0\0").await;
    raw.send(b'S', b"").await;
    let m = raw.until_ready().await;
    assert!(error_code(&m).is_some(), "{m:?}");
    assert_eq!(status(&m), b'I');
    let mut bind = b"\0\0".to_vec();
    bind.extend_from_slice(&1i16.to_be_bytes());
    bind.extend_from_slice(&1i16.to_be_bytes());
    bind.extend_from_slice(&1i16.to_be_bytes());
    bind.extend_from_slice(&2i32.to_be_bytes());
    bind.extend_from_slice(&[0, 1]);
    bind.extend_from_slice(&0i16.to_be_bytes());
    raw.send(b'P', &parse).await;
    raw.send(b'B', &bind).await;
    raw.send(b'E', b"\0\0\0\0\0").await;
    raw.send(b'S', b"").await;
    let m = raw.until_ready().await;
    assert_eq!(error_code(&m).as_deref(), Some("22P03"));
    // The connection still works.
    let m = raw.query("SELECT 42").await;
    assert!(m.iter().any(|(t, b)| *t == b'D' && b.ends_with(b"42")));
    raw.send(b'?', b"garbage").await;
    raw.send(b'Q', b"no terminator").await;
    let _ = raw.until_ready().await;
}
