//! [`ExecLock`]: an instance's execution lock, which a statement can give up while it sleeps in
//! a row-lock wait.
//!
//! A statement runs and ships its redo under its instance's execution lock, so the instance's
//! MTRs leave in the order its statements changed it. On a single-master writer, a statement that
//! must wait for a row lock gives the lock up for the wait ([`ExecGuard::release_for_wait`], run
//! by the SQL engine's lock-wait hook) and takes it back before it ships: the lock holder's next
//! statements on the same instance — its COMMIT that ends the wait above all — run meanwhile.
//! Shipping stays ordered because the instance stages its records in one FIFO in the order they
//! were appended under the database lock, and every flush takes the whole FIFO: records the
//! waiting statement appended before its wait simply leave in the holder's next MTR, in order.
//!
//! Guarantee: an [`ExecGuard`] holds the lock from [`ExecLock::acquire`] until it is dropped,
//! except between a `release_for_wait` and the next [`ExecGuard::reacquire`]; it never releases a
//! lock it does not hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex};

/// A lock with no guard lifetime (see the module docs).
#[derive(Debug, Default)]
pub struct ExecLock {
    busy: Mutex<bool>,
    free: Condvar,
}

impl ExecLock {
    /// A free lock.
    pub fn new() -> Arc<ExecLock> {
        Arc::new(ExecLock::default())
    }

    /// Blocks until the lock is free, then holds it.
    pub fn acquire(self: &Arc<Self>) -> ExecGuard {
        self.take();
        ExecGuard {
            lock: self.clone(),
            held: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Holds the lock if it is free.
    pub fn try_acquire(self: &Arc<Self>) -> Option<ExecGuard> {
        let mut busy = self.busy.lock();
        if *busy {
            return None;
        }
        *busy = true;
        Some(ExecGuard {
            lock: self.clone(),
            held: Arc::new(AtomicBool::new(true)),
        })
    }

    fn take(&self) {
        let mut busy = self.busy.lock();
        while *busy {
            self.free.wait(&mut busy);
        }
        *busy = true;
    }

    fn give_back(&self) {
        *self.busy.lock() = false;
        self.free.notify_one();
    }
}

/// The holder's side of an [`ExecLock`].
#[derive(Debug)]
pub struct ExecGuard {
    lock: Arc<ExecLock>,
    held: Arc<AtomicBool>,
}

impl ExecGuard {
    /// A callback that gives the lock up (once) for a row-lock wait; any thread may run it.
    pub fn release_for_wait(&self) -> impl Fn() + Send + 'static {
        let (lock, held) = (self.lock.clone(), self.held.clone());
        move || {
            if held.swap(false, Ordering::AcqRel) {
                lock.give_back();
            }
        }
    }

    /// Takes the lock back if a wait gave it up; returns whether it had.
    pub fn reacquire(&self) -> bool {
        if self.held.load(Ordering::Acquire) {
            return false;
        }
        self.lock.take();
        self.held.store(true, Ordering::Release);
        true
    }
}

impl Drop for ExecGuard {
    fn drop(&mut self) {
        if self.held.swap(false, Ordering::AcqRel) {
            self.lock.give_back();
        }
    }
}
