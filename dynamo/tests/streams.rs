//! DynamoDB Streams shards on a manual clock: rollover into a parent/child lineage, closed
//! shards, DescribeStream paging, iterators on any shard, and retention trimming whole shards.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, ServiceError};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Config, Dynamo, RegionDb};
use serde_json::{Value, json};

const HOUR: u64 = 3600;

fn db_with(config: Config) -> (Arc<RegionDb>, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let d = Dynamo::with_config(Env::with_clock(clock.shared()), config);
    let db = d.region(&Region::US_EAST_1);
    ok(
        &db,
        "CreateTable",
        json!({
            "TableName": "Log",
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}
        }),
    );
    (db, clock)
}

fn ok(db: &RegionDb, op: &str, body: Value) -> Value {
    match dispatch(db, op, body.to_string().as_bytes()) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(e) => panic!("{op} failed: {} {}", e.code(), e),
    }
}

fn err(db: &RegionDb, op: &str, body: Value) -> (String, String) {
    match dispatch(db, op, body.to_string().as_bytes()) {
        Ok(b) => panic!("{op} succeeded: {}", String::from_utf8_lossy(&b)),
        Err(e) => (e.code().to_owned(), e.to_string()),
    }
}

fn put(db: &RegionDb, k: &str) {
    ok(
        db,
        "PutItem",
        json!({"TableName": "Log", "Item": {"k": {"S": k}}}),
    );
}

fn stream_arn(db: &RegionDb) -> String {
    ok(db, "DescribeTable", json!({"TableName": "Log"}))["Table"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn shards(db: &RegionDb, arn: &str) -> Vec<Value> {
    ok(db, "DescribeStream", json!({"StreamArn": arn}))["StreamDescription"]["Shards"]
        .as_array()
        .unwrap()
        .clone()
}

fn iterator(db: &RegionDb, arn: &str, shard: &Value, kind: &str, seq: Option<&str>) -> Value {
    let mut req = json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": kind});
    if let Some(s) = seq {
        req["SequenceNumber"] = json!(s);
    }
    ok(db, "GetShardIterator", req)["ShardIterator"].clone()
}

/// The keys GetRecords returns from `it`, and whether it gave a next iterator.
fn read(db: &RegionDb, it: &Value) -> (Vec<String>, bool) {
    let out = ok(db, "GetRecords", json!({"ShardIterator": it}));
    let keys = out["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["Keys"]["k"]["S"].as_str().unwrap().to_owned())
        .collect();
    (keys, out.get("NextShardIterator").is_some())
}

fn seq(v: &Value, which: &str) -> u128 {
    v["SequenceNumberRange"][which]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn shards_roll_over_into_a_lineage_of_closed_shards() {
    let (db, clock) = db_with(Config::default());
    let arn = stream_arn(&db);
    put(&db, "a");
    put(&db, "b");
    clock.advance(Duration::from_secs(4 * HOUR));
    put(&db, "c");
    clock.advance(Duration::from_secs(4 * HOUR));
    put(&db, "d");

    let s = shards(&db, &arn);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s[0].get("ParentShardId").is_none());
    assert_eq!(s[1]["ParentShardId"], s[0]["ShardId"]);
    assert_eq!(s[2]["ParentShardId"], s[1]["ShardId"]);
    assert_eq!(
        seq(&s[0], "EndingSequenceNumber") + 1,
        seq(&s[1], "StartingSequenceNumber")
    );
    assert_eq!(
        seq(&s[1], "EndingSequenceNumber"),
        seq(&s[1], "StartingSequenceNumber")
    );
    assert!(
        s[2]["SequenceNumberRange"]
            .get("EndingSequenceNumber")
            .is_none(),
        "the newest shard is open"
    );

    // Each shard holds its own records; a closed shard read to its end has no next iterator.
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[0], "TRIM_HORIZON", None)),
        (vec!["a".to_owned(), "b".to_owned()], false)
    );
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[1], "TRIM_HORIZON", None)),
        (vec!["c".to_owned()], false)
    );
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[2], "TRIM_HORIZON", None)),
        (vec!["d".to_owned()], true)
    );
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[0], "LATEST", None)),
        (vec![], false)
    );
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[2], "LATEST", None)),
        (vec![], true)
    );
    let first_of_0 = s[0]["SequenceNumberRange"]["StartingSequenceNumber"]
        .as_str()
        .unwrap();
    assert_eq!(
        read(
            &db,
            &iterator(&db, &arn, &s[0], "AFTER_SEQUENCE_NUMBER", Some(first_of_0))
        ),
        (vec!["b".to_owned()], false)
    );
    let c = s[1]["SequenceNumberRange"]["StartingSequenceNumber"]
        .as_str()
        .unwrap();
    assert_eq!(
        read(
            &db,
            &iterator(&db, &arn, &s[1], "AT_SEQUENCE_NUMBER", Some(c))
        ),
        (vec!["c".to_owned()], false)
    );
    // A sequence number of another shard is not a position in this one.
    let (code, msg) = err(
        &db,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": s[0]["ShardId"], "ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": c}),
    );
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("Invalid SequenceNumber"), "{msg}");

    // An idle open shard is renewed, not closed; one with records closes at its lifetime.
    clock.advance(Duration::from_secs(10 * HOUR));
    let s = shards(&db, &arn);
    assert_eq!(s.len(), 4);
    assert_eq!(s[3]["ParentShardId"], s[2]["ShardId"]);
    assert!(s[2]["SequenceNumberRange"]["EndingSequenceNumber"].is_string());
    assert_eq!(
        read(&db, &iterator(&db, &arn, &s[3], "TRIM_HORIZON", None)),
        (vec![], true)
    );

    // 24 hours after a shard closed, it is gone with all its records.
    clock.advance(Duration::from_secs(24 * HOUR));
    let left = shards(&db, &arn);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["ShardId"], s[3]["ShardId"]);
    let (code, msg) = err(
        &db,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": s[0]["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert!(msg.contains("Shard does not exist"), "{msg}");
}

