//! SDK tests for the RDS control plane (`aws-sdk-rds`): Aurora clusters on the replicated
//! volume, failover, Serverless v2 and Global Database.

use aws_sdk_rds::Client;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::types::ServerlessV2ScalingConfiguration;
use nubis::testing::TestServer;

fn client(server: &TestServer, region: &'static str) -> Client {
    let config = aws_sdk_rds::config::Builder::from(&server.sdk_config())
        .region(aws_sdk_rds::config::Region::new(region))
        .build();
    Client::from_conf(config)
}

#[tokio::test]
async fn clusters_instances_failover_and_delete() {
    let server = TestServer::start().await;
    let c = client(&server, "us-east-1");
    let out = c
        .create_db_cluster()
        .db_cluster_identifier("shop")
        .engine("aurora-postgresql")
        .master_username("admin")
        .send()
        .await
        .unwrap();
    let cluster = out.db_cluster().unwrap();
    assert_eq!(cluster.db_cluster_identifier(), Some("shop"));
    // The endpoints are the cluster's PostgreSQL listeners on loopback (see `pgwire::`).
    assert_eq!(cluster.endpoint(), Some("127.0.0.1"));
    assert!(cluster.port().is_some_and(|p| p > 0 && p != 5432));
    let e = c
        .create_db_cluster()
        .db_cluster_identifier("shop")
        .engine("aurora-postgresql")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DBClusterAlreadyExistsFault"));
    for (id, tier) in [("shop-1", 1), ("shop-2", 0)] {
        c.create_db_instance()
            .db_instance_identifier(id)
            .db_cluster_identifier("shop")
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.large")
            .promotion_tier(tier)
            .send()
            .await
            .unwrap();
    }
    let d = c
        .describe_db_clusters()
        .db_cluster_identifier("shop")
        .send()
        .await
        .unwrap();
    let members = d.db_clusters()[0].db_cluster_members();
    assert!(members.iter().any(
        |m| m.db_instance_identifier() == Some("shop-1") && m.is_cluster_writer() == Some(true)
    ));
    let f = c
        .failover_db_cluster()
        .db_cluster_identifier("shop")
        .send()
        .await
        .unwrap();
    let members = f.db_cluster().unwrap().db_cluster_members();
    assert!(members.iter().any(
        |m| m.db_instance_identifier() == Some("shop-2") && m.is_cluster_writer() == Some(true)
    ));
    let i = c.describe_db_instances().send().await.unwrap();
    assert_eq!(i.db_instances().len(), 2);
    let e = c
        .delete_db_cluster()
        .db_cluster_identifier("shop")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidDBClusterStateFault"));
    for id in ["shop-1", "shop-2"] {
        c.delete_db_instance()
            .db_instance_identifier(id)
            .send()
            .await
            .unwrap();
    }
    c.delete_db_cluster()
        .db_cluster_identifier("shop")
        .send()
        .await
        .unwrap();
    let e = c
        .describe_db_clusters()
        .db_cluster_identifier("shop")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DBClusterNotFoundFault"));
}

#[tokio::test]
async fn serverless_v2_configuration_and_capacity() {
    let server = TestServer::start().await;
    let c = client(&server, "us-east-1");
    let scaling = ServerlessV2ScalingConfiguration::builder()
        .min_capacity(0.5)
        .max_capacity(8.0)
        .build();
    let out = c
        .create_db_cluster()
        .db_cluster_identifier("sls")
        .engine("aurora-postgresql")
        .serverless_v2_scaling_configuration(scaling)
        .send()
        .await
        .unwrap();
    let cfg = out
        .db_cluster()
        .unwrap()
        .serverless_v2_scaling_configuration()
        .unwrap();
    assert_eq!(
        (cfg.min_capacity(), cfg.max_capacity()),
        (Some(0.5), Some(8.0))
    );
    let bad = ServerlessV2ScalingConfiguration::builder()
        .min_capacity(0.3)
        .max_capacity(8.0)
        .build();
    let e = c
        .modify_db_cluster()
        .db_cluster_identifier("sls")
        .serverless_v2_scaling_configuration(bad)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"));
    let m = c
        .modify_current_db_cluster_capacity()
        .db_cluster_identifier("sls")
        .capacity(4)
        .send()
        .await
        .unwrap();
    assert_eq!(m.pending_capacity(), Some(4));
}

#[tokio::test]
async fn global_cluster_switchover() {
    let server = TestServer::start().await;
    let east = client(&server, "us-east-1");
    let west = client(&server, "us-west-2");
    east.create_db_cluster()
        .db_cluster_identifier("east")
        .engine("aurora-postgresql")
        .send()
        .await
        .unwrap();
    east.create_db_instance()
        .db_instance_identifier("east-1")
        .db_cluster_identifier("east")
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:rds:us-east-1:000000000000:cluster:east";
    east.create_global_cluster()
        .global_cluster_identifier("g")
        .source_db_cluster_identifier(arn)
        .send()
        .await
        .unwrap();
    west.create_db_cluster()
        .db_cluster_identifier("west")
        .engine("aurora-postgresql")
        .global_cluster_identifier("g")
        .send()
        .await
        .unwrap();
    let g = east
        .describe_global_clusters()
        .global_cluster_identifier("g")
        .send()
        .await
        .unwrap();
    assert_eq!(g.global_clusters()[0].global_cluster_members().len(), 2);
    let west_arn = "arn:aws:rds:us-west-2:000000000000:cluster:west";
    let s = east
        .switchover_global_cluster()
        .global_cluster_identifier("g")
        .target_db_cluster_identifier(west_arn)
        .send()
        .await
        .unwrap();
    let members = s.global_cluster().unwrap().global_cluster_members();
    assert!(
        members
            .iter()
            .any(|m| m.db_cluster_arn() == Some(west_arn) && m.is_writer() == Some(true))
    );
    let e = east
        .describe_global_clusters()
        .global_cluster_identifier("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("GlobalClusterNotFoundFault"));
}
