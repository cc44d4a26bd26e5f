//! The PostgreSQL wire endpoint of Aurora clusters, end to end: a cluster created with
//! `aws-sdk-rds`, then `tokio-postgres` and Debian's `psql` connected to the endpoint and port
//! DescribeDBClusters reports.
//!
//! The psql test needs the PostgreSQL client (`psql`, Debian package `postgresql-client`) on
//! the PATH or in /usr/bin; `.ci/run` installs it.

use aws_sdk_rds::Client;
use nubis::testing::TestServer;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

fn rds(server: &TestServer) -> Client {
    Client::new(&server.sdk_config())
}

/// Creates a cluster with a writer; returns (endpoint, reader endpoint, port).
async fn cluster(c: &Client, id: &str, password: &str) -> (String, String, u16) {
    c.create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password(password)
        .database_name("shop")
        .send()
        .await
        .unwrap();
    c.create_db_instance()
        .db_instance_identifier(format!("{id}-1"))
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .unwrap();
    let cl = &d.db_clusters()[0];
    (
        cl.endpoint().unwrap().to_string(),
        cl.reader_endpoint().unwrap().to_string(),
        cl.port().unwrap() as u16,
    )
}

#[tokio::test]
async fn tokio_postgres_through_the_reported_endpoint() {
    let server = TestServer::start().await;
    let c = rds(&server);
    let (host, reader, port) = cluster(&c, "pgsdk", "pw-for-sdk").await;
    assert_eq!(host, "127.0.0.1");
    assert!(!reader.is_empty());

    let (mut db, conn) = tokio_postgres::connect(
        &format!("host={host} port={port} user=admin password=pw-for-sdk dbname=shop"),
        NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    db.batch_execute(
        "CREATE TABLE orders (id bigserial PRIMARY KEY, item text NOT NULL, qty int CHECK (qty > 0), paid boolean DEFAULT false)",
    )
    .await
    .unwrap();
    let ins = db
        .prepare("INSERT INTO orders (item, qty) VALUES ($1, $2) RETURNING id")
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (item, qty) in [("apple", 3i32), ("pear", 1), ("fig", 7)] {
        ids.push(
            db.query_one(&ins, &[&item, &qty])
                .await
                .unwrap()
                .get::<_, i64>(0),
        );
    }
    assert_eq!(ids, vec![1, 2, 3]);
    let n = db
        .execute("UPDATE orders SET paid = true WHERE qty >= $1", &[&3i32])
        .await
        .unwrap();
    assert_eq!(n, 2);
    let rows = db
        .query(
            "SELECT item, qty FROM orders WHERE paid = $1 ORDER BY id",
            &[&true],
        )
        .await
        .unwrap();
    let got: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![("apple".into(), 3), ("fig".into(), 7)]);

    // A transaction with rollback.
    let tx = db.transaction().await.unwrap();
    tx.execute("DELETE FROM orders WHERE item = $1", &[&"pear"])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let n: i64 = db
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);

    // Errors with SQLSTATE.
    let e = db.execute(&ins, &[&"none", &0i32]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::CHECK_VIOLATION));
    let e = db.query("SELECT nope FROM orders", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_COLUMN));

    // A wrong password is refused.
    let e = tokio_postgres::connect(
        &format!("host={host} port={port} user=admin password=wrong dbname=shop"),
        NoTls,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD));
}

fn psql() -> std::path::PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([std::path::PathBuf::from("/usr/bin")])
        .map(|d| d.join("psql"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("psql is not installed (Debian package postgresql-client; .ci/run installs it)")
        })
}

async fn run_psql(host: &str, port: u16, args: &[&str]) -> (i32, String, String) {
    let psql = psql();
    let mut cmd = std::process::Command::new(psql);
    cmd.env("PGPASSWORD", "pw-for-psql")
        .env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-h",
            host,
            "-p",
            &port.to_string(),
            "-U",
            "admin",
            "-d",
            "shop",
        ])
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

#[tokio::test]
async fn psql_runs_commands_and_files() {
    let server = TestServer::start().await;
    let c = rds(&server);
    let (host, _, port) = cluster(&c, "pgpsql", "pw-for-psql").await;

    let (code, out, err) = run_psql(
        &host,
        port,
        &[
            "-c",
            "CREATE TABLE kv (k text PRIMARY KEY, v jsonb, at date)",
            "-c",
            "INSERT INTO kv VALUES ('a', '{\"n\": 1}', '2024-02-29'), ('b', '[true, null]', NULL)",
            "-c",
            "SELECT k, v, at FROM kv ORDER BY k",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "CREATE TABLE\nINSERT 0 2\na|{\"n\": 1}|2024-02-29\nb|[true, null]|\n"
    );

    let dir = std::env::temp_dir().join(format!("nubis-psql-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("script.sql");
    std::fs::write(
        &file,
        "BEGIN;\nUPDATE kv SET at = current_date WHERE k = 'b';\nSELECT count(*) FROM kv WHERE at IS NOT NULL;\nROLLBACK;\nSELECT count(*) FROM kv WHERE at IS NOT NULL;\nINSERT INTO kv VALUES ('a', NULL, NULL);\nSELECT 'not reached';\n",
    )
    .unwrap();
    let (code, out, err) = run_psql(&host, port, &["-f", file.to_str().unwrap()]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 3, "psql stops at the error: {out} {err}");
    assert_eq!(out, "BEGIN\nUPDATE 1\n2\nROLLBACK\n1\n");
    assert!(
        err.contains("ERROR:  duplicate key value violates unique constraint \"kv_pkey\""),
        "{err}"
    );
    assert!(err.contains("Key (k)=(a) already exists."), "{err}");
}
