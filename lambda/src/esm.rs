//! Event source mappings: the control plane (Create/Get/Update/Delete/ListEventSourceMappings)
//! and the poller that reads batches from an [`EventSource`] and invokes the function with
//! `{"Records": [...]}` — batch size, batching window, retries, bisect on error, record age and an
//! on-failure destination, as Lambda does for stream sources (DynamoDB Streams, Kinesis).
//!
//! Architecture invariant: the engine knows no stream. The facade implements
//! [`EventSourceConnector`] to open a source by ARN (DynamoDB Streams from the `dynamo` crate),
//! and each [`SourceRecord`] arrives already in the JSON shape Lambda delivers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::LambdaRegion;
use crate::error::{LambdaError, Result};
use crate::functions::validate_range;
use crate::hooks::{Delivery, DeliveryKind};

/// Where a new mapping starts reading.
#[derive(Debug, Clone, PartialEq)]
pub enum StartingPosition {
    /// The oldest record still in the stream.
    TrimHorizon,
    /// Only records written after the mapping starts.
    Latest,
    /// Records written at or after a time.
    AtTimestamp(SystemTime),
}

/// One record read from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The record as the function receives it inside `Records`.
    pub data: Value,
    /// An opaque position: reading resumes after it.
    pub position: String,
    /// When the record was written (for `MaximumRecordAgeInSeconds`).
    pub created: SystemTime,
}

/// A readable stream (one DynamoDB stream, one Kinesis stream).
pub trait EventSource: Send + Sync + 'static {
    /// Up to `max` records after `after` (or from `start` when `after` is `None`).
    fn read<'a>(
        &'a self,
        after: Option<&'a str>,
        start: &'a StartingPosition,
        max: usize,
    ) -> BoxFuture<'a, Result<Vec<SourceRecord>, String>>;
}

/// Opens event sources by ARN; the facade implements it.
pub trait EventSourceConnector: Send + Sync + 'static {
    /// The source behind `event_source_arn`, or why it cannot be read.
    fn connect(&self, event_source_arn: &str) -> Result<Arc<dyn EventSource>, String>;
}

