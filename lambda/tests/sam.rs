//! SAM templates: parsing with globals and intrinsics, deploying, invoking, schedules.

use std::time::Duration;

use nubis_core::{Env, ManualClock, Region};
use nubis_lambda::sam::{ParseOptions, SamError, SamEvent, Schedule, Template};
use nubis_lambda::*;
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-hello-${Stage}"
      Runtime: provided.al2023
      Handler: nubis:hello
      Environment:
        Variables:
          TABLE: !Ref Table
          PEER: !GetAtt Worker.Arn
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            Input: '{"tick": true}'
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: nubis:hello
      Timeout: 3
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
"#;

#[test]
fn parses_globals_and_intrinsics() {
    let t = Template::parse(TEMPLATE).unwrap();
    let hello = t.function("Hello").unwrap();
    assert_eq!(hello.name, "sam-app-hello-dev");
    assert_eq!((hello.timeout, hello.memory_size), (Some(10), Some(256)));
    assert_eq!(hello.environment["STAGE"], "dev");
    assert_eq!(hello.environment["TABLE"], "Table");
    assert_eq!(
        hello.environment["PEER"],
        "arn:aws:lambda:us-east-1:000000000000:function:Worker"
    );
    assert!(
        matches!(&hello.events[0], SamEvent::Schedule { schedule: Schedule::Rate(d), input, .. } if *d == Duration::from_secs(300) && input == &Some(json!({"tick": true})))
    );
    let worker = t.function("Worker").unwrap();
    assert_eq!(
        worker.timeout,
        Some(3),
        "function properties win over globals"
    );
    match &worker.events[0] {
        SamEvent::DynamoDb { mapping, .. } => {
            assert_eq!(mapping.batch_size, Some(10));
            assert!(
                mapping
                    .event_source_arn
                    .as_deref()
                    .unwrap()
                    .contains(":table/Table/stream/")
            );
        }
        other => panic!("{other:?}"),
    }
    let opts = ParseOptions {
        parameter_overrides: [("Stage".to_string(), "prod".to_string())].into(),
        ..Default::default()
    };
    assert_eq!(
        Template::parse_with(TEMPLATE, &opts)
            .unwrap()
            .function("Hello")
            .unwrap()
            .name,
        "sam-app-hello-prod"
    );
}

#[test]
fn bad_templates_are_typed_errors() {
    assert!(matches!(
        Template::parse("a: [unclosed"),
        Err(SamError::Yaml(_))
    ));
    assert!(matches!(
        Template::parse("Resources: {}\nParameters:\n  X:\n    Type: String\n"),
        Err(SamError::Invalid(_))
    ));
    let t = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: !If [c, a, b]\n";
    assert!(matches!(Template::parse(t), Err(SamError::Unsupported(_))));
    let t = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: !Ref Missing\n";
    assert!(matches!(Template::parse(t), Err(SamError::Invalid(_))));
    assert!(Schedule::parse("rate(1 minutes)").is_err());
    assert!(Schedule::parse("rate(2 minutes)").is_ok());
    assert!(Schedule::parse("cron(0 12 * * ? *)").is_ok());
}

#[tokio::test]
async fn deploys_invokes_and_runs_schedules_on_the_clock() {
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<Value>::new()));
    let s2 = seen.clone();
    lambda.register_handler("hello", move |e: Value, ctx: Context| {
        s2.lock().push(e.clone());
        let stage = ctx.env.get("STAGE").cloned();
        async move { Ok::<_, HandlerError>(json!({ "stage": stage, "event": e })) }
    });
    let region = lambda.region(&Region::US_EAST_1);
    let mut t = Template::parse(TEMPLATE).unwrap();
    t.functions.get_mut("Worker").unwrap().events.clear();
    let deployment = t.deploy(&region).unwrap();
    assert_eq!(deployment.functions["Hello"], "sam-app-hello-dev");
    let out = region
        .invoke(InvokeRequest::json("sam-app-hello-dev", &json!({"x": 1})))
        .await
        .unwrap();
    assert_eq!(out.json().unwrap()["stage"], "dev");
    lambda.settle().await;
    clock.advance(Duration::from_secs(300));
    lambda.settle().await;
    assert_eq!(
        seen.lock()
            .iter()
            .filter(|e| e.get("tick").is_some())
            .count(),
        1
    );
    // Deploying again updates in place.
    t.deploy(&region).unwrap();
    drop(deployment);
}

#[test]
fn code_uri_directories_are_zipped_with_modes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/bootstrap"), b"#!/bin/sh\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("src/bootstrap"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let yaml = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Runtime: provided.al2023\n      Handler: bootstrap\n";
    std::fs::write(dir.path().join("template.yaml"), yaml).unwrap();
    let t = Template::load(&dir.path().join("template.yaml"), &ParseOptions::default()).unwrap();
    let code = t.package(t.function("F").unwrap()).unwrap();
    let zip = code.zip_file.unwrap();
    assert_eq!(
        nubis_lambda::package::read_entry(&zip, "bootstrap").as_deref(),
        Some(&b"#!/bin/sh\n"[..])
    );
}
