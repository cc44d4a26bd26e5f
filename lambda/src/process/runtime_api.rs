//! The Lambda Runtime API (`/2018-06-01/runtime/…`) served to one execution environment on its
//! own loopback listener, as `AWS_LAMBDA_RUNTIME_API` names it.
//!
//! One listener per environment, because the runtime API has no way to say which environment a
//! request comes from: the path is fixed and `AWS_LAMBDA_RUNTIME_API` is just `host:port`.
//! Guarantees: `next` blocks until the engine hands the environment an invocation; a response or
//! error for any request id other than the one in flight is refused with 400; bodies over the
//! response limit are refused with 413 and fail the invocation; every answer is JSON.
//!
//! A connection is a plain value ([`http1::Connection`]) that moves to whoever needs to read it.
//! A runtime's `next` with nothing to do parks its connection in the environment's slot; the
//! invoking task takes it and writes the event as the answer itself (no wake-up on the way in).
//! On a current-thread runtime the invoking task then reads the runtime's `/response` from the
//! connection itself, answers 202, and leaves the connection unread; the next invocation reads
//! the runtime's following `next` from it — no hand-off between tasks at all. On a multi-thread
//! runtime a task on a worker reads the answer, replies 202 at once and hands the outcome over
//! through a oneshot channel, then reads and parks the next `next`: the worker is woken by the
//! answer's arrival either way, and this way the runtime's 202 does not wait for the hop to the
//! caller (which may be a `block_on` thread off the workers). Connections not on either path
//! (the init phase, a runtime that opens a connection per request) are served by a task of their
//! own the same way.
//!
//! Freezing ([`Freezer`]) is the environment's keeper task's job: once no invocation has started
//! or ended for `freeze_after` on the engine's clock, it reads the runtime's pending `next`,
//! parks it and stops the process group; the next invocation continues it. Back-to-back
//! invocations therefore send no signal at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use nubis_core::SharedClock;
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;

use super::freezer::Freezer;
use super::http1::{self, Body, Connection, HttpError, Method, RequestHead};

/// The largest response body a runtime may post (6 MB plus AWS's 100-byte allowance).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;
/// The largest error body a runtime may post.
pub const MAX_ERROR_BYTES: usize = 1_048_576;

/// An event for the runtime: what answers its `next`.
#[derive(Clone)]
pub(crate) struct Event {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) deadline_ms: u64,
    pub(crate) invoked_arn: Arc<str>,
    pub(crate) trace_id: String,
    pub(crate) client_context: Option<String>,
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

/// One runtime connection and whether a request on it is half answered (a task that gives the
/// connection up then must close it: the next reader would start mid-request).
struct Conn {
    http: Connection<TcpStream>,
    busy: bool,
}

/// A connection whose runtime waits in `next` (that request is read; the answer is owed).
struct Parked {
    conn: Conn,
    /// The `next` asked to close the connection after its answer.
    close: bool,
}

/// Where `next` and the engine meet.
#[derive(Default)]
struct Slot {
    /// The invocation in flight: its request id, and where a connection task sends its outcome.
    inflight: Option<(String, oneshot::Sender<RuntimeOutcome>)>,
    /// The in-flight invocation's event while no `next` has taken it.
    queued: Option<Event>,
    /// A `next` waiting for an event.
    parked: Option<Parked>,
    /// The keep-alive connection the last invocation was answered on; the runtime's next request
    /// on it (normally its `next`) is not read yet.
    idle: Option<Conn>,
    /// The engine dropped the environment's API.
    closed: bool,
}

struct ApiState {
    slot: Mutex<Slot>,
    freezer: Arc<Freezer>,
    init_tx: Mutex<Option<oneshot::Sender<InitOutcome>>>,
    /// Bumped as every invocation starts and ends (odd while one is in flight): the keeper
    /// freezes only after a whole `freeze_after` without a change.
    activity: AtomicU64,
    /// When the last invocation ended (or the environment started), in ns since the epoch on
    /// the engine's clock.
    idle_since: AtomicU64,
    clock: SharedClock,
    /// The keeper waits for `thawed` (set just before it waits, checked by the invoker).
    keeper_waiting: AtomicBool,
    thawed: Notify,
}

