//! The routes of the Runtime API: reading one request from a runtime connection and answering
//! it (`next` excepted: its answer is an event, which the caller owns), and the bytes of every
//! answer.
//!
//! Guarantees: a response or error for any request id other than the one in flight is refused
//! with 400 `InvalidRequestID`; a response body over [`MAX_RESPONSE_BYTES`] gets 413 and fails
//! the invocation; malformed requests get 400 and the connection closes; every answer is JSON.

use bytes::Bytes;
use tokio::sync::oneshot;

use super::super::http1::{self, Body, HttpError, Method, RequestHead};
use super::{
    ApiState, Conn, Event, InitOutcome, MAX_ERROR_BYTES, MAX_RESPONSE_BYTES, RuntimeOutcome,
};

/// An answer to one request.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Bytes,
    pub(super) headers: Vec<(&'static str, String)>,
    /// Close the connection after this answer.
    pub(super) close: bool,
}

pub(super) fn reason(status: u16) -> &'static str {
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

pub(super) fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        body: Bytes::from(body.to_string()),
        headers: Vec::new(),
        close: false,
    }
}

pub(super) fn error(status: u16, error_type: &str, message: &str) -> Reply {
    json(
        status,
        serde_json::json!({ "errorMessage": message, "errorType": error_type }),
    )
}

