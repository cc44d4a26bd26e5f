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
