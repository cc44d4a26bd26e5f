//! Cross-service flows, wired here because engine crates never depend on each other:
//!
//! - Lambda packages from S3 (`Code.S3Bucket`/`S3Key`): [`S3Objects`] implements
//!   `nubis_lambda::CodeStore` over the S3 engine.
//! - The Neptune bulk loader's `s3://bucket/prefix` sources: [`S3Objects`] implements
//!   `nubis_neptune::loader::ObjectSource`.
//! - Lambda event source mappings on DynamoDB Streams: [`DynamoStreams`] implements
//!   `nubis_lambda::EventSourceConnector`, reading through the DynamoDB Streams API of the
//!   stream's region, so the function sees exactly what GetRecords returns.

#[allow(unused_imports)] // Each link compiles only with both of its engines.
use std::sync::Arc;

/// S3 objects as the other engines read them.
#[cfg(feature = "s3")]
#[derive(Debug, Clone)]
pub struct S3Objects {
    s3: Arc<nubis_s3select::S3>,
}

#[cfg(feature = "s3")]
impl S3Objects {
    /// Reads through `s3`.
    pub fn new(s3: Arc<nubis_s3select::S3>) -> Self {
        S3Objects { s3 }
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, (String, String)> {
        use nubis_core::ServiceError as _;
        self.s3
            .get_object(&nubis_s3select::GetObject::new(bucket, key))
            .map(|o| o.body.to_vec())
            .map_err(|e| (e.code().to_owned(), e.message()))
    }

    #[cfg_attr(not(feature = "neptune"), allow(dead_code))] // Only the Neptune loader lists.
    fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, (String, String)> {
        use nubis_core::ServiceError as _;
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .s3
                .list_objects_v2(&nubis_s3select::ListObjectsV2 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.to_owned(),
                    continuation_token: token.take(),
                    ..Default::default()
                })
                .map_err(|e| (e.code().to_owned(), e.message()))?;
            keys.extend(page.contents.into_iter().map(|o| o.key));
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return Ok(keys),
            }
        }
    }
}

#[cfg(all(feature = "s3", feature = "lambda"))]
impl nubis_lambda::CodeStore for S3Objects {
    fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>, nubis_lambda::CodeStoreError> {
        if let Some(v) = version {
            // The S3 engine keeps one version per key; any named version is unknown to it.
            return Err(nubis_lambda::CodeStoreError {
                code: "NoSuchVersion".into(),
                message: format!("The specified version does not exist: {v}"),
            });
        }
        self.get(bucket, key)
            .map_err(|(code, message)| nubis_lambda::CodeStoreError { code, message })
    }
}

#[cfg(all(feature = "s3", feature = "neptune"))]
impl nubis_neptune::loader::ObjectSource for S3Objects {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        S3Objects::list(self, bucket, prefix)
            .map_err(|(code, message)| format!("{code}: {message}"))
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        S3Objects::get(self, bucket, key).map_err(|(code, message)| format!("{code}: {message}"))
    }
}

/// Opens DynamoDB streams for Lambda event source mappings.
#[cfg(all(feature = "dynamo", feature = "lambda"))]
#[derive(Debug, Clone)]
pub struct DynamoStreams {
    dynamo: Arc<nubis_dynamo::Dynamo>,
}

#[cfg(all(feature = "dynamo", feature = "lambda"))]
mod dynamo_lambda {
    use std::sync::Arc;
    use std::time::SystemTime;

    use futures::future::BoxFuture;
    use nubis_core::{Arn, ServiceError as _};
    use nubis_dynamo::stream_ops::{DescribeStreamInput, GetRecordsInput, GetShardIteratorInput};
    use nubis_lambda::{EventSource, SourceRecord, StartingPosition};
    use parking_lot::Mutex;
    use serde_json::Value;

    use super::DynamoStreams;

    impl DynamoStreams {
        /// Reads streams of `dynamo`.
        pub fn new(dynamo: Arc<nubis_dynamo::Dynamo>) -> Self {
            DynamoStreams { dynamo }
        }
    }

    impl nubis_lambda::EventSourceConnector for DynamoStreams {
        fn connect(&self, event_source_arn: &str) -> Result<Arc<dyn EventSource>, String> {
            let arn: Arn = event_source_arn.parse().map_err(|e| format!("{e}"))?;
            let region = match (arn.service(), arn.region()) {
                ("dynamodb", Some(r)) if arn.resource().contains("/stream/") => r.clone(),
                _ => return Err(format!("{event_source_arn} is not a DynamoDB stream ARN")),
            };
            let db = self.dynamo.region(&region);
            // Fail now, as CreateEventSourceMapping does, when the stream does not exist.
            describe(&db, event_source_arn)?;
            Ok(Arc::new(DynamoStream {
                db,
                arn: event_source_arn.to_owned(),
                baseline: Mutex::new(None),
            }))
        }
    }

