//! The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator, GetRecords.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::streams::{ITERATOR_TTL_MS, Iterator, RETENTION_MS, seq_str};
use crate::validate::Shape;

/// ListStreams input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListStreamsInput {
    /// Only this table's streams.
    pub table_name: Option<String>,
    /// At most this many (1–100).
    pub limit: Option<i64>,
    /// Continue after this stream.
    pub exclusive_start_stream_arn: Option<String>,
}

/// DescribeStream input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeStreamInput {
    /// The stream.
    pub stream_arn: Option<String>,
    /// At most this many shards.
    pub limit: Option<i64>,
    /// Continue after this shard.
    pub exclusive_start_shard_id: Option<String>,
    /// Only the children of a shard.
    pub shard_filter: Option<ShardFilter>,
}

/// DescribeStream's `ShardFilter`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShardFilter {
    /// `CHILD_SHARDS`.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    /// The parent whose children to list.
    pub shard_id: Option<String>,
}

/// GetShardIterator input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetShardIteratorInput {
    /// The stream.
    pub stream_arn: Option<String>,
    /// The shard.
    pub shard_id: Option<String>,
    /// `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER`.
    pub shard_iterator_type: Option<String>,
    /// For the sequence-number types.
    pub sequence_number: Option<String>,
}

/// GetRecords input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetRecordsInput {
    /// The iterator.
    pub shard_iterator: Option<String>,
    /// At most this many records (1–1000).
    pub limit: Option<i64>,
}

impl RegionDb {
    fn stream(
        &self,
        arn: &str,
    ) -> Result<std::sync::Arc<parking_lot::Mutex<crate::streams::StreamLog>>> {
        let now = self.now_ms();
        let mut streams = self.streams.write();
        // Closed streams disappear once their last records have aged out.
        streams.retain(|s| {
            let s = s.lock();
            s.closed_at_ms.is_none_or(|c| c + RETENTION_MS > now)
        });
        streams
            .iter()
            .find(|s| s.lock().arn == arn)
            .cloned()
            .ok_or_else(|| {
                Error::ResourceNotFound(format!(
                    "Requested resource not found: Stream: {arn} not found"
                ))
            })
    }

