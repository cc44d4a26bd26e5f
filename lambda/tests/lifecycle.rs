//! Execution-environment lifecycle: freezing between invocations, output attributed to its
//! invocation without waiting, init retried inside the invocation, and lost provisioned
//! environments replaced. No test sleeps: freezing is observed with `waitid(WSTOPPED)`.

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

fn create(r: &LambdaRegion, name: &str, mode: &str) {
    let script = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/bootstrap.py"
    ))
    .unwrap();
    let zip = build_zip(&[("bootstrap", &script, 0o755)]).unwrap();
    let mut req = CreateFunction::zip(name, "provided.al2023", "bootstrap", zip);
    req.timeout = Some(30);
    req.environment = Some(Environment {
        variables: [("MODE".to_string(), mode.to_string())].into(),
    });
    r.create_function(req).unwrap();
}

/// The state letter of `/proc/<pid>/stat` (`T` = stopped).
fn proc_state(pid: i32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.chars().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_are_frozen_between_invocations() {
    let (_l, r, clock) = engine();
    create(&r, "bg", "serve");
    let out = r
        .invoke(InvokeRequest::json("bg", &json!({"action": "background"})))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    let pid = out.json().unwrap()["pid"].as_i64().unwrap() as i32;
    // Frozen once idle for `freeze_after` on the clock (back-to-back invocations never are).
    clock.advance(LambdaConfig::default().freeze_after);
    // Blocks until the process has stopped (it is our child: `sh` execs the bootstrap).
    let p = rustix::process::Pid::from_raw(pid).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        rustix::process::waitid(
            rustix::process::WaitId::Pid(p),
            rustix::process::WaitIdOptions::STOPPED | rustix::process::WaitIdOptions::NOWAIT,
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert!(status.is_some());
    assert_eq!(proc_state(pid), 'T', "frozen after its response");
    // Thawed for the next invocation, which the same process serves.
    let again = r
        .invoke(InvokeRequest::json("bg", &json!({})))
        .await
        .unwrap();
    assert_eq!(again.json().unwrap()["pid"].as_i64(), Some(i64::from(pid)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_written_before_the_response_is_in_its_invocation() {
    let (_l, r, _c) = engine();
    create(&r, "chatty", "serve");
    for round in 0..3 {
        let out = r
            .invoke(InvokeRequest::json(
                "chatty",
                &json!({"action": "spam", "lines": 3000}),
            ))
            .await
            .unwrap();
        assert_eq!(out.function_error, None);
        let lines = r.log_lines("chatty");
        let end = lines
            .iter()
            .position(|l| l == &format!("END RequestId: {}", out.request_id))
            .unwrap();
        let start = lines
            .iter()
            .position(|l| l.starts_with(&format!("START RequestId: {}", out.request_id)))
            .unwrap();
        let mine = &lines[start + 1..end];
        let numbered: Vec<&String> = mine.iter().filter(|l| l.starts_with("line ")).collect();
        assert_eq!(numbered.len(), 3000, "round {round}");
        assert_eq!(numbered[2999], "line 2999");
        assert!(mine.iter().any(|l| l == "done spamming"), "stderr too");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_init_is_retried_inside_the_invocation() {
    let (_l, r, _c) = engine();
    create(&r, "flaky", "flaky_init");
    let out = r
        .invoke(InvokeRequest::json("flaky", &json!({"k": 1})).tail())
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    assert_eq!(out.json().unwrap()["event"], json!({"k": 1}));
    let lines = r.log_lines("flaky");
    let report = lines
        .iter()
        .position(|l| l.starts_with("INIT_REPORT") && l.contains("Phase: init\tStatus: error"))
        .expect("the failed first init is reported");
    let start = lines.iter().position(|l| l.starts_with("START")).unwrap();
    assert!(lines.iter().any(|l| l == "first init fails"));
    assert!(report < start);

    // Both attempts failing: the invocation gets the second one's error, both are logged.
    create(&r, "broken", "init_error");
    let out = r
        .invoke(InvokeRequest::json("broken", &json!({})))
        .await
        .unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Config.Error");
    let lines = r.log_lines("broken");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Phase: init\tStatus: error"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Phase: invoke\tStatus: error"))
    );
}

#[tokio::test]
async fn a_lost_provisioned_environment_is_replaced() {
    let (l, r, _c) = engine();
    l.register_handler("boom", |e: Value, _c| async move {
        if e["panic"] == json!(true) {
            panic!("kaboom");
        }
        Ok::<_, HandlerError>(e)
    });
    r.create_function(CreateFunction::in_process("pc", "boom"))
        .unwrap();
    r.publish_version("pc", None, None, None).unwrap();
    r.put_provisioned_concurrency_config("pc", "1", 1).unwrap();
    l.settle().await;
    assert_eq!(r.idle_environments("pc"), 1);
    let out = r
        .invoke(InvokeRequest::json("pc", &json!({"panic": true})).qualifier("1"))
        .await
        .unwrap();
    assert_eq!(out.json().unwrap()["errorType"], "Runtime.ExitError");
    l.settle().await;
    assert_eq!(r.idle_environments("pc"), 1, "replaced");
    let s = r.get_provisioned_concurrency_config("pc", "1").unwrap();
    assert_eq!(s.available_provisioned_concurrent_executions, 1);
    let out = r
        .invoke(InvokeRequest::json("pc", &json!({})).qualifier("1").tail())
        .await
        .unwrap();
    assert!(
        !out.log_tail().unwrap().contains("Init Duration"),
        "the replacement was initialised ahead"
    );
}

/// An idle on-demand environment is reclaimed on the clock by itself: its process is killed
/// once idle for `idle_timeout`, without waiting for the function's next invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_environments_are_reclaimed_on_the_clock() {
    let (_l, r, clock) = engine();
    create(&r, "idle", "serve");
    let out = r
        .invoke(InvokeRequest::json("idle", &json!({})))
        .await
        .unwrap();
    let pid = out.json().unwrap()["pid"].as_i64().unwrap() as i32;
    let config = LambdaConfig::default();
    // Frozen first, then reclaimed.
    clock.advance(config.freeze_after);
    clock.advance(config.idle_timeout + config.freeze_after);
    let gone = |pid: i32| match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'),
    };
    // The kill is sent as the clock passes the deadline; its delivery is asynchronous.
    for _ in 0..1_000_000 {
        if gone(pid) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(gone(pid), "the idle process was not reclaimed");
    // The next invocation starts a new environment.
    let again = r
        .invoke(InvokeRequest::json("idle", &json!({})))
        .await
        .unwrap();
    assert_ne!(again.json().unwrap()["pid"].as_i64(), Some(i64::from(pid)));
}
