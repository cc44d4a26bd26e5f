//! What real PostgreSQL clients need beyond queries: SCRAM-SHA-256 (the default), MD5 and trust
//! authentication, cancel requests, COPY, and psql's describe commands.
#![cfg(feature = "http")]

use std::collections::HashMap;
use std::sync::Arc;

use nubis_aurora::cluster::Driver;
use nubis_aurora::pgwire::PgAuth;
use nubis_aurora::rds::{PgConfig, Rds, RdsService};
use nubis_core::{Env, ManualClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

fn service(auth: PgAuth) -> (Arc<Rds>, RdsService) {
    let clock = ManualClock::at_default_epoch();
    let rds = Arc::new(Rds::new(
        Env::with_clock(clock.shared()),
        Driver::Manual(clock),
    ));
    let config = PgConfig {
        auth,
        ..PgConfig::default()
    };
    (rds.clone(), RdsService::with_pg_config(rds, config))
}

fn call(svc: &RdsService, form: &str) {
    let params: HashMap<String, String> = nubis_wire::parse_form(form.as_bytes())
        .into_iter()
        .collect();
    if let Err(e) = svc.handle("us-east-1", &params, "req") {
        panic!("{form}: {e}");
    }
}

/// A cluster with one writer; returns its port.
fn cluster(rds: &Rds, svc: &RdsService, id: &str) -> u16 {
    call(
        svc,
        &format!(
            "Action=CreateDBCluster&DBClusterIdentifier={id}&Engine=aurora-postgresql&MasterUsername=admin&MasterUserPassword=secret-pw1"
        ),
    );
    call(
        svc,
        &format!(
            "Action=CreateDBInstance&DBInstanceIdentifier={id}-1&DBClusterIdentifier={id}&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large"
        ),
    );
    rds.describe_cluster("us-east-1", id).unwrap().port
}

async fn connect(port: u16, extra: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=admin dbname=postgres {extra}"),
        NoTls,
    )
    .await?;
    tokio::spawn(conn);
    Ok(client)
}

/// The authentication request code the server answers a startup packet with.
async fn auth_request(port: u16) -> i32 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(&196608i32.to_be_bytes());
    for kv in ["user", "admin", "database", "postgres"] {
        body.extend_from_slice(kv.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    msg.extend(body);
    s.write_all(&msg).await.unwrap();
    let mut head = [0u8; 9];
    s.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], b'R');
    i32::from_be_bytes([head[5], head[6], head[7], head[8]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_is_the_default_and_md5_and_trust_stay_selectable() {
    let (rds, svc) = service(PgAuth::default());
    let port = cluster(&rds, &svc, "scram");
    // 10 = AuthenticationSASL.
    assert_eq!(auth_request(port).await, 10);
    let c = connect(port, "password=secret-pw1").await.unwrap();
    let rows = c.simple_query("SELECT 1").await.unwrap();
    assert!(!rows.is_empty());
    let e = connect(port, "password=wrong").await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD));

    let (rds, svc) = service(PgAuth::Md5);
    let port = cluster(&rds, &svc, "md5");
    // 5 = AuthenticationMD5Password.
    assert_eq!(auth_request(port).await, 5);
    connect(port, "password=secret-pw1").await.unwrap();
    let e = connect(port, "password=wrong").await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD));

    let (rds, svc) = service(PgAuth::Trust);
    let port = cluster(&rds, &svc, "trust");
    // 0 = AuthenticationOk: no password asked.
    assert_eq!(auth_request(port).await, 0);
    connect(port, "").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_interrupts_a_statement_waiting_for_a_row_lock() {
    let (rds, svc) = service(PgAuth::default());
    let port = cluster(&rds, &svc, "cancel");
    let a = connect(port, "password=secret-pw1").await.unwrap();
    a.batch_execute("CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t VALUES (1, 0)")
        .await
        .unwrap();
    a.batch_execute("BEGIN; UPDATE t SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    let b = connect(port, "password=secret-pw1").await.unwrap();
    let token = b.cancel_token();
    // B waits for A's row lock; the cancel arrives on a third connection.
    let waiting =
        tokio::spawn(async move { b.execute("UPDATE t SET n = 2 WHERE id = 1", &[]).await });
    let mut result = None;
    for _ in 0..200 {
        token.cancel_query(NoTls).await.unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(50), async {
            while !waiting.is_finished() {
                tokio::task::yield_now().await;
            }
        })
        .await
        {
            Ok(()) => {
                result = Some(waiting.await.unwrap());
                break;
            }
            Err(_) => continue,
        }
    }
    let e = result.expect("the waiting statement ended").unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::QUERY_CANCELED), "{e}");
    a.batch_execute("COMMIT").await.unwrap();
    let n: i32 = a
        .query_one("SELECT n FROM t WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // A cancel between statements is ignored.
    a.cancel_token().cancel_query(NoTls).await.unwrap();
    a.batch_execute("UPDATE t SET n = 3 WHERE id = 1")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_and_to_stdout_in_text_and_csv() {
    use futures::{SinkExt, TryStreamExt};
    let (rds, svc) = service(PgAuth::default());
    let port = cluster(&rds, &svc, "copy");
    let c = connect(port, "password=secret-pw1").await.unwrap();
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, name text, score float8)")
        .await
        .unwrap();
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\tann\t1.5\n2\t\\N\t2\n"))
        .await
        .unwrap();
    sink.send(bytes::Bytes::from_static(b"3\ttab\\there\t\\N\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    let sink = c
        .copy_in("COPY t (id, name) FROM STDIN WITH (FORMAT csv, HEADER)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"id,name\n4,\"a,b\"\n5,\"\"\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 5);
    let name: Option<String> = c
        .query_one("SELECT name FROM t WHERE id = 3", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name.as_deref(), Some("tab\there"));

    // A row with a missing field loads nothing.
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"6\tx\t1\n7\ty\n"))
        .await
        .unwrap();
    let e = sink.finish().await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::BAD_COPY_FILE_FORMAT), "{e}");
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 5);

    let out: Vec<bytes::Bytes> = c
        .copy_out("COPY (SELECT id, name FROM t WHERE id IN (2, 4) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let text: String = out
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert_eq!(text, "id,name\n2,\n4,\"a,b\"\n");
    let out: Vec<bytes::Bytes> = c
        .copy_out("COPY t (id, name) TO STDOUT")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let text: String = out
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(text.contains("3\ttab\\there\n"), "{text}");
    assert!(text.contains("2\t\\N\n"), "{text}");

    let e = c
        .batch_execute("COPY t FROM '/etc/passwd'")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}

