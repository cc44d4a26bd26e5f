//! Capacity: every request's units land on the meter, matching ConsumedCapacity; provisioned
//! throughput is enforced per table and per GSI with 300 s of burst, refilled on the clock.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, ServiceError, UsageUnit};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Config, Dynamo, Error, RegionDb};
use serde_json::{Value, json};

const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/Cap";

fn engine(enforce: bool) -> (Env, Arc<RegionDb>, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let d = Dynamo::with_config(
        env.clone(),
        Config {
            enforce_throughput: enforce,
            ..Default::default()
        },
    );
    let db = d.region(&Region::US_EAST_1);
    (env, db, clock)
}

fn ok(db: &RegionDb, op: &str, body: Value) -> Value {
    match dispatch(db, op, body.to_string().as_bytes()) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(e) => panic!("{op} failed: {} {}", e.code(), e),
    }
}

fn try_op(db: &RegionDb, op: &str, body: Value) -> Result<Value, Error> {
    dispatch(db, op, body.to_string().as_bytes()).map(|b| serde_json::from_slice(&b).unwrap())
}

fn create(db: &RegionDb, name: &str, throughput: Option<(i64, i64, i64)>) {
    let mut body = json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "ByG",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}
        }]
    });
    match throughput {
        Some((rcu, wcu, gsi_wcu)) => {
            body["BillingMode"] = json!("PROVISIONED");
            body["ProvisionedThroughput"] =
                json!({"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu});
            body["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] =
                json!({"ReadCapacityUnits": 1, "WriteCapacityUnits": gsi_wcu});
        }
        None => body["BillingMode"] = json!("PAY_PER_REQUEST"),
    }
    ok(db, "CreateTable", body);
}

fn item(pk: &str, bytes: usize, g: Option<&str>) -> Value {
    let mut it = json!({"pk": {"S": pk}, "v": {"S": "x".repeat(bytes)}});
    if let Some(g) = g {
        it["g"] = json!({"S": g});
    }
    it
}

#[test]
fn every_request_is_metered_as_consumed_capacity_reports() {
    let (env, db, _) = engine(false);
    create(&db, "Cap", None);
    // About 1.5 KB: 2 write units; plus 2 on the GSI, which projects everything.
    let out = ok(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("a", 1500, Some("x")), "ReturnConsumedCapacity": "INDEXES"}),
    );
    assert_eq!(out["ConsumedCapacity"]["CapacityUnits"], 4.0);
    assert_eq!(out["ConsumedCapacity"]["Table"]["CapacityUnits"], 2.0);
    assert_eq!(
        out["ConsumedCapacity"]["GlobalSecondaryIndexes"]["ByG"]["CapacityUnits"],
        2.0
    );
    let w = |res: &str| env.meter.total(UsageUnit::WriteCapacityUnits, Some(res));
    assert_eq!(w(ARN), 2.0);
    assert_eq!(w(&format!("{ARN}/index/ByG")), 2.0);

    // Reads: half a unit eventually consistent, one strongly (≤ 4 KB).
    let key = json!({"pk": {"S": "a"}});
    ok(&db, "GetItem", json!({"TableName": "Cap", "Key": key}));
    ok(
        &db,
        "GetItem",
        json!({"TableName": "Cap", "Key": key, "ConsistentRead": true}),
    );
    let r = |res: &str| env.meter.total(UsageUnit::ReadCapacityUnits, Some(res));
    assert_eq!(r(ARN), 1.5);
    // A GSI query is charged to the index.
    ok(
        &db,
        "Query",
        json!({"TableName": "Cap", "IndexName": "ByG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}}),
    );
    assert_eq!(r(&format!("{ARN}/index/ByG")), 0.5);
    // Transactions cost double.
    let before = w(ARN);
    let out = ok(
        &db,
        "TransactWriteItems",
        json!({"TransactItems": [{"Put": {"TableName": "Cap", "Item": item("b", 10, None)}}], "ReturnConsumedCapacity": "TOTAL"}),
    );
    assert_eq!(out["ConsumedCapacity"][0]["CapacityUnits"], 2.0);
    assert_eq!(w(ARN) - before, 2.0);
    // BatchWriteItem and BatchGetItem too; failed requests are not metered.
    ok(
        &db,
        "BatchWriteItem",
        json!({"RequestItems": {"Cap": [{"PutRequest": {"Item": item("c", 10, None)}}]}}),
    );
    assert_eq!(w(ARN) - before, 3.0);
    let err = try_op(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("c", 10, None), "ConditionExpression": "attribute_not_exists(pk)"}),
    )
    .unwrap_err();
    assert_eq!(err.code(), "ConditionalCheckFailedException");
    assert_eq!(w(ARN) - before, 3.0);
    let records = env.meter.records();
    assert!(
        records
            .iter()
            .all(|r| r.service == "dynamodb" && &*r.region == "us-east-1")
    );
}

