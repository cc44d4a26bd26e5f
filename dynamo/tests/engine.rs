//! End-to-end behaviour of the engine through its JSON operations, with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, ServiceError};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Dynamo, RegionDb};
use serde_json::{Value, json};

fn db() -> (Arc<RegionDb>, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let d = Dynamo::new(Env::with_clock(clock.shared()));
    (d.region(&Region::US_EAST_1), clock)
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

fn music(db: &RegionDb) {
    ok(
        db,
        "CreateTable",
        json!({
            "TableName": "Music",
            "AttributeDefinitions": [
                {"AttributeName": "Artist", "AttributeType": "S"},
                {"AttributeName": "SongTitle", "AttributeType": "S"},
                {"AttributeName": "Year", "AttributeType": "N"}
            ],
            "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{
                "IndexName": "ByYear",
                "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}, {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}
            }],
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }),
    );
}

fn put(db: &RegionDb, artist: &str, song: &str, year: i64) {
    ok(
        db,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": artist}, "SongTitle": {"S": song}, "Year": {"N": year.to_string()}}}),
    );
}

#[test]
fn crud_and_conditions() {
    let (db, _) = db();
    music(&db);
    put(&db, "Acme", "Happy Day", 2020);
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}}}),
    );
    assert_eq!(got["Item"]["Year"]["N"], "2020");

    let (code, msg) = err(
        &db,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}},
               "ConditionExpression": "attribute_not_exists(Artist)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ConditionalCheckFailedException",
            "The conditional request failed"
        )
    );

    let up = ok(
        &db,
        "UpdateItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}},
               "UpdateExpression": "SET Plays = if_not_exists(Plays, :zero) + :one, Tags = list_append(if_not_exists(Tags, :empty), :t) ADD Genres :g",
               "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []}, ":t": {"L": [{"S": "x"}]}, ":g": {"SS": ["rock"]}},
               "ReturnValues": "UPDATED_NEW"}),
    );
    assert_eq!(up["Attributes"]["Plays"]["N"], "1");
    assert_eq!(up["Attributes"]["Tags"]["L"][0]["S"], "x");

    let (code, msg) = err(
        &db,
        "UpdateItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}},
               "UpdateExpression": "SET Artist = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        msg,
        "One or more parameter values were invalid: Cannot update attribute Artist. This attribute is part of the key"
    );

    let del = ok(
        &db,
        "DeleteItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}}, "ReturnValues": "ALL_OLD"}),
    );
    assert_eq!(del["Attributes"]["Plays"]["N"], "1");
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}}}),
    );
    assert!(got.get("Item").is_none());
}

#[test]
fn validation_messages() {
    let (db, _) = db();
    music(&db);
    let cases = [
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}}}),
            "One or more parameter values were invalid: Missing the key SongTitle in the item",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"N": "1"}}}),
            "One or more parameter values were invalid: Type mismatch for key SongTitle expected: S actual: N",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}, "Year": {"S": "x"}}}),
            "One or more parameter values were invalid: Type mismatch for Index Key Year Expected: N Actual: S IndexName: ByYear",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}, "x": {"N": "1e200"}}}),
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}}, "ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}, ":w": {"S": "y"}}}),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}}, "ConditionExpression": "a = "}),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\"",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": ""}, "SongTitle": {"S": "b"}}}),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: Artist",
        ),
        (
            json!({"Item": {}}),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}}, "ReturnValues": "ALL_NEW"}),
            "ReturnValues can only be ALL_OLD or NONE",
        ),
        (
            json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}}, "Expected": {"x": {"Exists": false}}, "ConditionExpression": "attribute_exists(x)"}),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
    ];
    for (body, want) in cases {
        let (code, msg) = err(&db, "PutItem", body.clone());
        assert_eq!(code, "ValidationException", "{body}");
        assert_eq!(msg, want, "{body}");
    }
    let big = "x".repeat(400 * 1024);
    let (_, msg) = err(
        &db,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "a"}, "SongTitle": {"S": "b"}, "big": {"S": big}}}),
    );
    assert_eq!(
        msg,
        "One or more parameter values were invalid: Item size has exceeded the maximum allowed size"
    );
    let (code, _) = err(
        &db,
        "GetItem",
        json!({"TableName": "Nope", "Key": {"a": {"S": "b"}}}),
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = err(
        &db,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "a", "N": "1"}}}),
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = err(&db, "PutItem", json!([1, 2]));
    assert_eq!(code, "SerializationException");
}

