//! Global Tables on a manual clock: replication delays, partitions and healing, last writer
//! wins, local conditions, both API versions and their errors.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Clock, Env, ManualClock, Region, ServiceError};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Dynamo, RegionDb};
use serde_json::{Value, json};

const USE1: Region = Region::from_static("us-east-1");
const EUW1: Region = Region::from_static("eu-west-1");
const APN1: Region = Region::from_static("ap-northeast-1");

struct World {
    dynamo: Dynamo,
    clock: ManualClock,
}

impl World {
    fn new() -> World {
        let clock = ManualClock::at_default_epoch();
        World {
            dynamo: Dynamo::new(Env::with_clock(clock.shared())),
            clock,
        }
    }
    fn db(&self, r: &Region) -> Arc<RegionDb> {
        self.dynamo.region(r)
    }
    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
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

fn create(db: &RegionDb, name: &str, stream: Option<&str>) {
    let mut body = json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    if let Some(v) = stream {
        body["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": v});
    }
    ok(db, "CreateTable", body);
}

fn add_replica(db: &RegionDb, name: &str, region: &Region) -> Value {
    ok(
        db,
        "UpdateTable",
        json!({"TableName": name, "ReplicaUpdates": [{"Create": {"RegionName": region.as_str()}}]}),
    )
}

fn put(db: &RegionDb, pk: &str, v: &str) {
    ok(
        db,
        "PutItem",
        json!({"TableName": "Tbl", "Item": {"pk": {"S": pk}, "v": {"S": v}}}),
    );
}

fn get(db: &RegionDb, pk: &str) -> Option<String> {
    let r = ok(
        db,
        "GetItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": pk}}, "ConsistentRead": true}),
    );
    r["Item"]["v"]["S"].as_str().map(str::to_owned)
}

/// A global table `T` in us-east-1, eu-west-1 and ap-northeast-1.
fn three_regions() -> World {
    let w = World::new();
    create(&w.db(&USE1), "Tbl", None);
    add_replica(&w.db(&USE1), "Tbl", &EUW1);
    add_replica(&w.db(&USE1), "Tbl", &APN1);
    w
}

#[test]
fn writes_arrive_after_the_pair_delay() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", None);
    put(&a, "before", "1");
    let d = add_replica(&a, "Tbl", &EUW1);
    assert_eq!(d["TableDescription"]["GlobalTableVersion"], "2019.11.21");
    assert_eq!(
        d["TableDescription"]["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES",
        "a table without a stream gets one"
    );
    // The new replica starts as a copy of the table.
    assert_eq!(get(&b, "before").as_deref(), Some("1"));
    w.dynamo
        .replication()
        .set_delay(&USE1, &EUW1, Duration::from_millis(2000));
    put(&a, "k", "x");
    assert_eq!(get(&b, "k"), None);
    w.advance_ms(1999);
    assert_eq!(get(&b, "k"), None, "not before the delay");
    w.advance_ms(1);
    assert_eq!(get(&b, "k").as_deref(), Some("x"));
    // The other direction has no delay.
    put(&b, "back", "y");
    assert_eq!(get(&a, "back").as_deref(), Some("y"));
    let st = w.dynamo.replication().status("Tbl");
    let ab = st.iter().find(|s| s.from == "us-east-1").unwrap();
    assert_eq!(ab.stats.applied, 1);
    assert_eq!(ab.stats.latency_last_ms, Some(2000));
    assert_eq!(ab.mean_latency(), Some(Duration::from_millis(2000)));
    let ba = st.iter().find(|s| s.from == "eu-west-1").unwrap();
    assert_eq!(
        ba.stats.applied, 1,
        "the replicated write did not come back"
    );
    assert_eq!(ba.stats.latency_last_ms, Some(0));
    // Both sides describe each other as replicas.
    let da = ok(&a, "DescribeTable", json!({"TableName": "Tbl"}));
    assert_eq!(da["Table"]["Replicas"][0]["RegionName"], "eu-west-1");
    assert_eq!(da["Table"]["Replicas"][0]["ReplicaStatus"], "ACTIVE");
    let db_ = ok(&b, "DescribeTable", json!({"TableName": "Tbl"}));
    assert_eq!(db_["Table"]["Replicas"][0]["RegionName"], "us-east-1");
    assert_eq!(db_["Table"]["GlobalTableVersion"], "2019.11.21");
}

