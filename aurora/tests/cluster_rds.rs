//! The RDS awsQuery control plane, through `Service::call` as `nubis serve` calls it.
#![cfg(feature = "http")]

use std::sync::Arc;

use nubis_aurora::cluster::{Driver, Endpoint};
use nubis_aurora::rds::{Rds, RdsService};
use nubis_core::{Env, ManualClock, Region};
use nubis_wire::{RequestContext, Service};

struct Api {
    clock: ManualClock,
    rds: Arc<Rds>,
    svc: RdsService,
}

fn api() -> Api {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let rds = Arc::new(Rds::new(env, Driver::Manual(clock.clone())));
    let svc = RdsService::new(rds.clone());
    Api { clock, rds, svc }
}

impl Api {
    fn call_in(&self, region: &'static str, form: &str) -> (u16, String) {
        let req =
            nubis_wire::Request::new(bytes::Bytes::from(format!("{form}&Version=2014-10-31")));
        let ctx = RequestContext::new(Region::from_static(region), "req-1");
        let resp = futures::executor::block_on(self.svc.call(ctx, req));
        let status = resp.status().as_u16();
        let body = resp.body().as_bytes().cloned().unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn call(&self, form: &str) -> (u16, String) {
        self.call_in("us-east-1", form)
    }
}

#[test]
fn clusters_and_instances_are_created_described_failed_over_and_deleted() {
    let a = api();
    let (s, b) = a.call("Action=CreateDBCluster&DBClusterIdentifier=orders&Engine=aurora-postgresql&MasterUsername=admin&DatabaseName=shop");
    assert_eq!(s, 200, "{b}");
    assert!(b.starts_with("<?xml"));
    assert!(b.contains("<CreateDBClusterResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><CreateDBClusterResult><DBCluster><DBClusterIdentifier>orders</DBClusterIdentifier>"), "{b}");
    assert!(
        b.contains("<Endpoint>orders.cluster-")
            && b.contains("<ReaderEndpoint>orders.cluster-ro-")
            && b.contains("<Port>5432</Port>")
    );
    let (s, b) =
        a.call("Action=CreateDBCluster&DBClusterIdentifier=orders&Engine=aurora-postgresql");
    assert_eq!(s, 400);
    assert!(
        b.contains("<Code>DBClusterAlreadyExistsFault</Code>") && b.contains("<Type>Sender</Type>"),
        "{b}"
    );
    let (s, b) =
        a.call("Action=CreateDBCluster&DBClusterIdentifier=bad--id&Engine=aurora-postgresql");
    assert_eq!(s, 400);
    assert!(b.contains("<Code>InvalidParameterValue</Code>"), "{b}");
    for (id, tier) in [("orders-1", 1), ("orders-2", 0), ("orders-3", 2)] {
        let (s, b) = a.call(&format!("Action=CreateDBInstance&DBInstanceIdentifier={id}&DBClusterIdentifier=orders&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large&PromotionTier={tier}"));
        assert_eq!(s, 200, "{b}");
    }
    let (_, b) = a.call("Action=DescribeDBClusters&DBClusterIdentifier=orders");
    assert!(b.contains("<DBInstanceIdentifier>orders-1</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter>"), "{b}");
    // Data written through the engine survives the failover the API triggers.
    let cluster = a.rds.cluster("us-east-1", "orders").unwrap();
    let mut s1 = cluster.connect(Endpoint::Cluster).unwrap();
    s1.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    s1.execute("INSERT INTO t VALUES (1)").unwrap();
    let (s, b) = a.call("Action=FailoverDBCluster&DBClusterIdentifier=orders");
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("<DBInstanceIdentifier>orders-2</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter>"), "{b}");
    let mut s2 = cluster.connect(Endpoint::Cluster).unwrap();
    assert_eq!(
        s2.execute("SELECT count(*) FROM t").unwrap()[0].rows[0][0],
        nubis_aurora::Value::Int8(1)
    );
    let (s, b) = a.call(
        "Action=FailoverDBCluster&DBClusterIdentifier=orders&TargetDBInstanceIdentifier=nope",
    );
    assert_eq!(s, 400, "{b}");
    let (s, b) = a.call("Action=DescribeDBInstances");
    assert_eq!(s, 200);
    assert_eq!(b.matches("<DBInstance>").count(), 3);
    let (s, b) = a.call("Action=DeleteDBCluster&DBClusterIdentifier=orders");
    assert_eq!(s, 400);
    assert!(b.contains("<Code>InvalidDBClusterStateFault</Code>"), "{b}");
    for id in ["orders-1", "orders-2", "orders-3"] {
        assert_eq!(
            a.call(&format!(
                "Action=DeleteDBInstance&DBInstanceIdentifier={id}"
            ))
            .0,
            200
        );
    }
    assert_eq!(
        a.call("Action=DeleteDBCluster&DBClusterIdentifier=orders")
            .0,
        200
    );
    let (s, b) = a.call("Action=DescribeDBClusters&DBClusterIdentifier=orders");
    assert_eq!(s, 404);
    assert!(
        b.contains("<Code>DBClusterNotFoundFault</Code>")
            && b.contains("DBCluster orders not found."),
        "{b}"
    );
    let (s, b) = a.call("Action=Frobnicate");
    assert_eq!(s, 400);
    assert!(b.contains("<Code>InvalidAction</Code>"), "{b}");
    let (s, b) = a.call("DBClusterIdentifier=x");
    assert_eq!(s, 400);
    assert!(b.contains("<Code>MissingParameter</Code>"), "{b}");
}