    /// ListStreams.
    pub fn list_streams(&self, input: ListStreamsInput) -> Result<Value> {
        let mut s = Shape::new();
        s.range("limit", input.limit, 1, 100);
        s.finish()?;
        let now = self.now_ms();
        let all: Vec<Value> = self
            .streams
            .read()
            .iter()
            .filter_map(|s| {
                let s = s.lock();
                let live = s.closed_at_ms.is_none_or(|c| c + RETENTION_MS > now);
                (live && input.table_name.as_deref().is_none_or(|t| t == s.table_name))
                    .then(|| json!({ "StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label }))
            })
            .collect();
        let start = input.exclusive_start_stream_arn.as_deref();
        let from = start
            .and_then(|a| all.iter().position(|v| v["StreamArn"] == a))
            .map_or(0, |i| i + 1);
        let limit = input.limit.unwrap_or(100) as usize;
        let page: Vec<Value> = all.iter().skip(from).take(limit).cloned().collect();
        let mut out = json!({ "Streams": page });
        if from + limit < all.len()
            && let Some(last) = page.last()
        {
            out["LastEvaluatedStreamArn"] = last["StreamArn"].clone();
        }
        Ok(out)
    }

    /// DescribeStream: the stream and its shards in lineage order, `Limit` (at most 100) at a
    /// time after `ExclusiveStartShardId`, or only the children of `ShardFilter.ShardId`.
    pub fn describe_stream(&self, input: DescribeStreamInput) -> Result<Value> {
        // Replicated writes due by now belong in the stream, and replication reads records
        // before retention can trim them.
        self.global.pump();
        let mut s = Shape::new();
        s.required("streamArn", &input.stream_arn);
        s.range("limit", input.limit, 1, 100);
        if let Some(f) = &input.shard_filter {
            s.one_of("shardFilter.type", &f.kind, &["CHILD_SHARDS"]);
        }
        s.finish()?;
        let log = self.stream(input.stream_arn.as_deref().unwrap_or_default())?;
        let mut log = log.lock();
        log.trim(self.now_ms());
        let parent = input
            .shard_filter
            .as_ref()
            .and_then(|f| f.shard_id.as_deref());
        // Shard ids carry their creation time, so id order is lineage order: a start id that has
        // since been trimmed still places the page correctly.
        let start = input.exclusive_start_shard_id.as_deref();
        let selected: Vec<&crate::streams::Shard> = log
            .shards
            .iter()
            .filter(|sh| parent.is_none_or(|p| sh.parent.as_deref() == Some(p)))
            .filter(|sh| start.is_none_or(|st| sh.id.as_str() > st))
            .collect();
        let limit = input.limit.unwrap_or(100) as usize;
        let page: Vec<Value> = selected.iter().take(limit).map(|sh| sh.json()).collect();
        let mut d = log.description(page);
        if selected.len() > limit
            && let Some(last) = selected.get(limit - 1)
        {
            d["LastEvaluatedShardId"] = json!(last.id);
        }
        Ok(json!({ "StreamDescription": d }))
    }

    /// GetShardIterator.
    pub fn get_shard_iterator(&self, input: GetShardIteratorInput) -> Result<Value> {
        // Replicated writes due by now belong in the stream, and replication reads records
        // before retention can trim them.
        self.global.pump();
        let mut s = Shape::new();
        s.required("streamArn", &input.stream_arn);
        s.required("shardId", &input.shard_id);
        s.required("shardIteratorType", &input.shard_iterator_type);
        s.one_of(
            "shardIteratorType",
            &input.shard_iterator_type,
            &[
                "TRIM_HORIZON",
                "LATEST",
                "AT_SEQUENCE_NUMBER",
                "AFTER_SEQUENCE_NUMBER",
            ],
        );
        s.finish()?;
        let arn = input.stream_arn.unwrap_or_default();
        let log = self.stream(&arn)?;
        let mut log = log.lock();
        let now = self.now_ms();
        log.trim(now);
        let shard_id = input.shard_id.unwrap_or_default();
        let Some(shard) = log.shard(&shard_id) else {
            return Err(Error::ResourceNotFound(format!(
                "Requested resource not found: Shard does not exist: {shard_id}"
            )));
        };
        let end = shard.end(log.next_seq);
        let seq_arg = || -> Result<u64> {
            input
                .sequence_number
                .as_deref()
                .ok_or_else(|| Error::validation("Sequence number must be specified for AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER iterator types"))?
                .parse::<u64>()
                .map_err(|_| Error::validation("Invalid SequenceNumber"))
        };
        let seq = match input.shard_iterator_type.as_deref() {
            // The oldest record of the shard still kept (the shard's end once all are trimmed).
            Some("TRIM_HORIZON") => shard.first_seq.max(log.trim_horizon()).min(end),
            Some("LATEST") => end,
            Some("AT_SEQUENCE_NUMBER") => seq_arg()?,
            _ => seq_arg()?.saturating_add(1),
        };
        // A sequence number names a record of this shard; an open shard also accepts the
        // position just past its last record (where the next record will be).
        let given_past_end = shard.end_seq.is_some()
            && matches!(
                input.shard_iterator_type.as_deref(),
                Some("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER")
            )
            && seq_arg().is_ok_and(|n| n >= end);
        if seq < shard.first_seq || seq > end || given_past_end {
            return Err(Error::validation(format!(
                "Invalid SequenceNumber {} for shard {}",
                input.sequence_number.as_deref().unwrap_or_default(),
                shard.id
            )));
        }
        if seq < log.trim_horizon() {
            return Err(Error::TrimmedDataAccess(format!(
                "Attempted to access data that is beyond the trim horizon: sequence number {} in shard {}",
                seq_str(seq),
                shard.id
            )));
        }
        let shard = shard.id.clone();
        Ok(json!({ "ShardIterator": Iterator { arn, shard, seq, issued_ms: now }.encode() }))
    }

    /// GetRecords: up to `Limit` records of the iterator's shard from its position. A closed
    /// shard read to its end returns no `NextShardIterator`: the reader moves to its child.
    pub fn get_records(&self, input: GetRecordsInput) -> Result<Value> {
        // Replicated writes due by now belong in the stream, and replication reads records
        // before retention can trim them.
        self.global.pump();
        let mut s = Shape::new();
        s.required("shardIterator", &input.shard_iterator);
        s.range("limit", input.limit, 1, 1000);
        s.finish()?;
        let it = Iterator::decode(input.shard_iterator.as_deref().unwrap_or_default())?;
        let now = self.now_ms();
        if it.issued_ms + ITERATOR_TTL_MS <= now {
            return Err(Error::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {}.",
                nubis_core::clock::to_rfc3339(nubis_core::clock::from_epoch_seconds_f64(
                    it.issued_ms as f64 / 1000.0
                )),
                nubis_core::clock::to_rfc3339(self.env.clock.now())
            )));
        }
        let log = self.stream(&it.arn)?;
        let mut log = log.lock();
        log.trim(now);
        if it.seq < log.trim_horizon() {
            return Err(Error::TrimmedDataAccess(
                "Attempted to access data that is beyond the trim horizon".into(),
            ));
        }
        let Some(shard) = log.shard(&it.shard) else {
            return Err(Error::ResourceNotFound(format!(
                "Requested resource not found: Shard does not exist: {}",
                it.shard
            )));
        };
        let end = shard.end(log.next_seq);
        let closed = shard.end_seq.is_some();
        let limit = input.limit.unwrap_or(1000) as usize;
        // Sequence numbers are contiguous, so the position is an index into the records.
        let from = log
            .records
            .front()
            .map_or(0, |f| it.seq.saturating_sub(f.seq) as usize);
        let records: Vec<Value> = log
            .records
            .range(from.min(log.records.len())..)
            .take_while(|r| r.seq < end)
            .take(limit)
            .map(|r| log.record_json(r))
            .collect();
        let next = it.seq + records.len() as u64;
        let mut out = json!({ "Records": records });
        if !closed || next < end {
            out["NextShardIterator"] = json!(
                Iterator {
                    arn: it.arn,
                    shard: it.shard,
                    seq: next,
                    issued_ms: now
                }
                .encode()
            );
        }
        Ok(out)
    }
}
