//! Process functions: deployment packages run as child processes speaking the Runtime API — a
//! standard-library Python custom runtime (`test_data/bootstrap.py`) for every edge, and a
//! function built with the unmodified `lambda_runtime` crate (`tests/fixtures/rust-echo`).

use std::path::PathBuf;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region};
use nubis_lambda::package::build_zip;
use nubis_lambda::*;
use serde_json::{Value, json};

fn engine() -> (Lambda, LambdaRegion, ManualClock) {
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    let region = lambda.region(&Region::US_EAST_1);
    (lambda, region, clock)
}

fn python_zip() -> Vec<u8> {
    let script = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/bootstrap.py"
    ))
    .unwrap();
    build_zip(&[("bootstrap", &script, 0o755)]).unwrap()
}

fn create(r: &LambdaRegion, name: &str, mode: &str, timeout: i64) {
    let mut req = CreateFunction::zip(name, "provided.al2023", "bootstrap", python_zip());
    req.timeout = Some(timeout);
    req.memory_size = Some(256);
    req.environment = Some(Environment {
        variables: [
            ("MODE".to_string(), mode.to_string()),
            ("GREETING".to_string(), "hi".to_string()),
        ]
        .into(),
    });
    r.create_function(req).unwrap();
}

/// Drives a call that waits on the manual clock: advances it a second at a time until done.
async fn drive<T>(clock: &ManualClock, mut call: tokio::task::JoinHandle<T>) -> T {
    loop {
        tokio::select! {
            r = &mut call => return r.unwrap(),
            _ = tokio::task::yield_now() => {}
        }
        clock.advance(Duration::from_millis(500));
        std::thread::yield_now();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_runs_with_the_documented_environment_and_stays_warm() {
    let (_l, r, _c) = engine();
    create(&r, "py", "serve", 3);
    let out = r
        .invoke(InvokeRequest::json("py", &json!({"n": 1})).tail())
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    let body = out.json().unwrap();
    assert_eq!(body["event"], json!({"n": 1}));
    let env = &body["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "py");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["GREETING"], "hi");
    assert_eq!(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
    assert_eq!(env["LAMBDA_TASK_ROOT"], body["cwd"]);
    let h = &body["headers"];
    assert_eq!(h["lambda-runtime-aws-request-id"], out.request_id.as_str());
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:py"
    );
    let deadline: u64 = h["lambda-runtime-deadline-ms"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(deadline, 1_767_225_600_000 + 3000);
    assert!(
        h["lambda-runtime-trace-id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    let tail = out.log_tail().unwrap();
    assert!(
        tail.contains("init done") && tail.contains(&format!("handling {}", out.request_id)),
        "{tail}"
    );
    assert!(tail.contains("Init Duration"));
    let again = r
        .invoke(InvokeRequest::json("py", &json!({"n": 2})).tail())
        .await
        .unwrap();
    assert_eq!(
        again.json().unwrap()["pid"],
        body["pid"],
        "warm reuse of the same process"
    );
    assert!(!again.log_tail().unwrap().contains("Init Duration"));
    assert!(again.log_tail().unwrap().contains("Max Memory Used: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_errors_and_refusals() {
    let (_l, r, _c) = engine();
    create(&r, "py", "serve", 3);
    let out = r
        .invoke(InvokeRequest::json("py", &json!({"action": "error"})))
        .await
        .unwrap();
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(out.json().unwrap()["errorType"], "App.Error");
    let out = r
        .invoke(InvokeRequest::json("py", &json!({"action": "wrong_id"})))
        .await
        .unwrap();
    let body = out.json().unwrap();
    assert_eq!(body["status"], 400);
    assert_eq!(body["body"]["errorType"], "InvalidRequestID");
    let out = r
        .invoke(InvokeRequest::json("py", &json!({"action": "big"})))
        .await
        .unwrap();
    assert_eq!(
        out.json().unwrap()["errorType"],
        "Function.ResponseSizeTooLarge"
    );
    let out = r
        .invoke(InvokeRequest::json("py", &json!({"n": 3})))
        .await
        .unwrap();
    assert_eq!(
        out.function_error, None,
        "the environment still serves after refusals"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_init_errors_and_missing_bootstraps() {
    let (_l, r, _c) = engine();
    create(&r, "crashy", "serve", 3);
    let first = r
        .invoke(InvokeRequest::json("crashy", &json!({})))
        .await
        .unwrap();
    let out = r
        .invoke(InvokeRequest::json("crashy", &json!({"action": "crash"})))
        .await
        .unwrap();
    let body = out.json().unwrap();
    assert_eq!(body["errorType"], "Runtime.ExitError");
    assert_eq!(
        body["errorMessage"],
        format!(
            "RequestId: {} Error: Runtime exited with error: exit status 2",
            out.request_id
        )
    );
    let next = r
        .invoke(InvokeRequest::json("crashy", &json!({})))
        .await
        .unwrap();
    assert_ne!(
        next.json().unwrap()["pid"],
        first.json().unwrap()["pid"],
        "a crashed environment is replaced"
    );

    create(&r, "initfail", "init_error", 3);
    let out = r
        .invoke(InvokeRequest::json("initfail", &json!({})).tail())
        .await
        .unwrap();
    assert_eq!(
        out.json().unwrap(),
        json!({"errorMessage": "bad config", "errorType": "Config.Error"})
    );
    assert!(out.log_tail().unwrap().contains("INIT_REPORT"));

    create(&r, "quitter", "exit_at_init", 3);
    let out = r
        .invoke(InvokeRequest::json("quitter", &json!({})).tail())
        .await
        .unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Runtime.ExitError");
    assert!(out.log_tail().unwrap().contains("giving up"));

    let zip = build_zip(&[("main.py", b"print(1)", 0o644)]).unwrap();
    r.create_function(CreateFunction::zip(
        "noboot",
        "provided.al2",
        "bootstrap",
        zip,
    ))
    .unwrap();
    let out = r
        .invoke(InvokeRequest::json("noboot", &json!({})))
        .await
        .unwrap();
    assert_eq!(
        out.json().unwrap()["errorType"],
        "Runtime.InvalidEntrypoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_kill_hanging_processes_and_silent_inits() {
    let (_l, r, clock) = engine();
    create(&r, "hang", "serve", 2);
    let r2 = r.clone();
    let out = drive(
        &clock,
        tokio::spawn(async move {
            r2.invoke(InvokeRequest::json("hang", &json!({"action": "hang"})))
                .await
        }),
    )
    .await
    .unwrap();
    let body = out.json().unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Task timed out after"),
        "{body}"
    );
    assert_eq!(r.idle_environments("hang"), 0);
    let ok = r
        .invoke(InvokeRequest::json("hang", &json!({})))
        .await
        .unwrap();
    assert_eq!(
        ok.function_error, None,
        "a fresh environment replaces the killed one"
    );

    create(&r, "silent", "never_next", 2);
    let r2 = r.clone();
    let out = drive(
        &clock,
        tokio::spawn(async move { r2.invoke(InvokeRequest::json("silent", &json!({}))).await }),
    )
    .await
    .unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Sandbox.Timedout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runtime_needs_awslambdaric() {
    let (l, r, _c) = engine();
    let zip = build_zip(&[(
        "app.py",
        b"def handler(event, context):\n    return {'py': event}\n",
        0o644,
    )])
    .unwrap();
    r.create_function(CreateFunction::zip(
        "pyric",
        "python3.12",
        "app.handler",
        zip,
    ))
    .unwrap();
    let out = r
        .invoke(InvokeRequest::json("pyric", &json!({"a": 1})))
        .await
        .unwrap();
    let has_ric = std::process::Command::new(&l.config().python)
        .args(["-c", "import awslambdaric"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_ric {
        assert_eq!(out.json().unwrap(), json!({"py": {"a": 1}}));
    } else {
        let body = out.json().unwrap();
        assert_eq!(body["errorType"], "Runtime.Unavailable");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("pip install awslambdaric")
        );
    }
}

/// Builds `tests/fixtures/rust-echo` (a `lambda_runtime` 1.5 function) once per target dir.
fn rust_fixture() -> Vec<u8> {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rust-echo/Cargo.toml"
    );
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--manifest-path",
            manifest,
            "--target-dir",
        ])
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "building the lambda_runtime fixture failed"
    );
    std::fs::read(target.join("release/bootstrap")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_runtime_function_runs_unchanged() {
    let bin = tokio::task::spawn_blocking(rust_fixture).await.unwrap();
    let zip = build_zip(&[("bootstrap", &bin, 0o755)]).unwrap();
    let (_l, r, _c) = engine();
    let mut req = CreateFunction::zip("rusty", "provided.al2023", "bootstrap", zip);
    req.memory_size = Some(128);
    r.create_function(req).unwrap();
    let out = r
        .invoke(
            InvokeRequest::json("rusty", &json!({"hello": "world", "print": "from rust"})).tail(),
        )
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    let body = out.json().unwrap();
    assert_eq!(body["echo"]["hello"], "world");
    assert_eq!(body["request_id"], out.request_id.as_str());
    assert_eq!(
        body["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:rusty"
    );
    assert_eq!(body["function"], "rusty");
    assert_eq!(body["memory"], "128");
    assert!(out.log_tail().unwrap().contains("from rust"));
    let out = r
        .invoke(InvokeRequest::json("rusty", &json!({"fail": "nope"})))
        .await
        .unwrap();
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let err: Value = out.json().unwrap();
    assert_eq!(err["errorMessage"], "nope");
    let out = r
        .invoke(InvokeRequest::json("rusty", &json!({"again": true})))
        .await
        .unwrap();
    assert_eq!(out.function_error, None);
    assert_eq!(r.idle_environments("rusty"), 1);
}
