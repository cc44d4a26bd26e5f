//! The Lambda Runtime API (`/2018-06-01/runtime/…`) served to one execution environment on its
//! own loopback listener, as `AWS_LAMBDA_RUNTIME_API` names it.
//!
//! One listener per environment, because the runtime API has no way to say which environment a
//! request comes from: the path is fixed and `AWS_LAMBDA_RUNTIME_API` is just `host:port`.
//! Guarantees: `next` blocks until the engine hands the environment an invocation; a response or
//! error for any request id other than the one in flight is refused with 400; bodies over the
//! response limit are refused with 413 and fail the invocation; every answer is JSON.

use std::io::Write as _;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::freezer::Freezer;
use super::http1::{self, Body, Connection, HttpError, Method, RequestHead};

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

/// Where `next` and the engine meet: whichever comes second answers the `next`.
#[derive(Default)]
struct Slot {
    /// An invocation the engine handed over while no `next` was waiting.
    queued: Option<PendingInvocation>,
    /// A `next` waiting for an event: the connection to answer it on, whether to close that
    /// connection after the answer, and the connection's number.
    parked: Option<(TcpStream, bool, u64)>,
    /// The engine dropped the environment's API.
    closed: bool,
}

struct ApiState {
    slot: Mutex<Slot>,
    freezer: Arc<Freezer>,
    inflight: Mutex<Option<(String, oneshot::Sender<RuntimeOutcome>)>>,
    init_tx: Mutex<Option<oneshot::Sender<InitOutcome>>>,
}

/// A running Runtime API listener; dropping it stops accepting connections.
pub(crate) struct RuntimeApi {
    pub(crate) addr: SocketAddr,
    state: Arc<ApiState>,
    /// Freezes the environment while its runtime waits in `next`.
    pub(crate) freezer: Arc<Freezer>,
    closed: Arc<AtomicBool>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // The accept thread blocks in `accept`: mark the listener closed and wake it with a
        // connection of our own. Connection threads end when their runtime's socket closes, or
        // answer `next` with an error once `tx` is gone.
        self.closed.store(true, Ordering::Release);
        let parked = {
            let mut slot = self.state.slot.lock();
            slot.closed = true;
            slot.parked.take()
        };
        if let Some((stream, _, _)) = parked {
            self.state.freezer.thaw();
            let _ = write_reply(&stream, &shutting_down());
            let _ = stream.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect(self.addr);
    }
}

/// Starts a listener on 127.0.0.1 with an ephemeral port; `freezes` says whether the
/// environment is frozen while its runtime waits for an event.
///
/// Each connection is served on its own blocking thread (a runtime keeps one connection open),
/// so an event handed to `tx` reaches the waiting `next` with one wake-up and no task hop.
pub(crate) async fn serve(
    freezes: bool,
) -> std::io::Result<(RuntimeApi, oneshot::Receiver<InitOutcome>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (init_tx, init_rx) = oneshot::channel();
    let freezer = Arc::new(Freezer::new(freezes));
    let state = Arc::new(ApiState {
        slot: Mutex::new(Slot::default()),
        freezer: Arc::clone(&freezer),
        inflight: Mutex::new(None),
        init_tx: Mutex::new(Some(init_tx)),
    });
    let closed = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&closed);
    let api_state = Arc::clone(&state);
    std::thread::Builder::new()
        .name("lambda-runtime-api".into())
        .spawn(move || {
            for (id, stream) in (0u64..).zip(listener.incoming()) {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                // A connection that cannot get a thread is dropped: the runtime sees it close.
                let _ = std::thread::Builder::new()
                    .name("lambda-runtime-conn".into())
                    .spawn(move || serve_connection(&stream, &state, id));
            }
        })?;
    Ok((
        RuntimeApi {
            addr,
            state: api_state,
            freezer,
            closed,
        },
        init_rx,
    ))
}

/// An answer to one request.
struct Reply {
    status: u16,
    body: Bytes,
    headers: Vec<(&'static str, String)>,
    /// Close the connection after this answer.
    close: bool,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        _ => "Internal Server Error",
    }
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        body: Bytes::from(body.to_string()),
        headers: Vec::new(),
        close: false,
    }
}

fn error(status: u16, error_type: &str, message: &str) -> Reply {
    json(
        status,
        serde_json::json!({ "errorMessage": message, "errorType": error_type }),
    )
}

fn accepted() -> Reply {
    json(202, serde_json::json!({ "status": "OK" }))
}

