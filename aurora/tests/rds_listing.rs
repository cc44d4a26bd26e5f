//! DescribeDBClusters / DescribeDBInstances with `Filters`, `MaxRecords` and `Marker`.
#![cfg(feature = "http")]

use std::collections::HashMap;
use std::sync::Arc;

use nubis_aurora::cluster::Driver;
use nubis_aurora::rds::{Rds, RdsError, RdsService};
use nubis_core::{Env, ManualClock};

fn call(svc: &RdsService, form: &str) -> Result<String, RdsError> {
    let params: HashMap<String, String> = nubis_wire::parse_form(form.as_bytes())
        .into_iter()
        .collect();
    svc.handle("us-east-1", &params, "req")
}

fn ids(body: &str, tag: &str) -> Vec<String> {
    body.split(&format!("<{tag}>"))
        .skip(1)
        .filter_map(|s| s.split('<').next().map(str::to_string))
        .collect()
}

#[test]
fn filters_max_records_and_markers() {
    let clock = ManualClock::at_default_epoch();
    let rds = Arc::new(Rds::new(
        Env::with_clock(clock.shared()),
        Driver::Manual(clock),
    ));
    let svc = RdsService::new(rds);
    for i in 0..25 {
        call(
            &svc,
            &format!("Action=CreateDBCluster&DBClusterIdentifier=c{i:02}&Engine=aurora-postgresql"),
        )
        .unwrap();
    }
    for i in 0..3 {
        call(&svc, &format!("Action=CreateDBInstance&DBInstanceIdentifier=i{i}&DBClusterIdentifier=c0{i}&Engine=aurora-postgresql&DBInstanceClass=db.r6g.large")).unwrap();
    }
    let page1 = call(&svc, "Action=DescribeDBClusters&MaxRecords=20").unwrap();
    let got = ids(&page1, "DBClusterIdentifier");
    assert_eq!(got.len(), 20);
    assert_eq!(got[19], "c19");
    assert!(page1.contains("<Marker>c19</Marker>"));
    let page2 = call(&svc, "Action=DescribeDBClusters&MaxRecords=20&Marker=c19").unwrap();
    assert_eq!(ids(&page2, "DBClusterIdentifier").len(), 5);
    assert!(!page2.contains("<Marker>"));

    let e = call(&svc, "Action=DescribeDBClusters&MaxRecords=101").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid value 101 for MaxRecords. Must be between 20 and 100"
    );
    let e = call(
        &svc,
        "Action=DescribeDBClusters&Filters.Filter.1.Name=colour&Filters.Filter.1.Values.Value.1=x",
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "Unrecognized filter name: colour");

    let f = call(&svc, "Action=DescribeDBClusters&Filters.Filter.1.Name=db-cluster-id&Filters.Filter.1.Values.Value.1=c03&Filters.Filter.1.Values.Value.2=arn:aws:rds:us-east-1:000000000000:cluster:c07").unwrap();
    let got = ids(&f, "DBClusterIdentifier");
    assert!(got.contains(&"c03".to_string()));
    let f = call(&svc, "Action=DescribeDBInstances&Filters.Filter.1.Name=db-cluster-id&Filters.Filter.1.Values.Value.1=c01").unwrap();
    assert_eq!(ids(&f, "DBInstanceIdentifier"), vec!["i1"]);
    let f = call(&svc, "Action=DescribeDBInstances&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql").unwrap();
    assert!(ids(&f, "DBInstanceIdentifier").is_empty());
}

#[tokio::test]
async fn a_base_port_places_postgresql_endpoints_at_or_above_it() {
    let clock = ManualClock::at_default_epoch();
    let rds = Arc::new(Rds::new(
        Env::with_clock(clock.shared()),
        Driver::Manual(clock),
    ));
    // A port that was free a moment ago; the endpoints take the first free one from there.
    let base = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    rds.set_pg_base_port(base);
    assert_eq!(rds.pg_base_port(), base);
    let svc = RdsService::new(rds);
    call(
        &svc,
        "Action=CreateDBCluster&DBClusterIdentifier=fixed&Engine=aurora-postgresql&MasterUsername=postgres&MasterUserPassword=secret99",
    )
    .unwrap();
    let body = call(&svc, "Action=DescribeDBClusters&DBClusterIdentifier=fixed").unwrap();
    let port: u16 = ids(&body, "Port")[0].parse().unwrap();
    assert!(port >= base, "port {port} below the base {base}");
    let listeners = nubis_wire::Service::listeners(&svc);
    assert!(
        listeners
            .iter()
            .any(|l| l.address == format!("127.0.0.1:{port}")),
        "{listeners:?}"
    );
}
