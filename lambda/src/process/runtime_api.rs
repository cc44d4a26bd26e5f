//! The Lambda Runtime API (`/2018-06-01/runtime/…`) served to one execution environment on its
//! own loopback listener, as `AWS_LAMBDA_RUNTIME_API` names it.
//!
//! One listener per environment, because the runtime API has no way to say which environment a
//! request comes from: the path is fixed and `AWS_LAMBDA_RUNTIME_API` is just `host:port`.
//! Guarantees: `next` blocks until the engine hands the environment an invocation; a response or
//! error for any request id other than the one in flight is refused with 400; bodies over the
//! response limit are refused with 413 and fail the invocation; every answer is JSON.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use super::freezer::Freezer;

/// The largest response body a runtime may post (6 MB plus AWS's 100-byte allowance).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;
/// The largest error body a runtime may post.
pub const MAX_ERROR_BYTES: usize = 1_048_576;

/// An invocation waiting for the runtime's `next`.
pub(crate) struct PendingInvocation {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) deadline_ms: u64,
    pub(crate) invoked_arn: Arc<str>,
    pub(crate) trace_id: String,
    pub(crate) client_context: Option<String>,
    pub(crate) done: oneshot::Sender<RuntimeOutcome>,
}

/// What the runtime answered for an invocation.
#[derive(Debug)]
pub(crate) enum RuntimeOutcome {
    Response(Bytes),
    Error {
        error_type: Option<String>,
        body: Bytes,
    },
    TooLarge,
}

/// How the init phase ended.
#[derive(Debug)]
pub(crate) enum InitOutcome {
    Ready,
    Failed {
        error_type: Option<String>,
        body: Bytes,
    },
}

struct ApiState {
    next_rx: tokio::sync::Mutex<mpsc::Receiver<PendingInvocation>>,
    freezer: Arc<Freezer>,
    inflight: Mutex<Option<(String, oneshot::Sender<RuntimeOutcome>)>>,
    init_tx: Mutex<Option<oneshot::Sender<InitOutcome>>>,
}

/// A running Runtime API listener; dropping it stops accepting connections.
pub(crate) struct RuntimeApi {
    pub(crate) addr: SocketAddr,
    pub(crate) tx: mpsc::Sender<PendingInvocation>,
    /// Freezes the environment while its runtime waits in `next`.
    pub(crate) freezer: Arc<Freezer>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Starts a listener on 127.0.0.1 with an ephemeral port; `freezes` says whether the
/// environment is frozen while its runtime waits for an event.
pub(crate) async fn serve(
    freezes: bool,
) -> std::io::Result<(RuntimeApi, oneshot::Receiver<InitOutcome>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(1);
    let (init_tx, init_rx) = oneshot::channel();
    let freezer = Arc::new(Freezer::new(freezes));
    let state = Arc::new(ApiState {
        next_rx: tokio::sync::Mutex::new(rx),
        freezer: Arc::clone(&freezer),
        inflight: Mutex::new(None),
        init_tx: Mutex::new(Some(init_tx)),
    });
    let accept = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(&state);
            connections.spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
            // Reap finished connection tasks so the set does not grow.
            while connections.try_join_next().is_some() {}
        }
    });
    Ok((
        RuntimeApi {
            addr,
            tx,
            freezer,
            accept,
        },
        init_rx,
    ))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({ "errorMessage": message, "errorType": error_type }),
    )
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, serde_json::json!({ "status": "OK" }))
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, usize> {
    match Limited::new(body, limit).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(_) => Err(limit + 1),
    }
}

async fn handle(state: &ApiState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return error(
            StatusCode::NOT_FOUND,
            "InvalidRequest",
            &format!("Unknown path {path}"),
        );
    };
    let error_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (method, rest) {
        (Method::GET, "invocation/next") => next(state).await,
        (Method::POST, "init/error") => {
            let body = read_body(req.into_body(), MAX_ERROR_BYTES)
                .await
                .unwrap_or_default();
            match state.init_tx.lock().take() {
                Some(tx) => {
                    let _ = tx.send(InitOutcome::Failed { error_type, body });
                    accepted()
                }
                None => error(
                    StatusCode::FORBIDDEN,
                    "InvalidStateTransition",
                    "State transition from Ready to InitError failed for runtime.",
                ),
            }
        }
        (Method::POST, rest) if rest.starts_with("invocation/") => {
            let tail = &rest["invocation/".len()..];
            let (id, kind) = match tail.rsplit_once('/') {
                Some((id, kind @ ("response" | "error"))) => (id.to_owned(), kind),
                _ => {
                    return error(
                        StatusCode::NOT_FOUND,
                        "InvalidRequest",
                        &format!("Unknown path {path}"),
                    );
                }
            };
            let limit = if kind == "response" {
                MAX_RESPONSE_BYTES
            } else {
                MAX_ERROR_BYTES
            };
            let body = read_body(req.into_body(), limit).await;
            let sender = {
                let mut inflight = state.inflight.lock();
                match inflight.as_ref() {
                    Some((current, _)) if *current == id => inflight.take().map(|(_, s)| s),
                    _ => None,
                }
            };
            let Some(sender) = sender else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestID",
                    "Invalid request ID",
                );
            };
            match (kind, body) {
                ("response", Ok(b)) => {
                    let _ = sender.send(RuntimeOutcome::Response(b));
                    accepted()
                }
                ("response", Err(n)) => {
                    let _ = (n, sender.send(RuntimeOutcome::TooLarge));
                    error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestEntityTooLarge",
                        &format!(
                            "Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                        ),
                    )
                }
                (_, b) => {
                    let _ = sender.send(RuntimeOutcome::Error {
                        error_type,
                        body: b.unwrap_or_default(),
                    });
                    accepted()
                }
            }
        }
        (_, _) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "InvalidRequest",
            &format!("Method not allowed on {path}"),
        ),
    }
}

async fn next(state: &ApiState) -> Response<Full<Bytes>> {
    // The first `next` ends the init phase.
    if let Some(tx) = state.init_tx.lock().take() {
        let _ = tx.send(InitOutcome::Ready);
    }
    let inv = {
        let mut rx = state.next_rx.lock().await;
        match rx.try_recv() {
            Ok(inv) => Some(inv),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Nothing to do: the environment freezes until an event comes (and its peak
                // memory is read now, while the invocation that just ended is off the path).
                state.freezer.freeze();
                state.freezer.sample_peak();
                rx.recv().await
            }
        }
    };
    state.freezer.thaw();
    let Some(inv) = inv else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Runtime.ExitError",
            "The execution environment is shutting down",
        );
    };
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &inv.request_id);
    set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &inv.invoked_arn);
    set("lambda-runtime-trace-id", &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        set("lambda-runtime-client-context", cc);
    }
    *state.inflight.lock() = Some((inv.request_id, inv.done));
    r
}
