//! Usage metering: the records engines emit for what they bill, readable by the user.
//!
//! Engines emit a [`UsageRecord`] per billable event (capacity units consumed, GB-seconds of
//! function time, ACU-seconds of serverless capacity, bytes scanned). A [`Meter`] collects them;
//! it is cheap to clone and every clone sees the same records.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use foldhash::fast::FixedState;
use parking_lot::Mutex;
use serde::Serialize;

/// What a usage record measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum UsageUnit {
    /// DynamoDB read capacity units.
    ReadCapacityUnits,
    /// DynamoDB write capacity units.
    WriteCapacityUnits,
    /// DynamoDB replicated write capacity units (Global Tables).
    ReplicatedWriteCapacityUnits,
    /// Lambda compute: memory in GB times duration in seconds.
    GbSeconds,
    /// Requests (Lambda invocations, S3 requests).
    Requests,
    /// Aurora Serverless capacity: ACUs times seconds.
    AcuSeconds,
    /// Aurora I/O operations.
    IoOperations,
    /// Bytes scanned (S3 Select, Glacier Select).
    BytesScanned,
    /// Bytes returned (S3 Select, Glacier Select).
    BytesReturned,
    /// Bytes stored for one second (backups, objects).
    ByteSeconds,
}

/// One billable event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRecord {
    /// The service namespace (`dynamodb`, `lambda`, `rds`, `s3`).
    pub service: &'static str,
    /// The region the usage happened in. Shared, so an engine that meters every request can
    /// hold it once and record without allocating.
    #[serde(serialize_with = "ser_shared_str")]
    pub region: Arc<str>,
    /// The resource's ARN (or name where it has none), shared for the same reason.
    #[serde(serialize_with = "ser_shared_str")]
    pub resource: Arc<str>,
    /// The unit of `quantity`.
    pub unit: UsageUnit,
    /// How much.
    pub quantity: f64,
    /// When, on the engine's clock.
    #[serde(serialize_with = "ser_time")]
    pub at: SystemTime,
}

fn ser_shared_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::to_rfc3339(*t))
}

/// How many of the newest records a [`Meter`] keeps by default.
pub const DEFAULT_RETAINED_RECORDS: usize = 100_000;

/// A shared collector of usage records.
///
/// Totals per unit and resource are kept exactly and forever (their size grows with the number
/// of resources, not of events); the records themselves are kept for the newest
/// [`Meter::retained`] events, so a long-running endpoint does not grow without bound. Recording
/// is O(1) amortised and allocates only for a resource's first record.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    inner: Arc<Mutex<MeterState>>,
}

#[derive(Debug, Default)]
struct MeterState {
    /// The newest records, oldest first.
    records: VecDeque<UsageRecord>,
    /// 0 means [`DEFAULT_RETAINED_RECORDS`].
    capacity: usize,
    /// Records evicted from `records` so far.
    evicted: u64,
    /// Sum of quantity per unit, then per resource.
    totals: HashMap<UsageUnit, HashMap<Arc<str>, f64, FixedState>, FixedState>,
}

impl Meter {
    /// An empty meter keeping the newest [`DEFAULT_RETAINED_RECORDS`] records.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty meter keeping the newest `retained` records (at least one).
    pub fn with_retained(retained: usize) -> Self {
        let meter = Self::default();
        meter.inner.lock().capacity = retained.max(1);
        meter
    }

    /// How many records the meter keeps.
    pub fn retained(&self) -> usize {
        self.inner.lock().capacity()
    }

    /// Adds a record.
    pub fn record(&self, record: UsageRecord) {
        let mut state = self.inner.lock();
        let per_resource = state.totals.entry(record.unit).or_default();
        match per_resource.get_mut(&*record.resource) {
            Some(total) => *total += record.quantity,
            None => {
                per_resource.insert(record.resource.clone(), record.quantity);
            }
        }
        if state.records.len() >= state.capacity() {
            state.records.pop_front();
            state.evicted += 1;
        }
        state.records.push_back(record);
    }

    /// A copy of the retained records, oldest first.
    pub fn records(&self) -> Vec<UsageRecord> {
        self.inner.lock().records.iter().cloned().collect()
    }

    /// How many records were recorded but are no longer retained.
    pub fn evicted(&self) -> u64 {
        self.inner.lock().evicted
    }

    /// The sum of `unit` over every record ever made whose resource is `resource` (or all, for
    /// `None`) — exact even when the records themselves are no longer retained.
    pub fn total(&self, unit: UsageUnit, resource: Option<&str>) -> f64 {
        let state = self.inner.lock();
        let Some(per_resource) = state.totals.get(&unit) else {
            return 0.0;
        };
        match resource {
            Some(res) => per_resource.get(res).copied().unwrap_or(0.0),
            None => per_resource.values().sum(),
        }
    }

    /// Forgets every record and total.
    pub fn clear(&self) {
        let mut state = self.inner.lock();
        state.records.clear();
        state.totals.clear();
        state.evicted = 0;
    }
}

impl MeterState {
    fn capacity(&self) -> usize {
        if self.capacity == 0 {
            DEFAULT_RETAINED_RECORDS
        } else {
            self.capacity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(resource: &str, unit: UsageUnit, quantity: f64) -> UsageRecord {
        UsageRecord {
            service: "lambda",
            region: "us-east-1".into(),
            resource: resource.into(),
            unit,
            quantity,
            at: std::time::UNIX_EPOCH,
        }
    }

    #[test]
    fn totals_stay_exact_when_old_records_are_evicted() {
        let meter = Meter::with_retained(3);
        for i in 0..10 {
            let res = if i % 2 == 0 { "a" } else { "b" };
            meter.record(rec(res, UsageUnit::Requests, 1.0));
        }
        meter.record(rec("a", UsageUnit::GbSeconds, 0.5));
        assert_eq!(meter.records().len(), 3);
        assert_eq!(meter.evicted(), 8);
        assert_eq!(meter.total(UsageUnit::Requests, Some("a")), 5.0);
        assert_eq!(meter.total(UsageUnit::Requests, None), 10.0);
        assert_eq!(meter.total(UsageUnit::GbSeconds, Some("a")), 0.5);
        assert_eq!(meter.total(UsageUnit::AcuSeconds, None), 0.0);
        // The newest records are the ones kept, oldest first.
        assert_eq!(meter.records()[2].unit, UsageUnit::GbSeconds);
        meter.clear();
        assert!(meter.records().is_empty());
        assert_eq!(meter.total(UsageUnit::Requests, None), 0.0);
    }
}