// psql's describe commands (`\d`, `\dt`, `\d name`, `\di`, `\dn`, `\l`): psql sends its own
// `pg_catalog` queries (captured with `psql -E`), and its output must be what PostgreSQL 15
// gives for the same schema (objects belong to `postgres`, the engine's `current_user`). Needs
// Debian's PostgreSQL client (`psql`, package `postgresql-client`) on the PATH or in /usr/bin;
// `scripts/setup.sh` (run by `.ci/run`) installs it.

fn psql() -> std::path::PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([std::path::PathBuf::from("/usr/bin")])
        .map(|d| d.join("psql"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("psql is not installed (Debian package postgresql-client; scripts/setup.sh installs it)")
        })
}

/// Runs psql (unaligned output, no psqlrc) with `args`; returns (exit code, stdout, stderr).
async fn run_psql(port: u16, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(psql());
    cmd.env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-A", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "admin"])
        .args(["-d", "postgres"])
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn describe(port: u16, command: &str) -> String {
    let (code, out, err) = run_psql(port, &["-c", command]).await;
    assert_eq!(code, 0, "{command}: {err}");
    assert_eq!(err, "", "{command}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_tables_indexes_schemas_and_databases() {
    let (rds, svc) = service(PgAuth::Trust);
    let port = cluster(&rds, &svc, "desc");
    let (code, _, err) = run_psql(
        port,
        &[
            "-c",
            "CREATE TABLE kv (k text PRIMARY KEY, v varchar(20) NOT NULL DEFAULT 'x', n numeric(10,2), at date)",
            "-c",
            "CREATE INDEX kv_v ON kv (v)",
            "-c",
            "CREATE TABLE item (id int PRIMARY KEY, kv text REFERENCES kv(k), qty int CHECK (qty > 0))",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");

    let tables = "List of relations\nSchema|Name|Type|Owner\npublic|item|table|postgres\npublic|kv|table|postgres\n(2 rows)\n";
    assert_eq!(describe(port, "\\d").await, tables);
    assert_eq!(describe(port, "\\dt").await, tables);
    assert_eq!(
        describe(port, "\\di").await,
        "List of relations\nSchema|Name|Type|Owner|Table\npublic|item_pkey|index|postgres|item\npublic|kv_pkey|index|postgres|kv\npublic|kv_v|index|postgres|kv\n(3 rows)\n"
    );
    assert_eq!(
        describe(port, "\\d kv").await,
        "Table \"public.kv\"\nColumn|Type|Collation|Nullable|Default\nk|text||not null|\nv|character varying(20)||not null|'x'\nn|numeric(10,2)|||\nat|date|||\nIndexes:\n    \"kv_pkey\" PRIMARY KEY, btree (k)\n    \"kv_v\" btree (v)\nReferenced by:\n    TABLE \"item\" CONSTRAINT \"item_kv_fkey\" FOREIGN KEY (kv) REFERENCES kv(k)\n"
    );
    assert_eq!(
        describe(port, "\\d item").await,
        "Table \"public.item\"\nColumn|Type|Collation|Nullable|Default\nid|integer||not null|\nkv|text|||\nqty|integer|||\nIndexes:\n    \"item_pkey\" PRIMARY KEY, btree (id)\nCheck constraints:\n    \"item_qty_check\" CHECK (qty > 0)\nForeign-key constraints:\n    \"item_kv_fkey\" FOREIGN KEY (kv) REFERENCES kv(k)\n"
    );
    assert_eq!(
        describe(port, "\\dn").await,
        "List of schemas\nName|Owner\npublic|pg_database_owner\n(1 row)\n"
    );
    let dbs = describe(port, "\\l").await;
    assert!(
        dbs.starts_with("List of databases\nName|Owner|Encoding|Collate|Ctype|ICU Locale|Locale Provider|Access privileges\npostgres|postgres|UTF8|C.UTF-8|C.UTF-8||libc|\n"),
        "{dbs}"
    );
    // A name that matches nothing: psql's own message, exit code 1.
    let (code, _, err) = run_psql(port, &["-c", "\\d nosuch"]).await;
    assert_eq!(code, 1);
    assert_eq!(err, "Did not find any relation named \"nosuch\".\n");
}