#[test]
fn provisioned_writes_throttle_after_the_burst_and_refill_on_the_clock() {
    let (_, db, clock) = engine(true);
    create(&db, "Cap", Some((1, 1, 1000)));
    // One unit per second with 300 seconds of burst: 300 small writes pass.
    for i in 0..300 {
        ok(
            &db,
            "PutItem",
            json!({"TableName": "Cap", "Item": item(&i.to_string(), 10, None)}),
        );
    }
    let e = try_op(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("over", 10, None)}),
    )
    .unwrap_err();
    assert_eq!(e.code(), "ProvisionedThroughputExceededException");
    assert_eq!(
        e.message(),
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
    );
    // Nothing was written.
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Cap", "Key": {"pk": {"S": "over"}}}),
    );
    assert!(got.get("Item").is_none());
    // BatchWriteItem with nothing processable: the exception.
    let batch = json!({"RequestItems": {"Cap": [{"PutRequest": {"Item": item("b1", 10, None)}}]}});
    assert_eq!(
        try_op(&db, "BatchWriteItem", batch.clone())
            .unwrap_err()
            .code(),
        "ProvisionedThroughputExceededException"
    );
    // A transaction: cancelled with the reason.
    let tx = json!({"TransactItems": [{"Put": {"TableName": "Cap", "Item": item("t", 10, None)}}]});
    let Err(Error::TransactionCanceled { reasons }) = try_op(&db, "TransactWriteItems", tx.clone())
    else {
        panic!("not cancelled")
    };
    assert_eq!(reasons[0].code, "ProvisionedThroughputExceeded");
    clock.advance(Duration::from_secs(1));
    ok(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("over", 10, None)}),
    );
    clock.advance(Duration::from_secs(3));
    ok(&db, "BatchWriteItem", batch);
    ok(&db, "TransactWriteItems", tx); // two units
}

#[test]
fn reads_and_gsis_have_their_own_buckets() {
    let (_, db, clock) = engine(true);
    create(&db, "Cap", Some((1, 1000, 1)));
    // The GSI has 1 WCU: 300 writes that reach it pass, the next fails though the table has room.
    for i in 0..300 {
        ok(
            &db,
            "PutItem",
            json!({"TableName": "Cap", "Item": item(&i.to_string(), 10, Some("x"))}),
        );
    }
    let e = try_op(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("g", 10, Some("x"))}),
    )
    .unwrap_err();
    assert_eq!(e.code(), "ProvisionedThroughputExceededException");
    // A write that does not touch the index is fine.
    ok(
        &db,
        "PutItem",
        json!({"TableName": "Cap", "Item": item("nog", 10, None)}),
    );
    // Reads: 1 RCU, 300 s of burst = 600 eventually consistent reads of ≤ 4 KB.
    let get = json!({"TableName": "Cap", "Key": {"pk": {"S": "nog"}}});
    for _ in 0..600 {
        ok(&db, "GetItem", get.clone());
    }
    assert_eq!(
        try_op(&db, "GetItem", get.clone()).unwrap_err().code(),
        "ProvisionedThroughputExceededException"
    );
    clock.advance(Duration::from_secs(1));
    ok(&db, "GetItem", get.clone());
    ok(&db, "GetItem", get);
    // On-demand tables are never throttled.
    create(&db, "Free", None);
    for i in 0..1000 {
        ok(
            &db,
            "PutItem",
            json!({"TableName": "Free", "Item": item(&i.to_string(), 10, Some("x"))}),
        );
    }
}
