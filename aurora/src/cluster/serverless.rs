//! Aurora Serverless v2 capacity: ACUs that follow measured load, really limit throughput and
//! buffer cache, pause when idle (minimum 0) and bill per second.
//!
//! Model (documented in docs/aurora-cluster.md):
//! * **Work** is measured by the engine: every statement costs 1 unit plus the rows it returned
//!   or changed, times a buffer-cache miss factor. One ACU does [`WORK_PER_ACU_SECOND`] units a
//!   second; a statement arriving when the current second's budget is spent waits for the next
//!   second (on the clock, through the cluster's driver).
//! * **Buffer cache**: 2 GiB per ACU ([`CACHE_BYTES_PER_ACU`]), in 8 KiB pages. When the pages
//!   the instance has touched exceed it, the missing fraction of work costs [`MISS_PENALTY`]
//!   times more (reads that go to storage).
//! * **Scaling** is decided at each second boundary from the last second's work and the open
//!   connections, aiming at 70 % utilisation: up at once, down by half the gap per second,
//!   always in 0.5-ACU steps between the minimum and maximum.
//! * **Auto-pause**: with a minimum of 0 ACUs and no connection for `seconds_until_auto_pause`,
//!   capacity drops to 0 (nothing is billed); the next connection resumes it, which takes
//!   [`RESUME_TIME`].
//! * **Metering**: one `UsageRecord` (`rds`, `AcuSeconds`) per second with the capacity of that
//!   second.

use std::time::{Duration, SystemTime};

use nubis_core::{UsageRecord, UsageUnit};

use super::error::{ClusterError, ClusterResult};
use super::{Cluster, Core};

/// Work units one ACU performs per second.
pub const WORK_PER_ACU_SECOND: f64 = 2_000.0;
/// Buffer cache per ACU.
pub const CACHE_BYTES_PER_ACU: f64 = 2.0 * 1024.0 * 1024.0 * 1024.0;
/// Cost multiplier of work that misses the buffer cache.
pub const MISS_PENALTY: f64 = 4.0;
/// Time to resume from auto-pause.
pub const RESUME_TIME: Duration = Duration::from_secs(15);
/// Largest Serverless v2 capacity.
pub const MAX_ACU: f64 = 256.0;
/// Capacities ModifyCurrentDBClusterCapacity accepts (Serverless v1, aurora-postgresql).
pub const V1_CAPACITIES: [f64; 8] = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 192.0, 384.0];

/// ServerlessV2ScalingConfiguration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerlessConfig {
    /// MinCapacity (0 enables auto-pause).
    pub min_acu: f64,
    /// MaxCapacity.
    pub max_acu: f64,
    /// SecondsUntilAutoPause (300 by default).
    pub seconds_until_auto_pause: u64,
}

impl ServerlessConfig {
    /// Checks AWS's rules: 0.5-ACU steps, 0 ≤ min ≤ max ≤ 256, max ≥ 1, pause 300–86 400 s.
    pub fn validate(&self) -> ClusterResult<()> {
        let step = |v: f64| (v * 2.0).fract() == 0.0;
        if !step(self.min_acu) || !step(self.max_acu) {
            return Err(ClusterError::invalid(
                "ServerlessV2ScalingConfiguration capacities must be in 0.5 ACU increments",
            ));
        }
        if self.min_acu < 0.0
            || self.max_acu > MAX_ACU
            || self.max_acu < 1.0
            || self.min_acu > self.max_acu
        {
            return Err(ClusterError::invalid(format!(
                "MinCapacity must be between 0 and MaxCapacity, and MaxCapacity between 1 and {MAX_ACU}"
            )));
        }
        if !(300..=86_400).contains(&self.seconds_until_auto_pause) {
            return Err(ClusterError::invalid(
                "SecondsUntilAutoPause must be between 300 and 86400",
            ));
        }
        Ok(())
    }
}

impl Default for ServerlessConfig {
    fn default() -> Self {
        ServerlessConfig {
            min_acu: 0.5,
            max_acu: 16.0,
            seconds_until_auto_pause: 300,
        }
    }
}