#[test]
fn query_scan_pagination_and_indexes() {
    let (db, _) = db();
    music(&db);
    for i in 0..30 {
        put(&db, "A", &format!("song{i:02}"), 2000 + (i % 3));
    }
    put(&db, "B", "other", 2001);
    let q = ok(
        &db,
        "Query",
        json!({"TableName": "Music", "KeyConditionExpression": "Artist = :a AND begins_with(SongTitle, :p)",
               "ExpressionAttributeValues": {":a": {"S": "A"}, ":p": {"S": "song1"}}}),
    );
    assert_eq!(q["Count"], 10);
    assert_eq!(q["Items"][0]["SongTitle"]["S"], "song10");

    // Pagination with Limit, descending.
    let mut seen = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": "Music", "KeyConditionExpression": "Artist = :a", "ExpressionAttributeValues": {":a": {"S": "A"}},
                              "Limit": 7, "ScanIndexForward": false});
        if let Some(s) = &start {
            body["ExclusiveStartKey"] = s.clone();
        }
        let page = ok(&db, "Query", body);
        for it in page["Items"].as_array().unwrap() {
            seen.push(it["SongTitle"]["S"].as_str().unwrap().to_owned());
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    assert_eq!(seen[0], "song29");

    // GSI query, filter and count.
    let g = ok(
        &db,
        "Query",
        json!({"TableName": "Music", "IndexName": "ByYear", "KeyConditionExpression": "#y = :y",
               "ExpressionAttributeNames": {"#y": "Year"}, "ExpressionAttributeValues": {":y": {"N": "2001"}}}),
    );
    assert_eq!(g["Count"], 11);
    let (_, msg) = err(
        &db,
        "Query",
        json!({"TableName": "Music", "IndexName": "ByYear", "ConsistentRead": true, "KeyConditionExpression": "#y = :y",
               "ExpressionAttributeNames": {"#y": "Year"}, "ExpressionAttributeValues": {":y": {"N": "2001"}}}),
    );
    assert_eq!(
        msg,
        "Consistent reads are not supported on global secondary indexes"
    );

    // Parallel scan covers everything exactly once.
    let mut total = 0;
    for seg in 0..4 {
        let s = ok(
            &db,
            "Scan",
            json!({"TableName": "Music", "Segment": seg, "TotalSegments": 4, "Select": "COUNT"}),
        );
        total += s["Count"].as_i64().unwrap();
    }
    assert_eq!(total, 31);
    let f = ok(
        &db,
        "Scan",
        json!({"TableName": "Music", "FilterExpression": "#y BETWEEN :a AND :b", "ExpressionAttributeNames": {"#y": "Year"},
               "ExpressionAttributeValues": {":a": {"N": "2001"}, ":b": {"N": "2002"}}}),
    );
    assert_eq!(f["ScannedCount"], 31);
    assert_eq!(f["Count"], 21);
    let (_, msg) = err(
        &db,
        "Query",
        json!({"TableName": "Music", "KeyConditionExpression": "SongTitle = :s", "ExpressionAttributeValues": {":s": {"S": "x"}}}),
    );
    assert_eq!(msg, "Query condition missed key schema element: Artist");
    // Legacy parameters.
    let l = ok(
        &db,
        "Query",
        json!({"TableName": "Music", "KeyConditions": {"Artist": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "A"}]},
               "SongTitle": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "song05"}, {"S": "song09"}]}}}),
    );
    assert_eq!(l["Count"], 5);
}

#[test]
fn one_megabyte_pages() {
    let (db, _) = db();
    music(&db);
    let blob = "y".repeat(100 * 1024);
    for i in 0..25 {
        ok(
            &db,
            "PutItem",
            json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": format!("{i:02}")}, "blob": {"S": blob}}}),
        );
    }
    let q = ok(
        &db,
        "Query",
        json!({"TableName": "Music", "KeyConditionExpression": "Artist = :a", "ExpressionAttributeValues": {":a": {"S": "A"}}}),
    );
    assert_eq!(q["Count"], 11);
    assert!(q.get("LastEvaluatedKey").is_some());
}

