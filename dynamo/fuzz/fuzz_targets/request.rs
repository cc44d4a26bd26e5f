//! Random operations with arbitrary JSON bodies against one engine: no panic, no hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_core::{Env, Region};
use nubis_dynamo::Dynamo;

const OPS: [&str; 12] = [
    "CreateTable", "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem",
    "BatchGetItem", "TransactWriteItems", "ExecuteStatement", "UpdateTable",
];

fuzz_target!(|data: &[u8]| {
    let d = Dynamo::new(Env::default());
    let db = d.region(&Region::US_EAST_1);
    let _ = nubis_dynamo::api::dispatch(&db, "CreateTable", br#"{"TableName":"Tab","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}"#);
    for chunk in data.split(|b| *b == 0) {
        let Some((op, body)) = chunk.split_first() else { continue };
        let _ = nubis_dynamo::api::dispatch(&db, OPS[*op as usize % OPS.len()], body);
    }
});
