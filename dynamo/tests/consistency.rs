//! The consistency model on a manual clock: eventually consistent reads and GSI queries are stale
//! until the clock passes the configured lag; strongly consistent reads are always current.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, ServiceError};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Config, Dynamo, Lag, RegionDb};
use serde_json::{Value, json};

fn engine(lag: Lag) -> (Dynamo, Arc<RegionDb>, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let d = Dynamo::with_config(
        Env::with_clock(clock.shared()),
        Config {
            consistency: lag,
            ..Default::default()
        },
    );
    let db = d.region(&Region::US_EAST_1);
    (d, db, clock)
}

fn ok(db: &RegionDb, op: &str, body: Value) -> Value {
    match dispatch(db, op, body.to_string().as_bytes()) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(e) => panic!("{op} failed: {} {}", e.code(), e),
    }
}

fn table(db: &RegionDb) {
    ok(
        db,
        "CreateTable",
        json!({
            "TableName": "Tbl",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "g", "AttributeType": "S"}
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }],
            "LocalSecondaryIndexes": [{
                "IndexName": "ByG2",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "g", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}
            }]
        }),
    );
}

fn put(db: &RegionDb, sk: i64, v: &str) {
    ok(
        db,
        "PutItem",
        json!({"TableName": "Tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": sk.to_string()}, "g": {"S": "x"}, "v": {"S": v}}}),
    );
}

fn get(db: &RegionDb, sk: i64, consistent: bool) -> Option<String> {
    let out = ok(
        db,
        "GetItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": sk.to_string()}}, "ConsistentRead": consistent}),
    );
    out["Item"]["v"]["S"].as_str().map(str::to_owned)
}

