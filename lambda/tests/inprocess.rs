//! The engine through its Rust API with in-process handlers: control plane, invoke semantics,
//! concurrency, timeouts on a manual clock, asynchronous retries and destinations, logs, metering.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, UsageUnit};
use nubis_lambda::*;
use serde_json::{Value, json};

fn engine() -> (Lambda, LambdaRegion, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    lambda.register_handler("echo", |event: Value, ctx: Context| async move {
        ctx.log(format!("got {event}"));
        Ok::<_, HandlerError>(
            json!({ "event": event, "version": &*ctx.function_version, "request": ctx.request_id }),
        )
    });
    lambda.register_handler("fail", |_e: Value, _ctx| async move {
        Err::<Value, _>(HandlerError::new("MyError", "it broke"))
    });
    lambda.register_handler("sleepy", |_e: Value, ctx: Context| async move {
        let far = ctx.deadline + Duration::from_secs(3600);
        ctx.clock().sleep_until(far).await;
        Ok::<_, HandlerError>(Value::Null)
    });
    let region = lambda.region(&Region::US_EAST_1);
    (lambda, region, clock)
}

fn code(e: &LambdaError) -> String {
    nubis_core::ServiceError::code(e).to_owned()
}

#[tokio::test]
async fn create_get_update_delete() {
    let (_l, r, _c) = engine();
    let created = r
        .create_function(CreateFunction::in_process("f1", "echo"))
        .unwrap();
    assert_eq!(created.state, "Pending");
    assert_eq!(
        created.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:f1"
    );
    let got = r.get_function("f1", None).unwrap();
    assert_eq!(got.configuration.state, "Active");
    assert_eq!(got.configuration.memory_size, 128);
    assert_eq!(got.configuration.timeout, 3);
    let e = r
        .create_function(CreateFunction::in_process("f1", "echo"))
        .unwrap_err();
    assert_eq!(
        (code(&e), e.to_string()),
        (
            "ResourceConflictException".into(),
            "Function already exist: f1".into()
        )
    );
    let e = r.get_function("nope", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    );
    let up = r
        .update_function_configuration(
            "f1",
            UpdateFunctionConfiguration {
                memory_size: Some(512),
                timeout: Some(10),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(up.last_update_status.as_deref(), Some("InProgress"));
    let c = r.get_function_configuration("f1", None).unwrap();
    assert_eq!(
        (c.memory_size, c.timeout, c.last_update_status.as_deref()),
        (512, 10, Some("Successful"))
    );
    assert_ne!(c.revision_id, created.revision_id);
    r.delete_function("f1", None).unwrap();
    assert_eq!(
        code(&r.get_function("f1", None).unwrap_err()),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn validation_errors_are_aws_shaped() {
    let (_l, r, _c) = engine();
    let mut req = CreateFunction::in_process("bad name", "echo");
    let e = r.create_function(req.clone()).unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(
        e.to_string()
            .starts_with("1 validation error detected: Value 'bad name' at 'functionName'")
    );
    req.function_name = "ok".into();
    req.memory_size = Some(100);
    let e = r.create_function(req.clone()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 validation error detected: Value '100' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"
    );
    req.memory_size = Some(10241);
    assert_eq!(
        code(&r.create_function(req.clone()).unwrap_err()),
        "ValidationException"
    );
    req.memory_size = None;
    req.timeout = Some(901);
    assert_eq!(
        code(&r.create_function(req.clone()).unwrap_err()),
        "ValidationException"
    );
    req.timeout = None;
    req.runtime = Some("python2.7".into());
    assert_eq!(
        code(&r.create_function(req.clone()).unwrap_err()),
        "InvalidParameterValueException"
    );
    req.runtime = Some("cobol".into());
    assert_eq!(
        code(&r.create_function(req.clone()).unwrap_err()),
        "ValidationException"
    );
    req.runtime = Some("provided.al2023".into());
    req.role = "not-a-role".into();
    assert_eq!(
        code(&r.create_function(req.clone()).unwrap_err()),
        "ValidationException"
    );
    req.role = DEFAULT_ROLE.into();
    req.environment = Some(Environment {
        variables: [("BIG".to_string(), "x".repeat(5000))].into(),
    });
    let e = r.create_function(req.clone()).unwrap_err();
    assert!(e.to_string().contains("exceeded the 4KB limit"));
    req.environment = Some(Environment {
        variables: [("AWS_REGION".to_string(), "x".into())].into(),
    });
    assert!(
        r.create_function(req.clone())
            .unwrap_err()
            .to_string()
            .contains("reserved keys")
    );
    req.environment = None;
    let mut zipped =
        CreateFunction::zip("z", "provided.al2023", "bootstrap", b"not a zip".to_vec());
    let e = r.create_function(zipped.clone()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    );
    zipped.code = FunctionCode::default();
    assert_eq!(
        code(&r.create_function(zipped).unwrap_err()),
        "ValidationException"
    );
    assert!(
        r.list_functions(None, None).unwrap().items.is_empty(),
        "rejected requests leave nothing behind"
    );
}

#[tokio::test]
async fn invoke_sync_with_tail_logs_and_metering() {
    let (l, r, _c) = engine();
    r.create_function(CreateFunction::in_process("echo", "echo"))
        .unwrap();
    let out = r
        .invoke(InvokeRequest::json("echo", &json!({"a": 1})).tail())
        .await
        .unwrap();
    assert_eq!(out.status_code, 200);
    assert_eq!(out.function_error, None);
    assert_eq!(out.executed_version.as_deref(), Some("$LATEST"));
    let body = out.json().unwrap();
    assert_eq!(body["event"], json!({"a": 1}));
    let tail = out.log_tail().unwrap();
    assert!(
        tail.starts_with(&format!(
            "START RequestId: {} Version: $LATEST\n",
            out.request_id
        )),
        "{tail}"
    );
    assert!(tail.contains("got {\"a\":1}"));
    assert!(tail.contains(&format!("END RequestId: {}", out.request_id)));
    assert!(
        tail.contains("REPORT RequestId:") && tail.contains("Init Duration:"),
        "cold start reports init: {tail}"
    );
    let warm = r
        .invoke(InvokeRequest::json("echo", &json!({})).tail())
        .await
        .unwrap();
    assert!(
        !warm.log_tail().unwrap().contains("Init Duration"),
        "warm start has no init"
    );
    assert_eq!(r.idle_environments("echo"), 1);
    let lines = r.log_lines("echo");
    assert_eq!(lines.iter().filter(|l| l.starts_with("START")).count(), 2);
    assert_eq!(r.log_groups(), vec!["/aws/lambda/echo".to_string()]);
    let arn = r.function_arn("echo");
    assert_eq!(l.env().meter.total(UsageUnit::Requests, Some(&arn)), 2.0);
    assert!(l.env().meter.total(UsageUnit::GbSeconds, Some(&arn)) > 0.0);
    // Empty payload is `{}`; bad JSON and oversize payloads are refused.
    let out = r.invoke(InvokeRequest::new("echo", "")).await.unwrap();
    assert_eq!(out.json().unwrap()["event"], json!({}));
    let e = r
        .invoke(InvokeRequest::new("echo", "{nope"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestContentException");
    let big = format!("\"{}\"", "x".repeat(6 * 1024 * 1024));
    let e = r
        .invoke(InvokeRequest::new("echo", big.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), nubis_core::ServiceError::status(&e)),
        ("RequestTooLargeException".into(), 413)
    );
    let e = r
        .invoke(
            InvokeRequest::new("echo", format!("\"{}\"", "x".repeat(300_000)))
                .invocation_type(InvocationType::Event),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "RequestTooLargeException");
    let dry = r
        .invoke(InvokeRequest::new("echo", "{}").invocation_type(InvocationType::DryRun))
        .await
        .unwrap();
    assert_eq!(dry.status_code, 204);
}

#[tokio::test]
async fn function_errors_and_missing_handlers() {
    let (_l, r, _c) = engine();
    r.create_function(CreateFunction::in_process("f", "fail"))
        .unwrap();
    let out = r.invoke(InvokeRequest::new("f", "{}")).await.unwrap();
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        out.json().unwrap(),
        json!({"errorMessage": "it broke", "errorType": "MyError"})
    );
    r.create_function(CreateFunction::in_process("g", "not-registered"))
        .unwrap();
    let out = r.invoke(InvokeRequest::new("g", "{}")).await.unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Runtime.HandlerNotFound");
    let mut node = CreateFunction::zip(
        "n",
        "nodejs20.x",
        "index.handler",
        nubis_lambda::package::build_zip(&[("index.js", b"x", 0o644)]).unwrap(),
    );
    node.role = DEFAULT_ROLE.into();
    r.create_function(node).unwrap();
    let out = r.invoke(InvokeRequest::new("n", "{}")).await.unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Runtime.Unavailable");
}

#[tokio::test]
async fn timeouts_kill_the_environment_on_the_manual_clock() {
    let (_l, r, clock) = engine();
    let mut req = CreateFunction::in_process("slow", "sleepy");
    req.timeout = Some(5);
    r.create_function(req).unwrap();
    let r2 = r.clone();
    let call =
        tokio::spawn(async move { r2.invoke(InvokeRequest::new("slow", "{}").tail()).await });
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(r.running_invocations("slow"), 1);
    clock.advance(Duration::from_secs(5));
    let out = call.await.unwrap().unwrap();
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let body = out.json().unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert_eq!(
        body["errorMessage"],
        format!(
            "RequestId: {} Error: Task timed out after 5.00 seconds",
            out.request_id
        )
    );
    assert!(
        out.log_tail()
            .unwrap()
            .contains("Task timed out after 5.00 seconds")
    );
    assert_eq!(
        r.idle_environments("slow"),
        0,
        "a timed-out environment is not reused"
    );
}

#[tokio::test]
async fn concurrency_limits_throttle_with_reasons() {
    let (_l, r, clock) = engine();
    r.create_function(CreateFunction::in_process("slow", "sleepy"))
        .unwrap();
    r.put_function_concurrency("slow", 1).unwrap();
    let r2 = r.clone();
    let first = tokio::spawn(async move { r2.invoke(InvokeRequest::new("slow", "{}")).await });
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    let e = r
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        LambdaError::TooManyRequests {
            reason: ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded,
            retry_after_seconds: 1
        }
    );
    assert_eq!(nubis_core::ServiceError::status(&e), 429);
    assert_eq!(e.to_string(), "Rate Exceeded.");
    clock.advance(Duration::from_secs(3));
    first.await.unwrap().unwrap();
    r.put_function_concurrency("slow", 0).unwrap();
    let e = r
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap_err();
    assert!(matches!(e, LambdaError::TooManyRequests { .. }));
    let e = r.put_function_concurrency("slow", 901).unwrap_err();
    assert!(e.to_string().contains("below its minimum value of [100]"));
    r.delete_function_concurrency("slow").unwrap();
    assert_eq!(r.get_function_concurrency("slow").unwrap(), None);
    let s = r.get_account_settings();
    assert_eq!(s.account_limit["UnreservedConcurrentExecutions"], 1000);
}

#[tokio::test]
async fn account_limit_throttles_unreserved_functions() {
    let clock = ManualClock::at_default_epoch();
    let config = LambdaConfig {
        account_concurrency: 101,
        ..Default::default()
    };
    let lambda = Lambda::with_config(Env::with_clock(clock.shared()), config);
    lambda.register_handler("sleepy", |_e: Value, ctx: Context| async move {
        ctx.clock()
            .sleep_until(ctx.deadline - Duration::from_secs(1))
            .await;
        Ok::<_, HandlerError>(Value::Null)
    });
    let r = lambda.region(&Region::US_EAST_1);
    r.create_function(CreateFunction::in_process("a", "sleepy"))
        .unwrap();
    r.create_function(CreateFunction::in_process("b", "sleepy"))
        .unwrap();
    r.put_function_concurrency("b", 1).unwrap();
    let mut calls = Vec::new();
    for _ in 0..100 {
        let r2 = r.clone();
        calls.push(tokio::spawn(async move {
            r2.invoke(InvokeRequest::new("a", "{}")).await
        }));
    }
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    assert_eq!(r.running_invocations("a"), 100);
    let e = r.invoke(InvokeRequest::new("a", "{}")).await.unwrap_err();
    assert!(matches!(
        e,
        LambdaError::TooManyRequests {
            reason: ThrottleReason::ConcurrentInvocationLimitExceeded,
            ..
        }
    ));
    clock.advance(Duration::from_secs(3));
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(
        r.idle_environments("a"),
        100,
        "one environment per concurrent request"
    );
    clock.advance(Duration::from_secs(601));
    assert_eq!(
        lambda.reclaim_idle(),
        100,
        "idle environments are reclaimed on the clock"
    );
}

#[tokio::test]
async fn versions_aliases_and_weighted_routing() {
    let (_l, r, _c) = engine();
    r.create_function(CreateFunction::in_process("f", "echo"))
        .unwrap();
    let v1 = r.publish_version("f", None, Some("first"), None).unwrap();
    assert_eq!(v1.version, "1");
    assert_eq!(
        v1.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:f:1"
    );
    assert_eq!(
        r.publish_version("f", None, None, None).unwrap().version,
        "1",
        "nothing changed, nothing published"
    );
    let e = r
        .publish_version("f", Some("wrong"), None, None)
        .unwrap_err();
    assert!(e.to_string().starts_with("CodeSHA256 (wrong) is different"));
    r.update_function_configuration(
        "f",
        UpdateFunctionConfiguration {
            timeout: Some(7),
            ..Default::default()
        },
    )
    .unwrap();
    let v2 = r.publish_version("f", None, None, None).unwrap();
    assert_eq!((v2.version.as_str(), v2.timeout), ("2", 7));
    assert_eq!(
        r.get_function_configuration("f", Some("1"))
            .unwrap()
            .timeout,
        3,
        "versions are immutable"
    );
    assert_eq!(
        r.list_versions_by_function("f", None, None)
            .unwrap()
            .items
            .len(),
        3
    );
    let routing = AliasRoutingConfiguration {
        additional_version_weights: [("2".to_string(), 0.5)].into(),
    };
    let alias = r
        .create_alias("f", "live", "1", None, Some(routing))
        .unwrap();
    assert_eq!(
        alias.alias_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    );
    assert_eq!(
        r.create_alias("f", "live", "1", None, None)
            .unwrap_err()
            .to_string(),
        format!("Alias already exists: {}", alias.alias_arn)
    );
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..200 {
        let out = r.invoke(InvokeRequest::new("f:live", "{}")).await.unwrap();
        *seen.entry(out.executed_version.unwrap()).or_insert(0) += 1;
    }
    assert!(seen["1"] > 60 && seen["2"] > 60, "{seen:?}");
    let e = r
        .create_alias(
            "f",
            "bad",
            "$LATEST",
            None,
            Some(AliasRoutingConfiguration {
                additional_version_weights: [("1".to_string(), 0.1)].into(),
            }),
        )
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValueException");
    let e = r.delete_function("f", Some("1")).unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    let out = r
        .invoke(InvokeRequest::new("f", "{}").qualifier("1"))
        .await
        .unwrap();
    assert_eq!(out.executed_version.as_deref(), Some("1"));
    let e = r
        .invoke(InvokeRequest::new("f:1", "{}").qualifier("2"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValueException");
    let e = r.invoke(InvokeRequest::new("f:9", "{}")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9"
    );
    r.update_alias(
        "f",
        "live",
        Some("2"),
        None,
        Some(AliasRoutingConfiguration::default()),
        None,
    )
    .unwrap();
    r.delete_function("f", Some("1")).unwrap();
    assert_eq!(
        r.list_aliases("f", None, None, None).unwrap().items.len(),
        1
    );
}

#[tokio::test]
async fn tags_and_listing() {
    let (_l, r, _c) = engine();
    for i in 0..5 {
        r.create_function(CreateFunction::in_process(&format!("f{i}"), "echo"))
            .unwrap();
    }
    let p1 = r.list_functions(None, Some(2)).unwrap();
    assert_eq!(p1.items.len(), 2);
    let p2 = r
        .list_functions(p1.next_marker.as_deref(), Some(10))
        .unwrap();
    assert_eq!(p2.items.len(), 3);
    assert!(p2.next_marker.is_none());
    let arn = r.function_arn("f0");
    r.tag_resource(&arn, [("team".to_string(), "a".to_string())].into())
        .unwrap();
    assert_eq!(
        r.list_tags(&arn).unwrap().get("team").map(String::as_str),
        Some("a")
    );
    r.untag_resource(&arn, &["team".to_string()]).unwrap();
    assert!(r.list_tags(&arn).unwrap().is_empty());
}

#[tokio::test]
async fn state_transitions_follow_the_clock() {
    let clock = ManualClock::at_default_epoch();
    let config = LambdaConfig {
        state_transition: Duration::from_secs(2),
        ..Default::default()
    };
    let lambda = Lambda::with_config(Env::with_clock(clock.shared()), config);
    lambda.register_handler(
        "echo",
        |e: Value, _c| async move { Ok::<_, HandlerError>(e) },
    );
    let r = lambda.region(&Region::US_EAST_1);
    r.create_function(CreateFunction::in_process("f", "echo"))
        .unwrap();
    assert_eq!(
        r.get_function_configuration("f", None).unwrap().state,
        "Pending"
    );
    let e = r.invoke(InvokeRequest::new("f", "{}")).await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        r.get_function_configuration("f", None).unwrap().state,
        "Active"
    );
    r.update_function_configuration(
        "f",
        UpdateFunctionConfiguration {
            timeout: Some(9),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        r.get_function_configuration("f", None)
            .unwrap()
            .last_update_status
            .as_deref(),
        Some("InProgress")
    );
    let e = r
        .update_function_configuration(
            "f",
            UpdateFunctionConfiguration {
                timeout: Some(8),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("An update is in progress"));
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        r.get_function_configuration("f", None)
            .unwrap()
            .last_update_status
            .as_deref(),
        Some("Successful")
    );
}

#[tokio::test]
async fn async_events_retry_on_the_clock_then_reach_destinations() {
    let (l, r, clock) = engine();
    let calls = Arc::new(AtomicU32::new(0));
    let c2 = Arc::clone(&calls);
    l.register_handler("flaky", move |_e: Value, _ctx| {
        let n = c2.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                Err(HandlerError::new("Flaky", "not yet"))
            } else {
                Ok(json!("done"))
            }
        }
    });
    r.create_function(CreateFunction::in_process("flaky", "flaky"))
        .unwrap();
    let dest = EventInvokeConfig {
        destination_config: Some(DestinationConfig {
            on_success: Some(Destination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:ok".into()),
            }),
            on_failure: Some(Destination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:bad".into()),
            }),
        }),
        ..Default::default()
    };
    r.put_function_event_invoke_config("flaky", None, dest, false)
        .unwrap();
    let out = r
        .invoke(
            InvokeRequest::json("flaky", &json!({"k": 1})).invocation_type(InvocationType::Event),
        )
        .await
        .unwrap();
    assert_eq!(out.status_code, 202);
    l.settle().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(59));
    l.settle().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "first retry waits a minute"
    );
    clock.advance(Duration::from_secs(1));
    l.settle().await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    clock.advance(Duration::from_secs(120));
    l.settle().await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let d = l.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DeliveryKind::OnSuccess);
    assert_eq!(d[0].body["requestContext"]["condition"], "Success");
    assert_eq!(d[0].body["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(d[0].body["requestPayload"], json!({"k": 1}));
    assert_eq!(d[0].body["responsePayload"], json!("done"));
}

#[tokio::test]
async fn async_failures_exhaust_retries_into_on_failure_and_dlq() {
    let (l, r, clock) = engine();
    let mut req = CreateFunction::in_process("f", "fail");
    req.dead_letter_config = Some(DeadLetterConfig {
        target_arn: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
    });
    r.create_function(req).unwrap();
    let cfg = EventInvokeConfig {
        maximum_retry_attempts: Some(1),
        destination_config: Some(DestinationConfig {
            on_failure: Some(Destination {
                destination: Some("arn:aws:sns:us-east-1:000000000000:t".into()),
            }),
            on_success: None,
        }),
        ..Default::default()
    };
    r.put_function_event_invoke_config("f", None, cfg, false)
        .unwrap();
    let e = r
        .put_function_event_invoke_config(
            "f",
            None,
            EventInvokeConfig {
                maximum_retry_attempts: Some(3),
                ..Default::default()
            },
            false,
        )
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    r.invoke(InvokeRequest::new("f", "{}").invocation_type(InvocationType::Event))
        .await
        .unwrap();
    l.settle().await;
    clock.advance(Duration::from_secs(60));
    l.settle().await;
    let d = l.deliveries();
    assert_eq!(d.len(), 2, "{d:?}");
    let failure = d
        .iter()
        .find(|d| d.kind == DeliveryKind::OnFailure)
        .unwrap();
    assert_eq!(
        failure.body["requestContext"]["condition"],
        "RetriesExhausted"
    );
    assert_eq!(
        failure.body["responseContext"]["functionError"],
        "Unhandled"
    );
    let dlq = d
        .iter()
        .find(|d| d.kind == DeliveryKind::DeadLetter)
        .unwrap();
    assert_eq!(dlq.attributes["ErrorMessage"], "it broke");
}

#[tokio::test]
async fn throttled_async_events_wait_and_age_out() {
    let (l, r, clock) = engine();
    r.create_function(CreateFunction::in_process("f", "echo"))
        .unwrap();
    r.put_function_concurrency("f", 0).unwrap();
    let cfg = EventInvokeConfig {
        maximum_event_age_in_seconds: Some(60),
        destination_config: Some(DestinationConfig {
            on_failure: Some(Destination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:q".into()),
            }),
            on_success: None,
        }),
        ..Default::default()
    };
    r.put_function_event_invoke_config("f", None, cfg, false)
        .unwrap();
    r.invoke(InvokeRequest::new("f", "{}").invocation_type(InvocationType::Event))
        .await
        .unwrap();
    for _ in 0..10 {
        l.settle().await;
        clock.advance(Duration::from_secs(10));
    }
    l.settle().await;
    let d = l.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].body["requestContext"]["condition"], "EventAgeExceeded");
}

