//! Invoke: payload checks, the three invocation types, and one invocation's run through an
//! execution environment — cold start, timeout on the clock, START/END/REPORT log lines,
//! `LogType: Tail`, and GB-second metering.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use nubis_core::{UsageRecord, UsageUnit};
use serde_json::Value;

use crate::engine::{FunctionEntry, LambdaRegion, VersionData};
use crate::environment::{self, ExecEnv, Invocation, RunOutcome, Runner};
use crate::error::{LambdaError, Result};
use crate::handler::{Context, HandlerError};
use crate::logs::log_group_name;
use crate::runtime::HandlerKind;

/// Largest synchronous request and response payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Largest asynchronous request payload (256 KB).
pub const MAX_ASYNC_PAYLOAD: usize = 262_144;
/// How much of an invocation's log `LogType: Tail` returns.
pub const TAIL_BYTES: usize = 4096;

/// How to invoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationType {
    /// Run and wait for the response.
    #[default]
    RequestResponse,
    /// Queue the event and answer 202 at once.
    Event,
    /// Check the request and the caller's access; run nothing.
    DryRun,
}

impl InvocationType {
    /// Parses `X-Amz-Invocation-Type`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "RequestResponse" => Ok(InvocationType::RequestResponse),
            "Event" => Ok(InvocationType::Event),
            "DryRun" => Ok(InvocationType::DryRun),
            _ => Err(LambdaError::validation(
                s,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )),
        }
    }
}

/// Whether to return the tail of the execution log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogType {
    /// No log.
    #[default]
    None,
    /// The last 4 KB, base64 (synchronous invocations only).
    Tail,
}

impl LogType {
    /// Parses `X-Amz-Log-Type`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "None" => Ok(LogType::None),
            "Tail" => Ok(LogType::Tail),
            _ => Err(LambdaError::validation(
                s,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            )),
        }
    }
}

/// An Invoke request.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    /// Name or ARN, optionally with `:qualifier`.
    pub function_name: String,
    /// Version or alias.
    pub qualifier: Option<String>,
    /// RequestResponse, Event or DryRun.
    pub invocation_type: InvocationType,
    /// None or Tail.
    pub log_type: LogType,
    /// The event (JSON; empty means `{}`).
    pub payload: Bytes,
    /// Base64 JSON client context.
    pub client_context: Option<String>,
}

impl InvokeRequest {
    /// A synchronous invocation of `function_name` with a raw payload.
    pub fn new(function_name: &str, payload: impl Into<Bytes>) -> Self {
        InvokeRequest {
            function_name: function_name.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }

    /// A synchronous invocation with a JSON event.
    pub fn json(function_name: &str, event: &Value) -> Self {
        InvokeRequest::new(function_name, event.to_string())
    }

    /// The same request with another invocation type.
    pub fn invocation_type(mut self, t: InvocationType) -> Self {
        self.invocation_type = t;
        self
    }

    /// The same request with `LogType: Tail`.
    pub fn tail(mut self) -> Self {
        self.log_type = LogType::Tail;
        self
    }

    /// The same request with a qualifier.
    pub fn qualifier(mut self, q: &str) -> Self {
        self.qualifier = Some(q.into());
        self
    }
}

/// An Invoke response.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeOutput {
    /// 200 (RequestResponse), 202 (Event) or 204 (DryRun).
    pub status_code: u16,
    /// The response or error payload.
    pub payload: Bytes,
    /// `Unhandled` when the function failed.
    pub function_error: Option<String>,
    /// Base64 of the last 4 KB of the log (LogType Tail).
    pub log_result: Option<String>,
    /// The version that ran (`X-Amz-Executed-Version`).
    pub executed_version: Option<String>,
    /// The request id.
    pub request_id: String,
}

impl InvokeOutput {
    /// The payload as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// The decoded log tail.
    pub fn log_tail(&self) -> Option<String> {
        let raw = STANDARD.decode(self.log_result.as_deref()?).ok()?;
        Some(String::from_utf8_lossy(&raw).into_owned())
    }
}

