//! Glacier: RestoreObject (archive restores and Glacier Select jobs) and SelectObjectContent
//! on the store.
//!
//! Jobs are settled lazily: every operation first runs the Glacier Select jobs whose tier time
//! has passed on the clock, so the results appear under the OutputLocation prefix exactly when
//! a client that advanced a manual clock looks for them. Results are written to
//! `<prefix>/<job-id>/results/<job-id>.csv` and a manifest `<prefix>/<job-id>/job.txt` holds
//! the job's status (and the error code and message if the query failed).

use std::time::SystemTime;

use bytes::Bytes;

use super::engine::S3;
use super::model::{StorageClass, StoredObject, etag_of};
use super::restore::{Restore, RestoreOutcome, Tier};
use crate::ServiceError;
use crate::error::{Error, Result};
use crate::select::{self, InputFormat, SelectRequest, SelectStream, Stats};

/// Where a Glacier Select job writes its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLocation {
    /// The bucket (same region as the source).
    pub bucket: String,
    /// The key prefix.
    pub prefix: String,
    /// The storage class of the result objects.
    pub storage_class: StorageClass,
}

/// A RestoreObject request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// `Days` the restored copy stays (archive restores).
    pub days: Option<u32>,
    /// The retrieval tier.
    pub tier: Tier,
    /// `Type=SELECT`: the query and where its results go.
    pub select: Option<(SelectRequest, OutputLocation)>,
}

#[derive(Debug, Clone)]
pub(crate) struct SelectJob {
    id: String,
    source_bucket: String,
    source_key: String,
    due: SystemTime,
    request: SelectRequest,
    output: OutputLocation,
}