#[tokio::test]
async fn lambda_destinations_are_invoked_by_the_engine() {
    let (l, r, _clock) = engine();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    l.register_handler("collector", move |e: Value, _c| {
        s2.lock().push(e);
        async { Ok::<_, HandlerError>(Value::Null) }
    });
    r.create_function(CreateFunction::in_process("src", "echo"))
        .unwrap();
    r.create_function(CreateFunction::in_process("sink", "collector"))
        .unwrap();
    let cfg = EventInvokeConfig {
        destination_config: Some(DestinationConfig {
            on_success: Some(Destination {
                destination: Some(r.function_arn("sink")),
            }),
            on_failure: None,
        }),
        ..Default::default()
    };
    r.put_function_event_invoke_config("src", None, cfg, false)
        .unwrap();
    r.invoke(InvokeRequest::new("src", "{\"x\":1}").invocation_type(InvocationType::Event))
        .await
        .unwrap();
    l.settle().await;
    let seen = seen.lock();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["requestPayload"], json!({"x": 1}));
}

#[tokio::test]
async fn provisioned_concurrency_prepares_environments() {
    let (l, r, _c) = engine();
    r.create_function(CreateFunction::in_process("f", "echo"))
        .unwrap();
    r.publish_version("f", None, None, None).unwrap();
    let e = r
        .put_provisioned_concurrency_config("f", "$LATEST", 2)
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValueException");
    let s = r.put_provisioned_concurrency_config("f", "1", 2).unwrap();
    assert_eq!(s.status, "IN_PROGRESS");
    l.settle().await;
    let s = r.get_provisioned_concurrency_config("f", "1").unwrap();
    assert_eq!(
        (
            s.status.as_str(),
            s.available_provisioned_concurrent_executions
        ),
        ("READY", 2)
    );
    let out = r
        .invoke(InvokeRequest::new("f:1", "{}").tail())
        .await
        .unwrap();
    assert!(
        !out.log_tail().unwrap().contains("Init Duration"),
        "provisioned environments are warm"
    );
    l.env().clock.now();
    assert_eq!(l.reclaim_idle(), 0);
}

#[tokio::test]
async fn panics_are_runtime_exits_and_the_service_keeps_serving() {
    let (l, r, _c) = engine();
    l.register_handler("boom", |_e: Value, _c| async move {
        if true {
            panic!("kaboom");
        }
        Ok::<_, HandlerError>(Value::Null)
    });
    r.create_function(CreateFunction::in_process("boom", "boom"))
        .unwrap();
    r.create_function(CreateFunction::in_process("ok", "echo"))
        .unwrap();
    let out = r.invoke(InvokeRequest::new("boom", "{}")).await.unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Runtime.ExitError");
    assert_eq!(r.idle_environments("boom"), 0);
    assert!(
        r.invoke(InvokeRequest::new("ok", "{}"))
            .await
            .unwrap()
            .function_error
            .is_none()
    );
}
