//! DynamoDB Global Tables and backups, in process: CreateBackup and RestoreTableFromBackup on a
//! table of one million items, replication throughput between two regions (writes applied per
//! second), and end-to-end replication lag at zero configured delay (a write in one region until
//! it is readable in the other).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-dyn-global cargo bench -p nubis-benches --bench dynamo_global`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nubis_core::{Env, Region};
use nubis_dynamo::backup::{BackupInput, RestoreInput};
use nubis_dynamo::global::model::{ReplicationGroupMemberAction, ReplicationGroupUpdate};
use nubis_dynamo::model::{
    AttributeDefinition, CreateTableInput, KeySchemaElement, TableNameInput, UpdateTableInput,
};
use nubis_dynamo::model_data::{GetItemInput, PutItemInput};
use nubis_dynamo::{AttributeValue, Dynamo, Item, RegionDb};

const BIG: i64 = 1_000_000;
const BATCH: u64 = 10_000;
const US: Region = Region::from_static("us-east-1");
const EU: Region = Region::from_static("eu-west-1");

fn create(db: &RegionDb, name: &str) {
    db.create_table(CreateTableInput {
        table_name: Some(name.into()),
        attribute_definitions: Some(vec![AttributeDefinition {
            attribute_name: "pk".into(),
            attribute_type: "S".into(),
        }]),
        key_schema: Some(vec![KeySchemaElement {
            attribute_name: "pk".into(),
            key_type: "HASH".into(),
        }]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    })
    .expect("create table");
}

fn item(i: i64) -> Item {
    let mut m = HashMap::with_capacity(3);
    m.insert("pk".to_owned(), AttributeValue::S(format!("key{i}")));
    m.insert(
        "payload".to_owned(),
        AttributeValue::S("a reasonably sized attribute value".to_owned()),
    );
    m.insert("n".to_owned(), AttributeValue::int(i));
    m
}

fn put(db: &RegionDb, table: &str, i: i64) {
    db.put_item(PutItemInput {
        table_name: Some(table.into()),
        item: Some(item(i)),
        ..Default::default()
    })
    .expect("put");
}

// Benchmarks measure wall time on purpose (iter_custom times only the step under test).
#[allow(clippy::disallowed_methods)]
fn backups(c: &mut Criterion) {
    let dynamo = Dynamo::new(Env::default());
    let db = dynamo.region(&US);
    create(&db, "Big");
    for i in 0..BIG {
        put(&db, "Big", i);
    }
    let mut g = c.benchmark_group("dynamo_backup_1m");
    g.sample_size(20);
    g.bench_function("create_backup", |b| {
        b.iter_custom(|iters| {
            let mut arns = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for i in 0..iters {
                let out = db
                    .create_backup(BackupInput {
                        table_name: Some("Big".into()),
                        backup_name: Some(format!("bench-{i}")),
                        ..Default::default()
                    })
                    .expect("backup");
                arns.push(
                    out["BackupDetails"]["BackupArn"]
                        .as_str()
                        .map(str::to_owned),
                );
            }
            let took = start.elapsed();
            for arn in arns.into_iter().flatten() {
                let _ = db.delete_backup(BackupInput {
                    backup_arn: Some(arn),
                    ..Default::default()
                });
            }
            took
        })
    });
    let arn = db
        .create_backup(BackupInput {
            table_name: Some("Big".into()),
            backup_name: Some("restore-me".into()),
            ..Default::default()
        })
        .expect("backup")["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    g.sample_size(10);
    g.bench_function("restore_table_from_backup", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                db.restore_table_from_backup(RestoreInput {
                    target_table_name: Some("Restored".into()),
                    backup_arn: Some(arn.clone()),
                    ..Default::default()
                })
                .expect("restore");
                took += start.elapsed();
                db.delete_table(TableNameInput {
                    table_name: Some("Restored".into()),
                })
                .expect("delete");
            }
            took
        })
    });
    g.finish();
}

/// A table in us-east-1 replicated to eu-west-1 on the system clock.
fn two_regions() -> (Dynamo, Arc<RegionDb>, Arc<RegionDb>) {
    let dynamo = Dynamo::new(Env::default());
    let (a, b) = (dynamo.region(&US), dynamo.region(&EU));
    create(&a, "Repl");
    a.update_table(UpdateTableInput {
        table_name: Some("Repl".into()),
        replica_updates: Some(vec![ReplicationGroupUpdate {
            create: Some(ReplicationGroupMemberAction {
                region_name: Some("eu-west-1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    })
    .expect("replica");
    (dynamo, a, b)
}

#[allow(clippy::disallowed_methods)] // Benchmarks measure wall time on purpose.
fn replication(c: &mut Criterion) {
    let (dynamo, a, b) = two_regions();
    let hub = Arc::clone(dynamo.replication());
    let mut g = c.benchmark_group("dynamo_replication");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(20);
    let mut next = 0i64;
    g.bench_function("apply_10k_writes_us_to_eu", |bench| {
        bench.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                for _ in 0..BATCH {
                    put(&a, "Repl", next);
                    next += 1;
                }
                // Queue them (stream ingest), then time the apply at the destination.
                hub.ingest_all();
                let start = Instant::now();
                let n = hub.pump();
                took += start.elapsed();
                debug_assert_eq!(n as u64, BATCH);
            }
            took
        })
    });
    g.finish();

    let mut g = c.benchmark_group("dynamo_replication_lag");
    let mut i = 0i64;
    g.bench_function("put_us_then_visible_in_eu_zero_delay", |bench| {
        bench.iter(|| {
            i += 1;
            put(&a, "Repl", -i);
            let got = b
                .get_item(GetItemInput {
                    table_name: Some("Repl".into()),
                    key: Some(HashMap::from([(
                        "pk".to_owned(),
                        AttributeValue::S(format!("key{}", -i)),
                    )])),
                    consistent_read: Some(true),
                    ..Default::default()
                })
                .expect("get");
            black_box(got.item.is_some())
        })
    });
    g.finish();
}

criterion_group!(benches, backups, replication);
criterion_main!(benches);
