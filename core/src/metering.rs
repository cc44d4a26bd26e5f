//! Usage metering: the records engines emit for what they bill, readable by the user.
//!
//! Engines emit a [`UsageRecord`] per billable event (capacity units consumed, GB-seconds of
//! function time, ACU-seconds of serverless capacity, bytes scanned). A [`Meter`] collects them;
//! it is cheap to clone and every clone sees the same records.

use std::sync::Arc;
use std::time::SystemTime;

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
    /// The region the usage happened in.
    pub region: String,
    /// The resource's ARN (or name where it has none).
    pub resource: String,
    /// The unit of `quantity`.
    pub unit: UsageUnit,
    /// How much.
    pub quantity: f64,
    /// When, on the engine's clock.
    #[serde(serialize_with = "ser_time")]
    pub at: SystemTime,
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::to_rfc3339(*t))
}

/// A shared collector of usage records.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    records: Arc<Mutex<Vec<UsageRecord>>>,
}

impl Meter {
    /// An empty meter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record.
    pub fn record(&self, record: UsageRecord) {
        self.records.lock().push(record);
    }

    /// A copy of every record so far.
    pub fn records(&self) -> Vec<UsageRecord> {
        self.records.lock().clone()
    }

    /// The sum of `unit` over every record whose resource is `resource` (or all, for `None`).
    pub fn total(&self, unit: UsageUnit, resource: Option<&str>) -> f64 {
        self.records
            .lock()
            .iter()
            .filter(|r| r.unit == unit && resource.is_none_or(|res| r.resource == res))
            .map(|r| r.quantity)
            .sum()
    }

    /// Forgets every record.
    pub fn clear(&self) {
        self.records.lock().clear();
    }
}