#[test]
fn describe_stream_pages_shards_in_lineage_order() {
    let (db, clock) = db_with(Config {
        stream_shard_lifetime: Some(Duration::from_secs(60)),
        ..Default::default()
    });
    let arn = stream_arn(&db);
    for i in 0..5 {
        put(&db, &format!("k{i}"));
        clock.advance(Duration::from_secs(60));
    }
    let all = shards(&db, &arn);
    assert_eq!(all.len(), 6, "five closed shards and the open one");

    let mut seen = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut req = json!({"StreamArn": arn, "Limit": 2});
        if let Some(s) = &start {
            req["ExclusiveStartShardId"] = s.clone();
        }
        let d = ok(&db, "DescribeStream", req)["StreamDescription"].clone();
        seen.extend(d["Shards"].as_array().unwrap().iter().cloned());
        match d.get("LastEvaluatedShardId") {
            Some(last) => start = Some(last.clone()),
            None => break,
        }
    }
    assert_eq!(seen, all);

    let children = ok(
        &db,
        "DescribeStream",
        json!({"StreamArn": arn, "ShardFilter": {"Type": "CHILD_SHARDS", "ShardId": all[2]["ShardId"]}}),
    )["StreamDescription"]["Shards"]
        .clone();
    assert_eq!(children, json!([all[3]]));

    let (code, msg) = err(
        &db,
        "DescribeStream",
        json!({"StreamArn": arn, "Limit": 101}),
    );
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("less than or equal to 100"), "{msg}");
}

#[test]
fn disabling_the_stream_closes_its_open_shard() {
    let (db, _clock) = db_with(Config::default());
    let arn = stream_arn(&db);
    put(&db, "a");
    let it = iterator(&db, &arn, &shards(&db, &arn)[0], "TRIM_HORIZON", None);
    ok(
        &db,
        "UpdateTable",
        json!({"TableName": "Log", "StreamSpecification": {"StreamEnabled": false}}),
    );
    put(&db, "b");
    let s = shards(&db, &arn);
    assert_eq!(s.len(), 1);
    assert_eq!(
        seq(&s[0], "EndingSequenceNumber"),
        seq(&s[0], "StartingSequenceNumber")
    );
    assert_eq!(read(&db, &it), (vec!["a".to_owned()], false));
}
