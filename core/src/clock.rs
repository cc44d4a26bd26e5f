//! The injected clock: the only place in Nubis that reads wall-clock time.
//!
//! Every time-dependent behaviour in every engine (TTL, PITR, replication lag, restores,
//! pause/resume, timeouts, billing) reads a [`Clock`]. Production uses [`SystemClock`]; tests use
//! [`ManualClock`] and move time forward with [`ManualClock::advance`], so no test ever sleeps to
//! wait for a result. `clippy.toml` bans `SystemTime::now` and `Instant::now` everywhere else.
//!
//! Guarantees: a [`ManualClock`] never moves by itself and never moves backwards through
//! [`ManualClock::advance`]; futures from [`Clock::sleep_until`] complete as soon as the clock
//! reaches their deadline, whichever way it got there.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use parking_lot::Mutex;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time. Cheap to clone through [`SharedClock`].
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> SystemTime;

    /// A future that completes once [`Clock::now`] has reached `deadline`.
    ///
    /// On the system clock this needs a Tokio runtime; on a manual clock it completes when a test
    /// advances the clock past `deadline`.
    fn sleep_until(&self, deadline: SystemTime) -> Sleep;

    /// Whether this clock only moves when told to (tests and `nubis serve --clock manual`).
    fn is_manual(&self) -> bool {
        false
    }

    /// Milliseconds since the Unix epoch, saturating at zero for instants before it.
    fn now_millis(&self) -> u64 {
        epoch_millis(self.now())
    }
}

/// The clock handle engines keep.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// A shared handle to the system clock.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one sanctioned wall-clock read.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let wait = deadline
            .duration_since(self.now())
            .unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

#[derive(Debug)]
struct ManualState {
    now: SystemTime,
    /// Pending sleeps: (sleep id, deadline, the waker of its last poll). A sleep owns at most
    /// one entry and removes it when dropped, so abandoned sleeps (a timeout that lost a race)
    /// do not accumulate, and two sleeps polled by one task keep separate registrations.
    waiters: Vec<(u64, SystemTime, Waker)>,
    next_sleep: u64,
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

impl ManualClock {
    /// A manual clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(ManualState {
                now: start,
                waiters: Vec::new(),
                next_sleep: 0,
            })),
        }
    }

    /// A manual clock standing at 2026-01-01T00:00:00Z, the default for tests.
    pub fn at_default_epoch() -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    }

    /// The same clock as a [`SharedClock`]; advancing `self` moves the shared handle too.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    /// Moves the clock forward by `by` and wakes every sleeper whose deadline has come.
    pub fn advance(&self, by: Duration) {
        let mut state = self.state.lock();
        state.now += by;
        Self::wake_due(&mut state);
    }

    /// Sets the clock to `to`. Moving backwards is allowed (a test may want it) but wakes no one.
    pub fn set(&self, to: SystemTime) {
        let mut state = self.state.lock();
        state.now = to;
        Self::wake_due(&mut state);
    }

    fn wake_due(state: &mut ManualState) {
        let now = state.now;
        let mut i = 0;
        while i < state.waiters.len() {
            if state.waiters[i].1 <= now {
                let (_, _, waker) = state.waiters.swap_remove(i);
                waker.wake();
            } else {
                i += 1;
            }
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.state.lock().now
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let id = {
            let mut state = self.state.lock();
            state.next_sleep += 1;
            state.next_sleep
        };
        Box::pin(ManualSleep {
            state: Arc::clone(&self.state),
            deadline,
            id,
        })
    }

    fn is_manual(&self) -> bool {
        true
    }
}