/// A resolved invocation target.
pub(crate) struct Target {
    pub(crate) entry: Arc<FunctionEntry>,
    pub(crate) version: Arc<VersionData>,
    pub(crate) executed_version: String,
    pub(crate) invoked_arn: String,
}

/// Checks a payload against `limit` and parses it as JSON.
pub(crate) fn check_payload(payload: &Bytes, limit: usize) -> Result<Value> {
    if payload.len() > limit {
        return Err(LambdaError::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )));
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(payload).map_err(|e| {
        LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))
    })
}

/// The result of one run of a function.
pub(crate) struct Executed {
    pub(crate) payload: Bytes,
    pub(crate) function_error: bool,
    pub(crate) log_tail: Option<String>,
    pub(crate) request_id: String,
}

impl LambdaRegion {
    /// Invokes a function.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeOutput> {
        let target = self.resolve_target(&req.function_name, req.qualifier.as_deref(), true)?;
        let request_id = self.inner().env.ids.uuid();
        match req.invocation_type {
            InvocationType::DryRun => {
                check_payload(&req.payload, MAX_SYNC_PAYLOAD)?;
                Ok(InvokeOutput {
                    status_code: 204,
                    payload: Bytes::new(),
                    function_error: None,
                    log_result: None,
                    executed_version: Some(target.executed_version),
                    request_id,
                })
            }
            InvocationType::Event => {
                let event = check_payload(&req.payload, MAX_ASYNC_PAYLOAD)?;
                self.enqueue_async(target, req.payload, event, request_id.clone());
                Ok(InvokeOutput {
                    status_code: 202,
                    payload: Bytes::new(),
                    function_error: None,
                    log_result: None,
                    executed_version: None,
                    request_id,
                })
            }
            InvocationType::RequestResponse => {
                let event = check_payload(&req.payload, MAX_SYNC_PAYLOAD)?;
                let tail = req.log_type == LogType::Tail;
                let executed_version = target.executed_version.clone();
                let r = self
                    .execute(
                        &target,
                        req.payload,
                        Some(event),
                        req.client_context,
                        request_id,
                        tail,
                    )
                    .await?;
                Ok(InvokeOutput {
                    status_code: 200,
                    payload: r.payload,
                    function_error: r.function_error.then(|| "Unhandled".to_owned()),
                    log_result: r.log_tail,
                    executed_version: Some(executed_version),
                    request_id: r.request_id,
                })
            }
        }
    }

    /// Runs one invocation of `target` (throttling with `TooManyRequestsException`).
    pub(crate) async fn execute(
        &self,
        target: &Target,
        payload: Bytes,
        event: Option<Value>,
        client_context: Option<String>,
        request_id: String,
        tail: bool,
    ) -> Result<Executed> {
        let permit = environment::acquire(&self.state, &target.entry)?;
        let inner = self.inner();
        let clock = &inner.env.clock;
        let v = &target.version;
        let cfg = &v.config;
        let group = log_group_name(&cfg.function_name);
        let started = clock.now();
        let mut lines: Vec<String> = Vec::with_capacity(4);
        let mut init_duration = None;

        let idle = inner.config.idle_timeout;
        let env = match environment::take_idle(
            &target.entry,
            &cfg.version,
            &cfg.revision_id,
            started,
            idle,
        ) {
            Some(env) => Ok(env),
            None => {
                let r = self.start_env(v, false).await;
                let init = clock.now().duration_since(started).unwrap_or_default();
                init_duration = Some(init);
                r.map_err(|f| (f, init))
            }
        };
        let mut env = match env {
            Ok(env) => env,
            Err((failure, init)) => {
                // The init phase failed: the invocation reports the init error.
                let stream = failure.stream.clone();
                lines.extend(failure.lines);
                lines.push(format!(
                    "START RequestId: {request_id} Version: {}",
                    cfg.version
                ));
                lines.push(format!("END RequestId: {request_id}"));
                lines.push(report_line(
                    &request_id,
                    Duration::ZERO,
                    Duration::ZERO,
                    cfg.memory_size,
                    0,
                    Some(init),
                ));
                drop(permit);
                return Ok(self.finish(
                    target,
                    &group,
                    &stream,
                    lines,
                    failure.payload,
                    true,
                    request_id,
                    tail,
                    Duration::ZERO,
                ));
            }
        };

        let invoke_start = clock.now();
        let deadline = invoke_start + Duration::from_secs(u64::from(cfg.timeout));
        let sink = environment::new_sink();
        let context = Context {
            request_id: request_id.clone(),
            function_name: cfg.function_name.clone(),
            function_version: cfg.version.clone(),
            invoked_function_arn: target.invoked_arn.clone(),
            memory_limit_in_mb: cfg.memory_size,
            deadline,
            client_context,
            log_group_name: group.clone(),
            log_stream_name: env.stream.clone(),
            env: Arc::clone(&v.env_vars),
            clock: Arc::clone(clock),
            log: sink.clone(),
        };
        if let Some(pending) = env_init_lines(&mut env) {
            lines.extend(pending);
        }
        lines.push(format!(
            "START RequestId: {request_id} Version: {}",
            cfg.version
        ));
        let payload_len = payload.len();
        let (outcome, max_mem) = env
            .run(Invocation {
                request_id: request_id.clone(),
                payload,
                event,
                deadline,
                context,
            })
            .await;
        let ended = clock.now();
        let duration = ended.duration_since(invoke_start).unwrap_or_default();
        lines.extend(sink.take());
        lines.extend(env_output(&mut env));

        let (response, failed, keep) = match outcome {
            RunOutcome::Response(body) if body.len() > MAX_SYNC_PAYLOAD => {
                let e = HandlerError::new(
                    "Function.ResponseSizeTooLarge",
                    format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes)."
                    ),
                );
                (Bytes::from(e.to_payload().to_string()), true, true)
            }
            RunOutcome::Response(body) => (body, false, true),
            RunOutcome::Error { payload, fatal } => (payload, true, !fatal),
            RunOutcome::Timeout => {
                let secs = format!("{:.2}", duration.as_secs_f64());
                lines.push(format!(
                    "{} {request_id} Task timed out after {secs} seconds",
                    nubis_core::clock::to_rfc3339(ended)
                ));
                let e = HandlerError::new(
                    "Sandbox.Timedout",
                    format!("RequestId: {request_id} Error: Task timed out after {secs} seconds"),
                );
                (Bytes::from(e.to_payload().to_string()), true, false)
            }
        };
        lines.push(format!("END RequestId: {request_id}"));
        // Custom runtimes are billed for their init phase too.
        let billed_base = if v.kind == HandlerKind::Bootstrap {
            duration + init_duration.unwrap_or_default()
        } else {
            duration
        };
        let used_mb = max_mem
            .unwrap_or_else(|| (((payload_len + response.len()) as u64).div_ceil(1 << 20)).max(1))
            .min(u64::from(cfg.memory_size));
        lines.push(report_line(
            &request_id,
            duration,
            billed_base,
            cfg.memory_size,
            used_mb,
            init_duration,
        ));
        let stream = env.stream.clone();
        if keep {
            env.last_used = ended;
            environment::put_back(&target.entry, &cfg.version, env);
        }
        drop(permit);
        Ok(self.finish(
            target,
            &group,
            &stream,
            lines,
            response,
            failed,
            request_id,
            tail,
            billed_base,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        target: &Target,
        group: &str,
        stream: &str,
        lines: Vec<String>,
        payload: Bytes,
        failed: bool,
        request_id: String,
        tail: bool,
        billed: Duration,
    ) -> Executed {
        let inner = self.inner();
        let now = inner.env.clock.now();
        let log_tail = tail.then(|| {
            let mut text = lines.join("\n");
            text.push('\n');
            let b = text.as_bytes();
            STANDARD.encode(&b[b.len().saturating_sub(TAIL_BYTES)..])
        });
        self.state.logs.append(group, stream, now, lines);
        let cfg = &target.version.config;
        let billed_ms = billed.as_millis().max(1) as f64;
        let region = self.state.region.as_str().to_owned();
        inner.env.meter.record(UsageRecord {
            service: "lambda",
            region: region.clone(),
            resource: target.entry.arn.clone(),
            unit: UsageUnit::GbSeconds,
            quantity: f64::from(cfg.memory_size) / 1024.0 * billed_ms / 1000.0,
            at: now,
        });
        inner.env.meter.record(UsageRecord {
            service: "lambda",
            region,
            resource: target.entry.arn.clone(),
            unit: UsageUnit::Requests,
            quantity: 1.0,
            at: now,
        });
        Executed {
            payload,
            function_error: failed,
            log_tail,
            request_id,
        }
    }

    /// Starts an execution environment for `v` (the init phase).
    pub(crate) async fn start_env(
        &self,
        v: &VersionData,
        provisioned: bool,
    ) -> Result<ExecEnv, InitFailure> {
        let inner = self.inner();
        let now = inner.env.clock.now();
        let stream = environment::stream_name(now, &v.config.version, &inner.env.ids);
        let fail = |error_type: &str, message: String, stream: String| InitFailure {
            payload: Bytes::from(
                HandlerError::new(error_type, message)
                    .to_payload()
                    .to_string(),
            ),
            lines: Vec::new(),
            stream,
        };
        match &v.kind {
            HandlerKind::InProcess(name) => match inner.handlers.read().get(name) {
                Some(h) => Ok(ExecEnv {
                    stream,
                    runner: Runner::InProcess(Arc::clone(h)),
                    last_used: now,
                    provisioned,
                    revision: v.config.revision_id.clone(),
                }),
                None => Err(fail(
                    "Runtime.HandlerNotFound",
                    format!("{} is undefined or not exported", v.config.handler.as_deref().unwrap_or_default()),
                    stream,
                )),
            },
            #[cfg(feature = "process")]
            HandlerKind::Bootstrap | HandlerKind::Python => crate::process::start(self, v, stream, provisioned).await,
            #[cfg(not(feature = "process"))]
            HandlerKind::Bootstrap | HandlerKind::Python => Err(fail(
                "Runtime.Unavailable",
                "This build of nubis-lambda has no `process` feature: only in-process (nubis:) handlers run".into(),
                stream,
            )),
            HandlerKind::Unavailable => Err(fail(
                "Runtime.Unavailable",
                format!(
                    "Nubis has no {} runtime: run provided.al2023/provided.al2 (bootstrap), python3.x (awslambdaric) or an in-process nubis: handler",
                    v.config.runtime.as_deref().unwrap_or("image")
                ),
                stream,
            )),
        }
    }
}

