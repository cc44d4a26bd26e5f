//! In-process handlers: Rust async closures registered under a name and run by functions whose
//! Handler is `nubis:<name>` — the fast path for unit tests, with the same invocation semantics
//! (environments, concurrency, timeouts, logs) as process functions.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use nubis_core::SharedClock;
use parking_lot::Mutex;
use serde_json::Value;

/// The future a handler returns.
pub type HandlerFuture = BoxFuture<'static, Result<Value, HandlerError>>;

/// A function body run in-process.
pub trait Handler: Send + Sync + 'static {
    /// Handles one event.
    fn call(&self, event: Value, ctx: Context) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Value, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    fn call(&self, event: Value, ctx: Context) -> HandlerFuture {
        Box::pin(self(event, ctx))
    }
}

/// An error a handler returns; it becomes the invocation's error payload
/// `{"errorMessage": …, "errorType": …}` with `FunctionError: Unhandled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    /// `errorType`.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

impl HandlerError {
    /// An error with an explicit type and message.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        HandlerError {
            error_type: error_type.into(),
            error_message: error_message.into(),
        }
    }

    /// The error payload AWS returns.
    pub fn to_payload(&self) -> Value {
        serde_json::json!({ "errorMessage": self.error_message, "errorType": self.error_type })
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(e: E) -> Self {
        // The Rust runtime reports the error's type name, without its module path.
        let full = std::any::type_name::<E>();
        let short = full.rsplit("::").next().unwrap_or(full);
        HandlerError::new(short, e.to_string())
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// Where a handler's log lines go (the invocation's share of the function's log stream).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogSink(pub(crate) Arc<Mutex<Vec<String>>>);

impl LogSink {
    pub(crate) fn push(&self, line: String) {
        self.0.lock().push(line);
    }

    /// Moves the lines logged so far into `out`.
    pub(crate) fn drain_into(&self, out: &mut Vec<crate::logs::Line>) {
        let mut lines = self.0.lock();
        if !lines.is_empty() {
            out.extend(lines.drain(..).map(crate::logs::Line::Text));
        }
    }
}

/// What an in-process handler knows about its invocation (the Lambda context object).
#[derive(Clone)]
pub struct Context {
    /// The request id.
    pub request_id: String,
    /// The function's name (shared with the function's state: building a context allocates
    /// nothing but the request id).
    pub function_name: Arc<str>,
    /// The executed version.
    pub function_version: Arc<str>,
    /// The ARN the caller used (with the alias or version, if any).
    pub invoked_function_arn: Arc<str>,
    /// The configured memory.
    pub memory_limit_in_mb: u32,
    /// When the invocation times out.
    pub deadline: SystemTime,
    /// The caller's client context (base64 JSON), if any.
    pub client_context: Option<String>,
    /// `/aws/lambda/<name>`.
    pub log_group_name: Arc<str>,
    /// The execution environment's log stream.
    pub log_stream_name: Arc<str>,
    /// The function's environment variables.
    pub env: Arc<std::collections::BTreeMap<String, String>>,
    pub(crate) clock: SharedClock,
    pub(crate) log: LogSink,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("function_name", &self.function_name)
            .finish()
    }
}

impl Context {
    /// Time left before the invocation times out, on the engine's clock.
    pub fn remaining_time(&self) -> Duration {
        self.deadline
            .duration_since(self.clock.now())
            .unwrap_or(Duration::ZERO)
    }

    /// Writes a line to the function's log (and to `LogType: Tail` output).
    pub fn log(&self, line: impl Into<String>) {
        self.log.push(line.into());
    }

    /// The engine's clock, for handlers that wait (`ctx.clock().sleep_until(..)`).
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}
