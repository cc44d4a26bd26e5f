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
use super::http1::Connection;

mod routes;
use routes::{Step, next_reply, reply_bytes, serve_one, shutting_down, write_reply};

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

#[cfg(test)]
mod tests;