/// Why an environment could not start.
pub(crate) struct InitFailure {
    pub(crate) payload: Bytes,
    pub(crate) lines: Vec<String>,
    pub(crate) stream: String,
}

/// Log lines the environment wrote during its init phase, not yet attributed.
fn env_init_lines(env: &mut ExecEnv) -> Option<Vec<String>> {
    match &mut env.runner {
        Runner::InProcess(_) => None,
        #[cfg(feature = "process")]
        Runner::Process(p) => Some(p.take_output()),
    }
}

fn env_output(env: &mut ExecEnv) -> Vec<String> {
    env_init_lines(env).unwrap_or_default()
}

/// The REPORT line.
pub(crate) fn report_line(
    request_id: &str,
    duration: Duration,
    billed: Duration,
    memory: u32,
    used_mb: u64,
    init: Option<Duration>,
) -> String {
    let billed_ms = (billed.as_nanos().div_ceil(1_000_000)).max(1);
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {billed_ms} ms\tMemory Size: {memory} MB\tMax Memory Used: {used_mb} MB\t",
        duration.as_secs_f64() * 1000.0
    );
    if let Some(init) = init {
        s.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    s
}

/// Seconds since the epoch for the clock's now (for records).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    nubis_core::clock::to_rfc3339(t)
}