fn serve_connection(stream: &TcpStream, state: &ApiState, id: u64) {
    serve_requests(stream, state, id);
    // A `next` parked on this connection can no longer be answered: forget it, so that the
    // next event is queued for the runtime's next connection instead of written to a dead one.
    let mut slot = state.slot.lock();
    if slot.parked.as_ref().is_some_and(|p| p.2 == id) {
        slot.parked = None;
    }
}

fn serve_requests(stream: &TcpStream, state: &ApiState, id: u64) {
    let mut conn = Connection::new(stream);
    let mut out = stream;
    loop {
        let reply = match conn.read_head() {
            Ok(None) | Err(HttpError::Io(_)) => return,
            Err(HttpError::Malformed(why)) => {
                let mut r = error(400, "InvalidRequest", why);
                r.close = true;
                r
            }
            Ok(Some(head)) => match handle(state, &mut conn, &mut out, &head, id) {
                // A parked `next`: the engine writes its answer on this connection.
                Ok(None) => continue,
                Ok(Some(mut r)) => {
                    r.close |= !head.keep_alive || !conn.reusable();
                    r
                }
                Err(HttpError::Io(_)) => return,
                Err(HttpError::Malformed(why)) => {
                    let mut r = error(400, "InvalidRequest", why);
                    r.close = true;
                    r
                }
            },
        };
        if write_reply(stream, &reply).is_err() || reply.close {
            let _ = out.flush();
            return;
        }
    }
}

fn write_reply(mut stream: &TcpStream, reply: &Reply) -> std::io::Result<()> {
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    http1::write_response(
        &mut stream,
        reply.status,
        reason(reply.status),
        &headers,
        &reply.body,
        reply.close,
    )
}

fn shutting_down() -> Reply {
    let mut r = error(
        500,
        "Runtime.ExitError",
        "The execution environment is shutting down",
    );
    r.close = true;
    r
}

/// The answer to `next` for `inv` (the invocation's fields are copied; `done` stays with it).
fn next_reply(inv: &PendingInvocation) -> Reply {
    let mut headers = Vec::with_capacity(5);
    headers.push(("lambda-runtime-aws-request-id", inv.request_id.clone()));
    headers.push(("lambda-runtime-deadline-ms", inv.deadline_ms.to_string()));
    headers.push((
        "lambda-runtime-invoked-function-arn",
        inv.invoked_arn.to_string(),
    ));
    headers.push(("lambda-runtime-trace-id", inv.trace_id.clone()));
    if let Some(cc) = &inv.client_context {
        headers.push(("lambda-runtime-client-context", cc.clone()));
    }
    Reply {
        status: 200,
        body: inv.payload.clone(),
        headers,
        close: false,
    }
}

impl RuntimeApi {
    /// Hands an invocation to the runtime: answers its waiting `next` directly from the calling
    /// task (no thread is woken on the way out), or queues it for the next `next`. `false` when
    /// the environment cannot take it.
    pub(crate) async fn hand_over(&self, inv: PendingInvocation) -> bool {
        let parked = {
            let mut slot = self.state.slot.lock();
            match slot.parked.take() {
                Some(p) => p,
                None if slot.queued.is_none() && !slot.closed => {
                    slot.queued = Some(inv);
                    return true;
                }
                None => return false,
            }
        };
        self.state.freezer.thaw();
        let (stream, close, _) = parked;
        let mut reply = next_reply(&inv);
        reply.close = close;
        let PendingInvocation {
            request_id, done, ..
        } = inv;
        // The in-flight id is set before the event is written: the runtime may answer at once.
        *self.state.inflight.lock() = Some((request_id, done));
        let written = if reply.body.len() <= 64 * 1024 {
            // A small answer fits the socket buffer: the write does not wait for the runtime.
            write_reply(&stream, &reply).map(|()| stream)
        } else {
            tokio::task::spawn_blocking(move || write_reply(&stream, &reply).map(|()| stream))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))
        };
        // A failed write means the connection is gone (the runtime died or reconnects): the
        // exit watch or the deadline ends the invocation, as for a runtime that never answers.
        if let Ok(stream) = written
            && close
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
        true
    }
}

fn read_body(
    conn: &mut Connection<&TcpStream>,
    out: &mut &TcpStream,
    head: &RequestHead,
    limit: usize,
) -> Result<Result<Bytes, ()>, HttpError> {
    Ok(match conn.read_body(head, limit, out)? {
        Body::Complete(b) => Ok(b),
        Body::TooLarge => Err(()),
    })
}