impl S3 {
    /// RestoreObject: starts a restore or a Glacier Select job (`Accepted`, HTTP 202), or extends
    /// a finished restore (`AlreadyRestored`, HTTP 200).
    pub fn restore_object(&self, req: RestoreObject) -> Result<RestoreOutcome> {
        let now = self.now();
        self.settle(now);
        let mut st = self.state.write();
        let b = st
            .buckets
            .get(&req.bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.bucket.clone(),
            })?;
        let o = b.objects.get(&req.key).ok_or_else(|| Error::NoSuchKey {
            key: req.key.clone(),
        })?;
        let class = o.storage_class;
        if !class.is_archived() {
            return Err(Error::InvalidObjectState {
                message: "Restore is not allowed for the object's current storage class".into(),
                storage_class: class.as_str().into(),
            });
        }
        let wait = req.tier.duration(class)?;
        if let Some((select_req, output)) = req.select {
            select_req.validate()?;
            if !matches!(select_req.input, InputFormat::Csv(_))
                || select_req.compression != select::Compression::None
            {
                return Err(Error::invalid_argument(
                    "Glacier Select queries uncompressed CSV objects only",
                    "InputSerialization",
                    "",
                ));
            }
            // Parse now so a bad query fails the request, not the job.
            select::plan::Plan::new(
                &select_req.expression,
                &select_req.output,
                select::eval::S3SelectDialect { now },
            )?;
            if !st.buckets.contains_key(&output.bucket) {
                return Err(Error::NoSuchBucket {
                    bucket: output.bucket.clone(),
                });
            }
            let id = self.env.ids.upper_alnum(20);
            st.jobs.push(SelectJob {
                id,
                source_bucket: req.bucket,
                source_key: req.key,
                due: now + wait,
                request: select_req,
                output,
            });
            return Ok(RestoreOutcome::Accepted);
        }
        let days = match req.days {
            Some(d) if d >= 1 => d,
            Some(d) => {
                return Err(Error::invalid_argument(
                    "Days must be at least 1",
                    "Days",
                    &d.to_string(),
                ));
            }
            None => return Err(Error::MalformedXml),
        };
        let b = st.buckets.get_mut(&req.bucket).ok_or(Error::Internal)?;
        let o = b.objects.get_mut(&req.key).ok_or(Error::Internal)?;
        match &mut o.restore {
            Some(r) if r.ongoing(now) => Err(Error::RestoreAlreadyInProgress),
            Some(r) if r.readable(now) => {
                // Re-restoring a restored copy only moves its expiry, counted from now.
                r.completes = now;
                r.days = days;
                Ok(RestoreOutcome::AlreadyRestored)
            }
            _ => {
                o.restore = Some(Restore {
                    tier: req.tier,
                    completes: now + wait,
                    days,
                });
                Ok(RestoreOutcome::Accepted)
            }
        }
    }

    /// Runs the Glacier Select jobs that are due at `now`.
    pub(crate) fn settle(&self, now: SystemTime) {
        if !self.state.read().jobs.iter().any(|j| j.due <= now) {
            return;
        }
        let due: Vec<(SelectJob, Option<Bytes>)> = {
            let mut st = self.state.write();
            let (due, rest): (Vec<SelectJob>, Vec<SelectJob>) = std::mem::take(&mut st.jobs)
                .into_iter()
                .partition(|j| j.due <= now);
            st.jobs = rest;
            due.into_iter()
                .map(|j| {
                    let data = st
                        .buckets
                        .get(&j.source_bucket)
                        .and_then(|b| b.objects.get(&j.source_key))
                        .map(|o| o.data.clone());
                    (j, data)
                })
                .collect()
        };
        for (job, data) in due {
            let result = match data {
                None => Err(Error::NoSuchKey {
                    key: job.source_key.clone(),
                }),
                Some(d) => select::select(d, &job.request, job.due, self.select_options)
                    .and_then(select::run_to_end),
            };
            let prefix = job.output.prefix.trim_end_matches('/');
            let base = if prefix.is_empty() {
                job.id.clone()
            } else {
                format!("{prefix}/{}", job.id)
            };
            let manifest = match &result {
                Ok((_, stats)) => format!(
                    "Status=Succeeded\nBytesScanned={}\nBytesProcessed={}\nBytesReturned={}\n",
                    stats.bytes_scanned, stats.bytes_processed, stats.bytes_returned
                ),
                Err(e) => format!(
                    "Status=Failed\nErrorCode={}\nErrorMessage={}\n",
                    e.code(),
                    e.message()
                ),
            };
            let mut st = self.state.write();
            let Some(b) = st.buckets.get_mut(&job.output.bucket) else {
                continue;
            };
            let mut put = |key: String, data: Bytes, content_type: &str| {
                let headers = super::model::ObjectHeaders {
                    content_type: Some(content_type.to_owned()),
                    ..Default::default()
                };
                b.objects.insert(
                    key,
                    StoredObject {
                        etag: etag_of(&data),
                        data,
                        last_modified: job.due,
                        headers,
                        metadata: Default::default(),
                        storage_class: job.output.storage_class,
                        parts_count: None,
                        part_sizes: Vec::new(),
                        restore: None,
                    },
                );
            };
            if let Ok((out, _)) = result {
                put(
                    format!("{base}/results/{}.csv", job.id),
                    Bytes::from(out),
                    "text/csv",
                );
            }
            put(
                format!("{base}/job.txt"),
                Bytes::from(manifest),
                "text/plain",
            );
        }
    }

    /// SelectObjectContent: starts the query; the stream yields the event sequence.
    pub fn select_object_content(
        &self,
        bucket: &str,
        key: &str,
        req: &SelectRequest,
    ) -> Result<SelectStream> {
        let now = self.now();
        self.settle(now);
        let data = self.with_object(bucket, key, |o| {
            if o.storage_class.is_archived() {
                if !o.restore.as_ref().is_some_and(|r| r.readable(now)) {
                    return Err(Error::InvalidObjectState { message: "The operation is not valid for the object's storage class".into(), storage_class: o.storage_class.as_str().into() });
                }
            } else if !matches!(o.storage_class, StorageClass::Standard | StorageClass::StandardIa | StorageClass::OnezoneIa | StorageClass::ReducedRedundancy) {
                return Err(Error::select("UnsupportedStorageClass", "We encountered a storage class that is not supported. Only STANDARD, STANDARD_IA, and ONEZONE_IA storage classes are supported."));
            }
            Ok(o.data.clone())
        })?;
        select::select(data, req, now, self.select_options)
    }

    /// SelectObjectContent run to the end: the records and the final stats.
    pub fn select_object_content_to_end(
        &self,
        bucket: &str,
        key: &str,
        req: &SelectRequest,
    ) -> Result<(Vec<u8>, Stats)> {
        select::run_to_end(self.select_object_content(bucket, key, req)?)
    }
}