#[test]
fn serverless_v2_scaling_and_manual_capacity() {
    let a = api();
    let (s, b) = a.call("Action=CreateDBCluster&DBClusterIdentifier=sls&Engine=aurora-postgresql&ServerlessV2ScalingConfiguration.MinCapacity=0.5&ServerlessV2ScalingConfiguration.MaxCapacity=8");
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("<ServerlessV2ScalingConfiguration><MinCapacity>0.5</MinCapacity><MaxCapacity>8.0</MaxCapacity>"), "{b}");
    assert_eq!(a.call("Action=CreateDBInstance&DBInstanceIdentifier=sls-1&DBClusterIdentifier=sls&Engine=aurora-postgresql&DBInstanceClass=db.serverless").0, 200);
    let (s, b) = a.call("Action=ModifyDBCluster&DBClusterIdentifier=sls&ServerlessV2ScalingConfiguration.MinCapacity=0.25&ServerlessV2ScalingConfiguration.MaxCapacity=8");
    assert_eq!(s, 400, "{b}");
    let (s, b) = a.call("Action=ModifyCurrentDBClusterCapacity&DBClusterIdentifier=sls&Capacity=4");
    assert_eq!(s, 200, "{b}");
    assert!(
        b.contains("<PendingCapacity>4</PendingCapacity><CurrentCapacity>1</CurrentCapacity>"),
        "{b}"
    );
    let (s, b) =
        a.call("Action=ModifyCurrentDBClusterCapacity&DBClusterIdentifier=sls&Capacity=3.3");
    assert_eq!(s, 400, "{b}");
    let _ = &a.clock;
}

#[test]
fn global_clusters_switch_over_and_fail_over() {
    let a = api();
    a.call("Action=CreateDBCluster&DBClusterIdentifier=east&Engine=aurora-postgresql");
    a.call("Action=CreateDBInstance&DBInstanceIdentifier=east-1&DBClusterIdentifier=east&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large");
    let (s, b) = a.call("Action=CreateGlobalCluster&GlobalClusterIdentifier=g1&SourceDBClusterIdentifier=arn:aws:rds:us-east-1:000000000000:cluster:east");
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("<GlobalClusterIdentifier>g1</GlobalClusterIdentifier>"));
    let (s, b) = a.call_in("us-west-2", "Action=CreateDBCluster&DBClusterIdentifier=west&Engine=aurora-postgresql&GlobalClusterIdentifier=g1");
    assert_eq!(s, 200, "{b}");
    let (s, b) = a.call_in("us-west-2", "Action=CreateDBInstance&DBInstanceIdentifier=west-1&DBClusterIdentifier=west&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large");
    assert_eq!(s, 200, "{b}");
    let (_, b) = a.call("Action=DescribeGlobalClusters&GlobalClusterIdentifier=g1");
    assert!(b.contains("<DBClusterArn>arn:aws:rds:us-east-1:000000000000:cluster:east</DBClusterArn><IsWriter>true</IsWriter>"), "{b}");
    assert!(b.contains("<DBClusterArn>arn:aws:rds:us-west-2:000000000000:cluster:west</DBClusterArn><IsWriter>false</IsWriter>"), "{b}");
    let primary = a.rds.cluster("us-east-1", "east").unwrap();
    let mut w = primary.connect(Endpoint::Cluster).unwrap();
    w.execute("CREATE TABLE t (id int)").unwrap();
    w.execute("INSERT INTO t VALUES (1)").unwrap();
    // A secondary cluster refuses deletion while it is a member; the primary's writer moves on
    // a switchover.
    assert_eq!(
        a.call_in(
            "us-west-2",
            "Action=DeleteDBCluster&DBClusterIdentifier=west"
        )
        .0,
        400
    );
    let (s, b) = a.call("Action=SwitchoverGlobalCluster&GlobalClusterIdentifier=g1&TargetDbClusterIdentifier=arn:aws:rds:us-west-2:000000000000:cluster:west");
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("<DBClusterArn>arn:aws:rds:us-west-2:000000000000:cluster:west</DBClusterArn><IsWriter>true</IsWriter>"), "{b}");
    let west = a.rds.cluster("us-west-2", "west").unwrap();
    let mut w = west.connect(Endpoint::Cluster).unwrap();
    assert_eq!(
        w.execute("SELECT count(*) FROM t").unwrap()[0].rows[0][0],
        nubis_aurora::Value::Int8(1)
    );
    let (s, b) = a.call("Action=FailoverGlobalCluster&GlobalClusterIdentifier=g1&TargetDbClusterIdentifier=arn:aws:rds:us-east-1:000000000000:cluster:east&AllowDataLoss=true");
    assert_eq!(s, 200, "{b}");
    let (s, b) = a.call("Action=RemoveFromGlobalCluster&GlobalClusterIdentifier=g1&DbClusterIdentifier=arn:aws:rds:us-west-2:000000000000:cluster:west");
    assert_eq!(s, 200, "{b}");
    let (s, b) = a.call("Action=DescribeGlobalClusters&GlobalClusterIdentifier=nope");
    assert_eq!(s, 404);
    assert!(b.contains("GlobalClusterNotFoundFault"), "{b}");
}
