//! Cross-service flows through the facade: DynamoDB Streams feeding a Lambda event source
//! mapping, and Lambda packages read from S3 — all through the official SDKs.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{EventSourcePosition, FunctionCode, Runtime};
use nubis::Cloud;
use nubis::testing::TestServer;
use parking_lot::Mutex;
use serde_json::Value;

fn package() -> Vec<u8> {
    nubis_lambda::package::build_zip(&[("README", b"in-process handler", 0o644)]).unwrap()
}

#[tokio::test]
async fn dynamodb_stream_drives_a_lambda_event_source_mapping() {
    let server = TestServer::start_with(Cloud::builder().manual_clock()).await;
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = Arc::clone(&seen);
    server
        .cloud()
        .lambda()
        .register_handler("collect", move |event: Value, _ctx| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock()
                    .extend(event["Records"].as_array().cloned().unwrap_or_default());
                Ok::<_, nubis_lambda::HandlerError>(Value::Null)
            }
        });

    let ddb = aws_sdk_dynamodb::Client::new(&server.sdk_config());
    let stream_arn =
        super::dynamo::create_streamed_table(&ddb, "Orders", StreamViewType::NewAndOldImages).await;

    let lambda = aws_sdk_lambda::Client::new(&server.sdk_config());
    lambda
        .create_function()
        .function_name("on-order")
        .runtime(Runtime::Providedal2023)
        .handler("nubis:collect")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .create_event_source_mapping()
        .event_source_arn(&stream_arn)
        .function_name("on-order")
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .send()
        .await
        .unwrap();

    for id in ["a", "b", "c"] {
        ddb.put_item()
            .table_name("Orders")
            .item("id", AttributeValue::S(id.into()))
            .item("n", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
    }
    ddb.update_item()
        .table_name("Orders")
        .key("id", AttributeValue::S("a".into()))
        .update_expression("SET n = n + :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    ddb.delete_item()
        .table_name("Orders")
        .key("id", AttributeValue::S("b".into()))
        .send()
        .await
        .unwrap();

    for _ in 0..60 {
        if seen.lock().len() >= 5 {
            break;
        }
        server.manual_clock().advance(Duration::from_secs(1));
        server.cloud().lambda().settle().await;
        tokio::task::yield_now().await;
    }
    let seen = seen.lock().clone();
    let names: Vec<&str> = seen
        .iter()
        .map(|r| r["eventName"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE"],
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|r| r["eventSourceARN"] == stream_arn.as_str())
    );
    assert_eq!(seen[3]["dynamodb"]["NewImage"]["n"]["N"], "2");
    assert_eq!(seen[3]["dynamodb"]["OldImage"]["n"]["N"], "1");
}

#[tokio::test]
async fn lambda_reads_its_package_from_s3() {
    let server = TestServer::start().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&server.sdk_config())
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("artifacts").send().await.unwrap();
    let zip = package();
    s3.put_object()
        .bucket("artifacts")
        .key("fn.zip")
        .body(zip.clone().into())
        .send()
        .await
        .unwrap();

    let lambda = aws_sdk_lambda::Client::new(&server.sdk_config());
    let created = lambda
        .create_function()
        .function_name("from-s3")
        .runtime(Runtime::Providedal2023)
        .handler("nubis:anything")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .code(
            FunctionCode::builder()
                .s3_bucket("artifacts")
                .s3_key("fn.zip")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.code_size(), zip.len() as i64);

    let err = lambda
        .create_function()
        .function_name("missing")
        .runtime(Runtime::Providedal2023)
        .handler("nubis:anything")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .code(
            FunctionCode::builder()
                .s3_bucket("artifacts")
                .s3_key("nope.zip")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let msg = format!("{:?}", err.into_service_error());
    assert!(msg.contains("NoSuchKey"), "{msg}");
}