/// A running Runtime API listener; dropping it stops its tasks and answers a parked `next`.
pub(crate) struct RuntimeApi {
    pub(crate) addr: SocketAddr,
    state: Arc<ApiState>,
    /// Freezes the environment while its runtime waits in `next`.
    pub(crate) freezer: Arc<Freezer>,
    /// The accept loop and the keeper.
    tasks: [AbortHandle; 2],
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let (parked, idle) = {
            let mut slot = self.state.slot.lock();
            slot.closed = true;
            slot.queued = None;
            (slot.parked.take(), slot.idle.take())
        };
        // A runtime waiting in `next` (parked, or about to ask on the idle connection) is told,
        // best effort and without waiting (a small answer fits the socket buffer); the
        // connections close as they are dropped here.
        self.state.freezer.thaw();
        for conn in parked.map(|p| p.conn).into_iter().chain(idle) {
            let _ = conn.http.io().try_write(&reply_bytes(&shutting_down()));
        }
    }
}

/// Starts a listener on 127.0.0.1 with an ephemeral port and the environment's keeper, which
/// freezes the environment (when `freezes`) once it has been idle for `freeze_after` on `clock`.
///
/// `reclaim_after` (none for provisioned environments): the keeper kills the process once the
/// environment has been idle that long, as Lambda reclaims idle environments, so an idle
/// process does not outlive it until the function is next invoked.
pub(crate) async fn serve(
    freezes: bool,
    clock: SharedClock,
    freeze_after: Duration,
    reclaim_after: Option<Duration>,
) -> std::io::Result<(RuntimeApi, oneshot::Receiver<InitOutcome>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (init_tx, init_rx) = oneshot::channel();
    let freezer = Arc::new(Freezer::new(freezes));
    let state = Arc::new(ApiState {
        slot: Mutex::new(Slot::default()),
        freezer: Arc::clone(&freezer),
        init_tx: Mutex::new(Some(init_tx)),
        activity: AtomicU64::new(0),
        idle_since: AtomicU64::new(epoch_nanos(clock.now())),
        clock: Arc::clone(&clock),
        keeper_waiting: AtomicBool::new(false),
        thawed: Notify::new(),
    });
    let accept = tokio::spawn(accept_loop(listener, Arc::clone(&state))).abort_handle();
    let keeper = tokio::spawn(keep(Arc::clone(&state), freeze_after, reclaim_after)).abort_handle();
    Ok((
        RuntimeApi {
            addr,
            state,
            freezer,
            tasks: [accept, keeper],
        },
        init_rx,
    ))
}

async fn accept_loop(listener: TcpListener, state: Arc<ApiState>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let conn = Conn {
                        http: Connection::new(stream),
                        busy: false,
                    };
                    serve_connection(&state, conn).await;
                });
            }
            // Out of descriptors and the like: let other tasks run before trying again.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// The keeper: samples the peak memory and freezes the environment once it has been idle (no
/// invocation started or ended) for `gap`, then waits for the next invocation.
async fn keep(state: Arc<ApiState>, gap: Duration, reclaim_after: Option<Duration>) {
    let clock = &state.clock;
    loop {
        let seen = state.activity.load(Ordering::SeqCst);
        let wake = if seen % 2 == 1 {
            // An invocation is in flight: look again a gap later.
            clock.now() + gap
        } else {
            UNIX_EPOCH + Duration::from_nanos(state.idle_since.load(Ordering::SeqCst)) + gap
        };
        clock.sleep_until(wake).await;
        if state.activity.load(Ordering::SeqCst) != seen {
            continue;
        }
        let idle = {
            let mut slot = state.slot.lock();
            if slot.closed {
                return;
            }
            if slot.inflight.is_some() || slot.queued.is_some() {
                continue;
            }
            slot.idle.take()
        };
        if let Some(conn) = idle {
            // Reads the runtime's `next` (serving anything before it) and parks it, or answers
            // an event that came meanwhile, as the connection's own task would.
            serve_connection(&state, conn).await;
        }
        state.keeper_waiting.store(true, Ordering::SeqCst);
        let froze = {
            let slot = state.slot.lock();
            let quiet = slot.parked.is_some()
                && slot.inflight.is_none()
                && slot.queued.is_none()
                && state.activity.load(Ordering::SeqCst) == seen;
            if quiet {
                // `VmHWM` before the stop (reading it costs tens of µs: never on the path).
                state.freezer.sample_peak();
                // Under the slot lock while the `next` is parked: an invocation takes it under
                // the same lock and thaws after, so a thaw always follows the freeze.
                state.freezer.freeze();
            }
            quiet
        };
        if !froze {
            state.keeper_waiting.store(false, Ordering::SeqCst);
            continue;
        }
        let Some(idle) = reclaim_after else {
            state.thawed.notified().await;
            continue;
        };
        // A gap past the engine's own expiry (`last_used + idle_timeout`, a moment after
        // `idle_since`), so an invocation never takes an environment being reclaimed.
        let at =
            UNIX_EPOCH + Duration::from_nanos(state.idle_since.load(Ordering::SeqCst)) + idle + gap;
        tokio::select! {
            _ = state.thawed.notified() => {}
            _ = clock.sleep_until(at) => {
                if state.activity.load(Ordering::SeqCst) == seen {
                    state.freezer.kill();
                    return;
                }
            }
        }
    }
}