#[test]
fn partition_queues_and_healing_converges() {
    let w = three_regions();
    let hub = w.dynamo.replication();
    let (a, b, c) = (w.db(&USE1), w.db(&EUW1), w.db(&APN1));
    hub.set_default_delay(Duration::from_millis(100));
    hub.partition(&EUW1);
    put(&a, "a", "from-a");
    put(&b, "b", "from-b");
    w.advance_ms(5000);
    assert_eq!(get(&c, "a").as_deref(), Some("from-a"));
    assert_eq!(get(&b, "a"), None, "cut off");
    assert_eq!(get(&a, "b"), None, "cut off");
    assert_eq!(
        get(&b, "b").as_deref(),
        Some("from-b"),
        "local writes succeed"
    );
    assert_eq!(hub.pending(), 3, "a→b, b→a, b→c wait");
    hub.heal(&EUW1);
    assert_eq!(hub.pump(), 3);
    for db in [&a, &b, &c] {
        assert_eq!(get(db, "a").as_deref(), Some("from-a"));
        assert_eq!(get(db, "b").as_deref(), Some("from-b"));
    }
    assert_eq!(hub.pending(), 0);
    let lat = hub
        .status("Tbl")
        .into_iter()
        .find(|s| s.from == "eu-west-1" && s.to == "us-east-1")
        .unwrap();
    assert_eq!(
        lat.stats.latency_last_ms,
        Some(5000),
        "delivered at the heal"
    );
}

#[test]
fn last_writer_wins_everywhere() {
    let w = three_regions();
    let hub = w.dynamo.replication();
    let (a, b, c) = (w.db(&USE1), w.db(&EUW1), w.db(&APN1));
    hub.set_default_delay(Duration::from_millis(1000));
    put(&b, "k", "early-b");
    w.advance_ms(10);
    put(&a, "k", "late-a");
    w.advance_ms(1000);
    for db in [&a, &b, &c] {
        assert_eq!(get(db, "k").as_deref(), Some("late-a"));
    }
    let lost: u64 = hub.status("Tbl").iter().map(|s| s.stats.superseded).sum();
    assert_eq!(lost, 1, "b's write reached a after a's own and lost there");
    // Same millisecond: the region whose name sorts last wins.
    put(&a, "tie", "us-east-1");
    put(&c, "tie", "ap-northeast-1");
    put(&b, "tie", "eu-west-1");
    w.advance_ms(1000);
    for db in [&a, &b, &c] {
        assert_eq!(get(db, "tie").as_deref(), Some("us-east-1"));
    }
    // A later delete beats an earlier put, and leaves a tombstone the older put cannot undo.
    put(&a, "d", "old");
    w.advance_ms(1000);
    put(&a, "d", "newer");
    w.advance_ms(5);
    ok(
        &b,
        "DeleteItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": "d"}}}),
    );
    w.advance_ms(1000);
    for db in [&a, &b, &c] {
        assert_eq!(get(db, "d"), None);
    }
    // An earlier delete loses to a later put.
    put(&a, "e", "old");
    w.advance_ms(1000);
    ok(
        &b,
        "DeleteItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": "e"}}}),
    );
    w.advance_ms(5);
    put(&a, "e", "newer");
    w.advance_ms(1000);
    for db in [&a, &b, &c] {
        assert_eq!(get(db, "e").as_deref(), Some("newer"));
    }
}

#[test]
fn conditions_are_evaluated_where_the_write_is_made() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", None);
    add_replica(&a, "Tbl", &EUW1);
    put(&a, "k", "1");
    let hub = w.dynamo.replication();
    hub.partition_link(&USE1, &EUW1);
    let cond = |db: &RegionDb, to: &str| {
        dispatch(
            db,
            "PutItem",
            json!({"TableName": "Tbl", "Item": {"pk": {"S": "k"}, "v": {"S": to}},
                   "ConditionExpression": "v = :one", "ExpressionAttributeValues": {":one": {"S": "1"}}})
            .to_string()
            .as_bytes(),
        )
    };
    // Both regions see v = 1, so both conditional writes succeed locally.
    assert!(cond(&a, "2a").is_ok());
    w.advance_ms(1);
    assert!(cond(&b, "2b").is_ok());
    // A second one in a fails against its own write.
    assert_eq!(
        err(
            &a,
            "PutItem",
            json!({"TableName": "Tbl", "Item": {"pk": {"S": "k"}, "v": {"S": "3"}},
            "ConditionExpression": "v = :one", "ExpressionAttributeValues": {":one": {"S": "1"}}})
        )
        .0,
        "ConditionalCheckFailedException"
    );
    hub.heal_link(&USE1, &EUW1);
    hub.pump();
    assert_eq!(
        get(&a, "k").as_deref(),
        Some("2b"),
        "replicated writes skip conditions"
    );
    assert_eq!(get(&b, "k").as_deref(), Some("2b"));
}

