//! Scheduled rules and SAM `Schedule` events with `rate(...)` and `cron(...)` expressions, fired
//! on the manual clock.

use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region, ServiceError};
use nubis_lambda::sam::Template;
use nubis_lambda::*;
use parking_lot::Mutex;
use serde_json::Value;

fn engine() -> (Lambda, LambdaRegion, ManualClock, Arc<Mutex<Vec<Value>>>) {
    let clock = ManualClock::at_default_epoch(); // 2026-01-01T00:00:00Z, a Thursday
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = Arc::clone(&seen);
    lambda.register_handler("tick", move |e: Value, _c| {
        let s = Arc::clone(&s);
        async move {
            s.lock().push(e);
            Ok::<_, HandlerError>(Value::Null)
        }
    });
    let region = lambda.region(&Region::US_EAST_1);
    region
        .create_function(CreateFunction::in_process("f", "tick"))
        .unwrap();
    (lambda, region, clock, seen)
}

#[tokio::test]
async fn cron_rules_fire_on_the_clock_with_the_scheduled_event() {
    let (l, r, clock, seen) = engine();
    let arn = r
        .put_rule(PutRule::new("weekdays", "cron(0 9 ? * MON-FRI *)", "f"))
        .unwrap();
    assert_eq!(arn, "arn:aws:events:us-east-1:000000000000:rule/weekdays");
    l.settle().await;
    assert!(seen.lock().is_empty());
    // Thursday 09:00, Friday 09:00, then Monday 09:00 (the weekend is skipped).
    clock.advance(Duration::from_secs(9 * 3600));
    l.settle().await;
    assert_eq!(seen.lock().len(), 1);
    let e = seen.lock()[0].clone();
    assert_eq!(e["detail-type"], "Scheduled Event");
    assert_eq!(e["source"], "aws.events");
    assert_eq!(e["time"], "2026-01-01T09:00:00Z");
    assert_eq!(e["resources"][0], arn.as_str());
    clock.advance(Duration::from_secs(24 * 3600));
    l.settle().await;
    assert_eq!(seen.lock().len(), 2);
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    l.settle().await;
    assert_eq!(seen.lock().len(), 2, "Saturday and Sunday do not fire");
    let next = r.describe_rule("weekdays").unwrap().next_fire.unwrap();
    assert_eq!(
        nubis_core::clock::to_rfc3339(next),
        "2026-01-05T09:00:00.000Z"
    );
    r.delete_rule("weekdays").unwrap();
    clock.advance(Duration::from_secs(3 * 24 * 3600));
    l.settle().await;
    assert_eq!(seen.lock().len(), 2, "a deleted rule stops");
}

#[tokio::test]
async fn rule_errors_use_eventbridge_texts() {
    let (_l, r, _c, _s) = engine();
    let e = r
        .put_rule(PutRule::new("bad", "cron(0 9 * * * *)", "f"))
        .unwrap_err();
    assert_eq!(e.code(), "ValidationException");
    assert_eq!(e.to_string(), "Parameter ScheduleExpression is not valid.");
    let e = r
        .put_rule(PutRule::new("no spaces", "rate(1 minute)", "f"))
        .unwrap_err();
    assert_eq!(e.code(), "ValidationException");
    let e = r.describe_rule("missing").unwrap_err();
    assert_eq!(e.code(), "ResourceNotFoundException");
    assert_eq!(
        e.to_string(),
        "Rule missing does not exist on EventBus default."
    );
}

#[tokio::test]
async fn sam_cron_schedules_deploy_as_rules() {
    let (l, r, clock, seen) = engine();
    let yaml = r#"
Resources:
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: nightly
      Runtime: provided.al2023
      Handler: nubis:tick
      Events:
        AtTwo:
          Type: Schedule
          Properties:
            Schedule: cron(0 2 * * ? *)
            Input: '{"job": "compact"}'
        Quarterly:
          Type: Schedule
          Properties:
            Schedule: cron(0 0 1 JAN,APR,JUL,OCT ? *)
            Enabled: false
"#;
    let t = Template::parse(yaml).unwrap();
    let d = t.deploy(&r).unwrap();
    assert_eq!(d.rules, vec!["NightlyAtTwo", "NightlyQuarterly"]);
    assert_eq!(
        r.describe_rule("NightlyQuarterly").unwrap().state,
        "DISABLED"
    );
    l.settle().await;
    clock.advance(Duration::from_secs(2 * 3600));
    l.settle().await;
    assert_eq!(
        seen.lock().clone(),
        vec![serde_json::json!({"job": "compact"})]
    );
    drop(d);
    assert!(
        r.list_rules().is_empty(),
        "dropping the deployment deletes its rules"
    );
    let bad = yaml.replace("cron(0 2 * * ? *)", "cron(0 2 * * *)");
    assert!(Template::parse(&bad).is_err());
}
