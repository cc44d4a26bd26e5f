//! The traits through which the facade connects the Lambda engine to other engines: where S3
//! packages come from ([`CodeStore`]), where asynchronous-invocation destinations and dead
//! letters go ([`DestinationSink`]), and what event source mappings read
//! ([`EventSourceConnector`], in [`crate::esm`]).

use std::collections::BTreeMap;

use parking_lot::Mutex;
use serde_json::Value;

pub use crate::esm::EventSourceConnector;

/// Why a package could not be read from S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeStoreError {
    /// The S3 error code (`NoSuchBucket`, `NoSuchKey`, `AccessDenied`).
    pub code: String,
    /// The S3 error message.
    pub message: String,
}

/// Reads deployment packages from S3 (`Code.S3Bucket`, `S3Key`, `S3ObjectVersion`).
pub trait CodeStore: Send + Sync + 'static {
    /// The object's bytes.
    fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>, CodeStoreError>;
}

/// What a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// An OnSuccess destination record.
    OnSuccess,
    /// An OnFailure destination record.
    OnFailure,
    /// A dead letter (the original event, with `RequestID`, `ErrorCode`, `ErrorMessage`
    /// attributes).
    DeadLetter,
}

/// A record sent to a destination or dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// What kind of record.
    pub kind: DeliveryKind,
    /// The target ARN (SQS queue, SNS topic, EventBridge bus, S3 bucket).
    pub target_arn: String,
    /// The record body: the destination record JSON, or the original event for dead letters.
    pub body: Value,
    /// Message attributes (dead letters).
    pub attributes: BTreeMap<String, String>,
}

/// Delivers destination records and dead letters to other services.
pub trait DestinationSink: Send + Sync + 'static {
    /// Sends one record; an error is logged to the function's log group and the record dropped,
    /// as Lambda does when a destination is unreachable.
    fn deliver(&self, delivery: Delivery) -> Result<(), String>;
}

/// The sink used while the facade has connected none: it keeps every delivery.
#[derive(Debug, Default)]
pub struct RecordingSink {
    deliveries: Mutex<Vec<Delivery>>,
}

impl RecordingSink {
    /// Every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().clone()
    }

    pub(crate) fn clear(&self) {
        self.deliveries.lock().clear();
    }
}

impl DestinationSink for RecordingSink {
    fn deliver(&self, delivery: Delivery) -> Result<(), String> {
        self.deliveries.lock().push(delivery);
        Ok(())
    }
}
