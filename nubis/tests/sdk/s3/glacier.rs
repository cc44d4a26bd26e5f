//! Archived objects through the SDK: InvalidObjectState, RestoreObject tiers on a manual clock,
//! `x-amz-restore`, expiry, and Glacier Select writing its result under the OutputLocation.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ExpressionType, GlacierJobParameters, OutputLocation, RestoreRequest, RestoreRequestType,
    S3Location, SelectParameters, StorageClass, Tier,
};
use nubis::testing::TestServer;

use super::{CSV, csv_in, csv_out, setup};

#[tokio::test]
async fn glacier_restore_and_glacier_select_on_the_clock() {
    let (server, c) =
        setup(TestServer::start_with(nubis::Cloud::builder().manual_clock()).await).await;
    c.create_bucket().bucket("cold").send().await.unwrap();
    c.create_bucket().bucket("results").send().await.unwrap();
    c.put_object()
        .bucket("cold")
        .key("p.csv")
        .storage_class(StorageClass::Glacier)
        .body(ByteStream::from_static(CSV.as_bytes()))
        .send()
        .await
        .unwrap();
    let err = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidObjectState"));

    let restore = RestoreRequest::builder()
        .days(2)
        .glacier_job_parameters(
            GlacierJobParameters::builder()
                .tier(Tier::Standard)
                .build()
                .unwrap(),
        )
        .build();
    c.restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(restore.clone())
        .send()
        .await
        .unwrap();
    let head = c
        .head_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.restore(), Some("ongoing-request=\"true\""));
    let err = c
        .restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(restore.clone())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("RestoreAlreadyInProgress"));
    server.manual_clock().advance(Duration::from_secs(5 * 3600));
    let head = c
        .head_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert!(
        head.restore()
            .unwrap()
            .starts_with("ongoing-request=\"false\", expiry-date="),
        "{:?}",
        head.restore()
    );
    let got = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        CSV.as_bytes()
    );
    server
        .manual_clock()
        .advance(Duration::from_secs(3 * 86_400));
    let err = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidObjectState"));

    // Glacier Select: results appear under the prefix once the Expedited tier's time passes.
    let params = SelectParameters::builder()
        .input_serialization(csv_in())
        .expression_type(ExpressionType::Sql)
        .expression("SELECT s.name FROM S3Object s WHERE s.city = 'London'")
        .output_serialization(csv_out())
        .build()
        .unwrap();
    let req = RestoreRequest::builder()
        .r#type(RestoreRequestType::Select)
        .tier(Tier::Expedited)
        .select_parameters(params)
        .output_location(
            OutputLocation::builder()
                .s3(S3Location::builder()
                    .bucket_name("results")
                    .prefix("q1")
                    .build()
                    .unwrap())
                .build(),
        )
        .build();
    c.restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(req)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.list_objects_v2()
            .bucket("results")
            .send()
            .await
            .unwrap()
            .key_count(),
        Some(0)
    );
    server.manual_clock().advance(Duration::from_secs(5 * 60));
    let listed = c
        .list_objects_v2()
        .bucket("results")
        .prefix("q1/")
        .send()
        .await
        .unwrap();
    let key = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .find(|k| k.contains("/results/"))
        .unwrap()
        .to_owned();
    let got = c
        .get_object()
        .bucket("results")
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"Ada\n"
    );
}
