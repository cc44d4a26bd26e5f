//! Group commit: how sessions wait for the VDL without holding their instance.
//!
//! A writer statement ships its mini-transaction with [`crate::volume::Volume::enqueue`] while
//! it still holds the instance's execution lock (so LSN order is the order in which statements
//! changed the instance), then releases the lock and waits here. One waiting session is the
//! *commit leader*: it ticks the volume — which sends every mini-transaction queued since its
//! last tick as one round — and moves time through the cluster's [`super::Driver`], waking the
//! other waiters (followers) whenever the VDL moves. When the leader's own commit is durable it
//! hands the role to the next waiter. So commits that arrive while a quorum round is in flight
//! share the next round, N sessions on one writer overlap their 2 ms quorum waits, and with a
//! manual clock only one thread moves time.
//!
//! Guarantees: [`Cluster::wait_for`] returns true only when the condition holds on the state
//! (for a commit: its LSN is at or below the VDL of the epoch it was written in, i.e. on four of
//! six copies); it returns false only when the driver cannot wait ([`super::Driver::External`])
//! or after the same step budget as [`Cluster::wait_until`].

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::drive::Driver;
use super::{Cluster, State};

/// The leader flag and the waiters' wake-up.
#[derive(Debug, Default)]
pub(crate) struct CommitQueue {
    leading: Mutex<bool>,
    moved: Condvar,
}

/// How long a follower sleeps before checking again on its own (a safety net: the leader wakes
/// followers whenever the VDL moves and when it steps down).
const FOLLOWER_RECHECK: Duration = Duration::from_millis(5);

impl Cluster {
    /// Waits until `done` holds, as the commit leader or a follower (see the module docs).
    pub(crate) fn wait_for(&self, done: impl Fn(&State<'_>) -> bool) -> bool {
        if done(&self.shared.lock()) {
            return true;
        }
        if matches!(self.shared.driver, Driver::External) {
            return self.wait_until(done);
        }
        let q = &self.shared.commits;
        loop {
            let mut leading = q.leading.lock();
            if !*leading {
                *leading = true;
                drop(leading);
                let ok = self.lead(&done);
                *q.leading.lock() = false;
                q.moved.notify_all();
                return ok;
            }
            // Checked under the leader flag's lock: the leader notifies under it too, so a wake-up
            // between this check and the wait cannot be missed.
            if done(&self.shared.lock()) {
                return true;
            }
            q.moved.wait_for(&mut leading, FOLLOWER_RECHECK);
        }
    }

    /// The leader's loop: tick, wake followers when the VDL moved, move time to the next event.
    fn lead(&self, done: &impl Fn(&State<'_>) -> bool) -> bool {
        for _ in 0..100_000 {
            // The volume's round under its own lock: writers keep enqueueing between rounds.
            let (next, moved) = {
                let mut v = self.shared.volume.lock();
                let before = v.vdl();
                v.tick();
                (v.next_delivery(), v.vdl() != before)
            };
            self.serverless_tick_locked(&mut self.shared.core.lock());
            let finished = done(&self.shared.lock());
            if moved {
                let _flag = self.shared.commits.leading.lock();
                self.shared.commits.moved.notify_all();
            }
            if finished {
                return true;
            }
            if !self.shared.driver.wait_until(self.now(), next) {
                return false;
            }
        }
        false
    }
}