#[test]
fn batches_and_transactions() {
    let (db, _) = db();
    music(&db);
    let writes: Vec<Value> = (0..25)
        .map(|i| json!({"PutRequest": {"Item": {"Artist": {"S": "T"}, "SongTitle": {"S": format!("s{i}")}}}}))
        .collect();
    let w = ok(
        &db,
        "BatchWriteItem",
        json!({"RequestItems": {"Music": writes}}),
    );
    assert_eq!(w["UnprocessedItems"], json!({}));
    let keys: Vec<Value> = (0..10)
        .map(|i| json!({"Artist": {"S": "T"}, "SongTitle": {"S": format!("s{i}")}}))
        .collect();
    let g = ok(
        &db,
        "BatchGetItem",
        json!({"RequestItems": {"Music": {"Keys": keys}}}),
    );
    assert_eq!(g["Responses"]["Music"].as_array().unwrap().len(), 10);
    let dup = json!({"RequestItems": {"Music": [
        {"DeleteRequest": {"Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}}}},
        {"DeleteRequest": {"Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}}}}]}});
    assert_eq!(
        err(&db, "BatchWriteItem", dup).1,
        "Provided list of item keys contains duplicates"
    );

    // A transaction whose second action fails writes nothing.
    let (code, msg) = err(
        &db,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "Music", "Item": {"Artist": {"S": "X"}, "SongTitle": {"S": "new"}}}},
            {"ConditionCheck": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}},
                                "ConditionExpression": "attribute_not_exists(Artist)"}}]}),
    );
    assert_eq!(code, "TransactionCanceledException");
    assert_eq!(
        msg,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    );
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "X"}, "SongTitle": {"S": "new"}}}),
    );
    assert!(got.get("Item").is_none());

    let tx = json!({"ClientRequestToken": "tok-1", "TransactItems": [
        {"Update": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}}]});
    ok(&db, "TransactWriteItems", tx.clone());
    ok(&db, "TransactWriteItems", tx.clone());
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}}}),
    );
    assert_eq!(
        got["Item"]["n"]["N"], "1",
        "an idempotent retry must not apply twice"
    );
    let mut other = tx.clone();
    other["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":one"] = json!({"N": "2"});
    assert_eq!(
        err(&db, "TransactWriteItems", other).0,
        "IdempotentParameterMismatchException"
    );
    let tg = ok(
        &db,
        "TransactGetItems",
        json!({"TransactItems": [{"Get": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "s1"}}}},
                                  {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "zz"}}}}]}),
    );
    assert_eq!(tg["Responses"][0]["Item"]["n"]["N"], "1");
    assert_eq!(tg["Responses"][1], json!({}));
}

