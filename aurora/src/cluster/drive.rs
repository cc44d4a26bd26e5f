//! How the cluster waits on its clock: a commit waits for the VDL, a failover for recovery, a
//! throttled statement for its next second of capacity.
//!
//! The volume is a value driven by the clock, so "waiting" means moving time forward to the next
//! event and ticking. Who may move time is explicit: a test or benchmark hands the cluster its
//! [`ManualClock`] ([`Driver::Manual`]) and every wait advances it (so latencies on the clock are
//! real properties of the protocol), the system clock sleeps ([`Driver::RealTime`]), and with a
//! manual clock nobody may advance ([`Driver::External`]) waits return at once, leaving work
//! pending until the owner of the clock advances it and calls `Cluster::tick`.

use std::time::{Duration, SystemTime};

use nubis_core::{Clock, ManualClock};

/// Who moves time when the cluster waits.
#[derive(Debug, Clone)]
pub enum Driver {
    /// Advance this manual clock (tests, benchmarks, examples).
    Manual(ManualClock),
    /// Sleep on the system clock.
    RealTime,
    /// Do not wait: the clock's owner advances it.
    External,
}

impl Driver {
    /// The natural driver for a clock: real time for the system clock, external for a manual one.
    pub fn for_clock(clock: &dyn Clock) -> Driver {
        if clock.is_manual() {
            Driver::External
        } else {
            Driver::RealTime
        }
    }

    /// Moves time to `until` (or by a small step when there is no deadline); returns false when
    /// this driver cannot wait.
    pub fn wait_until(&self, now: SystemTime, until: Option<SystemTime>) -> bool {
        let step = until
            .and_then(|u| u.duration_since(now).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_micros(100));
        match self {
            Driver::Manual(c) => {
                c.advance(step);
                true
            }
            Driver::RealTime => {
                std::thread::sleep(step.min(Duration::from_millis(5)));
                true
            }
            Driver::External => false,
        }
    }
}
