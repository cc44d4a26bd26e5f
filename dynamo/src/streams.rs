//! DynamoDB Streams: the change log of a table and the Streams API over it.
//!
//! Each enabled stream is a [`StreamLog`]: records in sequence-number order (numbers are
//! contiguous across the whole stream) and the shards that cut that sequence into ranges. One
//! shard is open at a time; when it has lived its lifetime on the engine's clock (4 hours by
//! default, [`crate::Config::stream_shard_lifetime`]) it is closed — it gets an
//! `EndingSequenceNumber` and receives nothing more — and a child shard whose `ParentShardId`
//! is the closed one opens. Shards therefore form one lineage (the table is one partition here:
//! nothing splits it), listed oldest first. A shard that received no record is not closed at the
//! end of its lifetime but renewed in place: an empty closed shard carries nothing a reader
//! needs, and a stream left idle for a year does not grow thousands of them.
//!
//! Records are kept for 24 hours on the engine's clock; reading a trimmed position is
//! `TrimmedDataAccessException`; a closed shard disappears 24 hours after it closed (all its
//! records are gone by then). A shard iterator expires 15 minutes after it was issued.
//! Disabling the stream (or deleting the table) closes the open shard; the stream stays
//! readable until its records age out.

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
/// How long a shard stays open by default: DynamoDB rolls shards over about every 4 hours.
pub const SHARD_LIFETIME_MS: u64 = 4 * 3600 * 1000;
/// The first sequence number of a stream.
pub const FIRST_SEQ: u64 = 100_000_000_000_000_000;

/// One shard: a range of the stream's sequence numbers.
#[derive(Debug, Clone)]
pub struct Shard {
    /// `shardId-<creation ms, 20 digits>-<8 hex>`: ids sort in creation order.
    pub id: String,
    /// The shard this one continues (absent for the stream's first shard).
    pub parent: Option<String>,
    /// The first sequence number it holds.
    pub first_seq: u64,
    /// One past the last sequence number it holds, once closed.
    pub end_seq: Option<u64>,
    /// When it opened (or was last renewed empty), epoch milliseconds.
    pub opened_ms: u64,
    /// When it closed, epoch milliseconds.
    pub closed_ms: Option<u64>,
}

impl Shard {
    /// One past the last sequence number readable from it now.
    pub fn end(&self, next_seq: u64) -> u64 {
        self.end_seq.unwrap_or(next_seq)
    }

