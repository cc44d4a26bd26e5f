//! The endpoint itself: health, the admin clock, reset, and AWS-shaped errors for requests no
//! service answers.

use std::time::Duration;

use aws_sdk_sqs::error::ProvideErrorMetadata as _;
use nubis::Cloud;
use nubis::testing::TestServer;
use serde_json::Value;

#[tokio::test]
async fn health_names_every_service() {
    let server = TestServer::start().await;
    let health: Value = reqwest::get(format!("{}/_nubis/health", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "running");
    for name in server.cloud().service_names() {
        assert_eq!(health["services"][name]["state"], "running", "{health}");
    }
    assert_eq!(health["clock"]["mode"], "system");
}

#[tokio::test]
async fn manual_clock_moves_over_http() {
    let server = TestServer::start_with(Cloud::builder().manual_clock()).await;
    let http = reqwest::Client::new();
    let clock: Value = http
        .get(format!("{}/_nubis/clock", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2026-01-01T00:00:00.000Z");
    let moved: Value = http
        .post(format!("{}/_nubis/clock", server.url()))
        .body(r#"{"advance_seconds": 90}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["now"], "2026-01-01T00:01:30.000Z");
    let set: Value = http
        .post(format!("{}/_nubis/clock", server.url()))
        .body(r#"{"set": "2027-03-04T05:06:07Z"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["now"], "2027-03-04T05:06:07.000Z");
    let bad = http
        .post(format!("{}/_nubis/clock", server.url()))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["x-amzn-errortype"], "ValidationException");
    server.manual_clock().advance(Duration::from_secs(1));
    let reset = http
        .post(format!("{}/_nubis/reset", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
}

#[tokio::test]
async fn system_clock_refuses_to_move() {
    let server = TestServer::start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/_nubis/clock", server.url()))
        .body(r#"{"advance_seconds": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
}

#[tokio::test]
async fn unknown_service_gets_an_aws_shaped_error_through_the_sdk() {
    let server = TestServer::start().await;
    let sqs = aws_sdk_sqs::Client::new(&server.sdk_config());
    let err = sqs
        .list_queues()
        .send()
        .await
        .expect_err("Nubis does not serve SQS");
    assert_eq!(err.code(), Some("UnknownServiceException"), "{err:?}");
    assert!(err.message().unwrap_or_default().contains("sqs"), "{err:?}");
}

#[tokio::test]
async fn garbage_gets_a_typed_error_not_a_dropped_connection() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .post(server.url())
        .header("x-amz-target", "NoSuchService_20200101.Frobnicate")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "UnknownServiceException"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["__type"], "UnknownServiceException");

    let resp = http
        .post(server.url())
        .header("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261124/mars-north-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let resp = http
        .get(format!("{}/_nubis/nothing", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn signature_verification_when_turned_on() {
    use nubis::testing::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
    let keys = [(ACCESS_KEY_ID.to_owned(), SECRET_ACCESS_KEY.to_owned())]
        .into_iter()
        .collect();
    let options = nubis::ServerOptions {
        verify_signatures: Some(keys),
    };
    let server = TestServer::start_cloud_with(Cloud::builder().build().unwrap(), options).await;

    // A correct signature passes verification and reaches the router.
    let sqs = aws_sdk_sqs::Client::new(&server.sdk_config());
    let err = sqs
        .list_queues()
        .send()
        .await
        .expect_err("SQS is not served");
    assert_eq!(err.code(), Some("UnknownServiceException"), "{err:?}");

    // A wrong secret is refused with the protocol's signature error.
    let wrong = nubis::testing::sdk_config_for(&server.url(), "us-east-1").await;
    let wrong = aws_sdk_sqs::config::Builder::from(&wrong)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            ACCESS_KEY_ID,
            "not-the-secret",
            None,
            None,
            "t",
        ))
        .build();
    let err = aws_sdk_sqs::Client::from_conf(wrong)
        .list_queues()
        .send()
        .await
        .expect_err("bad signature");
    assert_eq!(err.code(), Some("InvalidSignatureException"), "{err:?}");

    // An unknown access key is refused as an unrecognised client.
    let stranger = aws_sdk_sqs::config::Builder::from(&server.sdk_config())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "AKIDSTRANGER",
            "x",
            None,
            None,
            "t",
        ))
        .build();
    let err = aws_sdk_sqs::Client::from_conf(stranger)
        .list_queues()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Some("UnrecognizedClientException"), "{err:?}");
}

#[cfg(feature = "dynamo")]
#[tokio::test]
async fn unknown_operation_gets_an_aws_shaped_error_through_the_sdk() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
    let server = TestServer::start().await;
    let ddb = aws_sdk_dynamodb::Client::new(&server.sdk_config());
    // Kinesis streaming destinations are an operation the DynamoDB engine does not serve.
    let err = ddb
        .describe_kinesis_streaming_destination()
        .table_name("Music")
        .send()
        .await
        .expect_err("not served");
    assert_eq!(err.code(), Some("UnknownOperationException"), "{err:?}");
}

/// Presigned URLs made by aws-sdk-s3: verified like header-signed requests, and expiring on the
/// endpoint's (manual) clock.
#[cfg(feature = "s3")]
#[tokio::test]
async fn presigned_urls_are_verified_and_expire_on_the_clock() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use nubis::core::Clock as _;
    use nubis::testing::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
    let keys = [(ACCESS_KEY_ID.to_owned(), SECRET_ACCESS_KEY.to_owned())]
        .into_iter()
        .collect();
    let options = nubis::ServerOptions {
        verify_signatures: Some(keys),
    };
    let cloud = Cloud::builder().manual_clock().build().unwrap();
    let server = TestServer::start_cloud_with(cloud, options).await;
    let clock = server.manual_clock().clone();
    let s3_config = |secret: &str| {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&server.sdk_config())
                .force_path_style(true)
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    ACCESS_KEY_ID,
                    secret,
                    None,
                    None,
                    "t",
                ))
                .build(),
        )
    };
    let s3 = s3_config(SECRET_ACCESS_KEY);
    s3.create_bucket().bucket("shared").send().await.unwrap();
    // Signed at the endpoint's time, valid for an hour.
    let hour = || {
        PresigningConfig::builder()
            .start_time(clock.now())
            .expires_in(Duration::from_secs(3600))
            .build()
            .unwrap()
    };
    let put = s3
        .put_object()
        .bucket("shared")
        .key("notes/a b.txt")
        .presigned(hour())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .put(put.uri())
        .body("uploaded through a presigned URL")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let get = s3
        .get_object()
        .bucket("shared")
        .key("notes/a b.txt")
        .response_content_type("text/plain")
        .presigned(hour())
        .await
        .unwrap();
    let resp = http.get(get.uri()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        "uploaded through a presigned URL"
    );

    // Tampering with a parameter or signing with another secret breaks the signature.
    let tampered = get.uri().replace("text%2Fplain", "text%2Fhtml");
    let resp = http.get(tampered).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("SignatureDoesNotMatch"));
    let forged = s3_config("not-the-secret")
        .get_object()
        .bucket("shared")
        .key("notes/a b.txt")
        .presigned(hour())
        .await
        .unwrap();
    let resp = http.get(forged.uri()).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("SignatureDoesNotMatch"));

    // An hour and a second later on the endpoint's clock, the URL has expired.
    clock.advance(Duration::from_secs(3601));
    let resp = http.get(get.uri()).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.text().await.unwrap();
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("Request has expired"), "{body}");

    // More than a week of validity is refused outright.
    let week = get
        .uri()
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=604801");
    let resp = http.get(week).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("AuthorizationQueryParametersError")
    );
}