/// CreateEventSourceMapping's request (and the configurable fields of UpdateEventSourceMapping).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEventSourceMapping {
    /// The stream ARN.
    #[serde(default)]
    pub event_source_arn: Option<String>,
    /// The function name or ARN (with optional qualifier).
    #[serde(default)]
    pub function_name: String,
    /// Start enabled (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// 1–10000 (default 100).
    #[serde(default)]
    pub batch_size: Option<i64>,
    /// 0–300 seconds.
    #[serde(default)]
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`.
    #[serde(default)]
    pub starting_position: Option<String>,
    /// For `AT_TIMESTAMP` (seconds since the epoch).
    #[serde(default)]
    pub starting_position_timestamp: Option<f64>,
    /// Split a failing batch in two and retry each half.
    #[serde(default)]
    pub bisect_batch_on_function_error: Option<bool>,
    /// -1 (forever) or 0–10000.
    #[serde(default)]
    pub maximum_retry_attempts: Option<i64>,
    /// -1 (forever) or 60–604800.
    #[serde(default)]
    pub maximum_record_age_in_seconds: Option<i64>,
    /// Where records of discarded batches go.
    #[serde(default)]
    pub destination_config: Option<crate::config::DestinationConfig>,
    /// Which records reach the function (see [`crate::filters`]).
    #[serde(default)]
    pub filter_criteria: Option<crate::filters::FilterCriteria>,
    /// `["ReportBatchItemFailures"]` to let the function report the records that failed.
    #[serde(default)]
    pub function_response_types: Option<Vec<String>>,
}

/// A mapping as returned (`EventSourceMappingConfiguration`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSourceMappingConfiguration {
    /// The mapping's id.
    #[serde(rename = "UUID")]
    pub uuid: String,
    /// The stream ARN.
    pub event_source_arn: String,
    /// The function ARN.
    pub function_arn: String,
    /// Batch size.
    pub batch_size: u32,
    /// Batching window.
    pub maximum_batching_window_in_seconds: u32,
    /// Starting position.
    pub starting_position: String,
    /// `Enabled`, `Disabled`, `Creating` …
    pub state: String,
    /// `User action`.
    pub state_transition_reason: String,
    /// Seconds since the epoch.
    pub last_modified: f64,
    /// `No records processed`, `OK` or `PROBLEM: …`.
    pub last_processing_result: String,
    /// Bisect on error.
    pub bisect_batch_on_function_error: bool,
    /// Retry limit (-1 forever).
    pub maximum_retry_attempts: i64,
    /// Record age limit (-1 forever).
    pub maximum_record_age_in_seconds: i64,
    /// On-failure destination.
    pub destination_config: crate::config::DestinationConfig,
    /// 1.
    pub parallelization_factor: u32,
    /// The filters, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<crate::filters::FilterCriteria>,
    /// `ReportBatchItemFailures`, if set.
    pub function_response_types: Vec<String>,
}

pub(crate) struct MappingState {
    pub(crate) config: EventSourceMappingConfiguration,
    pub(crate) filters: crate::filters::CompiledFilters,
    pub(crate) start: StartingPosition,
    pub(crate) function_name: String,
    pub(crate) deleted: bool,
}

fn response_types(types: Option<&Vec<String>>) -> Result<Vec<String>> {
    let types = types.cloned().unwrap_or_default();
    for t in &types {
        if t != "ReportBatchItemFailures" {
            return Err(LambdaError::validation(
                &format!("[{t}]"),
                "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
            ));
        }
    }
    Ok(types)
}

/// The identifier a function reports a stream record by: its sequence number.
fn item_identifier(r: &SourceRecord) -> &str {
    r.data
        .pointer("/dynamodb/SequenceNumber")
        .or_else(|| r.data.pointer("/kinesis/sequenceNumber"))
        .and_then(Value::as_str)
        .unwrap_or(&r.position)
}

/// Where a `ReportBatchItemFailures` response says to resume: `Ok(None)` when every record
/// succeeded, `Ok(Some(i))` to retry from record `i` (the earliest failure, as Lambda checkpoints
/// a stream), `Err(())` when the response is not a valid report (the whole batch failed).
fn first_failure(
    response: &[u8],
    records: &[SourceRecord],
) -> std::result::Result<Option<usize>, ()> {
    let Ok(v) = serde_json::from_slice::<Value>(response) else {
        // A response that is not JSON reports nothing: success, as Lambda treats it.
        return Ok(None);
    };
    let failures = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(()),
    };
    let mut first: Option<usize> = None;
    for f in failures {
        let id = match f.get("itemIdentifier") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(()),
        };
        let i = records
            .iter()
            .position(|r| item_identifier(r) == id)
            .ok_or(())?;
        first = Some(first.map_or(i, |f| f.min(i)));
    }
    Ok(first)
}

fn not_found(uuid: &str) -> LambdaError {
    LambdaError::ResourceNotFound(format!(
        "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
    ))
}

impl LambdaRegion {
    /// CreateEventSourceMapping: validates, connects the source and starts polling.
    pub fn create_event_source_mapping(
        &self,
        req: CreateEventSourceMapping,
    ) -> Result<EventSourceMappingConfiguration> {
        let arn = req.event_source_arn.clone().ok_or_else(|| {
            LambdaError::validation("null", "eventSourceArn", "Member must not be null")
        })?;
        let target = self.resolve_target(&req.function_name, None, false)?;
        let batch = validate_range(req.batch_size.unwrap_or(100), "batchSize", 1, 10000)?;
        let window = validate_range(
            req.maximum_batching_window_in_seconds.unwrap_or(0),
            "maximumBatchingWindowInSeconds",
            0,
            300,
        )?;
        let retries = req.maximum_retry_attempts.unwrap_or(-1);
        if !(-1..=10000).contains(&retries) {
            return Err(LambdaError::validation(
                &retries.to_string(),
                "maximumRetryAttempts",
                "Member must have value less than or equal to 10000",
            ));
        }
        let age = req.maximum_record_age_in_seconds.unwrap_or(-1);
        if age != -1 && !(60..=604_800).contains(&age) {
            return Err(LambdaError::validation(
                &age.to_string(),
                "maximumRecordAgeInSeconds",
                "Member must have value greater than or equal to 60",
            ));
        }
        let start = match req.starting_position.as_deref() {
            Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some("LATEST") => StartingPosition::Latest,
            Some("AT_TIMESTAMP") => {
                StartingPosition::AtTimestamp(nubis_core::clock::from_epoch_seconds_f64(
                    req.starting_position_timestamp.unwrap_or(0.0),
                ))
            }
            Some(other) => {
                return Err(LambdaError::validation(
                    other,
                    "startingPosition",
                    "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
                ));
            }
            None => {
                return Err(LambdaError::InvalidParameterValue(
                    "StartingPosition is required for stream event sources.".into(),
                ));
            }
        };
        let filters = crate::filters::CompiledFilters::compile(req.filter_criteria.as_ref())?;
        let function_response_types = response_types(req.function_response_types.as_ref())?;
        let connector = self.inner().hooks.read().event_sources.clone();
        let source = connector
            .ok_or_else(|| format!("no event source connector serves {arn}"))
            .and_then(|c| c.connect(&arn))
            .map_err(|why| LambdaError::InvalidParameterValue(format!("Cannot access stream {arn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream. ({why})")))?;
        let uuid = self.inner().env.ids.uuid();
        let enabled = req.enabled.unwrap_or(true);
        let config = EventSourceMappingConfiguration {
            uuid: uuid.clone(),
            event_source_arn: arn,
            function_arn: String::from(&*target.invoked_arn),
            batch_size: batch,
            maximum_batching_window_in_seconds: window,
            starting_position: req.starting_position.clone().unwrap_or_default(),
            state: if enabled { "Enabled" } else { "Disabled" }.into(),
            state_transition_reason: "User action".into(),
            last_modified: nubis_core::clock::epoch_seconds_f64(self.now()),
            last_processing_result: "No records processed".into(),
            bisect_batch_on_function_error: req.bisect_batch_on_function_error.unwrap_or(false),
            maximum_retry_attempts: retries,
            maximum_record_age_in_seconds: age,
            destination_config: req.destination_config.clone().unwrap_or_default(),
            parallelization_factor: 1,
            filter_criteria: req
                .filter_criteria
                .clone()
                .filter(|f| !f.filters.is_empty()),
            function_response_types,
        };
        let state = MappingState {
            filters,
            config: config.clone(),
            start,
            function_name: req.function_name.clone(),
            deleted: false,
        };
        self.state.mappings.lock().insert(uuid.clone(), state);
        self.spawn_poller(uuid, source);
        let mut out = config;
        out.state = "Creating".into();
        Ok(out)
    }

    /// GetEventSourceMapping.
    pub fn get_event_source_mapping(&self, uuid: &str) -> Result<EventSourceMappingConfiguration> {
        self.state
            .mappings
            .lock()
            .get(uuid)
            .filter(|m| !m.deleted)
            .map(|m| m.config.clone())
            .ok_or_else(|| not_found(uuid))
    }

    /// ListEventSourceMappings (optionally for one source or function).
    pub fn list_event_source_mappings(
        &self,
        event_source_arn: Option<&str>,
        function_name: Option<&str>,
    ) -> Result<Vec<EventSourceMappingConfiguration>> {
        let fn_arn = match function_name {
            Some(f) => Some(self.function_arn(&self.parse_ref(f, None)?.name)),
            None => None,
        };
        Ok(self
            .state
            .mappings
            .lock()
            .values()
            .filter(|m| !m.deleted)
            .filter(|m| event_source_arn.is_none_or(|a| m.config.event_source_arn == a))
            .filter(|m| {
                fn_arn
                    .as_deref()
                    .is_none_or(|a| m.config.function_arn.starts_with(a))
            })
            .map(|m| m.config.clone())
            .collect())
    }

    /// UpdateEventSourceMapping (enable/disable, batch size, window, retry settings).
    pub fn update_event_source_mapping(
        &self,
        uuid: &str,
        req: CreateEventSourceMapping,
    ) -> Result<EventSourceMappingConfiguration> {
        let mut maps = self.state.mappings.lock();
        let m = maps
            .get_mut(uuid)
            .filter(|m| !m.deleted)
            .ok_or_else(|| not_found(uuid))?;
        if let Some(b) = req.batch_size {
            m.config.batch_size = validate_range(b, "batchSize", 1, 10000)?;
        }
        if let Some(w) = req.maximum_batching_window_in_seconds {
            m.config.maximum_batching_window_in_seconds =
                validate_range(w, "maximumBatchingWindowInSeconds", 0, 300)?;
        }
        if let Some(b) = req.bisect_batch_on_function_error {
            m.config.bisect_batch_on_function_error = b;
        }
        if let Some(r) = req.maximum_retry_attempts {
            m.config.maximum_retry_attempts = r.clamp(-1, 10000);
        }
        if let Some(a) = req.maximum_record_age_in_seconds {
            m.config.maximum_record_age_in_seconds = a;
        }
        if let Some(d) = req.destination_config {
            m.config.destination_config = d;
        }
        if let Some(f) = req.filter_criteria {
            m.filters = crate::filters::CompiledFilters::compile(Some(&f))?;
            m.config.filter_criteria = Some(f).filter(|f| !f.filters.is_empty());
        }
        if let Some(t) = req.function_response_types {
            m.config.function_response_types = response_types(Some(&t))?;
        }
        if let Some(e) = req.enabled {
            m.config.state = if e { "Enabled" } else { "Disabled" }.into();
        }
        m.config.last_modified = nubis_core::clock::epoch_seconds_f64(self.now());
        Ok(m.config.clone())
    }

    /// DeleteEventSourceMapping (the poller stops at its next turn).
    pub fn delete_event_source_mapping(
        &self,
        uuid: &str,
    ) -> Result<EventSourceMappingConfiguration> {
        let mut maps = self.state.mappings.lock();
        let m = maps
            .get_mut(uuid)
            .filter(|m| !m.deleted)
            .ok_or_else(|| not_found(uuid))?;
        m.deleted = true;
        let mut out = m.config.clone();
        out.state = "Deleting".into();
        maps.remove(uuid);
        Ok(out)
    }

    fn spawn_poller(&self, uuid: String, source: Arc<dyn EventSource>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let region = self.clone();
        let guard = self.inner().async_tracker.begin();
        handle.spawn(async move {
            let _guard = guard;
            region.poll(uuid, source).await;
        });
    }

    async fn poll(&self, uuid: String, source: Arc<dyn EventSource>) {
        let clock = Arc::clone(&self.inner().env.clock);
        let tracker = self.inner().async_tracker.clone();
        let mut position: Option<String> = None;
        loop {
            let Some((cfg, start, function, filters)) =
                self.state.mappings.lock().get(&uuid).map(|m| {
                    (
                        m.config.clone(),
                        m.start.clone(),
                        m.function_name.clone(),
                        m.filters.clone(),
                    )
                })
            else {
                return;
            };
            let idle = Duration::from_millis(250);
            if cfg.state != "Enabled" {
                tracker.sleep_until(&*clock, clock.now() + idle).await;
                continue;
            }
            let mut records = match source
                .read(position.as_deref(), &start, cfg.batch_size as usize)
                .await
            {
                Ok(r) => r,
                Err(_) => {
                    tracker
                        .sleep_until(&*clock, clock.now() + Duration::from_secs(1))
                        .await;
                    continue;
                }
            };
            if records.is_empty() {
                tracker.sleep_until(&*clock, clock.now() + idle).await;
                continue;
            }
            if (records.len() as u32) < cfg.batch_size && cfg.maximum_batching_window_in_seconds > 0
            {
                // Wait out the batching window, then take what has arrived.
                tracker
                    .sleep_until(
                        &*clock,
                        clock.now()
                            + Duration::from_secs(u64::from(
                                cfg.maximum_batching_window_in_seconds,
                            )),
                    )
                    .await;
                if let Ok(more) = source
                    .read(position.as_deref(), &start, cfg.batch_size as usize)
                    .await
                {
                    records = more;
                }
            }
            let last = records.last().map(|r| r.position.clone());
            // Records no filter matches never reach the function; the mapping moves past them.
            records.retain(|r| filters.matches(&r.data));
            let ok = self
                .process_batch(&cfg, &function, records, &tracker, &*clock)
                .await;
            if let Some(m) = self.state.mappings.lock().get_mut(&uuid) {
                m.config.last_processing_result = if ok {
                    "OK".into()
                } else {
                    "PROBLEM: Function call failed".into()
                };
            }
            position = last;
        }
    }

    /// Runs one batch to completion: success, or retries (bisecting if asked) until the limits,
    /// then the on-failure destination. Returns whether every record was processed.
    async fn process_batch(
        &self,
        cfg: &EventSourceMappingConfiguration,
        function: &str,
        batch: Vec<SourceRecord>,
        tracker: &crate::asynchronous::AsyncTracker,
        clock: &dyn nubis_core::Clock,
    ) -> bool {
        let mut queue = vec![(batch, 0i64)];
        let mut all_ok = true;
        while let Some((records, attempt)) = queue.pop() {
            if records.is_empty() {
                continue;
            }
            let now = clock.now();
            let too_old = cfg.maximum_record_age_in_seconds >= 0
                && records.iter().any(|r| {
                    now.duration_since(r.created).unwrap_or_default()
                        > Duration::from_secs(cfg.maximum_record_age_in_seconds as u64)
                });
            let exhausted = cfg.maximum_retry_attempts >= 0 && attempt > cfg.maximum_retry_attempts;
            if too_old || exhausted {
                all_ok = false;
                self.discard_batch(
                    cfg,
                    &records,
                    attempt,
                    if too_old {
                        "RecordAgeExceeded"
                    } else {
                        "RetryAttemptsExhausted"
                    },
                );
                continue;
            }
            let payload =
                json!({ "Records": records.iter().map(|r| r.data.clone()).collect::<Vec<_>>() });
            let result = match self.resolve_target(function, None, true) {
                Ok(t) => {
                    self.execute(
                        &t,
                        bytes::Bytes::from(payload.to_string()),
                        Some(payload),
                        None,
                        self.inner().env.ids.uuid(),
                        false,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            let reports = cfg
                .function_response_types
                .iter()
                .any(|t| t == "ReportBatchItemFailures");
            let result = match result {
                Ok(r) if reports && !r.function_error => {
                    match first_failure(&r.payload, &records) {
                        Ok(None) => Ok(r),
                        Ok(Some(i)) => {
                            // Records before the earliest reported failure are done; the rest are
                            // retried as the next attempt.
                            tracker
                                .sleep_until(clock, clock.now() + Duration::from_secs(1))
                                .await;
                            queue.push((records[i..].to_vec(), attempt + 1));
                            continue;
                        }
                        Err(()) => Ok(crate::invoke::Executed {
                            function_error: true,
                            ..r
                        }),
                    }
                }
                other => other,
            };
            match result {
                Ok(r) if !r.function_error => {}
                Ok(_) if cfg.bisect_batch_on_function_error && records.len() > 1 => {
                    let mut left = records;
                    let right = left.split_off(left.len() / 2);
                    queue.push((right, attempt + 1));
                    queue.push((left, attempt + 1));
                }
                Ok(_) | Err(LambdaError::TooManyRequests { .. }) => {
                    tracker
                        .sleep_until(clock, clock.now() + Duration::from_secs(1))
                        .await;
                    queue.push((records, attempt + 1));
                }
                Err(_) => {
                    all_ok = false;
                    self.discard_batch(cfg, &records, attempt, "RetryAttemptsExhausted");
                }
            }
        }
        all_ok
    }

    fn discard_batch(
        &self,
        cfg: &EventSourceMappingConfiguration,
        records: &[SourceRecord],
        attempts: i64,
        condition: &str,
    ) {
        let Some(dest) = cfg
            .destination_config
            .on_failure
            .as_ref()
            .and_then(|d| d.destination.clone())
        else {
            return;
        };
        let body = json!({
            "requestContext": {
                "requestId": self.inner().env.ids.uuid(),
                "functionArn": cfg.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts + 1,
            },
            "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
            "version": "1.0",
            "timestamp": crate::invoke::rfc3339(self.now()),
            "BatchInfo": {
                "startPosition": records.first().map(|r| r.position.clone()),
                "endPosition": records.last().map(|r| r.position.clone()),
                "batchSize": records.len(),
                "eventSourceArn": cfg.event_source_arn,
            },
        });
        let sink = self
            .inner()
            .hooks
            .read()
            .destinations
            .clone()
            .unwrap_or_else(|| {
                Arc::clone(&self.inner().recorded) as Arc<dyn crate::hooks::DestinationSink>
            });
        let _ = sink.deliver(Delivery {
            kind: DeliveryKind::OnFailure,
            target_arn: dest,
            body,
            attributes: BTreeMap::new(),
        });
    }
}