/// What a serverless cluster is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerlessStatus {
    /// Current capacity (0 while paused).
    pub capacity: f64,
    /// Paused.
    pub paused: bool,
    /// Open connections.
    pub connections: i64,
    /// Work done in the last whole second.
    pub last_second_work: f64,
    /// Buffer cache size in bytes.
    pub buffer_cache_bytes: f64,
    /// Statements that waited for capacity.
    pub throttled: u64,
    /// The configuration.
    pub config: ServerlessConfig,
}

#[derive(Debug)]
pub(crate) struct Serverless {
    config: ServerlessConfig,
    capacity: f64,
    paused: bool,
    resuming_until: Option<SystemTime>,
    connections: i64,
    last_activity: SystemTime,
    second_start: SystemTime,
    work: f64,
    last_second_work: f64,
    hold_until: Option<SystemTime>,
    throttled: u64,
    resource: std::sync::Arc<str>,
    region: std::sync::Arc<str>,
}

fn round_up_half(v: f64) -> f64 {
    (v * 2.0).ceil() / 2.0
}

impl Serverless {
    fn budget(&self) -> f64 {
        self.capacity * WORK_PER_ACU_SECOND
    }

    fn floor(&self) -> f64 {
        self.config.min_acu.max(0.5)
    }
}

impl Cluster {
    /// Makes the cluster Serverless v2 with this scaling configuration (capacity starts at the
    /// minimum, or 0.5 ACU when the minimum is 0).
    pub fn set_serverless(&self, config: ServerlessConfig) -> ClusterResult<()> {
        config.validate()?;
        let now = self.now();
        let mut st = self.shared.core.lock();
        let resource = format!(
            "arn:aws:rds:{}:{}:cluster:{}",
            self.shared.region, self.shared.env.account, self.shared.name
        );
        match st.serverless.as_mut() {
            Some(s) => {
                s.config = config;
                s.capacity = s.capacity.clamp(s.floor(), config.max_acu);
            }
            None => {
                st.serverless = Some(Serverless {
                    config,
                    capacity: config.min_acu.max(0.5),
                    paused: false,
                    resuming_until: None,
                    connections: 0,
                    last_activity: now,
                    second_start: now,
                    work: 0.0,
                    last_second_work: 0.0,
                    hold_until: None,
                    throttled: 0,
                    resource: resource.into(),
                    region: self.shared.region.as_str().into(),
                })
            }
        }
        Ok(())
    }

    /// The serverless state, if the cluster is serverless.
    pub fn serverless_status(&self) -> Option<ServerlessStatus> {
        let st = self.shared.core.lock();
        st.serverless.as_ref().map(|s| ServerlessStatus {
            capacity: if s.paused { 0.0 } else { s.capacity },
            paused: s.paused,
            connections: s.connections,
            last_second_work: s.last_second_work,
            buffer_cache_bytes: if s.paused {
                0.0
            } else {
                s.capacity * CACHE_BYTES_PER_ACU
            },
            throttled: s.throttled,
            config: s.config,
        })
    }

    /// ModifyCurrentDBClusterCapacity (v1-style manual scaling): sets the capacity now and holds
    /// it against scaling down for 15 minutes (v1's scale-down cooldown). Returns the previous
    /// capacity.
    pub fn modify_current_capacity(&self, capacity: f64) -> ClusterResult<f64> {
        let now = self.now();
        let mut st = self.shared.core.lock();
        let s = st.serverless.as_mut().ok_or_else(|| {
            ClusterError::invalid("ModifyCurrentDBClusterCapacity needs a serverless DB cluster")
        })?;
        let in_range = capacity >= s.floor()
            && capacity <= s.config.max_acu
            && (capacity * 2.0).fract() == 0.0;
        if !V1_CAPACITIES.contains(&capacity) && !in_range {
            return Err(ClusterError::invalid(format!(
                "Capacity {capacity} is not valid: use one of 2, 4, 8, 16, 32, 64, 192, 384 or a 0.5-ACU step within the scaling range"
            )));
        }
        let previous = if s.paused { 0.0 } else { s.capacity };
        s.capacity = capacity;
        s.paused = false;
        s.hold_until = Some(now + Duration::from_secs(900));
        Ok(previous)
    }

    pub(crate) fn note_connection(&self, delta: i64) {
        let now = self.now();
        if let Some(s) = self.shared.core.lock().serverless.as_mut() {
            s.connections = (s.connections + delta).max(0);
            s.last_activity = now;
        }
    }

