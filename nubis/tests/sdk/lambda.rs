//! aws-sdk-lambda against `nubis serve`: a process function from a zip built here, invoked
//! synchronously and asynchronously, throttled, and timed out on the manual clock.

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, Runtime};
use nubis::testing::TestServer;

fn bootstrap_zip() -> Vec<u8> {
    let script = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../lambda/test_data/bootstrap.py"
    ))
    .unwrap();
    nubis_lambda::package::build_zip(&[("bootstrap", &script, 0o755)]).unwrap()
}

async fn create(client: &Client, name: &str, timeout: i32) {
    let out = client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .timeout(timeout)
        .environment(
            Environment::builder()
                .variables("GREETING", "hello")
                .build(),
        )
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(bootstrap_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_name(), Some(name));
    assert_eq!(out.state().map(|s| s.as_str()), Some("Pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_invoke_sync_and_async() {
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    create(&client, "sdk-fn", 5).await;
    let got = client
        .get_function()
        .function_name("sdk-fn")
        .send()
        .await
        .unwrap();
    let cfg = got.configuration().unwrap();
    assert_eq!(cfg.state().map(|s| s.as_str()), Some("Active"));
    assert_eq!(cfg.code_sha256().map(str::len), Some(44));

    let out = client
        .invoke()
        .function_name("sdk-fn")
        .payload(Blob::new(r#"{"hello":"sdk"}"#))
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert!(out.function_error().is_none());
    let body: serde_json::Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["event"]["hello"], "sdk");
    assert_eq!(body["env"]["GREETING"], "hello");
    assert!(out.log_result().is_some());

    let out = client
        .invoke()
        .function_name("sdk-fn")
        .payload(Blob::new(r#"{"action":"error"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_error(), Some("Unhandled"));

    let out = client
        .invoke()
        .function_name("sdk-fn")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
    server.cloud().lambda().settle().await;

    let v = client
        .publish_version()
        .function_name("sdk-fn")
        .send()
        .await
        .unwrap();
    assert_eq!(v.version(), Some("1"));
    client
        .create_alias()
        .function_name("sdk-fn")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    let out = client
        .invoke()
        .function_name("sdk-fn")
        .qualifier("live")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.executed_version(), Some("1"));

    let err = client
        .get_function()
        .function_name("missing")
        .send()
        .await
        .unwrap_err();
    let svc = err.into_service_error();
    assert!(svc.is_resource_not_found_exception(), "{svc:?}");
    let list = client.list_functions().send().await.unwrap();
    assert_eq!(list.functions().len(), 1);
    client
        .delete_function()
        .function_name("sdk-fn")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_and_bad_input() {
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    create(&client, "throttled", 3).await;
    client
        .put_function_concurrency()
        .function_name("throttled")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let err = client
        .invoke()
        .function_name("throttled")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap_err();
    let svc = err.into_service_error();
    match &svc {
        aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(e) => {
            assert_eq!(
                e.reason().map(|r| r.as_str()),
                Some("ReservedFunctionConcurrentInvocationLimitExceeded")
            );
        }
        other => panic!("expected a throttle, got {other:?}"),
    }
    let err = client
        .create_function()
        .function_name("bad")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .memory_size(64)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(bootstrap_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let meta = aws_sdk_lambda::error::ProvideErrorMetadata::code(&err.into_service_error())
        .map(str::to_owned);
    assert_eq!(meta.as_deref(), Some("ValidationException"));
    let err = client
        .invoke()
        .function_name("throttled")
        .payload(Blob::new("{not json"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error()
            .is_invalid_request_content_exception()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_on_the_manual_clock() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let client = Client::new(&server.sdk_config());
    create(&client, "hangs", 2).await;
    let c2 = client.clone();
    let mut call = tokio::spawn(async move {
        c2.invoke()
            .function_name("hangs")
            .payload(Blob::new(r#"{"action":"hang"}"#))
            .send()
            .await
    });
    let out = loop {
        tokio::select! {
            r = &mut call => break r.unwrap().unwrap(),
            _ = tokio::task::yield_now() => {}
        }
        server.manual_clock().advance(Duration::from_millis(500));
        std::thread::yield_now();
    };
    assert_eq!(out.function_error(), Some("Unhandled"));
    let body: serde_json::Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timedout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_published_attached_and_seen_by_the_function() {
    use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput};
    let server = TestServer::start().await;
    let client = Client::new(&server.sdk_config());
    let zip = |data: &str| {
        nubis_lambda::package::build_zip(&[("data.txt", data.as_bytes(), 0o644)]).unwrap()
    };
    let v1 = client
        .publish_layer_version()
        .layer_name("shared")
        .description("first")
        .compatible_runtimes(Runtime::Providedal2023)
        .compatible_architectures(Architecture::X8664)
        .license_info("MIT")
        .content(
            LayerVersionContentInput::builder()
                .zip_file(Blob::new(zip("one")))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(v1.version(), 1);
    let v1_arn = v1.layer_version_arn().unwrap().to_owned();
    assert_eq!(
        v1_arn,
        "arn:aws:lambda:us-east-1:000000000000:layer:shared:1"
    );

    // The second version's content comes from S3, through the facade's code store.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&server.sdk_config())
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("layers").send().await.unwrap();
    s3.put_object()
        .bucket("layers")
        .key("two.zip")
        .body(zip("two").into())
        .send()
        .await
        .unwrap();
    let v2 = client
        .publish_layer_version()
        .layer_name("shared")
        .content(
            LayerVersionContentInput::builder()
                .s3_bucket("layers")
                .s3_key("two.zip")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(v2.version(), 2);
    let v2_arn = v2.layer_version_arn().unwrap().to_owned();

    let got = client
        .get_layer_version()
        .layer_name("shared")
        .version_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("first"));
    assert_eq!(got.license_info(), Some("MIT"));
    let by_arn = client
        .get_layer_version_by_arn()
        .arn(&v2_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.version(), 2);
    let layers = client.list_layers().send().await.unwrap();
    assert_eq!(layers.layers().len(), 1);
    assert_eq!(
        layers.layers()[0]
            .latest_matching_version()
            .map(|v| v.version()),
        Some(2)
    );
    let versions = client
        .list_layer_versions()
        .layer_name("shared")
        .send()
        .await
        .unwrap();
    let numbers: Vec<i64> = versions
        .layer_versions()
        .iter()
        .map(|v| v.version())
        .collect();
    assert_eq!(numbers, [2, 1]);

    create(&client, "with-layer", 10).await;
    let updated = client
        .update_function_configuration()
        .function_name("with-layer")
        .layers(&v2_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.layers()[0].arn(), Some(v2_arn.as_str()));
    let out = client
        .invoke()
        .function_name("with-layer")
        .payload(Blob::new(r#"{"action":"layers"}"#))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(v["data"], "two");

    let err = client
        .update_function_configuration()
        .function_name("with-layer")
        .layers("arn:aws:lambda:us-east-1:000000000000:layer:shared:7")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    client
        .delete_layer_version()
        .layer_name("shared")
        .version_number(1)
        .send()
        .await
        .unwrap();
    let err = client
        .get_layer_version()
        .layer_name("shared")
        .version_number(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}
