//! SDK tests for DynamoDB and DynamoDB Streams: the official `aws-sdk-dynamodb` and
//! `aws-sdk-dynamodbstreams` clients against `nubis serve` in-process.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use nubis::testing::TestServer;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

async fn create_music(client: &Client) {
    client
        .create_table()
        .table_name("Music")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("Artist")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("SongTitle")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("Year")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("Artist")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("SongTitle")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("ByYear")
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("Year")
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                )
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn items_queries_and_errors() {
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    create_music(&client).await;
    let desc = client
        .describe_table()
        .table_name("Music")
        .send()
        .await
        .unwrap();
    assert_eq!(
        desc.table().unwrap().table_status().unwrap().as_str(),
        "ACTIVE"
    );

    for i in 0..20 {
        client
            .put_item()
            .table_name("Music")
            .item("Artist", s("Acme"))
            .item("SongTitle", s(&format!("song{i:02}")))
            .item("Year", n(&(2000 + i % 2).to_string()))
            .send()
            .await
            .unwrap();
    }
    let got = client
        .get_item()
        .table_name("Music")
        .key("Artist", s("Acme"))
        .key("SongTitle", s("song03"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap()["Year"], n("2001"));

    let up = client
        .update_item()
        .table_name("Music")
        .key("Artist", s("Acme"))
        .key("SongTitle", s("song03"))
        .update_expression("SET Plays = if_not_exists(Plays, :z) + :one")
        .expression_attribute_values(":z", n("0"))
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(up.attributes().unwrap()["Plays"], n("1"));

    // Paginate a query through the SDK's paginator.
    let pages: Vec<_> = client
        .query()
        .table_name("Music")
        .key_condition_expression("Artist = :a")
        .expression_attribute_values(":a", s("Acme"))
        .limit(6)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let total: usize = pages
        .iter()
        .map(|p| p.as_ref().unwrap().items().len())
        .sum();
    assert_eq!(total, 20);

    let idx = client
        .query()
        .table_name("Music")
        .index_name("ByYear")
        .key_condition_expression("#y = :y")
        .expression_attribute_names("#y", "Year")
        .expression_attribute_values(":y", n("2000"))
        .send()
        .await
        .unwrap();
    assert_eq!(idx.count(), 10);

    // Conditional failure with the old item returned.
    let err = client
        .put_item()
        .table_name("Music")
        .item("Artist", s("Acme"))
        .item("SongTitle", s("song03"))
        .condition_expression("attribute_not_exists(Artist)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert!(service.is_conditional_check_failed_exception());
    if let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) =
        &service
    {
        assert_eq!(e.item().unwrap()["Plays"], n("1"));
    }

    // Validation errors keep DynamoDB's text.
    let err = client
        .put_item()
        .table_name("Music")
        .item("Artist", s("Acme"))
        .item("SongTitle", s("x"))
        .condition_expression("a = :v")
        .expression_attribute_values(":v", s("1"))
        .expression_attribute_values(":w", s("2"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}")
    );

    let err = client
        .get_item()
        .table_name("Nope")
        .key("a", s("b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn transactions_cancel_with_reasons() {
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    create_music(&client).await;
    client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("t"))
        .send()
        .await
        .unwrap();
    let put = Put::builder()
        .table_name("Music")
        .item("Artist", s("B"))
        .item("SongTitle", s("t"))
        .build()
        .unwrap();
    let update = Update::builder()
        .table_name("Music")
        .key("Artist", s("A"))
        .key("SongTitle", s("t"))
        .update_expression("SET x = :x")
        .condition_expression("attribute_not_exists(Artist)")
        .expression_attribute_values(":x", n("1"))
        .build()
        .unwrap();
    let err = client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .transact_items(TransactWriteItem::builder().update(update).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match err {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            let codes: Vec<&str> = e.cancellation_reasons().iter().map(|r| r.code().unwrap_or_default()).collect();
            assert_eq!(codes, ["None", "ConditionalCheckFailed"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let got = client
        .get_item()
        .table_name("Music")
        .key("Artist", s("B"))
        .key("SongTitle", s("t"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());

    let w = client
        .batch_write_item()
        .request_items(
            "Music",
            (0..25)
                .map(|i| {
                    aws_sdk_dynamodb::types::WriteRequest::builder()
                        .put_request(
                            aws_sdk_dynamodb::types::PutRequest::builder()
                                .set_item(Some(HashMap::from([
                                    ("Artist".to_owned(), s("C")),
                                    ("SongTitle".to_owned(), s(&i.to_string())),
                                ])))
                                .build()
                                .unwrap(),
                        )
                        .build()
                })
                .collect(),
        )
        .send()
        .await
        .unwrap();
    assert!(w.unprocessed_items().is_none_or(|u| u.is_empty()));
}

#[tokio::test]
async fn streams_and_ttl_on_the_manual_clock() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let client = Client::new(&server.sdk_config());
    create_music(&client).await;
    client
        .update_time_to_live()
        .table_name("Music")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let now = nubis::core::Clock::now_millis(server.manual_clock()) / 1000;
    client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("t"))
        .item("exp", n(&(now + 30).to_string()))
        .send()
        .await
        .unwrap();
    server.manual_clock().advance(Duration::from_secs(31));
    let got = client
        .get_item()
        .table_name("Music")
        .key("Artist", s("A"))
        .key("SongTitle", s("t"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());

    let streams = aws_sdk_dynamodbstreams::Client::new(&server.sdk_config());
    let list = streams
        .list_streams()
        .table_name("Music")
        .send()
        .await
        .unwrap();
    let arn = list.streams()[0].stream_arn().unwrap().to_owned();
    let d = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    let shard = d.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    let it = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let recs = streams
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = recs
        .records()
        .iter()
        .map(|r| r.event_name().unwrap().as_str())
        .collect();
    assert_eq!(names, ["INSERT", "REMOVE"]);
    assert_eq!(
        recs.records()[1].user_identity().unwrap().principal_id(),
        Some("dynamodb.amazonaws.com")
    );
}

#[tokio::test]
async fn backup_and_point_in_time_restore() {
    use aws_sdk_dynamodb::types::PointInTimeRecoverySpecification;
    use nubis::core::Clock;
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let client = Client::new(&server.sdk_config());
    create_music(&client).await;
    client
        .update_continuous_backups()
        .table_name("Music")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("one"))
        .send()
        .await
        .unwrap();
    let between = server.manual_clock().now() + Duration::from_secs(30);
    let backup = client
        .create_backup()
        .table_name("Music")
        .backup_name("nightly")
        .send()
        .await
        .unwrap();
    server.manual_clock().advance(Duration::from_secs(60));
    client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("two"))
        .send()
        .await
        .unwrap();
    server.manual_clock().advance(Duration::from_secs(600));
    client
        .restore_table_to_point_in_time()
        .source_table_name("Music")
        .target_table_name("MusicThen")
        .restore_date_time(aws_sdk_dynamodb::primitives::DateTime::from(between))
        .send()
        .await
        .unwrap();
    let then = client.scan().table_name("MusicThen").send().await.unwrap();
    assert_eq!(then.count(), 1);
    let arn = backup.backup_details().unwrap().backup_arn().to_owned();
    client
        .restore_table_from_backup()
        .target_table_name("MusicBackup")
        .backup_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .scan()
            .table_name("MusicBackup")
            .send()
            .await
            .unwrap()
            .count(),
        1
    );
    let err = client
        .describe_backup()
        .backup_arn("arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/x")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_backup_not_found_exception());
}

#[tokio::test]
async fn in_flight_transactions_conflict_over_the_wire() {
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    create_music(&client).await;
    // Hold a transaction in flight through the engine while SDK requests arrive over HTTP.
    let db = server
        .cloud()
        .dynamo()
        .region(&nubis::core::Region::US_EAST_1);
    let input: nubis_dynamo::model_data::TransactWriteItemsInput =
        serde_json::from_value(serde_json::json!({"TransactItems": [{"Put": {
            "TableName": "Music",
            "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "t"}}
        }}]}))
        .unwrap();
    let in_flight = db.begin_transact_write_items(&input).unwrap();
    let err = client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("t"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_transaction_conflict_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Transaction is ongoing for the item"));
    let put = Put::builder()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("t"))
        .build()
        .unwrap();
    let err = client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match err {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            let codes: Vec<&str> = e.cancellation_reasons().iter().map(|r| r.code().unwrap_or_default()).collect();
            assert_eq!(codes, ["TransactionConflict"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Reads are not blocked and see the last committed state.
    let got = client
        .get_item()
        .table_name("Music")
        .key("Artist", s("A"))
        .key("SongTitle", s("t"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());
    in_flight.commit().unwrap();
    client
        .put_item()
        .table_name("Music")
        .item("Artist", s("A"))
        .item("SongTitle", s("t"))
        .send()
        .await
        .unwrap();
}

/// A table `Feed` with a stream, for the shard tests.
async fn create_feed(client: &Client) -> String {
    create_streamed_table(client, "Feed", StreamViewType::NewImage).await
}

/// A pay-per-request table keyed by the string `id`, with a stream of `view`; returns the
/// stream's ARN.
pub(crate) async fn create_streamed_table(
    client: &Client,
    name: &str,
    view: StreamViewType,
) -> String {
    let out = client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    out.table_description()
        .and_then(|t| t.latest_stream_arn())
        .unwrap()
        .to_owned()
}

async fn put_feed(client: &Client, id: &str) {
    client
        .put_item()
        .table_name("Feed")
        .item("id", s(id))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn stream_shards_roll_over_and_page_for_sdk_readers() {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let client = Client::new(&server.sdk_config());
    let arn = create_feed(&client).await;
    put_feed(&client, "a").await;
    server.manual_clock().advance(Duration::from_secs(4 * 3600));
    put_feed(&client, "b").await;

    let streams = aws_sdk_dynamodbstreams::Client::new(&server.sdk_config());
    // One shard per page: the SDK's own paging walks the lineage.
    let mut shards = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let d = streams
            .describe_stream()
            .stream_arn(&arn)
            .limit(1)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .unwrap();
        let d = d.stream_description().unwrap();
        shards.extend(d.shards().iter().cloned());
        match d.last_evaluated_shard_id() {
            Some(last) => start = Some(last.to_owned()),
            None => break,
        }
    }
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[1].parent_shard_id(), shards[0].shard_id());
    let closed = shards[0].sequence_number_range().unwrap();
    assert!(closed.ending_sequence_number().is_some());
    assert!(
        shards[1]
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_none()
    );

    let mut ids = Vec::new();
    for shard in &shards {
        let it = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let recs = streams
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        for r in recs.records() {
            let image = r.dynamodb().unwrap().new_image().unwrap();
            if let Some(aws_sdk_dynamodbstreams::types::AttributeValue::S(id)) = image.get("id") {
                ids.push(id.clone());
            }
        }
        // The closed shard, read to its end, has no next iterator; the open one has.
        assert_eq!(
            recs.next_shard_iterator().is_some(),
            shard
                .sequence_number_range()
                .unwrap()
                .ending_sequence_number()
                .is_none()
        );
    }
    assert_eq!(ids, ["a", "b"]);

    let err = streams
        .describe_stream()
        .stream_arn(&arn)
        .limit(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_dynamodbstreams::error::ProvideErrorMetadata::code(&err),
        Some("ValidationException")
    );
}

#[cfg(feature = "lambda")]
#[tokio::test]
async fn lambda_stream_mapping_follows_child_shards_in_order() {
    use std::sync::Arc;

    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{EventSourcePosition, FunctionCode, Runtime};
    use parking_lot::Mutex;
    use serde_json::Value;

    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = Arc::clone(&seen);
    server
        .cloud()
        .lambda()
        .register_handler("feed", move |event: Value, _ctx| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock()
                    .extend(event["Records"].as_array().cloned().unwrap_or_default());
                Ok::<_, nubis_lambda::HandlerError>(Value::Null)
            }
        });
    let client = Client::new(&server.sdk_config());
    let arn = create_feed(&client).await;
    let lambda = aws_sdk_lambda::Client::new(&server.sdk_config());
    let package =
        nubis_lambda::package::build_zip(&[("README", b"in-process handler", 0o644)]).unwrap();
    lambda
        .create_function()
        .function_name("on-feed")
        .runtime(Runtime::Providedal2023)
        .handler("nubis:feed")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .code(FunctionCode::builder().zip_file(Blob::new(package)).build())
        .send()
        .await
        .unwrap();
    lambda
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name("on-feed")
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .send()
        .await
        .unwrap();

    // Three shards, each closed with records in it before the mapping has read them all.
    for (i, id) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        put_feed(&client, id).await;
        if i % 2 == 1 {
            server.manual_clock().advance(Duration::from_secs(4 * 3600));
        }
    }
    for _ in 0..60 {
        if seen.lock().len() >= 5 {
            break;
        }
        server.manual_clock().advance(Duration::from_secs(1));
        server.cloud().lambda().settle().await;
        tokio::task::yield_now().await;
    }
    let ids: Vec<String> = seen
        .lock()
        .iter()
        .map(|r| {
            r["dynamodb"]["NewImage"]["id"]["S"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
}
