//! DynamoDB engine, in process: GetItem, PutItem, Query and UpdateItem through the Rust API, and
//! CreateBackup on a table of one million items.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-dynamo cargo bench -p nubis-benches --bench dynamo`, or
//! `benches/scripts/dynamo_inprocess.sh [REV]` to build the per-request group against the dynamo
//! crate alone (any git revision; for before/after comparisons without compiling every engine).
//! Each benchmark reports time per operation; operations per second are 1 / that time. The
//! plain benchmarks time building each request as a caller would; the `_prebuilt` ones build
//! the requests outside the timed part, so they time the engine alone.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nubis_core::{Env, Region};
use nubis_dynamo::model::{AttributeDefinition, CreateTableInput, KeySchemaElement};
use nubis_dynamo::model_data::{GetItemInput, PutItemInput, QueryInput, UpdateItemInput};
use nubis_dynamo::{AttributeValue, Dynamo, Item};

const ITEMS: i64 = 100_000;

fn table(db: &nubis_dynamo::RegionDb) {
    let attr = |n: &str, t: &str| AttributeDefinition {
        attribute_name: n.into(),
        attribute_type: t.into(),
    };
    let key = |n: &str, t: &str| KeySchemaElement {
        attribute_name: n.into(),
        key_type: t.into(),
    };
    db.create_table(CreateTableInput {
        table_name: Some("Bench".into()),
        attribute_definitions: Some(vec![attr("pk", "S"), attr("sk", "N")]),
        key_schema: Some(vec![key("pk", "HASH"), key("sk", "RANGE")]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    })
    .expect("create table");
}

fn item(i: i64) -> Item {
    let mut m = HashMap::with_capacity(4);
    m.insert(
        "pk".to_owned(),
        AttributeValue::S(format!("user{}", i % 1000)),
    );
    m.insert("sk".to_owned(), AttributeValue::int(i / 1000));
    m.insert(
        "name".to_owned(),
        AttributeValue::S("a reasonably sized attribute value".to_owned()),
    );
    m.insert("count".to_owned(), AttributeValue::int(i));
    m
}

fn key(i: i64) -> Item {
    let mut m = HashMap::with_capacity(2);
    m.insert(
        "pk".to_owned(),
        AttributeValue::S(format!("user{}", i % 1000)),
    );
    m.insert("sk".to_owned(), AttributeValue::int(i / 1000));
    m
}

fn bench(c: &mut Criterion) {
    let engine = Dynamo::new(Env::default());
    let db = engine.region(&Region::US_EAST_1);
    table(&db);
    for i in 0..ITEMS {
        db.put_item(PutItemInput {
            table_name: Some("Bench".into()),
            item: Some(item(i)),
            ..Default::default()
        })
        .expect("load");
    }
    let mut g = c.benchmark_group("dynamo");
    g.throughput(Throughput::Elements(1));
    let mut i = 0i64;
    g.bench_function("GetItem", |b| {
        b.iter(|| {
            i = (i + 7919) % ITEMS;
            let out = db.get_item(GetItemInput {
                table_name: Some("Bench".into()),
                key: Some(key(i)),
                ..Default::default()
            });
            black_box(out.is_ok_and(|o| o.item.is_some()))
        })
    });
    g.bench_function("PutItem", |b| {
        b.iter(|| {
            i = (i + 7919) % ITEMS;
            black_box(
                db.put_item(PutItemInput {
                    table_name: Some("Bench".into()),
                    item: Some(item(i)),
                    ..Default::default()
                })
                .is_ok(),
            )
        })
    });
    // The same requests built outside the timed part: the engine's own cost per operation
    // (the call, and dropping the request and the answer).
    g.bench_function("GetItem_prebuilt", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % ITEMS;
                GetItemInput {
                    table_name: Some("Bench".into()),
                    key: Some(key(i)),
                    ..Default::default()
                }
            },
            |input| black_box(db.get_item(input).is_ok_and(|o| o.item.is_some())),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("PutItem_prebuilt", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % ITEMS;
                PutItemInput {
                    table_name: Some("Bench".into()),
                    item: Some(item(i)),
                    ..Default::default()
                }
            },
            |input| black_box(db.put_item(input).is_ok()),
            BatchSize::SmallInput,
        )
    });
    let values: HashMap<String, AttributeValue> =
        HashMap::from([(":one".to_owned(), AttributeValue::int(1))]);
    g.bench_function("UpdateItem", |b| {
        b.iter(|| {
            i = (i + 7919) % ITEMS;
            black_box(
                db.update_item(UpdateItemInput {
                    table_name: Some("Bench".into()),
                    key: Some(key(i)),
                    update_expression: Some("SET #c = #c + :one".into()),
                    expression_attribute_names: Some(HashMap::from([(
                        "#c".to_owned(),
                        "count".to_owned(),
                    )])),
                    expression_attribute_values: Some(values.clone()),
                    ..Default::default()
                })
                .is_ok(),
            )
        })
    });
    g.bench_function("Query10", |b| {
        b.iter(|| {
            i = (i + 7919) % 1000;
            let out = db.query(QueryInput {
                table_name: Some("Bench".into()),
                key_condition_expression: Some("pk = :p".into()),
                expression_attribute_values: Some(HashMap::from([(
                    ":p".to_owned(),
                    AttributeValue::S(format!("user{i}")),
                )])),
                limit: Some(10),
                ..Default::default()
            });
            black_box(out.map(|o| o.count).unwrap_or(0))
        })
    });
    g.finish();
}

/// CreateBackup on a table of one million items: constant time (a persistent-map clone).
fn backup(c: &mut Criterion) {
    let engine = Dynamo::new(Env::default());
    let db = engine.region(&Region::US_EAST_1);
    table(&db);
    for i in 0..1_000_000 {
        db.put_item(PutItemInput {
            table_name: Some("Bench".into()),
            item: Some(item(i)),
            ..Default::default()
        })
        .expect("load");
    }
    let mut g = c.benchmark_group("dynamo_backup");
    g.sample_size(20);
    g.bench_function("CreateBackup_1M_items", |b| {
        b.iter(|| {
            let out = db
                .create_backup(nubis_dynamo::backup::BackupInput {
                    table_name: Some("Bench".into()),
                    backup_name: Some("bench".into()),
                    ..Default::default()
                })
                .expect("backup");
            let arn = out["BackupDetails"]["BackupArn"]
                .as_str()
                .map(str::to_owned);
            db.delete_backup(nubis_dynamo::backup::BackupInput {
                backup_arn: arn,
                ..Default::default()
            })
            .expect("delete");
        })
    });
    g.finish();
}

criterion_group!(benches, bench, backup);
criterion_main!(benches);