fn handle(
    state: &ApiState,
    conn: &mut Connection<&TcpStream>,
    out: &mut &TcpStream,
    head: &RequestHead,
    id: u64,
) -> Result<Option<Reply>, HttpError> {
    let path = head.path.as_str();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        let _ = read_body(conn, out, head, 0)?;
        return Ok(Some(error(
            404,
            "InvalidRequest",
            &format!("Unknown path {path}"),
        )));
    };
    let error_type = head.error_type.clone();
    if let (Method::Get, "invocation/next") = (head.method, rest) {
        let _ = read_body(conn, out, head, 0)?;
        return Ok(next(state, conn.io_ref(), !head.keep_alive, id));
    }
    Ok(Some(match (head.method, rest) {
        (Method::Post, "init/error") => {
            let body = read_body(conn, out, head, MAX_ERROR_BYTES)?.unwrap_or_default();
            match state.init_tx.lock().take() {
                Some(tx) => {
                    let _ = tx.send(InitOutcome::Failed { error_type, body });
                    accepted()
                }
                None => error(
                    403,
                    "InvalidStateTransition",
                    "State transition from Ready to InitError failed for runtime.",
                ),
            }
        }
        (Method::Post, rest) if rest.starts_with("invocation/") => {
            let tail = &rest["invocation/".len()..];
            let (id, kind) = match tail.rsplit_once('/') {
                Some((id, kind @ ("response" | "error"))) => (id, kind),
                _ => {
                    let _ = read_body(conn, out, head, 0)?;
                    return Ok(Some(error(
                        404,
                        "InvalidRequest",
                        &format!("Unknown path {path}"),
                    )));
                }
            };
            let limit = if kind == "response" {
                MAX_RESPONSE_BYTES
            } else {
                MAX_ERROR_BYTES
            };
            let body = read_body(conn, out, head, limit)?;
            let sender = {
                let mut inflight = state.inflight.lock();
                match inflight.as_ref() {
                    Some((current, _)) if current == id => inflight.take().map(|(_, s)| s),
                    _ => None,
                }
            };
            let Some(sender) = sender else {
                return Ok(Some(error(400, "InvalidRequestID", "Invalid request ID")));
            };
            match (kind, body) {
                ("response", Ok(b)) => {
                    let _ = sender.send(RuntimeOutcome::Response(b));
                    accepted()
                }
                ("response", Err(())) => {
                    let _ = sender.send(RuntimeOutcome::TooLarge);
                    error(
                        413,
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
        (_, _) => {
            let _ = read_body(conn, out, head, 0)?;
            error(
                405,
                "InvalidRequest",
                &format!("Method not allowed on {path}"),
            )
        }
    }))
}

/// `next`: answers with a queued invocation, or parks the connection for the engine to answer
/// (`None`). The environment is frozen while parked.
fn next(state: &ApiState, stream: &TcpStream, close: bool, id: u64) -> Option<Reply> {
    // The first `next` ends the init phase.
    if let Some(tx) = state.init_tx.lock().take() {
        let _ = tx.send(InitOutcome::Ready);
    }
    let mut slot = state.slot.lock();
    if slot.closed {
        return Some(shutting_down());
    }
    if let Some(inv) = slot.queued.take() {
        drop(slot);
        state.freezer.thaw();
        let mut reply = next_reply(&inv);
        reply.close = close;
        *state.inflight.lock() = Some((inv.request_id, inv.done));
        return Some(reply);
    }
    let Ok(writer) = stream.try_clone() else {
        return Some(shutting_down());
    };
    // Nothing to do: the environment freezes until an event comes (and its peak memory is read
    // now, while the invocation that just ended is off the path). Both happen before the
    // connection is published, so the engine's thaw always follows the freeze.
    state.freezer.freeze();
    state.freezer.sample_peak();
    slot.parked = Some((writer, close, id));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};

    /// Reads one response: (status, headers lower-cased, body).
    fn response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(": ").unwrap();
            headers.push((n.to_ascii_lowercase(), v.to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        (status, headers, String::from_utf8(body).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_the_runtime_routes_over_one_keep_alive_connection() {
        let (api, init) = serve(false).await.unwrap();
        let (done_tx, done_rx) = oneshot::channel();
        assert!(
            api.hand_over(PendingInvocation {
                request_id: "req-1".into(),
                payload: Bytes::from_static(b"{\"a\":1}"),
                deadline_ms: 42,
                invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
                trace_id: "Root=1-x".into(),
                client_context: Some("{\"c\":1}".into()),
                done: done_tx,
            })
            .await
        );
        let addr = api.addr;
        let client = tokio::task::spawn_blocking(move || {
            let s = TcpStream::connect(addr).unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let (status, headers, body) = response(&mut r);
            assert_eq!((status, body.as_str()), (200, "{\"a\":1}"));
            let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            assert_eq!(
                get("lambda-runtime-aws-request-id").as_deref(),
                Some("req-1")
            );
            assert_eq!(get("lambda-runtime-deadline-ms").as_deref(), Some("42"));
            assert_eq!(
                get("lambda-runtime-client-context").as_deref(),
                Some("{\"c\":1}")
            );
            // A wrong id is refused; the real one is accepted with a chunked body after
            // `100 Continue`.
            w.write_all(b"POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
            let (status, _, body) = response(&mut r);
            assert_eq!(status, 400);
            assert!(body.contains("InvalidRequestID"));
            w.write_all(b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
                .unwrap();
            assert_eq!(response(&mut r).0, 100);
            w.write_all(b"3\r\n{\"o\r\n4\r\n\":2}\r\n0\r\n\r\n")
                .unwrap();
            assert_eq!(response(&mut r).0, 202);
            // Init errors after the first `next`, unknown paths and methods.
            w.write_all(
                b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            )
            .unwrap();
            assert_eq!(response(&mut r).0, 403);
            w.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
            assert_eq!(response(&mut r).0, 404);
            w.write_all(
                b"PUT /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
            )
            .unwrap();
            assert_eq!(response(&mut r).0, 405);
            // Garbage gets a 400 and the connection closes.
            w.write_all(b"GET /x HTTP/9\r\n\r\n").unwrap();
            let (status, headers, _) = response(&mut r);
            assert_eq!(status, 400);
            assert!(headers.contains(&("connection".into(), "close".into())));
            let mut rest = Vec::new();
            assert_eq!(r.read_to_end(&mut rest).unwrap(), 0);
        });
        client.await.unwrap();
        assert!(matches!(init.await, Ok(InitOutcome::Ready)));
        match done_rx.await.unwrap() {
            RuntimeOutcome::Response(b) => assert_eq!(&b[..], b"{\"o\":2}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn pending(id: &str, done: oneshot::Sender<RuntimeOutcome>) -> PendingInvocation {
        PendingInvocation {
            request_id: id.into(),
            payload: Bytes::from_static(b"{}"),
            deadline_ms: 1,
            invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
            trace_id: "Root=1-x".into(),
            client_context: None,
            done,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_parked_next_is_answered_by_the_engine_and_by_shutdown() {
        let (api, init) = serve(false).await.unwrap();
        let s = TcpStream::connect(api.addr).unwrap();
        let mut w = s.try_clone().unwrap();
        w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        // The first `next` ends init; by then the connection is parked.
        assert!(matches!(init.await, Ok(InitOutcome::Ready)));
        while api.state.slot.lock().parked.is_none() {
            tokio::task::yield_now().await;
        }
        let (done_tx, done_rx) = oneshot::channel();
        assert!(api.hand_over(pending("p-1", done_tx)).await);
        let client = tokio::task::spawn_blocking(move || {
            let mut r = BufReader::new(s);
            let (status, headers, _) = response(&mut r);
            assert_eq!(status, 200);
            assert!(headers.contains(&("lambda-runtime-aws-request-id".into(), "p-1".into())));
            w.write_all(b"POST /2018-06-01/runtime/invocation/p-1/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
                .unwrap();
            assert_eq!(response(&mut r).0, 202);
            r
        });
        let mut r = client.await.unwrap();
        assert!(matches!(done_rx.await, Ok(RuntimeOutcome::Error { .. })));
        while api.state.slot.lock().parked.is_none() {
            tokio::task::yield_now().await;
        }
        // Dropping the API answers the parked `next` and closes the connection.
        drop(api);
        let (status, headers, _) = tokio::task::spawn_blocking(move || response(&mut r))
            .await
            .unwrap();
        assert_eq!(status, 500);
        assert!(headers.contains(&("connection".into(), "close".into())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_event_for_a_closed_connection_waits_for_the_next_one() {
        let (api, _init) = serve(false).await.unwrap();
        let mut s = TcpStream::connect(api.addr).unwrap();
        s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        while api.state.slot.lock().parked.is_none() {
            tokio::task::yield_now().await;
        }
        drop(s);
        while api.state.slot.lock().parked.is_some() {
            tokio::task::yield_now().await;
        }
        let (done_tx, _done_rx) = oneshot::channel();
        assert!(api.hand_over(pending("q-1", done_tx)).await);
        let addr = api.addr;
        let (status, headers, _) = tokio::task::spawn_blocking(move || {
            let s = TcpStream::connect(addr).unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
                .unwrap();
            response(&mut BufReader::new(s))
        })
        .await
        .unwrap();
        assert_eq!(status, 200);
        assert!(headers.contains(&("lambda-runtime-aws-request-id".into(), "q-1".into())));
    }
}
