//! Execution environments and concurrency.
//!
//! An execution environment runs one function version's code: an in-process handler or a child
//! process. It serves one request at a time — an environment is moved out of its function's idle
//! pool for the length of an invocation and moved back afterwards — and is reclaimed after
//! [`crate::LambdaConfig::idle_timeout`] without use (provisioned environments excepted).
//!
//! Concurrency follows AWS: a function with reserved concurrency runs at most that many requests
//! at once and draws on no shared capacity; every other function shares the unreserved pool
//! (the account limit minus all reservations). A request that finds no capacity is throttled with
//! `TooManyRequestsException` and its reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::Value;

use crate::engine::{FunctionEntry, RegionState};
use crate::error::{LambdaError, Result, ThrottleReason};
use crate::handler::{Context, Handler, HandlerError, LogSink};
use crate::logs::Line;

/// AWS's minimum of unreserved concurrency that reservations must leave.
pub const MIN_UNRESERVED: u32 = 100;

/// Account-level concurrency of one region.
#[derive(Debug)]
pub(crate) struct Concurrency {
    pub(crate) limit: u32,
    pub(crate) unreserved_in_use: AtomicU32,
    /// Sum of every function's reserved concurrency (changed under the functions lock).
    pub(crate) reserved_total: AtomicU32,
}

impl Concurrency {
    pub(crate) fn new(limit: u32) -> Self {
        Concurrency {
            limit,
            unreserved_in_use: AtomicU32::new(0),
            reserved_total: AtomicU32::new(0),
        }
    }

    /// The size of the shared pool.
    pub(crate) fn unreserved_capacity(&self) -> u32 {
        self.limit
            .saturating_sub(self.reserved_total.load(Ordering::Acquire))
    }
}