    /// The `Shard` shape DescribeStream lists.
    pub fn json(&self) -> Value {
        let mut range = json!({ "StartingSequenceNumber": seq_str(self.first_seq) });
        if let Some(end) = self.end_seq {
            // An empty closed shard (possible only when the stream is disabled) ends where it
            // starts.
            range["EndingSequenceNumber"] =
                json!(seq_str(end.saturating_sub(1).max(self.first_seq)));
        }
        let mut v = json!({ "ShardId": self.id, "SequenceNumberRange": range });
        if let Some(p) = &self.parent {
            v["ParentShardId"] = json!(p);
        }
        v
    }
}

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
    /// Shards in lineage order, oldest first; the last is the open one while enabled.
    pub shards: VecDeque<Shard>,
    /// How long a shard stays open, milliseconds.
    pub shard_lifetime_ms: u64,
    /// Shard ids (their random part).
    pub ids: nubis_core::IdGen,
    /// Records, oldest first.
    pub records: VecDeque<Record>,
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
    /// A new enabled stream with its first shard open at `now_ms`.
    #[allow(clippy::too_many_arguments)] // One constructor call site; every field is needed.
    pub fn new(
        arn: String,
        label: String,
        table_name: String,
        region: String,
        view_type: String,
        key_schema: Vec<KeySchemaElement>,
        now_ms: u64,
        shard_lifetime_ms: u64,
        ids: nubis_core::IdGen,
    ) -> StreamLog {
        let id_seed = ids.hex(16);
        let mut log = StreamLog {
            arn,
            label,
            table_name,
            region,
            view_type,
            key_schema,
            created: now_ms as f64 / 1000.0,
            shards: VecDeque::new(),
            shard_lifetime_ms: shard_lifetime_ms.max(1),
            ids,
            records: VecDeque::new(),
            next_seq: FIRST_SEQ,
            enabled: true,
            closed_at_ms: None,
            id_seed,
        };
        log.open_shard(now_ms, None);
        log
    }

    fn open_shard(&mut self, at_ms: u64, parent: Option<String>) {
        let id = format!("shardId-{:020}-{}", at_ms, self.ids.hex(8));
        self.shards.push_back(Shard {
            id,
            parent,
            first_seq: self.next_seq,
            end_seq: None,
            opened_ms: at_ms,
            closed_ms: None,
        });
    }

    /// Rolls the open shard over for every lifetime that has ended by `now_ms`: a shard that
    /// holds records closes at the end of its lifetime and a child opens then; an empty one is
    /// renewed in place.
    pub fn roll(&mut self, now_ms: u64) {
        let life = self.shard_lifetime_ms;
        while self.enabled {
            let next_seq = self.next_seq;
            let Some(open) = self.shards.back_mut() else {
                return;
            };
            if open.end_seq.is_some() || open.opened_ms.saturating_add(life) > now_ms {
                return;
            }
            if open.first_seq == next_seq {
                // Empty: renew it to the start of the lifetime that contains `now_ms`.
                let periods = (now_ms - open.opened_ms) / life;
                open.opened_ms += periods * life;
                return;
            }
            let closed_at = open.opened_ms + life;
            open.end_seq = Some(next_seq);
            open.closed_ms = Some(closed_at);
            let parent = Some(open.id.clone());
            self.open_shard(closed_at, parent);
        }
    }

    /// Closes the open shard (the stream is being disabled) at `now_ms`.
    pub fn disable(&mut self, now_ms: u64) {
        self.roll(now_ms);
        self.enabled = false;
        self.closed_at_ms = Some(now_ms);
        let next_seq = self.next_seq;
        if let Some(open) = self.shards.back_mut()
            && open.end_seq.is_none()
        {
            open.end_seq = Some(next_seq);
            open.closed_ms = Some(now_ms);
        }
    }

    /// The shard `id`, if it has not been trimmed.
    pub fn shard(&self, id: &str) -> Option<&Shard> {
        self.shards.iter().find(|s| s.id == id)
    }

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
        self.roll(at_ms);
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

    /// Rolls shards over and drops records older than the retention period, and closed shards
    /// whose every record has aged out.
    pub fn trim(&mut self, now_ms: u64) {
        self.roll(now_ms);
        while self
            .shards
            .front()
            .is_some_and(|s| s.closed_ms.is_some_and(|c| c + RETENTION_MS <= now_ms))
        {
            self.shards.pop_front();
        }
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

    /// The `StreamDescription` for DescribeStream, its `Shards` being `shards` (one page).
    pub fn description(&self, shards: Vec<Value>) -> Value {
        json!({
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": self.status(),
            "StreamViewType": self.view_type,
            "CreationRequestDateTime": self.created,
            "TableName": self.table_name,
            "KeySchema": self.key_schema,
            "Shards": shards,
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
    /// The shard.
    pub shard: String,
    /// The next sequence number to read.
    pub seq: u64,
    /// When it was issued, epoch milliseconds.
    pub issued_ms: u64,
}

impl Iterator {
    /// Encodes the iterator as the opaque string clients pass back.
    pub fn encode(&self) -> String {
        nubis_core::page::encode(
            "ShardIterator",
            &(&self.arn, &self.shard, self.seq, self.issued_ms),
        )
    }

    /// Decodes an iterator string.
    pub fn decode(s: &str) -> Result<Iterator, Error> {
        let (arn, shard, seq, issued_ms): (String, String, u64, u64) =
            nubis_core::page::decode("ShardIterator", s)
                .map_err(|_| Error::validation("Invalid ShardIterator"))?;
        Ok(Iterator {
            arn,
            shard,
            seq,
            issued_ms,
        })
    }
}