#[test]
fn streams_and_ttl() {
    let (db, clock) = db();
    music(&db);
    ok(
        &db,
        "UpdateTimeToLive",
        json!({"TableName": "Music", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    );
    let now = 1_767_225_600i64;
    ok(
        &db,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "t"}, "exp": {"N": (now + 60).to_string()}}}),
    );
    put(&db, "A", "keep", 1999);
    ok(
        &db,
        "UpdateItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "keep"}}, "UpdateExpression": "SET x = :x", "ExpressionAttributeValues": {":x": {"BOOL": true}}}),
    );
    clock.advance(Duration::from_secs(61));
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "t"}}}),
    );
    assert!(got.get("Item").is_none(), "expired by TTL");

    let desc = ok(&db, "DescribeTable", json!({"TableName": "Music"}));
    let arn = desc["Table"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let ds = ok(&db, "DescribeStream", json!({"StreamArn": arn}));
    let shard = ds["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .unwrap()
        .to_owned();
    let it = ok(
        &db,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    );
    let recs = ok(
        &db,
        "GetRecords",
        json!({"ShardIterator": it["ShardIterator"]}),
    );
    let names: Vec<&str> = recs["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["INSERT", "INSERT", "MODIFY", "REMOVE"]);
    let ttl_rec = &recs["Records"][3];
    assert_eq!(ttl_rec["userIdentity"]["Type"], "Service");
    assert_eq!(
        recs["Records"][2]["dynamodb"]["OldImage"]["Year"]["N"],
        "1999"
    );
    // Records age out after 24 hours.
    clock.advance(Duration::from_secs(24 * 3600));
    let it = ok(
        &db,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    );
    let recs = ok(
        &db,
        "GetRecords",
        json!({"ShardIterator": it["ShardIterator"]}),
    );
    assert_eq!(recs["Records"], json!([]));
    clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        err(
            &db,
            "GetRecords",
            json!({"ShardIterator": it["ShardIterator"]})
        )
        .0,
        "ExpiredIteratorException"
    );
}

#[test]
fn control_plane() {
    let (db, _) = db();
    music(&db);
    assert_eq!(err(&db, "CreateTable", json!({
        "TableName": "Music", "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})).0, "ResourceInUseException");
    let (_, msg) = err(
        &db,
        "CreateTable",
        json!({
        "TableName": "Tab2", "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}]}),
    );
    assert_eq!(
        msg,
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
    );
    ok(
        &db,
        "CreateTable",
        json!({
        "TableName": "Tab2", "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}], "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
    );
    let l = ok(&db, "ListTables", json!({"Limit": 1}));
    assert_eq!(l["TableNames"], json!(["Music"]));
    assert_eq!(l["LastEvaluatedTableName"], "Music");
    let l = ok(
        &db,
        "ListTables",
        json!({"ExclusiveStartTableName": "Music"}),
    );
    assert_eq!(l["TableNames"], json!(["Tab2"]));
    ok(
        &db,
        "UpdateTable",
        json!({"TableName": "Tab2", "BillingMode": "PAY_PER_REQUEST"}),
    );
    let arn = ok(&db, "DescribeTable", json!({"TableName": "Tab2"}))["Table"]["TableArn"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &db,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "env", "Value": "test"}]}),
    );
    assert_eq!(
        ok(&db, "ListTagsOfResource", json!({"ResourceArn": arn}))["Tags"],
        json!([{"Key": "env", "Value": "test"}])
    );
    ok(&db, "DeleteTable", json!({"TableName": "Tab2"}));
    assert_eq!(
        err(&db, "DescribeTable", json!({"TableName": "Tab2"})).1,
        "Requested resource not found: Table: Tab2 not found"
    );
    assert_eq!(
        err(&db, "Frobnicate", json!({})).0,
        "UnknownOperationException"
    );
}

#[test]
fn partiql() {
    let (db, _) = db();
    music(&db);
    ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 's1', 'Year': 2001}"}),
    );
    ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "INSERT INTO \"Music\" VALUE {'Artist': ?, 'SongTitle': ?}", "Parameters": [{"S": "A"}, {"S": "s2"}]}),
    );
    let (code, _) = err(
        &db,
        "ExecuteStatement",
        json!({"Statement": "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 's1'}"}),
    );
    assert_eq!(code, "DuplicateItemException");
    let r = ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "SELECT SongTitle FROM Music WHERE Artist = 'A' AND SongTitle >= 's2'"}),
    );
    assert_eq!(r["Items"], json!([{"SongTitle": {"S": "s2"}}]));
    ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "UPDATE Music SET Plays = 5 WHERE Artist = 'A' AND SongTitle = 's1'"}),
    );
    let r = ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM Music WHERE Plays > 4"}),
    );
    assert_eq!(r["Items"][0]["Plays"]["N"], "5");
    let (code, msg) = err(
        &db,
        "ExecuteStatement",
        json!({"Statement": "UPDATE Music SET Plays = 5 WHERE Artist = 'A'"}),
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ValidationException",
            "Where clause does not contain a mandatory equality on all key attributes"
        )
    );
    let b = ok(
        &db,
        "BatchExecuteStatement",
        json!({"Statements": [
        {"Statement": "SELECT * FROM Music WHERE Artist = 'A' AND SongTitle = 's1'"},
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 's1'}"}]}),
    );
    assert_eq!(b["Responses"][0]["Item"]["Plays"]["N"], "5");
    assert_eq!(b["Responses"][1]["Error"]["Code"], "DuplicateItem");
    let (code, msg) = err(
        &db,
        "ExecuteTransaction",
        json!({"TransactStatements": [
        {"Statement": "DELETE FROM Music WHERE Artist = 'A' AND SongTitle = 's2'"},
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 's1'}"}]}),
    );
    assert_eq!(code, "TransactionCanceledException");
    assert!(msg.ends_with("[None, DuplicateItem]"), "{msg}");
    ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "DELETE FROM Music WHERE Artist = 'A' AND SongTitle = 's2'"}),
    );
    let r = ok(
        &db,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM Music"}),
    );
    assert_eq!(r["Items"].as_array().unwrap().len(), 1);
    let (_, msg) = err(
        &db,
        "ExecuteStatement",
        json!({"Statement": "SELEC * FROM Music"}),
    );
    assert!(
        msg.starts_with("Statement wasn't well formed, can't be processed"),
        "{msg}"
    );
    // The API's Statement member is 1 to 8,192 characters, checked before parsing.
    let long = format!("SELECT * FROM Music WHERE Artist = '{}'", "x".repeat(8192));
    let (code, msg) = err(&db, "ExecuteStatement", json!({ "Statement": long }));
    assert_eq!(code, "ValidationException");
    assert!(
        msg.ends_with("Member must have length less than or equal to 8192"),
        "{msg}"
    );
    let (_, msg) = err(
        &db,
        "BatchExecuteStatement",
        json!({"Statements": [{"Statement": "SELECT * FROM Music WHERE Artist = 'A' AND SongTitle = 's1'"}, {"Statement": ""}]}),
    );
    assert!(msg.contains("'statements.2.member.statement'"), "{msg}");
    let exact = format!(
        "SELECT * FROM Music WHERE Artist = '{}'",
        "y".repeat(8192 - 37)
    );
    assert_eq!(exact.chars().count(), 8192);
    ok(&db, "ExecuteStatement", json!({ "Statement": exact }));
}