fn epoch_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
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
    Reply {
        status: 202,
        body: Bytes::from_static(br#"{"status":"OK"}"#),
        headers: Vec::new(),
        close: false,
    }
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

fn header_pairs(reply: &Reply) -> Vec<(&str, &str)> {
    reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect()
}

fn reply_bytes(reply: &Reply) -> Vec<u8> {
    http1::response_bytes(
        reply.status,
        reason(reply.status),
        &header_pairs(reply),
        &reply.body,
        reply.close,
    )
}

async fn write_reply(conn: &mut Conn, reply: &Reply) -> std::io::Result<()> {
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
fn next_reply(event: &Event, close: bool) -> Reply {
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
enum Step {
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
async fn serve_one(state: &ApiState, conn: &mut Conn) -> Step {
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

/// Serves a connection in a task of its own until it is parked in `next` or finished.
async fn serve_connection(state: &ApiState, mut conn: Conn) {
    loop {
        match serve_one(state, &mut conn).await {
            Step::Served => {}
            Step::Answered { tx, outcome, keep } => {
                let _ = tx.send(outcome);
                if !keep {
                    return;
                }
            }
            Step::Closed => return,
            Step::Next { close } => {
                let event = {
                    let mut slot = state.slot.lock();
                    match slot.queued.take() {
                        _ if slot.closed => None,
                        Some(event) => Some(event),
                        None => {
                            slot.parked = Some(Parked { conn, close });
                            return;
                        }
                    }
                };
                let Some(event) = event else {
                    let _ = write_reply(&mut conn, &shutting_down()).await;
                    return;
                };
                state.freezer.thaw();
                match deliver(state, Parked { conn, close }, event).await {
                    Some(c) => conn = c,
                    None => return,
                }
            }
        }
    }
}

/// Writes `event` as the answer to a parked `next`; when the connection fails first, the event
/// goes to another parked `next` or is queued again. The connection to go on serving, if any.
async fn deliver(state: &ApiState, mut p: Parked, mut event: Event) -> Option<Conn> {
    loop {
        if write_reply(&mut p.conn, &next_reply(&event, p.close))
            .await
            .is_ok()
        {
            return (!p.close).then_some(p.conn);
        }
        (p, event) = requeue(state, event)?;
    }
}

/// An event whose connection failed before the runtime answered: handed to a parked `next`
/// (returned) or queued for the runtime's next one — unless its invocation is already over.
fn requeue(state: &ApiState, event: Event) -> Option<(Parked, Event)> {
    let mut slot = state.slot.lock();
    let ours = slot
        .inflight
        .as_ref()
        .is_some_and(|(id, _)| *id == event.request_id);
    if !ours || slot.closed {
        return None;
    }
    if let Some(p) = slot.parked.take() {
        return Some((p, event));
    }
    slot.queued = Some(event);
    None
}

/// Whether the calling task runs on a multi-thread runtime.
fn multi_thread() -> bool {
    matches!(
        tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread)
    )
}

/// Serves the connection an event was just written on, in a task of its own: the answer goes
/// to the invocation through its channel, and an event whose connection dies unanswered is
/// re-delivered as [`RuntimeApi::drive`] would.
async fn serve_event_connection(state: Arc<ApiState>, mut conn: Conn, mut event: Event) {
    loop {
        match serve_one(&state, &mut conn).await {
            Step::Served => {}
            Step::Answered { tx, outcome, keep } => {
                let _ = tx.send(outcome);
                if keep {
                    serve_connection(&state, conn).await;
                }
                return;
            }
            Step::Next { close } => {
                state.slot.lock().parked = Some(Parked { conn, close });
                return;
            }
            Step::Closed => {
                let Some((p, again)) = requeue(&state, event.clone()) else {
                    return;
                };
                event = again.clone();
                match deliver(&state, p, again).await {
                    Some(c) => conn = c,
                    None => return,
                }
            }
        }
    }
}

/// Where an invocation's event goes.
enum Claim {
    /// Onto a parked `next`.
    Parked(Parked, Event),
    /// The idle connection's pending `next` is to be read (the event waits queued meanwhile).
    Idle(Conn),
    /// Queued for whichever `next` comes.
    Queued,
}

fn claim(slot: &mut Slot, event: Event) -> Claim {
    if let Some(p) = slot.parked.take() {
        return Claim::Parked(p, event);
    }
    slot.queued = Some(event);
    match slot.idle.take() {
        Some(conn) => Claim::Idle(conn),
        None => Claim::Queued,
    }
}

impl RuntimeApi {
    /// Runs one invocation through the runtime and returns its answer; `None` when the
    /// environment shut down first. The caller races this against the process's exit and the
    /// deadline.
    ///
    /// The fast path: the runtime's connection is parked in `next` (or idle, with its `next`
    /// about to arrive): this task writes the event on it and reads the answer from it, with
    /// no other task or thread involved.
    pub(crate) async fn invoke(&self, event: Event) -> Option<RuntimeOutcome> {
        let state = &*self.state;
        state.activity.fetch_add(1, Ordering::SeqCst);
        if state.keeper_waiting.swap(false, Ordering::SeqCst) {
            state.thawed.notify_one();
        }
        let (done_tx, mut done_rx) = oneshot::channel();
        let mut claimed = {
            let mut slot = state.slot.lock();
            if slot.closed {
                return None;
            }
            slot.inflight = Some((event.request_id.clone(), done_tx));
            claim(&mut slot, event)
        };
        let outcome = loop {
            claimed = match claimed {
                Claim::Queued => break done_rx.await.ok(),
                Claim::Idle(mut conn) => match serve_one(state, &mut conn).await {
                    Step::Served => Claim::Idle(conn),
                    Step::Next { close } => {
                        let mut slot = state.slot.lock();
                        match slot.queued.take() {
                            Some(event) => Claim::Parked(Parked { conn, close }, event),
                            None => {
                                // Another connection's `next` took the event first.
                                slot.parked = Some(Parked { conn, close });
                                Claim::Queued
                            }
                        }
                    }
                    Step::Answered { tx, outcome, keep } => {
                        // An answer before this event was delivered (for an event a connection
                        // task delivered): delivered as usual.
                        let _ = tx.send(outcome);
                        if keep {
                            Claim::Idle(conn)
                        } else {
                            Claim::Queued
                        }
                    }
                    Step::Closed => {
                        // The runtime closed it (a runtime may use a connection per request):
                        // the event is still queued; look again.
                        let mut slot = state.slot.lock();
                        match slot.queued.take() {
                            Some(event) if !slot.closed => claim(&mut slot, event),
                            _ => Claim::Queued,
                        }
                    }
                },
                Claim::Parked(p, event) => {
                    state.freezer.thaw();
                    match self.drive(p, event, &mut done_rx).await {
                        Some(outcome) => break Some(outcome),
                        None => Claim::Queued,
                    }
                }
            };
        };
        state
            .idle_since
            .store(epoch_nanos(state.clock.now()), Ordering::SeqCst);
        state.activity.fetch_add(1, Ordering::SeqCst);
        outcome
    }

    /// Answers a parked `next` with `event` and reads requests on that connection until the
    /// invocation's answer arrives (on it: returned directly; on another connection: taken from
    /// `done`). `None` when this connection is gone and the answer must come from elsewhere.
    async fn drive(
        &self,
        mut p: Parked,
        mut event: Event,
        done: &mut oneshot::Receiver<RuntimeOutcome>,
    ) -> Option<RuntimeOutcome> {
        let state = &*self.state;
        // A connection that dies before the event is written hands it on (a runtime that died
        // ends the invocation through the caller's exit watch).
        let mut conn = loop {
            let write = write_reply(&mut p.conn, &next_reply(&event, p.close)).await;
            match write {
                Ok(()) if p.close => return None,
                Ok(()) => break p.conn,
                Err(_) => (p, event) = requeue(state, event)?,
            }
        };
        if multi_thread() {
            // A worker reads the answer and replies 202 at once, before this task (which may be
            // a `block_on` caller off the workers) is woken: the runtime's way back to `next`
            // does not wait for the hop to the caller.
            let state = Arc::clone(&self.state);
            tokio::spawn(async move { serve_event_connection(state, conn, event).await });
            return done.await.ok();
        }
        loop {
            let step = tokio::select! {
                biased;
                step = serve_one(state, &mut conn) => step,
                outcome = &mut *done => {
                    // Answered on another connection: keep this one unless it is mid-request.
                    if !conn.busy {
                        self.put_idle(conn);
                    }
                    return outcome.ok();
                }
            };
            match step {
                Step::Served => {}
                Step::Answered { tx, outcome, keep } => {
                    // Ours (only the in-flight invocation is ever answered): no hand-off.
                    drop(tx);
                    if keep {
                        self.put_idle(conn);
                    }
                    return Some(outcome);
                }
                Step::Next { close } => {
                    // The runtime asks for work without having answered on this connection:
                    // it answered on another one, or it lost the event with a connection of its
                    // own. Either way this `next` waits for the next event.
                    state.slot.lock().parked = Some(Parked { conn, close });
                    return done.await.ok();
                }
                Step::Closed => {
                    // The connection died with the event on it and no answer: the event goes to
                    // the runtime's next `next`, on a new connection. A runtime that answers on
                    // a new connection instead takes it off the queue with its answer.
                    let (p, event) = requeue(state, event)?;
                    return Box::pin(self.drive(p, event, done)).await;
                }
            }
        }
    }

    /// Leaves the connection an invocation was answered on for the runtime's next `next`.
    ///
    /// On a multi-thread runtime a task reads that `next` at once and parks it: a worker is
    /// woken by its arrival anyway, and this way the wake-up overlaps the end of this invocation
    /// instead of the start of the next (whose event then goes straight onto the parked `next`).
    /// On a current-thread runtime the connection is left unread: the next invocation reads the
    /// `next` itself, on the same thread, and no task runs in between.
    fn put_idle(&self, conn: Conn) {
        if multi_thread() {
            let state = Arc::clone(&self.state);
            tokio::spawn(async move { serve_connection(&state, conn).await });
            return;
        }
        let mut slot = self.state.slot.lock();
        if !slot.closed {
            slot.idle = Some(conn);
        }
    }
}

enum Handled {
    /// `GET next`: the caller answers.
    Next,
    /// The answer, and the in-flight invocation's outcome when this request completed it.
    Reply(
        Reply,
        Option<(oneshot::Sender<RuntimeOutcome>, RuntimeOutcome)>,
    ),
}

async fn read_body(
    conn: &mut Conn,
    head: &RequestHead,
    limit: usize,
) -> Result<Result<Bytes, ()>, HttpError> {
    Ok(match conn.http.read_body(head, limit).await? {
        Body::Complete(b) => Ok(b),
        Body::TooLarge => Err(()),
    })
}

async fn handle(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write as _};
    use std::net::TcpStream;

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

    async fn api() -> (Arc<RuntimeApi>, oneshot::Receiver<InitOutcome>) {
        let clock = nubis_core::ManualClock::at_default_epoch();
        let (api, init) = serve(false, clock.shared(), Duration::from_millis(10), None)
            .await
            .unwrap();
        (Arc::new(api), init)
    }

    /// Starts an invocation of `event` in a task of its own.
    fn invoke(
        api: &Arc<RuntimeApi>,
        event: Event,
    ) -> tokio::task::JoinHandle<Option<RuntimeOutcome>> {
        let api = Arc::clone(api);
        tokio::spawn(async move { api.invoke(event).await })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_the_runtime_routes_over_one_keep_alive_connection() {
        let (api, init) = api().await;
        let done = invoke(
            &api,
            Event {
                request_id: "req-1".into(),
                payload: Bytes::from_static(b"{\"a\":1}"),
                deadline_ms: 42,
                invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
                trace_id: "Root=1-x".into(),
                client_context: Some("{\"c\":1}".into()),
            },
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
        match done.await.unwrap() {
            Some(RuntimeOutcome::Response(b)) => assert_eq!(&b[..], b"{\"o\":2}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn event(id: &str) -> Event {
        Event {
            request_id: id.into(),
            payload: Bytes::from_static(b"{}"),
            deadline_ms: 1,
            invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
            trace_id: "Root=1-x".into(),
            client_context: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_parked_next_is_answered_by_the_engine_and_by_shutdown() {
        let (api, init) = api().await;
        let s = TcpStream::connect(api.addr).unwrap();
        let mut w = s.try_clone().unwrap();
        w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        // The first `next` ends init; by then the connection is parked.
        assert!(matches!(init.await, Ok(InitOutcome::Ready)));
        while api.state.slot.lock().parked.is_none() {
            tokio::task::yield_now().await;
        }
        let done = invoke(&api, event("p-1"));
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
        assert!(matches!(
            done.await.unwrap(),
            Some(RuntimeOutcome::Error { .. })
        ));
        // The runtime's `next` waits: parked (a multi-thread runtime reads it at once), or unread
        // in the socket of the idle connection (a current-thread runtime leaves it there).
        loop {
            {
                let slot = api.state.slot.lock();
                if slot.parked.is_some() || slot.idle.is_some() {
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
        // Dropping the API answers the pending `next` and closes the connection.
        drop(Arc::into_inner(api).unwrap());
        let (status, headers, _) = tokio::task::spawn_blocking(move || response(&mut r))
            .await
            .unwrap();
        assert_eq!(status, 500);
        assert!(headers.contains(&("connection".into(), "close".into())));
    }

    /// The race of a runtime connection dying as the event is written to it: the event is
    /// delivered again on the runtime's next connection, not lost until the deadline.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_event_for_a_closed_connection_goes_to_the_next_one() {
        let (api, _init) = api().await;
        let mut s = TcpStream::connect(api.addr).unwrap();
        s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        while api.state.slot.lock().parked.is_none() {
            tokio::task::yield_now().await;
        }
        drop(s);
        let done = invoke(&api, event("q-1"));
        let addr = api.addr;
        tokio::task::spawn_blocking(move || {
            let s = TcpStream::connect(addr).unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
                .unwrap();
            let mut r = BufReader::new(s);
            let (status, headers, _) = response(&mut r);
            assert_eq!(status, 200);
            assert!(headers.contains(&("lambda-runtime-aws-request-id".into(), "q-1".into())));
            w.write_all(b"POST /2018-06-01/runtime/invocation/q-1/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
            assert_eq!(response(&mut r).0, 202);
        })
        .await
        .unwrap();
        assert!(matches!(
            done.await.unwrap(),
            Some(RuntimeOutcome::Response(_))
        ));
    }

    /// On a current-thread runtime the invoking task reads the answer and the runtime's next
    /// `next` from the connection itself: back-to-back invocations on one keep-alive connection.
    #[tokio::test(flavor = "current_thread")]
    async fn a_current_thread_caller_drives_the_connection_itself() {
        let (api, init) = api().await;
        let addr = api.addr;
        let client = std::thread::spawn(move || {
            let s = TcpStream::connect(addr).unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            for _ in 0..3 {
                w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
                    .unwrap();
                let (status, headers, body) = response(&mut r);
                assert_eq!(status, 200);
                let id = headers
                    .iter()
                    .find(|(k, _)| k == "lambda-runtime-aws-request-id")
                    .map(|(_, v)| v.clone())
                    .unwrap();
                w.write_all(
                    format!(
                        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .unwrap();
                assert_eq!(response(&mut r).0, 202);
            }
        });
        assert!(matches!(init.await, Ok(InitOutcome::Ready)));
        for id in ["d-1", "d-2", "d-3"] {
            match api.invoke(event(id)).await {
                Some(RuntimeOutcome::Response(b)) => assert_eq!(&b[..], b"{}"),
                other => panic!("unexpected {other:?}"),
            }
            // Left unread for the next invocation.
            assert!(api.state.slot.lock().idle.is_some());
        }
        client.join().unwrap();
    }

    /// A runtime that opens a connection per request (as a `curl` bootstrap does) is served by
    /// the connection tasks: the event waits queued, the answer comes through the channel.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_per_request_runtime_is_served() {
        let (api, _init) = api().await;
        let addr = api.addr;
        let request = move |req: &'static [u8]| {
            let s = TcpStream::connect(addr).unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(req).unwrap();
            response(&mut BufReader::new(s))
        };
        for id in ["c-1", "c-2"] {
            let done = invoke(&api, event(id));
            let (status, headers, _) = tokio::task::spawn_blocking(move || {
                request(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nConnection: close\r\n\r\n")
            })
            .await
            .unwrap();
            assert_eq!(status, 200);
            let got = headers
                .iter()
                .find(|(k, _)| k == "lambda-runtime-aws-request-id")
                .map(|(_, v)| v.clone())
                .unwrap();
            assert_eq!(got, id);
            let post: &'static [u8] = if id == "c-1" {
                b"POST /2018-06-01/runtime/invocation/c-1/response HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            } else {
                b"POST /2018-06-01/runtime/invocation/c-2/error HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            };
            let (status, _, _) = tokio::task::spawn_blocking(move || request(post))
                .await
                .unwrap();
            assert_eq!(status, 202);
            assert!(done.await.unwrap().is_some());
        }
    }
}
