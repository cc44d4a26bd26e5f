//! Row locks and lock waits, as PostgreSQL has them.
//!
//! A row is locked by the transaction that updated or deleted it (its newest version's `xmax`,
//! or a newer version's `xmin`, belongs to a running transaction) and by `SELECT … FOR
//! UPDATE/SHARE` (kept in the [`RowLocks`] table, in memory: locks matter only to the writer
//! instance and die with the transactions holding them, so they are not redo-logged). A writer
//! that meets such a row waits until the holder commits or aborts, then re-checks it.
//!
//! Waiting is real blocking: the statement runs holding its database's lock, so the waiter
//! gives that lock up while it sleeps on the database's condition variable ([`Locked::wait`]),
//! letting the holder finish; every commit and abort wakes the waiters. A waits-for graph
//! (one edge per waiting transaction) detects deadlocks when a wait would close a cycle: the
//! transaction closing it fails with 40P01 `deadlock detected`. `lock_timeout` is read on the
//! engine's injected clock: on a manual clock the wait ends when a test advances the clock past
//! the deadline (55P03 `canceling statement due to lock timeout`).
//!
//! Guarantees: a waiter never holds the database lock while it sleeps; a wait ends when the
//! holder's (sub)transaction is no longer running, on deadlock, or at the timeout, never
//! otherwise; waiting transactions leave no edge behind.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::engine::{Database, DbState};
use crate::error::{AuroraError, Result};
use crate::storage::{RowId, Storage, TableId, Xid, XidStatus};

/// How strongly `SELECT … FOR …` locks a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStrength {
    /// `FOR SHARE` / `FOR KEY SHARE`: conflicts with updates, deletes and `FOR UPDATE`.
    Share,
    /// `FOR UPDATE` / `FOR NO KEY UPDATE`: conflicts with every other lock and change.
    Update,
}

/// What a lock request does when the row is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Wait for the holder (the default).
    Wait,
    /// Fail at once with 55P03 (`NOWAIT`).
    NoWait,
    /// Leave the row out (`SKIP LOCKED`).
    SkipLocked,
}

/// A row lock: the locking (sub)transaction, its top-level transaction, the strength.
type RowLock = (Xid, Xid, LockStrength);

#[derive(Debug, Default)]
struct LockTable {
    /// Row → its locks.
    rows: HashMap<(TableId, RowId), Vec<RowLock>>,
    /// Top-level transaction → rows it locked (to forget them when it ends).
    by_top: HashMap<Xid, Vec<(TableId, RowId)>>,
    /// Waiting top-level transaction → the one it waits for.
    waits: HashMap<Xid, Xid>,
}

/// A database's row-lock table, waits-for graph and the condition variable waiters sleep on.
#[derive(Debug, Default)]
pub struct RowLocks {
    table: Mutex<LockTable>,
    released: Arc<Condvar>,
}

fn running(storage: &dyn Storage, xid: Xid) -> Option<Xid> {
    match storage.status(xid) {
        XidStatus::InProgress { top } => Some(top),
        _ => None,
    }
}

impl RowLocks {
    /// A running transaction other than `me` holding a lock on the row that conflicts with
    /// `strength`: its (sub)transaction id and top-level id.
    pub fn holder(
        &self,
        storage: &dyn Storage,
        table: TableId,
        row: RowId,
        me: Xid,
        strength: LockStrength,
    ) -> Option<(Xid, Xid)> {
        let t = self.table.lock();
        t.rows.get(&(table, row))?.iter().find_map(|(xid, top, s)| {
            let conflicting = strength == LockStrength::Update || *s == LockStrength::Update;
            (conflicting && *top != me && running(storage, *xid) == Some(*top))
                .then_some((*xid, *top))
        })
    }

    /// Records that `xid` (of top-level `top`) locked the row.
    pub fn lock(&self, table: TableId, row: RowId, xid: Xid, top: Xid, strength: LockStrength) {
        let mut t = self.table.lock();
        let entry = t.rows.entry((table, row)).or_default();
        if entry.iter().any(|(x, _, s)| *x == xid && *s == strength) {
            return;
        }
        entry.push((xid, top, strength));
        t.by_top.entry(top).or_default().push((table, row));
    }

    /// Forgets the locks of a finished top-level transaction and wakes every waiter.
    pub fn release(&self, top: Xid) {
        {
            let mut t = self.table.lock();
            if let Some(rows) = t.by_top.remove(&top) {
                for key in rows {
                    if let Some(e) = t.rows.get_mut(&key) {
                        e.retain(|(_, tp, _)| *tp != top);
                        if e.is_empty() {
                            t.rows.remove(&key);
                        }
                    }
                }
            }
        }
        self.wake();
    }

    /// Wakes every waiter (a (sub)transaction ended).
    pub fn wake(&self) {
        self.released.notify_all();
    }