fn count(db: &RegionDb, op: &str, extra: Value) -> i64 {
    let mut body = json!({"TableName": "Tbl"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    ok(db, op, body)["Count"].as_i64().unwrap()
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn no_lag_by_default() {
    let (_, db, _) = engine(Lag::NONE);
    table(&db);
    put(&db, 1, "one");
    assert_eq!(get(&db, 1, false).as_deref(), Some("one"));
    let gsi = json!({"IndexName": "ByG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}});
    assert_eq!(count(&db, "Query", gsi), 1);
}

#[test]
fn eventually_consistent_reads_lag_until_the_clock_passes() {
    let lag = Lag {
        eventual: 2 * SECOND,
        gsi: Duration::ZERO,
    };
    let (_, db, clock) = engine(lag);
    table(&db);
    put(&db, 1, "one");
    // Written now: an eventually consistent read does not see it yet, a strong one does.
    assert_eq!(get(&db, 1, false), None);
    assert_eq!(get(&db, 1, true).as_deref(), Some("one"));
    clock.advance(SECOND);
    assert_eq!(get(&db, 1, false), None);
    put(&db, 1, "uno");
    clock.advance(SECOND);
    // Two seconds after the first write: its version is visible, the overwrite is not.
    assert_eq!(get(&db, 1, false).as_deref(), Some("one"));
    assert_eq!(get(&db, 1, true).as_deref(), Some("uno"));
    clock.advance(SECOND);
    assert_eq!(get(&db, 1, false).as_deref(), Some("uno"));

    // Deletes lag too.
    ok(
        &db,
        "DeleteItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    );
    assert_eq!(get(&db, 1, false).as_deref(), Some("uno"));
    assert_eq!(get(&db, 1, true), None);
    clock.advance(2 * SECOND);
    assert_eq!(get(&db, 1, false), None);
}

#[test]
fn query_scan_batch_and_partiql_reads_lag() {
    let lag = Lag {
        eventual: SECOND,
        gsi: Duration::ZERO,
    };
    let (_, db, clock) = engine(lag);
    table(&db);
    put(&db, 1, "one");
    put(&db, 2, "two");
    let q = json!({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}});
    let mut strong = q.clone();
    strong["ConsistentRead"] = json!(true);
    assert_eq!(count(&db, "Query", q.clone()), 0);
    assert_eq!(count(&db, "Query", strong.clone()), 2);
    assert_eq!(count(&db, "Scan", json!({})), 0);
    assert_eq!(count(&db, "Scan", json!({"ConsistentRead": true})), 2);
    let lsi = json!({"IndexName": "ByG2", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}});
    assert_eq!(count(&db, "Query", lsi.clone()), 0);
    let mut lsi_strong = lsi.clone();
    lsi_strong["ConsistentRead"] = json!(true);
    assert_eq!(count(&db, "Query", lsi_strong), 2);
    let keys = json!({"RequestItems": {"Tbl": {"Keys": [
        {"pk": {"S": "a"}, "sk": {"N": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "2"}}
    ]}}});
    let got = ok(&db, "BatchGetItem", keys.clone());
    assert_eq!(got["Responses"]["Tbl"].as_array().unwrap().len(), 0);
    let stmt = json!({"Statement": "SELECT * FROM Tbl WHERE pk = 'a'"});
    assert_eq!(
        ok(&db, "ExecuteStatement", stmt.clone())["Items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let mut stmt_strong = stmt.clone();
    stmt_strong["ConsistentRead"] = json!(true);
    assert_eq!(
        ok(&db, "ExecuteStatement", stmt_strong)["Items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // TransactGetItems is strongly consistent.
    let tg = ok(
        &db,
        "TransactGetItems",
        json!({"TransactItems": [{"Get": {"TableName": "Tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}]}),
    );
    assert_eq!(tg["Responses"][0]["Item"]["v"]["S"], "one");

    clock.advance(SECOND);
    assert_eq!(count(&db, "Query", q), 2);
    assert_eq!(count(&db, "Scan", json!({})), 2);
    assert_eq!(count(&db, "Query", lsi), 2);
    let got = ok(&db, "BatchGetItem", keys);
    assert_eq!(got["Responses"]["Tbl"].as_array().unwrap().len(), 2);
    assert_eq!(
        ok(&db, "ExecuteStatement", stmt)["Items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn gsi_propagation_lags_and_consistent_gsi_reads_stay_invalid() {
    let lag = Lag {
        eventual: Duration::ZERO,
        gsi: 5 * SECOND,
    };
    let (_, db, clock) = engine(lag);
    table(&db);
    put(&db, 1, "one");
    // The table is current, the GSI is not.
    assert_eq!(get(&db, 1, false).as_deref(), Some("one"));
    let gsi = json!({"IndexName": "ByG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}});
    assert_eq!(count(&db, "Query", gsi.clone()), 0);
    assert_eq!(count(&db, "Scan", json!({"IndexName": "ByG"})), 0);
    let mut strong = gsi.clone();
    strong["ConsistentRead"] = json!(true);
    strong["TableName"] = json!("Tbl");
    let e = dispatch(&db, "Query", strong.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.code(), "ValidationException");
    assert_eq!(
        e.to_string(),
        "Consistent reads are not supported on global secondary indexes"
    );
    clock.advance(4 * SECOND);
    assert_eq!(count(&db, "Query", gsi.clone()), 0);
    clock.advance(SECOND);
    assert_eq!(count(&db, "Query", gsi.clone()), 1);
    assert_eq!(count(&db, "Scan", json!({"IndexName": "ByG"})), 1);
}

#[test]
fn per_table_and_runtime_engine_settings() {
    let (engine, db, clock) = engine(Lag::NONE);
    table(&db);
    put(&db, 1, "one");
    assert_eq!(get(&db, 1, false).as_deref(), Some("one"));
    // Engine-wide at run time: history starts now, so earlier reads see the state at this point.
    engine.set_consistency_lag(Lag {
        eventual: SECOND,
        gsi: Duration::ZERO,
    });
    put(&db, 2, "two");
    assert_eq!(get(&db, 1, false).as_deref(), Some("one"));
    assert_eq!(get(&db, 2, false), None);
    clock.advance(SECOND);
    assert_eq!(get(&db, 2, false).as_deref(), Some("two"));
    // The table's own setting overrides the engine's; `None` follows the engine again.
    db.set_table_consistency_lag("Tbl", Some(Lag::NONE))
        .unwrap();
    put(&db, 3, "three");
    assert_eq!(get(&db, 3, false).as_deref(), Some("three"));
    db.set_table_consistency_lag("Tbl", None).unwrap();
    put(&db, 4, "four");
    assert_eq!(get(&db, 4, false), None);
    clock.advance(SECOND);
    assert_eq!(get(&db, 4, false).as_deref(), Some("four"));
    let e = db.set_table_consistency_lag("Missing", None).unwrap_err();
    assert_eq!(e.code(), "ResourceNotFoundException");
}

#[test]
fn history_stays_bounded() {
    let lag = Lag {
        eventual: Duration::from_millis(10),
        gsi: Duration::ZERO,
    };
    let (_, db, clock) = engine(lag);
    table(&db);
    for i in 0..2000 {
        put(&db, i % 7, &i.to_string());
        clock.advance(Duration::from_millis(1));
    }
    // Writes every millisecond; a read 10 ms behind sees the write of 10 ms ago.
    let t = db.table("Tbl").unwrap();
    let st = t.state.read();
    assert!(st.versions.len() <= 12, "kept {}", st.versions.len());
    drop(st);
    // Write `i` happened at millisecond `i`; now is 2000, so the read sees writes up to 1990.
    let last = (0..=1990).filter(|i| i % 7 == 2).max().unwrap();
    assert_eq!(get(&db, 2, false), Some(last.to_string()));
}
