//! SDK tests for DynamoDB Global Tables: `aws-sdk-dynamodb` clients for several regions against
//! one `nubis` endpoint, both API versions, replication on the manual clock.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CreateReplicationGroupMemberAction,
    DeleteReplicationGroupMemberAction, KeySchemaElement, KeyType, Replica, ReplicaStatus,
    ReplicaUpdate, ReplicationGroupUpdate, ScalarAttributeType, StreamSpecification,
    StreamViewType,
};
use nubis::testing::TestServer;

fn client(server: &TestServer, region: &str) -> Client {
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&server.sdk_config())
            .region(Region::new(region.to_owned()))
            .build(),
    )
}

async fn create(c: &Client, name: &str, stream: bool) {
    let mut req = c
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest);
    if stream {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
}

async fn put(c: &Client, table: &str, pk: &str, v: &str) {
    c.put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.to_owned()))
        .item("v", AttributeValue::S(v.to_owned()))
        .send()
        .await
        .unwrap();
}

async fn get(c: &Client, table: &str, pk: &str) -> Option<String> {
    let r = c
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    r.item()
        .and_then(|i| i.get("v"))
        .and_then(|v| v.as_s().ok())
        .cloned()
}

#[tokio::test]
async fn replicas_over_the_wire_with_delay_partition_and_lww() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let clock = server.manual_clock();
    let use1 = client(&server, "us-east-1");
    let euw1 = client(&server, "eu-west-1");
    let aps2 = client(&server, "ap-southeast-2");
    create(&use1, "Orders", false).await;
    put(&use1, "Orders", "existing", "1").await;
    for r in ["eu-west-1", "ap-southeast-2"] {
        let out = use1
            .update_table()
            .table_name("Orders")
            .replica_updates(
                ReplicationGroupUpdate::builder()
                    .create(
                        CreateReplicationGroupMemberAction::builder()
                            .region_name(r)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.table_description().unwrap().global_table_version(),
            Some("2019.11.21")
        );
    }
    let d = euw1
        .describe_table()
        .table_name("Orders")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    let regions: Vec<&str> = t
        .replicas()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    assert_eq!(regions, ["ap-southeast-2", "us-east-1"]);
    assert_eq!(
        t.replicas()[0].replica_status(),
        Some(&ReplicaStatus::Active)
    );
    assert_eq!(
        t.stream_specification().and_then(|s| s.stream_view_type()),
        Some(&StreamViewType::NewAndOldImages)
    );
    assert_eq!(get(&aps2, "Orders", "existing").await.as_deref(), Some("1"));

    // A replication delay on the clock.
    let hub = server.cloud().dynamo().replication();
    hub.set_default_delay(Duration::from_secs(2));
    put(&use1, "Orders", "o1", "placed").await;
    assert_eq!(get(&euw1, "Orders", "o1").await, None);
    clock.advance(Duration::from_secs(2));
    assert_eq!(get(&euw1, "Orders", "o1").await.as_deref(), Some("placed"));

    // A partition: writes keep succeeding and queue; conflicting writes resolve by LWW.
    hub.partition(&nubis_core::Region::from_static("eu-west-1"));
    put(&euw1, "Orders", "o1", "from-eu").await;
    clock.advance(Duration::from_millis(10));
    put(&use1, "Orders", "o1", "from-us").await;
    clock.advance(Duration::from_secs(5));
    assert_eq!(get(&euw1, "Orders", "o1").await.as_deref(), Some("from-eu"));
    assert_eq!(get(&aps2, "Orders", "o1").await.as_deref(), Some("from-us"));
    assert!(hub.pending() > 0);
    hub.heal(&nubis_core::Region::from_static("eu-west-1"));
    for c in [&use1, &euw1, &aps2] {
        assert_eq!(get(c, "Orders", "o1").await.as_deref(), Some("from-us"));
    }
    assert_eq!(hub.pending(), 0);

    // Errors in DynamoDB's words.
    let e = use1
        .update_table()
        .table_name("Orders")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .create(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name("eu-west-1")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    assert!(e.message().unwrap().contains("already existed as tables"));

    // Removing a replica deletes its table.
    aps2.update_table()
        .table_name("Orders")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name("us-east-1")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let e = use1
        .describe_table()
        .table_name("Orders")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_resource_not_found_exception());
    let d = aps2
        .describe_table()
        .table_name("Orders")
        .send()
        .await
        .unwrap();
    assert_eq!(d.table().unwrap().replicas().len(), 1);

    let scaling = aps2
        .describe_table_replica_auto_scaling()
        .table_name("Orders")
        .send()
        .await
        .unwrap();
    assert_eq!(
        scaling
            .table_auto_scaling_description()
            .unwrap()
            .replicas()
            .len(),
        2
    );
}

#[tokio::test]
async fn version_2017_through_the_sdk() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let a = client(&server, "us-west-2");
    let b = client(&server, "eu-central-1");
    create(&a, "Legacy", true).await;
    create(&b, "Legacy", true).await;
    let out = a
        .create_global_table()
        .global_table_name("Legacy")
        .replication_group(Replica::builder().region_name("us-west-2").build())
        .replication_group(Replica::builder().region_name("eu-central-1").build())
        .send()
        .await
        .unwrap();
    let d = out.global_table_description().unwrap();
    assert_eq!(d.replication_group().len(), 2);
    assert_eq!(
        d.global_table_arn(),
        Some("arn:aws:dynamodb::000000000000:global-table/Legacy")
    );
    put(&b, "Legacy", "k", "v").await;
    assert_eq!(get(&a, "Legacy", "k").await.as_deref(), Some("v"));
    let again = a
        .create_global_table()
        .global_table_name("Legacy")
        .replication_group(Replica::builder().region_name("us-west-2").build())
        .send()
        .await
        .unwrap_err();
    assert!(
        again
            .into_service_error()
            .is_global_table_already_exists_exception()
    );
    let list = b.list_global_tables().send().await.unwrap();
    assert_eq!(list.global_tables().len(), 1);
    let missing = a
        .describe_global_table()
        .global_table_name("Nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .into_service_error()
            .is_global_table_not_found_exception()
    );
    let e = a
        .update_global_table()
        .global_table_name("Legacy")
        .replica_updates(
            ReplicaUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteReplicaAction::builder()
                        .region_name("ap-south-1")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_replica_not_found_exception());
    let s = a
        .describe_global_table_settings()
        .global_table_name("Legacy")
        .send()
        .await
        .unwrap();
    assert_eq!(s.replica_settings().len(), 2);
}
