//! The JSON operation dispatcher: DynamoDB and DynamoDB Streams operations by name, with
//! request bodies and answers in the awsJson1_0 shapes.
//!
//! The wire binding ([`crate::http`]) and JSON-driven tests both go through [`dispatch`]. A body
//! that is not the expected JSON is `SerializationException`; a value DynamoDB rejects while
//! reading the request (a bad number, an AttributeValue with two types) is
//! `ValidationException` with DynamoDB's text.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::value::validation_message;

fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        match validation_message(&msg) {
            Some(v) => Error::Validation(v),
            None => Error::Serialization(if e.is_data() {
                "Start of structure or map found where not expected".to_owned()
            } else {
                msg
            }),
        }
    })
}

fn output<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Serialization(e.to_string()))
}

const EMPTY_OBJECT: &[u8] = b"{}";

/// Runs DynamoDB operation `op` (`PutItem`, `DescribeStream` …) with a JSON body.
pub fn dispatch(db: &RegionDb, op: &str, body: &[u8]) -> Result<Vec<u8>> {
    match op {
        "CreateTable" => output(&db.create_table(input(body)?)?),
        "DescribeTable" => output(&db.describe_table(input(body)?)?),
        "ListTables" => output(&db.list_tables(input(body)?)?),
        "UpdateTable" => output(&db.update_table(input(body)?)?),
        "DeleteTable" => output(&db.delete_table(input(body)?)?),
        "UpdateTimeToLive" => output(&db.update_time_to_live(input(body)?)?),
        "DescribeTimeToLive" => output(&db.describe_time_to_live(input(body)?)?),
        "TagResource" => db.tag_resource(input(body)?).map(|_| EMPTY_OBJECT.to_vec()),
        "UntagResource" => db
            .untag_resource(input(body)?)
            .map(|_| EMPTY_OBJECT.to_vec()),
        "ListTagsOfResource" => output(&db.list_tags_of_resource(input(body)?)?),
        "DescribeLimits" => output(&db.describe_limits()),
        "DescribeEndpoints" => output(&db.describe_endpoints()),
        "GetItem" => output(&db.get_item(input(body)?)?),
        "PutItem" => output(&db.put_item(input(body)?)?),
        "DeleteItem" => output(&db.delete_item(input(body)?)?),
        "UpdateItem" => output(&db.update_item(input(body)?)?),
        "Query" => output(&db.query(input(body)?)?),
        "Scan" => output(&db.scan(input(body)?)?),
        "BatchGetItem" => output(&db.batch_get_item(input(body)?)?),
        "BatchWriteItem" => output(&db.batch_write_item(input(body)?)?),
        "TransactWriteItems" => output(&db.transact_write_items(input(body)?)?),
        "TransactGetItems" => output(&db.transact_get_items(input(body)?)?),
        "ExecuteStatement" => output(&db.execute_statement(input(body)?)?),
        "BatchExecuteStatement" => output(&db.batch_execute_statement(input(body)?)?),
        "ExecuteTransaction" => output(&db.execute_transaction(input(body)?)?),
        "CreateBackup" => output(&db.create_backup(input(body)?)?),
        "DescribeBackup" => output(&db.describe_backup(input(body)?)?),
        "DeleteBackup" => output(&db.delete_backup(input(body)?)?),
        "ListBackups" => output(&db.list_backups(input(body)?)?),
        "UpdateContinuousBackups" => output(&db.update_continuous_backups(input(body)?)?),
        "DescribeContinuousBackups" => output(&db.describe_continuous_backups(input(body)?)?),
        "RestoreTableFromBackup" => output(&db.restore_table_from_backup(input(body)?)?),
        "RestoreTableToPointInTime" => output(&db.restore_table_to_point_in_time(input(body)?)?),
        "CreateGlobalTable" => output(&db.create_global_table(input(body)?)?),
        "DescribeGlobalTable" => output(&db.describe_global_table(input(body)?)?),
        "UpdateGlobalTable" => output(&db.update_global_table(input(body)?)?),
        "ListGlobalTables" => output(&db.list_global_tables(input(body)?)?),
        "DescribeGlobalTableSettings" => output(&db.describe_global_table_settings(input(body)?)?),
        "UpdateGlobalTableSettings" => output(&db.update_global_table_settings(input(body)?)?),
        "DescribeTableReplicaAutoScaling" => {
            output(&db.describe_table_replica_auto_scaling(input(body)?)?)
        }
        "UpdateTableReplicaAutoScaling" => {
            output(&db.update_table_replica_auto_scaling(input(body)?)?)
        }
        "ListStreams" => output(&db.list_streams(input(body)?)?),
        "DescribeStream" => output(&db.describe_stream(input(body)?)?),
        "GetShardIterator" => output(&db.get_shard_iterator(input(body)?)?),
        "GetRecords" => output(&db.get_records(input(body)?)?),
        _ => Err(Error::UnknownOperation),
    }
}

/// The JSON error body DynamoDB sends for `err` (`__type`, `message`, and the extra members of
/// ConditionalCheckFailed and TransactionCanceled).
pub fn error_body(err: &Error) -> serde_json::Value {
    use nubis_core::ServiceError;
    let prefix = match err {
        Error::Validation(_) | Error::UnknownOperation => "com.amazon.coral.validate#",
        Error::Serialization(_) => "com.amazon.coral.service#",
        _ => "com.amazonaws.dynamodb.v20120810#",
    };
    let mut v = serde_json::json!({ "__type": format!("{prefix}{}", err.code()), "message": err.message() });
    match err {
        Error::ConditionalCheckFailed { item: Some(item) } => v["Item"] = serde_json::json!(item),
        Error::TransactionCanceled { reasons } => {
            v["CancellationReasons"] = serde_json::json!(reasons)
        }
        _ => {}
    }
    v
}
