//! Event source mappings over a stream: `FilterCriteria` drops records no pattern matches, and
//! `ReportBatchItemFailures` retries a batch from its earliest reported failure. The source is
//! an in-memory stream; every wait is on the manual clock.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use nubis_core::{Clock, Env, ManualClock, Region, ServiceError};
use nubis_lambda::*;
use parking_lot::Mutex;
use serde_json::{Value, json};

struct Stream(Vec<SourceRecord>);

impl EventSource for Stream {
    fn read<'a>(
        &'a self,
        after: Option<&'a str>,
        _start: &'a StartingPosition,
        max: usize,
    ) -> BoxFuture<'a, Result<Vec<SourceRecord>, String>> {
        let from = after.map_or(0, |a| a.parse::<usize>().unwrap_or(0));
        let out = self.0.iter().skip(from).take(max).cloned().collect();
        Box::pin(async move { Ok(out) })
    }
}

struct Connector(Arc<Stream>);

impl EventSourceConnector for Connector {
    fn connect(&self, _arn: &str) -> Result<Arc<dyn EventSource>, String> {
        Ok(Arc::clone(&self.0) as Arc<dyn EventSource>)
    }
}

/// The sequence numbers of each batch the function got.
type Batches = Arc<Mutex<Vec<Vec<String>>>>;

const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000";

/// Records 1..=n: odd ones INSERT, even ones MODIFY, sequence numbers "1".."n".
fn engine(n: usize) -> (Lambda, LambdaRegion, ManualClock, Batches) {
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    let records = (1..=n)
        .map(|i| SourceRecord {
            data: json!({
                "eventName": if i % 2 == 1 { "INSERT" } else { "MODIFY" },
                "dynamodb": { "SequenceNumber": i.to_string(), "NewImage": { "n": { "N": i.to_string() } } },
            }),
            position: i.to_string(),
            created: clock.now(),
        })
        .collect();
    lambda.set_event_source_connector(Arc::new(Connector(Arc::new(Stream(records)))));
    let seen: Batches = Arc::default();
    let s = Arc::clone(&seen);
    lambda.register_handler("batch", move |e: Value, _c| {
        let s = Arc::clone(&s);
        async move {
            let seqs: Vec<String> = e["Records"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|r| {
                            r["dynamodb"]["SequenceNumber"]
                                .as_str()
                                .unwrap_or("")
                                .to_owned()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let first_try = !s.lock().iter().flatten().any(|x| x == "3");
            s.lock().push(seqs.clone());
            // Record 3 fails the first time it is seen.
            let failures: Vec<Value> = if first_try && seqs.iter().any(|x| x == "3") {
                vec![json!({ "itemIdentifier": "3" })]
            } else {
                vec![]
            };
            Ok::<_, HandlerError>(json!({ "batchItemFailures": failures }))
        }
    });
    let region = lambda.region(&Region::US_EAST_1);
    region
        .create_function(CreateFunction::in_process("f", "batch"))
        .unwrap();
    (lambda, region, clock, seen)
}

fn mapping(filters: Option<&[&str]>, report: bool) -> CreateEventSourceMapping {
    CreateEventSourceMapping {
        event_source_arn: Some(ARN.into()),
        function_name: "f".into(),
        batch_size: Some(10),
        starting_position: Some("TRIM_HORIZON".into()),
        filter_criteria: filters.map(|f| FilterCriteria {
            filters: f
                .iter()
                .map(|p| Filter {
                    pattern: Some((*p).into()),
                })
                .collect(),
        }),
        function_response_types: report.then(|| vec!["ReportBatchItemFailures".to_string()]),
        ..Default::default()
    }
}

#[tokio::test]
async fn filters_drop_records_no_pattern_matches() {
    let (l, r, _clock, seen) = engine(6);
    let m = r
        .create_event_source_mapping(mapping(Some(&[r#"{"eventName": ["INSERT"]}"#]), false))
        .unwrap();
    assert!(m.filter_criteria.is_some());
    l.settle().await;
    assert_eq!(*seen.lock(), vec![vec!["1", "3", "5"]]);
    let got = r.get_event_source_mapping(&m.uuid).unwrap();
    assert_eq!(got.filter_criteria, m.filter_criteria);
}

#[tokio::test]
async fn reported_failures_retry_from_the_earliest() {
    let (l, r, clock, seen) = engine(5);
    let m = r.create_event_source_mapping(mapping(None, true)).unwrap();
    assert_eq!(m.function_response_types, vec!["ReportBatchItemFailures"]);
    l.settle().await;
    clock.advance(Duration::from_secs(1));
    l.settle().await;
    assert_eq!(
        *seen.lock(),
        vec![vec!["1", "2", "3", "4", "5"], vec!["3", "4", "5"]],
        "records before the failure are not retried"
    );
}

#[tokio::test]
async fn bad_filters_and_response_types_are_refused() {
    let (_l, r, _c, _s) = engine(1);
    let e = r
        .create_event_source_mapping(mapping(Some(&[r#"{"eventName": "INSERT"}"#]), false))
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
    assert_eq!(e.to_string(), "Invalid filter pattern definition.");
    let mut bad = mapping(None, false);
    bad.function_response_types = Some(vec!["Everything".into()]);
    let e = r.create_event_source_mapping(bad).unwrap_err();
    assert_eq!(e.code(), "ValidationException");
}