    struct DynamoStream {
        db: Arc<nubis_dynamo::RegionDb>,
        arn: String,
        /// For `LATEST`: the last sequence number when the mapping first read (`Some(None)`:
        /// the stream was empty then).
        baseline: Mutex<Option<Option<String>>>,
    }

    /// Every shard of the stream, oldest first (DescribeStream lists them in lineage order).
    fn describe(db: &nubis_dynamo::RegionDb, arn: &str) -> Result<Vec<Value>, String> {
        let mut shards = Vec::new();
        let mut start = None;
        loop {
            let d = db
                .describe_stream(DescribeStreamInput {
                    stream_arn: Some(arn.to_owned()),
                    exclusive_start_shard_id: start.take(),
                    ..Default::default()
                })
                .map_err(|e| format!("{}: {}", e.code(), e.message()))?;
            let d = &d["StreamDescription"];
            shards.extend(d["Shards"].as_array().cloned().unwrap_or_default());
            match d["LastEvaluatedShardId"].as_str() {
                Some(last) => start = Some(last.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    fn seq_num(v: &Value) -> Option<u128> {
        v.as_str()?.parse().ok()
    }

    impl DynamoStream {
        /// Up to `max` records after position `after` (from the oldest when `None`), following
        /// the shard lineage: the shard holding `after` first, then its descendants in order,
        /// moving on only when a closed shard has been read to its end.
        fn records(&self, after: Option<&str>, max: usize) -> Result<Vec<Value>, String> {
            let after_num = after.and_then(|a| a.parse::<u128>().ok());
            for shard in describe(&self.db, &self.arn)? {
                let range = &shard["SequenceNumberRange"];
                let first = seq_num(&range["StartingSequenceNumber"]).unwrap_or(0);
                let end = seq_num(&range["EndingSequenceNumber"]);
                let (kind, seq) = match after_num {
                    // Read entirely before the position: skip.
                    Some(n) if end.is_some_and(|e| e <= n) => continue,
                    Some(n) if n >= first => ("AFTER_SEQUENCE_NUMBER", after.map(str::to_owned)),
                    _ => ("TRIM_HORIZON", None),
                };
                let it = self
                    .db
                    .get_shard_iterator(GetShardIteratorInput {
                        stream_arn: Some(self.arn.clone()),
                        shard_id: shard["ShardId"].as_str().map(str::to_owned),
                        shard_iterator_type: Some(kind.to_owned()),
                        sequence_number: seq,
                    })
                    .map_err(|e| format!("{}: {}", e.code(), e.message()))?;
                let out = self
                    .db
                    .get_records(GetRecordsInput {
                        shard_iterator: it["ShardIterator"].as_str().map(str::to_owned),
                        limit: Some(max.clamp(1, 1000) as i64),
                    })
                    .map_err(|e| format!("{}: {}", e.code(), e.message()))?;
                let records = out["Records"].as_array().cloned().unwrap_or_default();
                // An open shard (it gives a next iterator) is the end of the lineage for now.
                if !records.is_empty() || out.get("NextShardIterator").is_some() {
                    return Ok(records);
                }
            }
            Ok(Vec::new())
        }
    }

    fn seq_of(r: &Value) -> Option<String> {
        r["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned)
    }

    impl EventSource for DynamoStream {
        fn read<'a>(
            &'a self,
            after: Option<&'a str>,
            start: &'a StartingPosition,
            max: usize,
        ) -> BoxFuture<'a, Result<Vec<SourceRecord>, String>> {
            Box::pin(async move {
                let mut after = after.map(str::to_owned);
                if after.is_none() && matches!(start, StartingPosition::Latest) {
                    let mut baseline = self.baseline.lock();
                    if baseline.is_none() {
                        // First read of a LATEST mapping: remember where the stream ends now.
                        let mut last = None;
                        loop {
                            let page = self.records(last.as_deref(), 1000)?;
                            match page.last().and_then(seq_of) {
                                Some(s) => last = Some(s),
                                None => break,
                            }
                        }
                        *baseline = Some(last);
                        return Ok(Vec::new());
                    }
                    after = baseline.clone().flatten();
                }
                let records = self.records(after.as_deref(), max)?;
                let from = match start {
                    StartingPosition::AtTimestamp(t) if after.is_none() => Some(*t),
                    _ => None,
                };
                Ok(records
                    .into_iter()
                    .filter_map(|mut r| {
                        let created = r["dynamodb"]["ApproximateCreationDateTime"]
                            .as_f64()
                            .map(nubis_core::clock::from_epoch_seconds_f64)
                            .unwrap_or(SystemTime::UNIX_EPOCH);
                        if from.is_some_and(|t| created < t) {
                            return None;
                        }
                        let position = seq_of(&r)?;
                        r["eventSourceARN"] = Value::String(self.arn.clone());
                        Some(SourceRecord {
                            data: r,
                            position,
                            created,
                        })
                    })
                    .collect())
            })
        }
    }
}