    /// Resumes a paused cluster (waiting [`RESUME_TIME`] on the clock).
    pub(crate) fn resume_if_paused(&self) -> ClusterResult<()> {
        let now = self.now();
        let until = {
            let mut st = self.shared.core.lock();
            let Some(s) = st.serverless.as_mut() else {
                return Ok(());
            };
            if !s.paused {
                return Ok(());
            }
            *s.resuming_until.get_or_insert(now + RESUME_TIME)
        };
        if let Ok(left) = until.duration_since(now) {
            self.advance(left);
        }
        let mut st = self.shared.core.lock();
        self.serverless_tick_locked(&mut st);
        match st.serverless.as_ref() {
            Some(s) if s.paused => Err(ClusterError::Resuming),
            _ => Ok(()),
        }
    }

    /// Waits until the current second has budget for a statement.
    pub(crate) fn admit(&self, _instance: &str) -> ClusterResult<()> {
        loop {
            let next_second = {
                let mut st = self.shared.core.lock();
                self.serverless_tick_locked(&mut st);
                let Some(s) = st.serverless.as_mut() else {
                    return Ok(());
                };
                if s.work < s.budget() {
                    return Ok(());
                }
                s.throttled += 1;
                s.second_start + Duration::from_secs(1)
            };
            if !self.shared.driver.wait_until(self.now(), Some(next_second)) {
                return Err(ClusterError::CapacityExceeded);
            }
        }
    }

    /// Charges a statement's work.
    pub(crate) fn charge(&self, instance: &str, units: u64) {
        let now = self.now();
        let mut st = self.shared.core.lock();
        let touched = st.instances.get(instance).map_or(0, |i| i.page_lsns.len()) as f64;
        let Some(s) = st.serverless.as_mut() else {
            return;
        };
        let cache_pages = s.capacity * CACHE_BYTES_PER_ACU / 8192.0;
        let miss = if touched > cache_pages {
            1.0 - cache_pages / touched
        } else {
            0.0
        };
        s.work += units as f64 * (1.0 + miss * (MISS_PENALTY - 1.0));
        s.last_activity = now;
    }

    /// Second boundaries: metering, scaling, pausing and resuming.
    pub(crate) fn serverless_tick_locked(&self, st: &mut Core) {
        let now = self.now();
        let meter = self.shared.env.meter.clone();
        let Some(s) = st.serverless.as_mut() else {
            return;
        };
        if let Some(until) = s.resuming_until
            && now >= until
        {
            s.paused = false;
            s.resuming_until = None;
            s.capacity = s.floor();
            s.second_start = now;
            s.last_activity = now;
        }
        while now.duration_since(s.second_start).unwrap_or_default() >= Duration::from_secs(1) {
            let end = s.second_start + Duration::from_secs(1);
            if !s.paused {
                meter.record(UsageRecord {
                    service: "rds",
                    region: s.region.clone(),
                    resource: s.resource.clone(),
                    unit: UsageUnit::AcuSeconds,
                    quantity: s.capacity,
                    at: end,
                });
            }
            s.last_second_work = s.work;
            s.work = 0.0;
            s.second_start = end;
            if s.paused {
                continue;
            }
            // Scale on the measured second: 70 % utilisation target, connections need memory.
            let by_work = s.last_second_work / (0.7 * WORK_PER_ACU_SECOND);
            let by_connections = s.connections as f64 / 200.0;
            let needed =
                round_up_half(by_work.max(by_connections)).clamp(s.floor(), s.config.max_acu);
            let held = s.hold_until.is_some_and(|h| end < h);
            if needed > s.capacity {
                s.capacity = needed;
            } else if needed < s.capacity && !held {
                s.capacity = round_up_half(needed + (s.capacity - needed) / 2.0).max(s.floor());
                if s.capacity - needed <= 0.5 {
                    s.capacity = needed;
                }
            }
            let idle = end.duration_since(s.last_activity).unwrap_or_default();
            if s.config.min_acu == 0.0
                && s.connections == 0
                && idle >= Duration::from_secs(s.config.seconds_until_auto_pause)
            {
                s.paused = true;
            }
        }
    }
}
