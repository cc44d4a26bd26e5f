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
use crate::logs::{Line, Report, RequestId};
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
    pub(crate) executed_version: Arc<str>,
    pub(crate) invoked_arn: Arc<str>,
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

/// Checks a payload against `limit` and that it is JSON, without building a value.
pub(crate) fn check_json(payload: &Bytes, limit: usize) -> Result<()> {
    if payload.len() > limit {
        return Err(LambdaError::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )));
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(payload)
        .map(|_| ())
        .map_err(|e| {
            LambdaError::InvalidRequestContent(format!(
                "Could not parse request body into json: Could not parse payload into json: {e}"
            ))
        })
}

/// A version-4 UUID from two draws of `ids` — the same text `IdGen::uuid` makes from the same
/// draws, written without the formatting machinery (it is on every invocation's path).
pub(crate) fn uuid(ids: &nubis_core::IdGen) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&ids.next_u64().to_be_bytes());
    b[8..].copy_from_slice(&ids.next_u64().to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(byte >> 4)];
        out[at + 1] = HEX[usize::from(byte & 15)];
        at += 2;
    }
    // Hex digits and dashes: always UTF-8.
    String::from(std::str::from_utf8(&out).unwrap_or_default())
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
        let request_id = uuid(&self.inner().env.ids);
        match req.invocation_type {
            InvocationType::DryRun => {
                check_payload(&req.payload, MAX_SYNC_PAYLOAD)?;
                Ok(InvokeOutput {
                    status_code: 204,
                    payload: Bytes::new(),
                    function_error: None,
                    log_result: None,
                    executed_version: Some(String::from(&*target.executed_version)),
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
                // Only an in-process handler needs the event as a JSON value; a process gets the
                // bytes, so for it the payload is only checked to be JSON.
                let event = if matches!(target.version.kind, HandlerKind::InProcess(_)) {
                    Some(check_payload(&req.payload, MAX_SYNC_PAYLOAD)?)
                } else {
                    check_json(&req.payload, MAX_SYNC_PAYLOAD)?;
                    None
                };
                let tail = req.log_type == LogType::Tail;
                let r = self
                    .execute(
                        &target,
                        req.payload,
                        event,
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
                    executed_version: Some(String::from(&*target.executed_version)),
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
        let rid = RequestId::new(&request_id);
        let started = clock.now();
        let mut lines: Vec<Line> = Vec::new();
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
            Ok(mut env) => {
                // The environment's buffer (empty, with its capacity) holds this invocation's log.
                lines = std::mem::take(&mut env.log_buf);
                env
            }
            Err((failure, init)) => {
                // The init phase failed: the invocation reports the init error.
                let stream = Arc::clone(&failure.stream);
                lines.extend(failure.lines.into_iter().map(Line::Text));
                lines.push(Line::Start {
                    request_id: rid.clone(),
                    version: Arc::clone(&v.version_name),
                });
                lines.push(Line::End {
                    request_id: rid.clone(),
                });
                lines.push(Line::Report(Report {
                    request_id: rid,
                    duration: Duration::ZERO,
                    billed: Duration::ZERO,
                    memory_mb: cfg.memory_size,
                    used_mb: 0,
                    init: Some(init),
                }));
                drop(permit);
                let now = clock.now();
                let log_tail = self.write_log(target, &stream, &mut lines, tail, now);
                self.meter(target, Duration::ZERO, now);
                return Ok(Executed {
                    payload: failure.payload,
                    function_error: true,
                    log_tail,
                    request_id,
                });
            }
        };

        // A warm start read the clock a moment ago; only an init phase moved it on.
        let invoke_start = if init_duration.is_some() {
            clock.now()
        } else {
            started
        };
        let deadline = invoke_start + Duration::from_secs(u64::from(cfg.timeout));
        let context = Context {
            request_id: request_id.clone(),
            function_name: Arc::clone(&target.entry.name),
            function_version: Arc::clone(&v.version_name),
            invoked_function_arn: Arc::clone(&target.invoked_arn),
            memory_limit_in_mb: cfg.memory_size,
            deadline,
            client_context,
            log_group_name: Arc::clone(&target.entry.group),
            log_stream_name: Arc::clone(&env.stream),
            env: Arc::clone(&v.env_vars),
            clock: Arc::clone(clock),
            log: env.sink.clone(),
        };
        // Output the environment wrote since its last invocation (its init phase, or background
        // work after the last response) comes first.
        env.take_output(&mut lines);
        lines.push(Line::Start {
            request_id: rid.clone(),
            version: Arc::clone(&v.version_name),
        });
        let payload_len = payload.len();
        let (outcome, max_mem) = env
            .run(Invocation {
                request_id: rid.clone(),
                payload,
                event,
                deadline,
                context,
            })
            .await;
        let ended = clock.now();
        let duration = ended.duration_since(invoke_start).unwrap_or_default();
        env.take_output(&mut lines);

        let (response, failed, keep) = match outcome {
            RunOutcome::Response(body) if body.len() > MAX_SYNC_PAYLOAD => {
                let e = HandlerError::new(
                    "Function.ResponseSizeTooLarge",
                    format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes)."
                    ),
                );
                (environment::error_bytes(&e), true, true)
            }
            RunOutcome::Response(body) => (body, false, true),
            RunOutcome::Error { payload, fatal } => (payload, true, !fatal),
            RunOutcome::Timeout => {
                let secs = format!("{:.2}", duration.as_secs_f64());
                lines.push(Line::Text(format!(
                    "{} {request_id} Task timed out after {secs} seconds",
                    nubis_core::clock::to_rfc3339(ended)
                )));
                let e = HandlerError::new(
                    "Sandbox.Timedout",
                    format!("RequestId: {request_id} Error: Task timed out after {secs} seconds"),
                );
                (environment::error_bytes(&e), true, false)
            }
        };
        lines.push(Line::End {
            request_id: rid.clone(),
        });
        // Custom runtimes are billed for their init phase too.
        let billed_base = if v.kind == HandlerKind::Bootstrap {
            duration + init_duration.unwrap_or_default()
        } else {
            duration
        };
        let used_mb = max_mem
            .unwrap_or_else(|| (((payload_len + response.len()) as u64).div_ceil(1 << 20)).max(1))
            .min(u64::from(cfg.memory_size));
        lines.push(Line::Report(Report {
            request_id: rid,
            duration,
            billed: billed_base,
            memory_mb: cfg.memory_size,
            used_mb,
            init: init_duration,
        }));
        let log_tail = self.write_log(target, &env.stream, &mut lines, tail, ended);
        env.log_buf = lines;
        if keep {
            env.last_used = ended;
            environment::put_back(&target.entry, &cfg.version, env);
        } else {
            self.lost_environment(target, env);
        }
        drop(permit);
        self.meter(target, billed_base, ended);
        Ok(Executed {
            payload: response,
            function_error: failed,
            log_tail,
            request_id,
        })
    }

    /// Moves an invocation's lines to the function's log (leaving `lines` empty, with its
    /// capacity) and returns the base64 tail when `LogType: Tail` asked for it.
    fn write_log(
        &self,
        target: &Target,
        stream: &Arc<str>,
        lines: &mut Vec<Line>,
        tail: bool,
        now: SystemTime,
    ) -> Option<String> {
        let log_tail = tail.then(|| {
            let mut text = String::with_capacity(256);
            for l in lines.iter() {
                l.write_to(&mut text);
                text.push('\n');
            }
            let b = text.as_bytes();
            STANDARD.encode(&b[b.len().saturating_sub(TAIL_BYTES)..])
        });
        self.state
            .logs
            .append(&target.entry.group, stream, now, lines.drain(..));
        log_tail
    }

    /// Meters one invocation: its GB-seconds and one request. The region and ARN are shared
    /// strings held by the region and function, so recording allocates nothing.
    fn meter(&self, target: &Target, billed: Duration, now: SystemTime) {
        let inner = self.inner();
        let cfg = &target.version.config;
        let billed_ms = billed.as_millis().max(1) as f64;
        inner.env.meter.record(UsageRecord {
            service: "lambda",
            region: Arc::clone(&self.state.region_name),
            resource: Arc::clone(&target.entry.arn),
            unit: UsageUnit::GbSeconds,
            quantity: f64::from(cfg.memory_size) / 1024.0 * billed_ms / 1000.0,
            at: now,
        });
        inner.env.meter.record(UsageRecord {
            service: "lambda",
            region: Arc::clone(&self.state.region_name),
            resource: Arc::clone(&target.entry.arn),
            unit: UsageUnit::Requests,
            quantity: 1.0,
            at: now,
        });
    }

    /// An environment that cannot serve again (crash, timeout) is dropped; a provisioned one is
    /// replaced in the background so the configured number stays ready, as Lambda does.
    fn lost_environment(&self, target: &Target, env: ExecEnv) {
        let provisioned = env.provisioned;
        drop(env);
        if provisioned {
            self.replace_provisioned(target);
        }
    }

    /// Starts an execution environment for `v` (the init phase). An on-demand environment whose
    /// init fails or passes the init limit gets a second init inside the invocation, bounded by
    /// the function's timeout (Lambda's "suppressed init"); the first attempt's lines stay in
    /// the log.
    pub(crate) async fn start_env(
        &self,
        v: &VersionData,
        provisioned: bool,
    ) -> Result<ExecEnv, InitFailure> {
        let inner = self.inner();
        let now = inner.env.clock.now();
        let stream: Arc<str> =
            environment::stream_name(now, &v.config.version, &inner.env.ids).into();
        let timeout = Duration::from_secs(u64::from(v.config.timeout));
        let limit = if provisioned {
            timeout.max(Duration::from_secs(130))
        } else {
            inner.config.init_timeout
        };
        let first = self
            .start_env_once(v, Arc::clone(&stream), provisioned, false, limit)
            .await;
        match first {
            Err(f) if f.retryable && !provisioned => {
                match self
                    .start_env_once(v, stream, provisioned, true, timeout)
                    .await
                {
                    Ok(env) => {
                        for l in f.lines {
                            env.sink.push(l);
                        }
                        Ok(env)
                    }
                    Err(mut again) => {
                        let mut lines = f.lines;
                        lines.append(&mut again.lines);
                        again.lines = lines;
                        Err(again)
                    }
                }
            }
            r => r,
        }
    }

    async fn start_env_once(
        &self,
        v: &VersionData,
        stream: Arc<str>,
        provisioned: bool,
        retry: bool,
        limit: Duration,
    ) -> Result<ExecEnv, InitFailure> {
        let inner = self.inner();
        let now = inner.env.clock.now();
        #[cfg(not(feature = "process"))]
        let _ = (retry, limit);
        let fail = |error_type: &str, message: String, stream: Arc<str>| InitFailure {
            payload: Bytes::from(
                HandlerError::new(error_type, message)
                    .to_payload()
                    .to_string(),
            ),
            lines: Vec::new(),
            stream,
            retryable: false,
        };
        match &v.kind {
            HandlerKind::InProcess(name) => match inner.handlers.read().get(name) {
                Some(h) => Ok(ExecEnv {
                    stream,
                    sink: Default::default(),
                    runner: Runner::InProcess(Arc::clone(h)),
                    last_used: now,
                    provisioned,
                    revision: v.config.revision_id.clone(),
                    log_buf: Vec::new(),
                }),
                None => Err(fail(
                    "Runtime.HandlerNotFound",
                    format!("{} is undefined or not exported", v.config.handler.as_deref().unwrap_or_default()),
                    stream,
                )),
            },
            #[cfg(feature = "process")]
            HandlerKind::Bootstrap | HandlerKind::Python => {
                let phase = crate::process::InitPhase { provisioned, retry, limit };
                crate::process::start(self, v, stream, phase).await
            }
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
    pub(crate) stream: Arc<str>,
    /// Whether the function's own code failed (a crash, an init error, a timeout), so that a
    /// second init might succeed; not when the package or runtime is missing.
    pub(crate) retryable: bool,
}

/// Seconds since the epoch for the clock's now (for records).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    nubis_core::clock::to_rfc3339(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_matches_idgen() {
        let a = nubis_core::IdGen::new(42);
        let b = nubis_core::IdGen::new(42);
        for _ in 0..100 {
            assert_eq!(super::uuid(&a), b.uuid());
        }
    }
}
