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

use crate::volume::Volume;

use super::pages::SqlPages;

use super::drive::Driver;
use super::{Cluster, State};

/// The leader flag, the waiters' wake-up, and the volume's durable point as last published.
#[derive(Debug, Default)]
pub(crate) struct CommitQueue {
    leading: Mutex<bool>,
    moved: Condvar,
    /// The volume's (epoch, VDL) after the last tick anyone ran (see [`Cluster::publish`]):
    /// followers check their commit against it without taking the cluster's locks. One lock for
    /// the pair, so no one reads one epoch's VDL with another epoch.
    published: Mutex<(u64, u64)>,
}

/// How long a follower sleeps before checking again on its own (a safety net: the leader wakes
/// followers whenever the VDL moves and when it steps down).
const FOLLOWER_RECHECK: Duration = Duration::from_millis(5);

impl Cluster {
    /// Publishes the volume's epoch and VDL for followers (called after every tick).
    pub(crate) fn publish(&self, v: &Volume<SqlPages>) {
        *self.shared.commits.published.lock() = (v.epoch(), v.vdl());
    }

    /// Whether `lsn` of `epoch` is durable by the last published VDL (the VDL of an epoch only
    /// grows, so a stale answer is only ever "not yet").
    pub(crate) fn published_durable(&self, epoch: u64, lsn: u64) -> bool {
        let (e, vdl) = *self.shared.commits.published.lock();
        e == epoch && vdl >= lsn
    }

    /// Waits until `done` holds, as the commit leader or a follower (see the module docs).
    /// `quick` is a sufficient condition a follower checks without the cluster's locks (for a
    /// commit: [`Cluster::published_durable`]) each time the leader wakes it; the full `done`
    /// runs under the locks only when a follower's recheck interval ends, so that the waiters
    /// woken by one VDL move do not convoy on the cluster's locks.
    pub(crate) fn wait_for(
        &self,
        quick: impl Fn() -> bool,
        done: impl Fn(&State<'_>) -> bool,
    ) -> bool {
        if quick() || done(&self.shared.lock()) {
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
            if quick() {
                return true;
            }
            if q.moved.wait_for(&mut leading, FOLLOWER_RECHECK).timed_out() {
                drop(leading);
                if done(&self.shared.lock()) {
                    return true;
                }
            }
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
                self.publish(&v);
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