pub(super) fn accepted() -> Reply {
    Reply {
        status: 202,
        body: Bytes::from_static(br#"{"status":"OK"}"#),
        headers: Vec::new(),
        close: false,
    }
}

pub(super) fn shutting_down() -> Reply {
    let mut r = error(
        500,
        "Runtime.ExitError",
        "The execution environment is shutting down",
    );
    r.close = true;
    r
}

pub(super) fn header_pairs(reply: &Reply) -> Vec<(&str, &str)> {
    reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect()
}

pub(super) fn reply_bytes(reply: &Reply) -> Vec<u8> {
    http1::response_bytes(
        reply.status,
        reason(reply.status),
        &header_pairs(reply),
        &reply.body,
        reply.close,
    )
}

pub(super) async fn write_reply(conn: &mut Conn, reply: &Reply) -> std::io::Result<()> {
    http1::write_response(
        conn.http.io_mut(),
        reply.status,
        reason(reply.status),
        &header_pairs(reply),
        &reply.body,
        reply.close,
    )
    .await?;
    conn.busy = false;
    Ok(())
}

/// The answer to `next` for `event`.
pub(super) fn next_reply(event: &Event, close: bool) -> Reply {
    let mut headers = Vec::with_capacity(5);
    headers.push(("lambda-runtime-aws-request-id", event.request_id.clone()));
    headers.push(("lambda-runtime-deadline-ms", event.deadline_ms.to_string()));
    headers.push((
        "lambda-runtime-invoked-function-arn",
        event.invoked_arn.to_string(),
    ));
    headers.push(("lambda-runtime-trace-id", event.trace_id.clone()));
    if let Some(cc) = &event.client_context {
        headers.push(("lambda-runtime-client-context", cc.clone()));
    }
    Reply {
        status: 200,
        body: event.payload.clone(),
        headers,
        close,
    }
}

/// What serving one request came to.
pub(super) enum Step {
    /// Answered; the connection may carry another request.
    Served,
    /// The runtime asked for the next event; the answer is owed (the connection is busy).
    Next { close: bool },
    /// The in-flight invocation's `/response` or `/error` arrived and was answered: its outcome,
    /// the sender the invocation waits on (the caller delivers it, or is the invocation), and
    /// whether the connection may carry another request.
    Answered {
        tx: oneshot::Sender<RuntimeOutcome>,
        outcome: RuntimeOutcome,
        keep: bool,
    },
    /// The connection is finished (closed by the runtime, broken, or closed after an answer).
    Closed,
}

/// Reads and answers one request (everything but `next`, which the caller answers).
pub(super) async fn serve_one(state: &ApiState, conn: &mut Conn) -> Step {
    let (reply, answered) = match conn.http.read_head().await {
        Ok(None) | Err(HttpError::Io(_)) => return Step::Closed,
        Err(HttpError::Malformed(why)) => {
            let mut r = error(400, "InvalidRequest", why);
            r.close = true;
            (r, None)
        }
        Ok(Some(head)) => {
            conn.busy = true;
            match handle(state, conn, &head).await {
                Ok(Handled::Next) => {
                    if let Some(tx) = state.init_tx.lock().take() {
                        // The first `next` ends the init phase.
                        let _ = tx.send(InitOutcome::Ready);
                    }
                    return Step::Next {
                        close: !head.keep_alive,
                    };
                }
                Ok(Handled::Reply(mut r, answered)) => {
                    r.close |= !head.keep_alive || !conn.http.reusable();
                    (r, answered)
                }
                Err(HttpError::Io(_)) => return Step::Closed,
                Err(HttpError::Malformed(why)) => {
                    let mut r = error(400, "InvalidRequest", why);
                    r.close = true;
                    (r, None)
                }
            }
        }
    };
    let keep = write_reply(conn, &reply).await.is_ok() && !reply.close;
    match answered {
        Some((tx, outcome)) => Step::Answered { tx, outcome, keep },
        None if keep => Step::Served,
        None => Step::Closed,
    }
}

pub(super) enum Handled {
    /// `GET next`: the caller answers.
    Next,
    /// The answer, and the in-flight invocation's outcome when this request completed it.
    Reply(
        Reply,
        Option<(oneshot::Sender<RuntimeOutcome>, RuntimeOutcome)>,
    ),
}

pub(super) async fn read_body(
    conn: &mut Conn,
    head: &RequestHead,
    limit: usize,
) -> Result<Result<Bytes, ()>, HttpError> {
    Ok(match conn.http.read_body(head, limit).await? {
        Body::Complete(b) => Ok(b),
        Body::TooLarge => Err(()),
    })
}

pub(super) async fn handle(
    state: &ApiState,
    conn: &mut Conn,
    head: &RequestHead,
) -> Result<Handled, HttpError> {
    let path = head.path.as_str();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        let _ = read_body(conn, head, 0).await?;
        return Ok(Handled::Reply(
            error(404, "InvalidRequest", &format!("Unknown path {path}")),
            None,
        ));
    };
    if let (Method::Get, "invocation/next") = (head.method, rest) {
        let _ = read_body(conn, head, 0).await?;
        return Ok(Handled::Next);
    }
    let error_type = head.error_type.clone();
    let reply = match (head.method, rest) {
        (Method::Post, "init/error") => {
            let body = read_body(conn, head, MAX_ERROR_BYTES)
                .await?
                .unwrap_or_default();
            let tx = state.init_tx.lock().take();
            match tx {
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
                    let _ = read_body(conn, head, 0).await?;
                    return Ok(Handled::Reply(
                        error(404, "InvalidRequest", &format!("Unknown path {path}")),
                        None,
                    ));
                }
            };
            let limit = if kind == "response" {
                MAX_RESPONSE_BYTES
            } else {
                MAX_ERROR_BYTES
            };
            let body = read_body(conn, head, limit).await?;
            let sender = {
                let mut slot = state.slot.lock();
                match slot.inflight.as_ref() {
                    Some((current, _)) if current == id => {
                        // Answered: an event queued for re-delivery is no longer owed.
                        slot.queued = None;
                        slot.inflight.take().map(|(_, s)| s)
                    }
                    _ => None,
                }
            };
            let Some(sender) = sender else {
                return Ok(Handled::Reply(
                    error(400, "InvalidRequestID", "Invalid request ID"),
                    None,
                ));
            };
            let (reply, outcome) = match (kind, body) {
                ("response", Ok(b)) => (accepted(), RuntimeOutcome::Response(b)),
                ("response", Err(())) => (
                    error(
                        413,
                        "RequestEntityTooLarge",
                        &format!(
                            "Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                        ),
                    ),
                    RuntimeOutcome::TooLarge,
                ),
                (_, b) => (
                    accepted(),
                    RuntimeOutcome::Error {
                        error_type,
                        body: b.unwrap_or_default(),
                    },
                ),
            };
            return Ok(Handled::Reply(reply, Some((sender, outcome))));
        }
        (_, _) => {
            let _ = read_body(conn, head, 0).await?;
            error(
                405,
                "InvalidRequest",
                &format!("Method not allowed on {path}"),
            )
        }
    };
    Ok(Handled::Reply(reply, None))
}
