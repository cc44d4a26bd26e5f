//! DynamoDB Streams: the change log of a table and the Streams API over it.
//!
//! Each enabled stream is a [`StreamLog`] with one shard holding records in sequence-number
//! order. Records are kept for 24 hours on the engine's clock; reading a trimmed position is
//! `TrimmedDataAccessException`; a shard iterator expires 15 minutes after it was issued.
//! Disabling the stream (or deleting the table) closes the shard, which stays readable until
//! its records age out. One shard per stream is a simplification AWS clients handle unchanged
//! (they walk whatever shards DescribeStream lists).

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::Error;
use crate::model::KeySchemaElement;
use crate::table::Actor;
use crate::value::{Item, item_size};

/// Stream record retention.
pub const RETENTION_MS: u64 = 24 * 3600 * 1000;
/// Shard iterator lifetime.
pub const ITERATOR_TTL_MS: u64 = 15 * 60 * 1000;

/// The kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new item.
    Insert,
    /// A changed item.
    Modify,
    /// A deleted item.
    Remove,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Insert => "INSERT",
            EventKind::Modify => "MODIFY",
            EventKind::Remove => "REMOVE",
        }
    }
}

/// One stream record.
#[derive(Debug, Clone)]
pub struct Record {
    /// Sequence number.
    pub seq: u64,
    /// When, epoch milliseconds.
    pub at_ms: u64,
    /// What happened.
    pub kind: EventKind,
    /// The key.
    pub keys: Item,
    /// The item before.
    pub old: Option<Arc<Item>>,
    /// The item after.
    pub new: Option<Arc<Item>>,
    /// Who did it.
    pub actor: Actor,
}

/// A table's stream.
#[derive(Debug)]
pub struct StreamLog {
    /// The stream ARN.
    pub arn: String,
    /// The label (creation time).
    pub label: String,
    /// The table.
    pub table_name: String,
    /// The region name (for records).
    pub region: String,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES`.
    pub view_type: String,
    /// The table's key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// Creation, epoch seconds.
    pub created: f64,
    /// The shard id.
    pub shard_id: String,
    /// Records, oldest first.
    pub records: VecDeque<Record>,
    /// The first sequence number of the shard.
    pub first_seq: u64,
    /// The next sequence number.
    pub next_seq: u64,
    /// Whether the stream is still enabled.
    pub enabled: bool,
    /// When it was disabled, epoch milliseconds.
    pub closed_at_ms: Option<u64>,
    /// Seed for event ids.
    pub id_seed: String,
}

impl StreamLog {
    /// Appends a record.
    pub fn push(
        &mut self,
        kind: EventKind,
        keys: Item,
        old: Option<Arc<Item>>,
        new: Option<Arc<Item>>,
        at_ms: u64,
        actor: Actor,
    ) {
        if !self.enabled {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.records.push_back(Record {
            seq,
            at_ms,
            kind,
            keys,
            old,
            new,
            actor,
        });
    }

    /// Drops records older than the retention period.
    pub fn trim(&mut self, now_ms: u64) {
        while self
            .records
            .front()
            .is_some_and(|r| r.at_ms + RETENTION_MS <= now_ms)
        {
            self.records.pop_front();
        }
    }

    /// `StreamStatus`.
    pub fn status(&self) -> &'static str {
        if self.enabled { "ENABLED" } else { "DISABLED" }
    }

    /// The lowest sequence number still readable.
    pub fn trim_horizon(&self) -> u64 {
        self.records.front().map_or(self.next_seq, |r| r.seq)
    }

    /// The record in the wire shape GetRecords returns.
    pub fn record_json(&self, r: &Record) -> Value {
        let mut d = json!({
            "ApproximateCreationDateTime": (r.at_ms / 1000) as f64,
            "Keys": r.keys,
            "SequenceNumber": seq_str(r.seq),
            "StreamViewType": self.view_type,
        });
        let with_new = matches!(self.view_type.as_str(), "NEW_IMAGE" | "NEW_AND_OLD_IMAGES");
        let with_old = matches!(self.view_type.as_str(), "OLD_IMAGE" | "NEW_AND_OLD_IMAGES");
        let mut size = item_size(&r.keys);
        if with_new && let Some(n) = &r.new {
            d["NewImage"] = json!(n);
            size += item_size(n);
        }
        if with_old && let Some(o) = &r.old {
            d["OldImage"] = json!(o);
            size += item_size(o);
        }
        d["SizeBytes"] = json!(size);
        let mut rec = json!({
            "eventID": format!("{}{:016x}", self.id_seed, r.seq),
            "eventName": r.kind.as_str(),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": d,
        });
        if r.actor == Actor::Ttl {
            rec["userIdentity"] =
                json!({ "PrincipalId": "dynamodb.amazonaws.com", "Type": "Service" });
        }
        rec
    }

    /// The `StreamDescription` for DescribeStream.
    pub fn description(&self) -> Value {
        let mut range = json!({ "StartingSequenceNumber": seq_str(self.first_seq) });
        if !self.enabled {
            range["EndingSequenceNumber"] =
                json!(seq_str(self.next_seq.saturating_sub(1).max(self.first_seq)));
        }
        json!({
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": self.status(),
            "StreamViewType": self.view_type,
            "CreationRequestDateTime": self.created,
            "TableName": self.table_name,
            "KeySchema": self.key_schema,
            "Shards": [{ "ShardId": self.shard_id, "SequenceNumberRange": range }],
        })
    }
}

/// A sequence number as DynamoDB prints it (21 digits).
pub fn seq_str(seq: u64) -> String {
    format!("{seq:021}")
}

/// A decoded shard iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iterator {
    /// The stream.
    pub arn: String,
    /// The next sequence number to read.
    pub seq: u64,
    /// When it was issued, epoch milliseconds.
    pub issued_ms: u64,
}

impl Iterator {
    /// Encodes the iterator as the opaque string clients pass back.
    pub fn encode(&self) -> String {
        nubis_core::page::encode("ShardIterator", &(&self.arn, self.seq, self.issued_ms))
    }

    /// Decodes an iterator string.
    pub fn decode(s: &str) -> Result<Iterator, Error> {
        let (arn, seq, issued_ms): (String, u64, u64) =
            nubis_core::page::decode("ShardIterator", s)
                .map_err(|_| Error::validation("Invalid ShardIterator"))?;
        Ok(Iterator {
            arn,
            seq,
            issued_ms,
        })
    }
}