/// One unit of concurrency, held for the length of an invocation.
pub(crate) struct Permit<'a> {
    entry: &'a FunctionEntry,
    region: &'a RegionState,
    unreserved: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.entry.in_flight.fetch_sub(1, Ordering::AcqRel);
        if self.unreserved {
            self.region
                .concurrency
                .unreserved_in_use
                .fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Takes one unit of concurrency for `entry`, or says why not.
pub(crate) fn acquire<'a>(region: &'a RegionState, entry: &'a FunctionEntry) -> Result<Permit<'a>> {
    let throttled = |reason| LambdaError::TooManyRequests {
        reason,
        retry_after_seconds: 1,
    };
    match entry.reserved() {
        Some(reserved) => {
            let prev = entry.in_flight.fetch_add(1, Ordering::AcqRel);
            if prev >= reserved {
                entry.in_flight.fetch_sub(1, Ordering::AcqRel);
                return Err(throttled(
                    ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded,
                ));
            }
            Ok(Permit {
                entry,
                region,
                unreserved: false,
            })
        }
        None => {
            let c = &region.concurrency;
            let prev = c.unreserved_in_use.fetch_add(1, Ordering::AcqRel);
            if prev >= c.unreserved_capacity() {
                c.unreserved_in_use.fetch_sub(1, Ordering::AcqRel);
                return Err(throttled(ThrottleReason::ConcurrentInvocationLimitExceeded));
            }
            entry.in_flight.fetch_add(1, Ordering::AcqRel);
            Ok(Permit {
                entry,
                region,
                unreserved: true,
            })
        }
    }
}

/// What runs a function's code in an environment.
pub(crate) enum Runner {
    /// A registered Rust handler.
    InProcess(Arc<dyn Handler>),
    /// A child process behind its own Runtime API listener.
    #[cfg(feature = "process")]
    Process(crate::process::ProcessEnv),
}

/// An execution environment.
pub(crate) struct ExecEnv {
    /// Its log stream.
    pub(crate) stream: Arc<str>,
    /// Where in-process handlers' `Context::log` lines go; shared by the environment's
    /// invocations, as a process's stdout is (a line logged after an invocation ended shows up
    /// in the next one, as it would in AWS).
    pub(crate) sink: LogSink,
    pub(crate) runner: Runner,
    pub(crate) last_used: SystemTime,
    pub(crate) provisioned: bool,
    /// The revision of the version it was created for (a stale `$LATEST` environment is dropped).
    pub(crate) revision: String,
    /// An invocation's log lines are gathered here and moved to the log store; the buffer keeps
    /// its capacity, so a warm invocation allocates nothing for its log.
    pub(crate) log_buf: Vec<Line>,
}

/// What one invocation in an environment produced.
#[derive(Debug)]
pub(crate) enum RunOutcome {
    /// The function's response payload.
    Response(Bytes),
    /// The function failed; `fatal` when the environment cannot be reused (crash).
    Error { payload: Bytes, fatal: bool },
    /// The deadline passed; the environment has been stopped.
    Timeout,
}

/// The per-invocation facts a runner needs.
pub(crate) struct Invocation {
    /// Inline: the context holds the owned copy the handler gets.
    pub(crate) request_id: crate::logs::RequestId,
    pub(crate) payload: Bytes,
    pub(crate) event: Option<Value>,
    pub(crate) deadline: SystemTime,
    pub(crate) context: Context,
}

impl ExecEnv {
    /// Whether the environment can still serve (a process may have died while idle).
    pub(crate) fn alive(&self) -> bool {
        match &self.runner {
            Runner::InProcess(_) => true,
            #[cfg(feature = "process")]
            Runner::Process(p) => p.alive(),
        }
    }

    /// Moves the lines the environment has written since the last call into `lines`.
    pub(crate) fn take_output(&mut self, lines: &mut Vec<Line>) {
        self.sink.drain_into(lines);
        #[cfg(feature = "process")]
        if let Runner::Process(p) = &mut self.runner {
            p.take_output(lines);
        }
    }

    /// Runs one invocation; returns its outcome and the peak memory in MB, if measurable.
    pub(crate) async fn run(&mut self, inv: Invocation) -> (RunOutcome, Option<u64>) {
        match &mut self.runner {
            Runner::InProcess(handler) => {
                let clock = Arc::clone(&inv.context.clock);
                let event = inv
                    .event
                    .unwrap_or_else(|| serde_json::from_slice(&inv.payload).unwrap_or(Value::Null));
                let fut = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
                    handler.call(event, inv.context),
                ));
                let mut fut = std::pin::pin!(fut);
                // Most handlers finish on their first poll: only a handler that has to wait gets
                // a deadline timer (the outcome is the same as racing the two from the start,
                // since the deadline is at least a second away when the invocation begins).
                let first =
                    std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
                let result = match first {
                    std::task::Poll::Ready(r) => Some(r),
                    std::task::Poll::Pending => {
                        let sleep = clock.sleep_until(inv.deadline);
                        tokio::select! {
                            biased;
                            r = &mut fut => Some(r),
                            _ = sleep => None,
                        }
                    }
                };
                let outcome = match result {
                    Some(Ok(Ok(v))) => match serde_json::to_vec(&v) {
                        Ok(body) => RunOutcome::Response(Bytes::from(body)),
                        Err(e) => RunOutcome::Error {
                            payload: error_bytes(&HandlerError::new(
                                "Runtime.MarshalError",
                                e.to_string(),
                            )),
                            fatal: false,
                        },
                    },
                    Some(Ok(Err(e))) => RunOutcome::Error {
                        payload: error_bytes(&e),
                        fatal: false,
                    },
                    Some(Err(panic)) => {
                        let msg = panic_message(&panic);
                        let e = HandlerError::new(
                            "Runtime.ExitError",
                            format!(
                                "RequestId: {} Error: Runtime exited with error: panic: {msg}",
                                inv.request_id
                            ),
                        );
                        RunOutcome::Error {
                            payload: error_bytes(&e),
                            fatal: true,
                        }
                    }
                    None => RunOutcome::Timeout,
                };
                (outcome, None)
            }
            #[cfg(feature = "process")]
            Runner::Process(p) => p.run(inv).await,
        }
    }
}

/// The error payload of `e` as bytes.
pub(crate) fn error_bytes(e: &HandlerError) -> Bytes {
    Bytes::from(e.to_payload().to_string())
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Takes the most recently used idle environment of `version` at `revision`, dropping stale and
/// expired ones on the way.
pub(crate) fn take_idle(
    entry: &FunctionEntry,
    version: &str,
    revision: &str,
    now: SystemTime,
    idle: Duration,
) -> Option<ExecEnv> {
    let mut pools = entry.pools.lock();
    let envs = pools.get_mut(version)?;
    envs.retain(|e| {
        e.revision == revision && e.alive() && (e.provisioned || e.last_used + idle > now)
    });
    // Provisioned environments first (they are what the customer pays to keep warm), then the
    // most recently used on-demand one.
    match envs.iter().rposition(|e| e.provisioned) {
        Some(i) => Some(envs.swap_remove(i)),
        None => envs.pop(),
    }
}

/// Returns an environment to its pool after an invocation.
pub(crate) fn put_back(entry: &FunctionEntry, version: &str, env: ExecEnv) {
    if entry.deleted.load(Ordering::Acquire) {
        return;
    }
    let mut pools = entry.pools.lock();
    match pools.get_mut(version) {
        Some(envs) => envs.push(env),
        None => {
            pools.insert(version.to_owned(), vec![env]);
        }
    }
}

/// A new log stream name: `YYYY/MM/DD/[<version>]<32 hex>`.
pub(crate) fn stream_name(now: SystemTime, version: &str, ids: &nubis_core::IdGen) -> String {
    let date = nubis_core::clock::to_rfc3339(now);
    let day = date.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    format!("{day}/[{version}]{}", ids.hex(32))
}