struct ManualSleep {
    state: Arc<Mutex<ManualState>>,
    deadline: SystemTime,
    id: u64,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        if state.now >= self.deadline {
            return Poll::Ready(());
        }
        let id = self.id;
        match state.waiters.iter_mut().find(|(i, _, _)| *i == id) {
            Some((_, _, waker)) => {
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => state.waiters.push((id, self.deadline, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        let id = self.id;
        let mut state = self.state.lock();
        if let Some(at) = state.waiters.iter().position(|(i, _, _)| *i == id) {
            state.waiters.swap_remove(at);
        }
    }
}

/// Milliseconds since the Unix epoch, saturating at zero.
pub fn epoch_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch as a float (the form DynamoDB and Lambda put on the wire).
pub fn epoch_seconds_f64(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The instant `secs` seconds after the Unix epoch (fractions kept to the nanosecond).
pub fn from_epoch_seconds_f64(secs: f64) -> SystemTime {
    if secs.is_finite() && secs > 0.0 {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    } else {
        UNIX_EPOCH
    }
}

/// Formats an instant as RFC 3339 in UTC with millisecond precision (`2026-01-01T00:00:00.000Z`).
pub fn to_rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats an instant as an HTTP date (`Thu, 01 Jan 2026 00:00:00 GMT`), as S3 headers use.
pub fn to_http_date(t: SystemTime) -> String {
    DateTime::<Utc>::from(t)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses an RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str) -> Result<SystemTime, crate::Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| SystemTime::from(d.with_timezone(&Utc)))
        .map_err(|e| crate::Error::InvalidTimestamp {
            input: s.to_owned(),
            reason: e.to_string(),
        })
}

/// Parses SigV4's `X-Amz-Date` form, ISO 8601 basic in UTC (`20261124T223000Z`).
pub fn parse_amz_date(s: &str) -> Result<SystemTime, crate::Error> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .map(|d| SystemTime::from(d.and_utc()))
        .map_err(|e| crate::Error::InvalidTimestamp {
            input: s.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amz_dates() {
        let t = parse_amz_date("20260101T000130Z").unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_767_225_690));
        assert!(parse_amz_date("2026-01-01T00:00:00Z").is_err());
        assert!(parse_amz_date("20261301T000000Z").is_err());
    }

    /// A waker counting its wake-ups.
    struct Counter(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn sleeps_sharing_a_task_keep_their_own_deadlines_and_dropped_ones_unregister() {
        let clock = ManualClock::at_default_epoch();
        let start = clock.now();
        let counter = Arc::new(Counter(0.into()));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        // One task polls a short and a long sleep (a timeout racing a deadline).
        let mut short = clock.sleep_until(start + Duration::from_secs(1));
        let mut long = clock.sleep_until(start + Duration::from_secs(60));
        assert!(short.as_mut().poll(&mut cx).is_pending());
        assert!(long.as_mut().poll(&mut cx).is_pending());
        assert_eq!(clock.state.lock().waiters.len(), 2);
        clock.advance(Duration::from_secs(1));
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(short.as_mut().poll(&mut cx).is_ready());
        // Polling again does not add a second registration.
        assert!(long.as_mut().poll(&mut cx).is_pending());
        assert!(long.as_mut().poll(&mut cx).is_pending());
        drop(short);
        assert_eq!(clock.state.lock().waiters.len(), 1);
        drop(long);
        assert!(clock.state.lock().waiters.is_empty());
    }

    #[test]
    fn manual_clock_advances_and_wakes_sleepers() {
        let clock = ManualClock::at_default_epoch();
        let start = clock.now();
        let mut sleep = clock.sleep_until(start + Duration::from_secs(5));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_secs(4));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_secs(1));
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
        assert_eq!(clock.now(), start + Duration::from_secs(5));
    }

    #[test]
    fn rfc3339_round_trips() {
        let t = ManualClock::at_default_epoch().now();
        let s = to_rfc3339(t);
        assert_eq!(s, "2026-01-01T00:00:00.000Z");
        assert_eq!(parse_rfc3339(&s).ok(), Some(t));
        assert_eq!(to_http_date(t), "Thu, 01 Jan 2026 00:00:00 GMT");
    }
}