#[test]
fn backups_and_point_in_time_recovery() {
    let (db, clock) = db();
    music(&db);
    let t0 = 1_767_225_600.0f64;
    assert_eq!(
        err(&db, "RestoreTableToPointInTime", json!({"SourceTableName": "Music", "TargetTableName": "Music2", "UseLatestRestorableTime": true})).0,
        "PointInTimeRecoveryUnavailableException"
    );
    ok(
        &db,
        "UpdateContinuousBackups",
        json!({"TableName": "Music", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    put(&db, "A", "first", 2001);
    let backup = ok(
        &db,
        "CreateBackup",
        json!({"TableName": "Music", "BackupName": "backup-1"}),
    );
    let arn = backup["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(60));
    put(&db, "A", "second", 2002);
    clock.advance(Duration::from_secs(600));

    // The backup holds exactly the first state, even though writes continued.
    ok(
        &db,
        "RestoreTableFromBackup",
        json!({"TargetTableName": "FromBackup", "BackupArn": arn}),
    );
    let s = ok(&db, "Scan", json!({"TableName": "FromBackup"}));
    assert_eq!(s["Count"], 1);
    let g = ok(
        &db,
        "Query",
        json!({"TableName": "FromBackup", "IndexName": "ByYear", "KeyConditionExpression": "#y = :y",
        "ExpressionAttributeNames": {"#y": "Year"}, "ExpressionAttributeValues": {":y": {"N": "2001"}}}),
    );
    assert_eq!(g["Count"], 1, "indexes are rebuilt on restore");

    // PITR to the instant between the writes sees the first state only.
    ok(
        &db,
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "Music", "TargetTableName": "Between", "RestoreDateTime": t0 + 30.0}),
    );
    assert_eq!(ok(&db, "Scan", json!({"TableName": "Between"}))["Count"], 1);
    ok(
        &db,
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "Music", "TargetTableName": "Latest", "UseLatestRestorableTime": true}),
    );
    assert_eq!(ok(&db, "Scan", json!({"TableName": "Latest"}))["Count"], 2);
    assert_eq!(
        err(&db, "RestoreTableToPointInTime", json!({"SourceTableName": "Music", "TargetTableName": "Future", "RestoreDateTime": t0 + 600.0})).0,
        "InvalidRestoreTimeException"
    );
    assert_eq!(
        err(&db, "RestoreTableToPointInTime", json!({"SourceTableName": "Music", "TargetTableName": "Latest", "UseLatestRestorableTime": true})).0,
        "TableAlreadyExistsException"
    );
    let cb = ok(
        &db,
        "DescribeContinuousBackups",
        json!({"TableName": "Music"}),
    );
    assert_eq!(
        cb["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "ENABLED"
    );

    // A deleted table stays restorable from its PITR history.
    ok(&db, "DeleteTable", json!({"TableName": "Music"}));
    ok(
        &db,
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "Music", "TargetTableName": "Revived", "RestoreDateTime": t0 + 61.0}),
    );
    assert_eq!(ok(&db, "Scan", json!({"TableName": "Revived"}))["Count"], 2);

    let list = ok(&db, "ListBackups", json!({"TableName": "Music"}));
    assert_eq!(list["BackupSummaries"].as_array().unwrap().len(), 1);
    ok(&db, "DeleteBackup", json!({"BackupArn": arn}));
    assert_eq!(
        err(&db, "DescribeBackup", json!({"BackupArn": arn})).0,
        "BackupNotFoundException"
    );
}