#[test]
fn transactions_and_strong_reads_are_region_local() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", None);
    add_replica(&a, "Tbl", &EUW1);
    w.dynamo
        .replication()
        .set_delay(&USE1, &EUW1, Duration::from_millis(500));
    ok(
        &a,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "Tbl", "Item": {"pk": {"S": "t1"}, "v": {"S": "x"}}}},
            {"Put": {"TableName": "Tbl", "Item": {"pk": {"S": "t2"}, "v": {"S": "y"}}}}
        ]}),
    );
    assert_eq!(get(&a, "t1").as_deref(), Some("x"));
    assert_eq!(
        get(&b, "t1"),
        None,
        "a strongly consistent read in b sees b only"
    );
    w.advance_ms(500);
    assert_eq!(get(&b, "t1").as_deref(), Some("x"));
    assert_eq!(get(&b, "t2").as_deref(), Some("y"));
}

#[test]
fn replica_update_rules_and_messages() {
    let w = World::new();
    let a = w.db(&USE1);
    create(&a, "Tbl", None);
    let upd = |u: Value| {
        err(
            &a,
            "UpdateTable",
            json!({"TableName": "Tbl", "ReplicaUpdates": u}),
        )
    };
    assert!(
        upd(json!([]))
            .1
            .contains("length greater than or equal to 1")
    );
    assert_eq!(
        upd(json!([{}])).1,
        "There are no actions specified in the Replica Update Action of the request."
    );
    assert_eq!(
        upd(
            json!([{"Create": {"RegionName": "eu-west-1"}, "Delete": {"RegionName": "eu-west-1"}}])
        )
        .1,
        "Update table operation with more than one type of replica actions not allowed."
    );
    assert!(
        upd(json!([{"Create": {"RegionName": "us-east-1"}}]))
            .1
            .starts_with("Cannot add or delete the local region through ReplicaUpdates.")
    );
    assert!(
        upd(json!([{"Create": {"RegionName": "us-fake-1"}}]))
            .1
            .starts_with("Region us-fake-1 is not supported.")
    );
    assert_eq!(
        upd(json!([{"Create": {"RegionName": "eu-west-1"}}, {"Create": {"RegionName": "ap-northeast-1"}}])).1,
        "Update table operation with more than one create or delete replica actions not allowed"
    );
    assert!(
        upd(json!([{"Delete": {"RegionName": "eu-west-1"}}]))
            .1
            .ends_with("Please retry the request without these replicas: [eu-west-1].")
    );
    let (code, msg) = err(
        &a,
        "UpdateTable",
        json!({"TableName": "Tbl", "DeletionProtectionEnabled": true,
               "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]}),
    );
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("must not also modify other fields"));
    // A same-named table in the target region blocks a Create.
    create(&w.db(&EUW1), "Tbl", None);
    assert!(
        upd(json!([{"Create": {"RegionName": "eu-west-1"}}]))
            .1
            .contains("because one or more replicas already existed as tables.")
    );
    ok(&w.db(&EUW1), "DeleteTable", json!({"TableName": "Tbl"}));
    add_replica(&a, "Tbl", &EUW1);
    assert_eq!(
        err(
            &a,
            "UpdateTable",
            json!({"TableName": "Tbl", "StreamSpecification": {"StreamEnabled": false}})
        )
        .1,
        "Disabling Stream is not allowed for a Global Table replica."
    );
    // Update overrides show in the other region's description.
    ok(
        &a,
        "UpdateTable",
        json!({"TableName": "Tbl", "ReplicaUpdates": [{"Update": {"RegionName": "eu-west-1", "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}]}),
    );
    let d = ok(&a, "DescribeTable", json!({"TableName": "Tbl"}));
    assert_eq!(
        d["Table"]["Replicas"][0]["ReplicaTableClassSummary"]["TableClass"],
        "STANDARD_INFREQUENT_ACCESS"
    );
    // Delete removes the replica table and, with it, the global table.
    ok(
        &a,
        "UpdateTable",
        json!({"TableName": "Tbl", "ReplicaUpdates": [{"Delete": {"RegionName": "eu-west-1"}}]}),
    );
    assert_eq!(
        err(&w.db(&EUW1), "DescribeTable", json!({"TableName": "Tbl"})).0,
        "ResourceNotFoundException"
    );
    let d = ok(&a, "DescribeTable", json!({"TableName": "Tbl"}));
    assert!(d["Table"].get("Replicas").is_none());
    assert!(d["Table"].get("GlobalTableVersion").is_none());
}

#[test]
fn deleting_a_replica_table_leaves_the_group() {
    let w = three_regions();
    let (a, b, c) = (w.db(&USE1), w.db(&EUW1), w.db(&APN1));
    ok(&c, "DeleteTable", json!({"TableName": "Tbl"}));
    put(&a, "k", "v");
    assert_eq!(get(&b, "k").as_deref(), Some("v"));
    let d = ok(&a, "DescribeTable", json!({"TableName": "Tbl"}));
    assert_eq!(d["Table"]["Replicas"].as_array().unwrap().len(), 1);
}

#[test]
fn replicated_writes_reach_the_destination_stream_once() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", Some("NEW_AND_OLD_IMAGES"));
    add_replica(&a, "Tbl", &EUW1);
    put(&a, "k", "v");
    w.dynamo.replication().pump();
    let arn = ok(&b, "DescribeTable", json!({"TableName": "Tbl"}))["Table"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let shard = ok(&b, "DescribeStream", json!({"StreamArn": arn}))["StreamDescription"]["Shards"]
        [0]["ShardId"]
        .as_str()
        .unwrap()
        .to_owned();
    let it = ok(
        &b,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )["ShardIterator"]
        .as_str()
        .unwrap()
        .to_owned();
    let recs = ok(&b, "GetRecords", json!({"ShardIterator": it}));
    let recs = recs["Records"].as_array().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["eventName"], "INSERT");
    assert_eq!(recs[0]["dynamodb"]["NewImage"]["v"]["S"], "v");
    // Nothing came back to a.
    let back: u64 = w
        .dynamo
        .replication()
        .status("Tbl")
        .iter()
        .filter(|s| s.from == "eu-west-1")
        .map(|s| s.stats.applied + s.stats.superseded)
        .sum();
    assert_eq!(back, 0);
}

#[test]
fn ttl_deletes_replicate() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", None);
    add_replica(&a, "Tbl", &EUW1);
    ok(
        &a,
        "UpdateTimeToLive",
        json!({"TableName": "Tbl", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    );
    let now = w.clock.now_millis() / 1000;
    ok(
        &a,
        "PutItem",
        json!({"TableName": "Tbl", "Item": {"pk": {"S": "k"}, "v": {"S": "v"}, "exp": {"N": (now + 10).to_string()}}}),
    );
    assert_eq!(get(&b, "k").as_deref(), Some("v"));
    w.advance_ms(11_000);
    assert_eq!(get(&a, "k"), None);
    assert_eq!(get(&b, "k"), None, "the TTL delete replicated");
}

fn stream_table(db: &RegionDb, name: &str) {
    create(db, name, Some("NEW_AND_OLD_IMAGES"));
}

#[test]
fn version_2017_lifecycle_and_errors() {
    let w = World::new();
    let (a, b, c) = (w.db(&USE1), w.db(&EUW1), w.db(&APN1));
    for db in [&a, &b] {
        stream_table(db, "Tbl");
    }
    let gt = |db: &RegionDb, regions: &[&str]| {
        dispatch(
            db,
            "CreateGlobalTable",
            json!({"GlobalTableName": "Tbl", "ReplicationGroup": regions.iter().map(|r| json!({"RegionName": r})).collect::<Vec<_>>()})
                .to_string()
                .as_bytes(),
        )
    };
    // Every region needs the table.
    assert_eq!(
        gt(&a, &["us-east-1", "ap-northeast-1"]).unwrap_err().code(),
        "TableNotFoundException"
    );
    // Streams must carry new and old images.
    create(&c, "Tbl", Some("KEYS_ONLY"));
    assert_eq!(
        gt(&a, &["us-east-1", "ap-northeast-1"]).unwrap_err().code(),
        "ValidationException"
    );
    ok(&c, "DeleteTable", json!({"TableName": "Tbl"}));
    // Tables must be empty.
    put(&b, "x", "1");
    assert!(
        gt(&a, &["us-east-1", "eu-west-1"])
            .unwrap_err()
            .to_string()
            .contains("not empty")
    );
    ok(
        &b,
        "DeleteItem",
        json!({"TableName": "Tbl", "Key": {"pk": {"S": "x"}}}),
    );
    let d = ok(
        &a,
        "CreateGlobalTable",
        json!({"GlobalTableName": "Tbl", "ReplicationGroup": [{"RegionName": "us-east-1"}, {"RegionName": "eu-west-1"}]}),
    );
    assert_eq!(
        d["GlobalTableDescription"]["GlobalTableArn"],
        "arn:aws:dynamodb::000000000000:global-table/Tbl"
    );
    assert_eq!(
        gt(&a, &["us-east-1"]).unwrap_err().code(),
        "GlobalTableAlreadyExistsException"
    );
    put(&a, "k", "v");
    assert_eq!(get(&b, "k").as_deref(), Some("v"));
    // A new region must be empty; it is then filled.
    stream_table(&c, "Tbl");
    ok(
        &b,
        "UpdateGlobalTable",
        json!({"GlobalTableName": "Tbl", "ReplicaUpdates": [{"Create": {"RegionName": "ap-northeast-1"}}]}),
    );
    assert_eq!(get(&c, "k").as_deref(), Some("v"));
    put(&c, "from-c", "1");
    assert_eq!(get(&a, "from-c").as_deref(), Some("1"));
    assert_eq!(
        err(&a, "UpdateGlobalTable", json!({"GlobalTableName": "Tbl", "ReplicaUpdates": [{"Create": {"RegionName": "ap-northeast-1"}}]})).0,
        "ReplicaAlreadyExistsException"
    );
    assert_eq!(
        err(&a, "UpdateGlobalTable", json!({"GlobalTableName": "Tbl", "ReplicaUpdates": [{"Delete": {"RegionName": "us-west-2"}}]})).0,
        "ReplicaNotFoundException"
    );
    let d = ok(&c, "DescribeGlobalTable", json!({"GlobalTableName": "Tbl"}));
    assert_eq!(
        d["GlobalTableDescription"]["ReplicationGroup"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(d["GlobalTableDescription"]["GlobalTableStatus"], "ACTIVE");
    let l = ok(
        &a,
        "ListGlobalTables",
        json!({"RegionName": "ap-northeast-1"}),
    );
    assert_eq!(l["GlobalTables"][0]["GlobalTableName"], "Tbl");
    let l = ok(&a, "ListGlobalTables", json!({"RegionName": "us-west-2"}));
    assert_eq!(l["GlobalTables"].as_array().unwrap().len(), 0);
    assert_eq!(
        err(
            &a,
            "DescribeGlobalTable",
            json!({"GlobalTableName": "Nope"})
        ),
        (
            "GlobalTableNotFoundException".to_owned(),
            "Global table not found: Global table with name: 'Nope' does not exist.".to_owned()
        )
    );
    // Settings: billing mode and capacity for every replica.
    let s = ok(
        &a,
        "DescribeGlobalTableSettings",
        json!({"GlobalTableName": "Tbl"}),
    );
    assert_eq!(s["ReplicaSettings"].as_array().unwrap().len(), 3);
    let s = ok(
        &a,
        "UpdateGlobalTableSettings",
        json!({"GlobalTableName": "Tbl", "GlobalTableBillingMode": "PROVISIONED",
               "GlobalTableProvisionedWriteCapacityUnits": 7,
               "ReplicaSettingsUpdate": [
                   {"RegionName": "eu-west-1", "ReplicaProvisionedReadCapacityUnits": 3},
                   {"RegionName": "us-east-1", "ReplicaProvisionedReadCapacityUnits": 4},
                   {"RegionName": "ap-northeast-1", "ReplicaProvisionedReadCapacityUnits": 5}]}),
    );
    let eu = s["ReplicaSettings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RegionName"] == "eu-west-1")
        .unwrap();
    assert_eq!(eu["ReplicaProvisionedReadCapacityUnits"], 3);
    assert_eq!(eu["ReplicaProvisionedWriteCapacityUnits"], 7);
    assert_eq!(
        err(&a, "UpdateGlobalTableSettings", json!({"GlobalTableName": "Tbl", "ReplicaSettingsUpdate": [{"RegionName": "us-west-2", "ReplicaProvisionedReadCapacityUnits": 3}]})).0,
        "ReplicaNotFoundException"
    );
    // Removing a region leaves its table, no longer replicated.
    ok(
        &a,
        "UpdateGlobalTable",
        json!({"GlobalTableName": "Tbl", "ReplicaUpdates": [{"Delete": {"RegionName": "ap-northeast-1"}}]}),
    );
    put(&a, "after", "1");
    assert_eq!(get(&c, "after"), None);
    assert_eq!(get(&b, "after").as_deref(), Some("1"));
    // 2019 ReplicaUpdates are refused on a 2017 member.
    assert_eq!(
        err(&a, "UpdateTable", json!({"TableName": "Tbl", "ReplicaUpdates": [{"Create": {"RegionName": "ap-northeast-1"}}]})).0,
        "ValidationException"
    );
}

#[test]
fn replica_auto_scaling_is_stored_and_described() {
    let w = World::new();
    let a = w.db(&USE1);
    ok(
        &a,
        "CreateTable",
        json!({"TableName": "Prv", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
               "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
    );
    assert_eq!(
        err(
            &a,
            "DescribeTableReplicaAutoScaling",
            json!({"TableName": "Prv"})
        )
        .0,
        "ResourceNotFoundException"
    );
    add_replica(&a, "Prv", &EUW1);
    let d = ok(
        &a,
        "DescribeTableReplicaAutoScaling",
        json!({"TableName": "Prv"}),
    );
    let reps = d["TableAutoScalingDescription"]["Replicas"]
        .as_array()
        .unwrap();
    assert_eq!(reps.len(), 2);
    assert_eq!(
        reps[0]["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["AutoScalingDisabled"],
        true
    );
    let d = ok(
        &a,
        "UpdateTableReplicaAutoScaling",
        json!({"TableName": "Prv", "ProvisionedWriteCapacityAutoScalingUpdate": {
            "MinimumUnits": 5, "MaximumUnits": 50,
            "ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0}}}}),
    );
    let w0 = &d["TableAutoScalingDescription"]["Replicas"][1]["ReplicaProvisionedWriteCapacityAutoScalingSettings"];
    assert_eq!(w0["MaximumUnits"], 50);
    assert_eq!(w0["AutoScalingDisabled"], false);
    assert_eq!(
        err(&a, "UpdateTableReplicaAutoScaling", json!({"TableName": "Prv", "ProvisionedWriteCapacityAutoScalingUpdate": {"MinimumUnits": 9, "MaximumUnits": 2}})).0,
        "ValidationException"
    );
}

#[test]
fn restore_a_replica_to_a_point_in_time() {
    let w = World::new();
    let (a, b) = (w.db(&USE1), w.db(&EUW1));
    create(&a, "Tbl", None);
    add_replica(&a, "Tbl", &EUW1);
    ok(
        &b,
        "UpdateContinuousBackups",
        json!({"TableName": "Tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    w.advance_ms(1000);
    put(&a, "k", "first");
    w.advance_ms(1);
    assert_eq!(get(&b, "k").as_deref(), Some("first"));
    w.advance_ms(10_000);
    let between = w.clock.now_millis() as f64 / 1000.0;
    w.advance_ms(10_000);
    put(&a, "k", "second");
    w.advance_ms(400_000);
    assert_eq!(get(&b, "k").as_deref(), Some("second"));
    ok(
        &b,
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "Tbl", "TargetTableName": "Back", "RestoreDateTime": between}),
    );
    let r = ok(
        &b,
        "GetItem",
        json!({"TableName": "Back", "Key": {"pk": {"S": "k"}}}),
    );
    assert_eq!(r["Item"]["v"]["S"], "first");
}
