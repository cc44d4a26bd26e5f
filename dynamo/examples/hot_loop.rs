//! The in-process bench's request loop as a plain program, for instruction counts under
//! callgrind (which load on a shared machine does not change, unlike wall-clock time).
//!
//! It loads the bench's table (100 000 items in 1 000 partitions, `pk` S + `sk` N, the request
//! code of `benches/benches/dynamo.rs`), then runs one operation `N` times inside `run_ops`.
//! Count only that function:
//!
//! ```text
//! cargo build --release -p nubis-dynamo --example hot_loop
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_ops*' \
//!     --toggle-collect='*run_prebuilt*' target/release/examples/hot_loop put 100000
//! ```
//!
//! and divide the `Collected` total by `N`. Operations: `get`, `put`, `update`, `query`, and
//! `get-pre`/`put-pre`, which build the `N` requests before `run_prebuilt` and count only the
//! engine's work on them (the call, and dropping the request and the answer).

use std::collections::HashMap;
use std::hint::black_box;

use nubis_core::{Env, Region};
use nubis_dynamo::model::{AttributeDefinition, CreateTableInput, KeySchemaElement};
use nubis_dynamo::model_data::{GetItemInput, PutItemInput, QueryInput, UpdateItemInput};
use nubis_dynamo::{AttributeValue, Dynamo, Item, RegionDb};

const ITEMS: i64 = 100_000;

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

fn setup() -> std::sync::Arc<RegionDb> {
    let engine = Dynamo::new(Env::default());
    let db = engine.region(&Region::US_EAST_1);
    let attr = |n: &str, t: &str| AttributeDefinition {
        attribute_name: n.into(),
        attribute_type: t.into(),
    };
    let ks = |n: &str, t: &str| KeySchemaElement {
        attribute_name: n.into(),
        key_type: t.into(),
    };
    if let Err(e) = db.create_table(CreateTableInput {
        table_name: Some("Bench".into()),
        attribute_definitions: Some(vec![attr("pk", "S"), attr("sk", "N")]),
        key_schema: Some(vec![ks("pk", "HASH"), ks("sk", "RANGE")]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    }) {
        eprintln!("create table: {e}");
        std::process::exit(1);
    }
    for i in 0..ITEMS {
        let r = db.put_item(PutItemInput {
            table_name: Some("Bench".into()),
            item: Some(item(i)),
            ..Default::default()
        });
        if let Err(e) = r {
            eprintln!("load: {e}");
            std::process::exit(1);
        }
    }
    db
}

#[inline(never)]
fn run_ops(db: &RegionDb, op: &str, n: u64) -> u64 {
    let mut ok = 0u64;
    let mut i = 0i64;
    let values: HashMap<String, AttributeValue> =
        HashMap::from([(":one".to_owned(), AttributeValue::int(1))]);
    for _ in 0..n {
        i = (i + 7919) % ITEMS;
        let good = match op {
            "get" => db
                .get_item(GetItemInput {
                    table_name: Some("Bench".into()),
                    key: Some(key(i)),
                    ..Default::default()
                })
                .is_ok_and(|o| o.item.is_some()),
            "put" => db
                .put_item(PutItemInput {
                    table_name: Some("Bench".into()),
                    item: Some(item(i)),
                    ..Default::default()
                })
                .is_ok(),
            "update" => db
                .update_item(UpdateItemInput {
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
            _ => db
                .query(QueryInput {
                    table_name: Some("Bench".into()),
                    key_condition_expression: Some("pk = :p".into()),
                    expression_attribute_values: Some(HashMap::from([(
                        ":p".to_owned(),
                        AttributeValue::S(format!("user{}", i % 1000)),
                    )])),
                    limit: Some(10),
                    ..Default::default()
                })
                .is_ok_and(|o| o.count == 10),
        };
        ok += u64::from(black_box(good));
    }
    ok
}

/// Prebuilt requests, for counting the engine's work alone.
enum Prebuilt {
    Get(Vec<GetItemInput>),
    Put(Vec<PutItemInput>),
}

fn prebuild(op: &str, n: u64) -> Prebuilt {
    let mut i = 0i64;
    let mut next = || {
        i = (i + 7919) % ITEMS;
        i
    };
    if op == "get-pre" {
        Prebuilt::Get(
            (0..n)
                .map(|_| GetItemInput {
                    table_name: Some("Bench".into()),
                    key: Some(key(next())),
                    ..Default::default()
                })
                .collect(),
        )
    } else {
        Prebuilt::Put(
            (0..n)
                .map(|_| PutItemInput {
                    table_name: Some("Bench".into()),
                    item: Some(item(next())),
                    ..Default::default()
                })
                .collect(),
        )
    }
}

#[inline(never)]
fn run_prebuilt(db: &RegionDb, inputs: Prebuilt) -> u64 {
    let mut ok = 0u64;
    match inputs {
        Prebuilt::Get(v) => {
            for input in v {
                ok += u64::from(black_box(
                    db.get_item(input).is_ok_and(|o| o.item.is_some()),
                ));
            }
        }
        Prebuilt::Put(v) => {
            for input in v {
                ok += u64::from(black_box(db.put_item(input).is_ok()));
            }
        }
    }
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map_or("get", String::as_str);
    if !matches!(
        op,
        "get" | "put" | "update" | "query" | "get-pre" | "put-pre"
    ) {
        eprintln!("usage: hot_loop get|put|update|query|get-pre|put-pre [N]");
        std::process::exit(2);
    }
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let db = setup();
    let ok = if op.ends_with("-pre") {
        let inputs = prebuild(op, n);
        run_prebuilt(&db, inputs)
    } else {
        run_ops(&db, op, n)
    };
    println!("{op}: {ok}/{n} ok");
}