    /// How many transactions are waiting.
    pub fn waiting(&self) -> usize {
        self.table.lock().waits.len()
    }

    fn add_wait(&self, me: Xid, holder: Xid) -> bool {
        let mut t = self.table.lock();
        // Follow the chain from the holder; reaching `me` closes a cycle.
        let mut cur = holder;
        for _ in 0..=t.waits.len() {
            if cur == me {
                return false;
            }
            match t.waits.get(&cur) {
                Some(next) => cur = *next,
                None => break,
            }
        }
        t.waits.insert(me, holder);
        true
    }

    fn remove_wait(&self, me: Xid) {
        self.table.lock().waits.remove(&me);
    }
}

/// Wakes the waiters when a manual clock passes a lock-timeout deadline.
struct ClockWaker(Arc<Condvar>);

impl Wake for ClockWaker {
    fn wake(self: Arc<Self>) {
        self.0.notify_all();
    }
}

/// The database state locked for one statement, able to wait for row locks.
pub struct Locked<'a> {
    guard: MutexGuard<'a, DbState>,
    db: &'a Database,
    /// `lock_timeout` (`None`: wait forever).
    pub lock_timeout: Option<Duration>,
    /// Set by a cancel request: a lock wait ends with 57014.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl<'a> Locked<'a> {
    /// Locks `db`'s state.
    pub fn new(db: &'a Database, lock_timeout: Option<Duration>) -> Locked<'a> {
        Locked {
            guard: db.state.lock(),
            db,
            lock_timeout,
            interrupt: None,
        }
    }

    /// The database's row locks.
    pub fn locks(&self) -> &'a RowLocks {
        &self.db.locks
    }

    /// Runs `f` until it stops reporting a held row ([`AuroraError::RowLocked`]), waiting for
    /// the holder each time. `me` is the waiting top-level transaction.
    pub fn retry<T>(&mut self, me: Xid, mut f: impl FnMut(&DbState) -> Result<T>) -> Result<T> {
        loop {
            match f(&self.guard) {
                Err(AuroraError::RowLocked { xid, top, .. }) => self.wait(me, xid, top)?,
                other => return other,
            }
        }
    }

    /// Blocks until (sub)transaction `xid` (of top-level `top`) is no longer running, giving up
    /// the database lock meanwhile. 40P01 if waiting would deadlock, 55P03 at the lock timeout.
    pub fn wait(&mut self, me: Xid, xid: Xid, top: Xid) -> Result<()> {
        if running(self.guard.storage.as_ref(), xid).is_none() {
            return Ok(());
        }
        let locks = &self.db.locks;
        if !locks.add_wait(me, top) {
            return Err(AuroraError::sql("40P01", "deadlock detected"));
        }
        let r = self.sleep_until_released(xid);
        locks.remove_wait(me);
        r
    }

    fn sleep_until_released(&mut self, xid: Xid) -> Result<()> {
        let clock = &self.db.env.clock;
        let deadline = self.lock_timeout.map(|t| clock.now() + t);
        let released = self.db.locks.released.clone();
        let mut sleep = deadline
            .filter(|_| clock.is_manual())
            .map(|d| clock.sleep_until(d));
        let waker = Waker::from(Arc::new(ClockWaker(released.clone())));
        // The statement is about to sleep: whoever runs it may give up its own locks meanwhile.
        crate::lock_wait_hook::before_sleep();
        loop {
            if running(self.guard.storage.as_ref(), xid).is_none() {
                return Ok(());
            }
            if let Some(flag) = &self.interrupt
                && flag.swap(false, std::sync::atomic::Ordering::Relaxed)
            {
                return Err(AuroraError::sql(
                    "57014",
                    "canceling statement due to user request",
                ));
            }
            if let Some(d) = deadline {
                let now = clock.now();
                if now >= d {
                    return Err(AuroraError::sql(
                        "55P03",
                        "canceling statement due to lock timeout",
                    ));
                }
                if clock.is_manual() {
                    // Register for the clock's wake-up; the bounded wait below covers a wake-up
                    // that lands between this check and the wait.
                    if let Some(s) = sleep.as_mut() {
                        let _ = s.as_mut().poll(&mut Context::from_waker(&waker));
                    }
                    released.wait_for(&mut self.guard, Duration::from_millis(20));
                } else {
                    let left = d.duration_since(now).unwrap_or_default();
                    released.wait_for(&mut self.guard, left.min(Duration::from_millis(100)));
                }
            } else {
                // Bounded so a lost wake-up costs a moment, never a hang.
                released.wait_for(&mut self.guard, Duration::from_millis(100));
            }
        }
    }
}

impl Deref for Locked<'_> {
    type Target = DbState;

    fn deref(&self) -> &DbState {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut DbState {
        &mut self.guard
    }
}

impl std::fmt::Debug for Locked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locked")
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}
