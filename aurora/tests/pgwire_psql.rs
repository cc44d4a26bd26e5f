//! psql's describe commands (`\d`, `\dt`, `\d name`, `\di`, `\dn`, `\l`) against a real cluster
//! over the PostgreSQL wire protocol: psql sends its own `pg_catalog` queries (captured with
//! `psql -E`), and its output must be what PostgreSQL gives for the same schema (the expected
//! text below is PostgreSQL 15's; objects belong to `postgres`, the engine's `current_user`).
//!
//! Needs Debian's PostgreSQL client (`psql`, package `postgresql-client`) on the PATH or in
//! /usr/bin; `scripts/setup.sh` (run by `.ci/run`) installs it.
#![cfg(feature = "http")]

use std::collections::HashMap;
use std::sync::Arc;

use nubis_aurora::cluster::Driver;
use nubis_aurora::pgwire::PgAuth;
use nubis_aurora::rds::{PgConfig, Rds, RdsService};
use nubis_core::{Env, ManualClock};

fn service() -> (Arc<Rds>, RdsService) {
    let clock = ManualClock::at_default_epoch();
    let rds = Arc::new(Rds::new(
        Env::with_clock(clock.shared()),
        Driver::Manual(clock),
    ));
    let config = PgConfig {
        auth: PgAuth::Trust,
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
    let (rds, svc) = service();
    call(
        &svc,
        "Action=CreateDBCluster&DBClusterIdentifier=desc&Engine=aurora-postgresql&MasterUsername=admin&MasterUserPassword=secret-pw1",
    );
    call(
        &svc,
        "Action=CreateDBInstance&DBInstanceIdentifier=desc-1&DBClusterIdentifier=desc&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large",
    );
    let port = rds.describe_cluster("us-east-1", "desc").unwrap().port;
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
