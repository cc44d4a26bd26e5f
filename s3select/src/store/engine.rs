//! The [`S3`] engine: buckets and objects, held in memory, shared behind one lock.
//!
//! Guarantees: every operation either applies fully or fails with S3's error; object bodies are
//! `Bytes` shared without copying (a GET of a range is a slice of the stored buffer); all times
//! come from the environment's clock.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
use nubis_core::{Env, Region};
use parking_lot::RwLock;

use super::conditions::{Conditions, resolve_range};
use super::model::{
    MAX_PUT_SIZE, ObjectHeaders, ObjectInfo, StorageClass, StoredObject, etag_of,
    validate_bucket_name, validate_key, validate_metadata,
};
use crate::error::{Error, Result};

/// A bucket's Transfer Acceleration state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelerateStatus {
    /// Accelerated requests are served.
    Enabled,
    /// Accelerated requests are refused.
    Suspended,
}

impl AccelerateStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccelerateStatus::Enabled => "Enabled",
            AccelerateStatus::Suspended => "Suspended",
        }
    }
}

/// A bucket as ListBuckets and HeadBucket describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// The name.
    pub name: String,
    /// Its region.
    pub region: Region,
    /// When it was created.
    pub created: SystemTime,
}

#[derive(Debug)]
pub(crate) struct Bucket {
    pub region: Region,
    pub created: SystemTime,
    pub objects: BTreeMap<String, StoredObject>,
    pub uploads: BTreeMap<String, super::multipart::Upload>,
    pub accelerate: Option<AccelerateStatus>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub buckets: BTreeMap<String, Bucket>,
    pub jobs: Vec<super::archive::SelectJob>,
}

/// The S3 engine: every bucket of every region.
#[derive(Debug)]
pub struct S3 {
    pub(crate) env: Env,
    pub(crate) state: RwLock<State>,
    pub(crate) select_options: crate::select::SelectOptions,
}

/// A PutObject request.
#[derive(Debug, Clone, Default)]
pub struct PutObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Body.
    pub body: Bytes,
    /// Standard headers.
    pub headers: ObjectHeaders,
    /// `x-amz-meta-*`.
    pub metadata: BTreeMap<String, String>,
    /// `x-amz-storage-class`.
    pub storage_class: StorageClass,
    /// `Content-MD5` (base64), checked against the body.
    pub content_md5: Option<String>,
}

impl PutObject {
    /// A request to store `body` at `bucket`/`key`.
    pub fn new(bucket: &str, key: &str, body: Bytes) -> Self {
        PutObject {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body,
            ..Default::default()
        }
    }

    /// The same request with a storage class.
    pub fn storage_class(mut self, class: StorageClass) -> Self {
        self.storage_class = class;
        self
    }
}

/// A GetObject/HeadObject request.
#[derive(Debug, Clone, Default)]
pub struct GetObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// `Range`.
    pub range: Option<String>,
    /// `partNumber`.
    pub part_number: Option<u32>,
    /// Conditional headers.
    pub conditions: Conditions,
}

impl GetObject {
    /// A request for the whole object.
    pub fn new(bucket: &str, key: &str) -> Self {
        GetObject {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        }
    }
}

/// What GetObject returns.
#[derive(Debug, Clone)]
pub struct GetObjectOutput {
    /// Metadata.
    pub info: ObjectInfo,
    /// The bytes (the requested range of them).
    pub body: Bytes,
    /// `(first, last, total)` when a range was served.
    pub content_range: Option<(u64, u64, u64)>,
}

/// A CopyObject request.
#[derive(Debug, Clone, Default)]
pub struct CopyObject {
    /// Source bucket.
    pub source_bucket: String,
    /// Source key.
    pub source_key: String,
    /// Destination bucket.
    pub bucket: String,
    /// Destination key.
    pub key: String,
    /// `x-amz-metadata-directive: REPLACE` with these headers and metadata.
    pub replace_metadata: Option<(ObjectHeaders, BTreeMap<String, String>)>,
    /// `x-amz-storage-class`.
    pub storage_class: Option<StorageClass>,
    /// `x-amz-copy-source-if-*`.
    pub conditions: Conditions,
}

/// One failure of DeleteObjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// The error code.
    pub code: String,
    /// The message.
    pub message: String,
}

impl S3 {
    /// An empty store.
    pub fn new(env: Env) -> S3 {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        S3 {
            env,
            state: RwLock::new(State::default()),
            select_options: crate::select::SelectOptions { threads },
        }
    }

    /// The same store with other S3 Select execution options.
    pub fn with_select_options(mut self, opts: crate::select::SelectOptions) -> S3 {
        self.select_options = opts;
        self
    }

    /// The environment.
    pub fn env(&self) -> &Env {
        &self.env
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.env.clock.now()
    }

    /// Removes every bucket and job.
    pub fn reset(&self) {
        *self.state.write() = State::default();
    }

    /// CreateBucket, sent to `region`'s endpoint with an optional `LocationConstraint`.
    pub fn create_bucket(&self, region: &Region, name: &str, location: Option<&str>) -> Result<()> {
        validate_bucket_name(name)?;
        let target = match location {
            None | Some("") => {
                if *region != Region::US_EAST_1 {
                    return Err(Error::IllegalLocationConstraint {
                        location: "unspecified".into(),
                    });
                }
                Region::US_EAST_1
            }
            Some("us-east-1") => {
                return Err(Error::InvalidLocationConstraint {
                    message: "The specified location-constraint is not valid".into(),
                });
            }
            Some("EU") => Region::new("eu-west-1").map_err(|_| Error::Internal)?,
            Some(loc) => {
                let r = Region::new(loc).map_err(|_| Error::InvalidLocationConstraint {
                    message: "The specified location-constraint is not valid".into(),
                })?;
                if r != *region {
                    return Err(Error::IllegalLocationConstraint {
                        location: loc.to_owned(),
                    });
                }
                r
            }
        };
        let now = self.now();
        self.settle(now);
        let mut st = self.state.write();
        if let Some(b) = st.buckets.get(name) {
            // us-east-1 answers 200 to an owner re-creating its bucket there (legacy behaviour).
            if b.region == Region::US_EAST_1 && target == Region::US_EAST_1 {
                return Ok(());
            }
            return Err(Error::BucketAlreadyOwnedByYou {
                bucket: name.to_owned(),
            });
        }
        st.buckets.insert(
            name.to_owned(),
            Bucket {
                region: target,
                created: now,
                objects: BTreeMap::new(),
                uploads: BTreeMap::new(),
                accelerate: None,
            },
        );
        Ok(())
    }

    /// HeadBucket (and GetBucketLocation).
    pub fn head_bucket(&self, name: &str) -> Result<BucketInfo> {
        self.settle(self.now());
        let st = self.state.read();
        let b = st.buckets.get(name).ok_or_else(|| Error::NoSuchBucket {
            bucket: name.to_owned(),
        })?;
        Ok(BucketInfo {
            name: name.to_owned(),
            region: b.region.clone(),
            created: b.created,
        })
    }

    /// DeleteBucket: only an empty bucket.
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        self.settle(self.now());
        let mut st = self.state.write();
        let b = st.buckets.get(name).ok_or_else(|| Error::NoSuchBucket {
            bucket: name.to_owned(),
        })?;
        if !b.objects.is_empty() {
            return Err(Error::BucketNotEmpty {
                bucket: name.to_owned(),
            });
        }
        st.buckets.remove(name);
        Ok(())
    }

    /// ListBuckets, in name order.
    pub fn list_buckets(&self) -> Vec<BucketInfo> {
        self.settle(self.now());
        let st = self.state.read();
        st.buckets
            .iter()
            .map(|(n, b)| BucketInfo {
                name: n.clone(),
                region: b.region.clone(),
                created: b.created,
            })
            .collect()
    }

    /// PutBucketAccelerateConfiguration.
    pub fn put_bucket_accelerate(&self, name: &str, status: AccelerateStatus) -> Result<()> {
        let mut st = self.state.write();
        let b = st
            .buckets
            .get_mut(name)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: name.to_owned(),
            })?;
        if name.contains('.') {
            return Err(Error::InvalidRequest { message: "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names".into() });
        }
        b.accelerate = Some(status);
        Ok(())
    }

    /// GetBucketAccelerateConfiguration: `None` if never set.
    pub fn get_bucket_accelerate(&self, name: &str) -> Result<Option<AccelerateStatus>> {
        let st = self.state.read();
        let b = st.buckets.get(name).ok_or_else(|| Error::NoSuchBucket {
            bucket: name.to_owned(),
        })?;
        Ok(b.accelerate)
    }

    /// Checks that a request addressed to `name`'s accelerate endpoint may be served.
    pub fn check_accelerate(&self, name: &str) -> Result<()> {
        match self.get_bucket_accelerate(name)? {
            Some(AccelerateStatus::Enabled) => Ok(()),
            Some(AccelerateStatus::Suspended) => Err(Error::InvalidRequest {
                message: "S3 Transfer Acceleration is disabled on this bucket".into(),
            }),
            None => Err(Error::InvalidRequest {
                message: "S3 Transfer Acceleration is not configured on this bucket".into(),
            }),
        }
    }

    /// PutObject. Returns the ETag.
    pub fn put_object(&self, req: PutObject) -> Result<String> {
        validate_key(&req.key)?;
        validate_metadata(&req.metadata)?;
        if req.body.len() as u64 > MAX_PUT_SIZE {
            return Err(Error::EntityTooLarge {
                size: req.body.len() as u64,
                max: MAX_PUT_SIZE,
            });
        }
        if let Some(md5) = &req.content_md5 {
            check_md5(md5, &req.body)?;
        }
        let now = self.now();
        self.settle(now);
        let etag = etag_of(&req.body);
        let obj = StoredObject {
            data: req.body,
            etag: etag.clone(),
            last_modified: now,
            headers: req.headers,
            metadata: req.metadata,
            storage_class: req.storage_class,
            parts_count: None,
            part_sizes: Vec::new(),
            restore: None,
        };
        let mut st = self.state.write();
        let b = st
            .buckets
            .get_mut(&req.bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.bucket.clone(),
            })?;
        b.objects.insert(req.key, obj);
        Ok(etag)
    }

    pub(crate) fn with_object<T>(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&StoredObject) -> Result<T>,
    ) -> Result<T> {
        let st = self.state.read();
        let b = st.buckets.get(bucket).ok_or_else(|| Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        })?;
        let o = b.objects.get(key).ok_or_else(|| Error::NoSuchKey {
            key: key.to_owned(),
        })?;
        f(o)
    }

    /// HeadObject.
    /// HeadObject works on archived objects too: it reports their restore state.
    pub fn head_object(&self, req: &GetObject) -> Result<ObjectInfo> {
        self.read_object(req, false).map(|o| o.info)
    }

    /// GetObject. Archived objects need a completed restore (`InvalidObjectState` otherwise).
    pub fn get_object(&self, req: &GetObject) -> Result<GetObjectOutput> {
        self.read_object(req, true)
    }

    /// HeadObject with the range it would serve (the body is the range, unread by callers).
    pub fn head_object_output(&self, req: &GetObject) -> Result<GetObjectOutput> {
        self.read_object(req, false)
    }

    fn read_object(&self, req: &GetObject, body: bool) -> Result<GetObjectOutput> {
        let now = self.now();
        self.settle(now);
        self.with_object(&req.bucket, &req.key, |o| {
            req.conditions.check(&o.etag, o.last_modified)?;
            if body
                && o.storage_class.is_archived()
                && !o.restore.as_ref().is_some_and(|r| r.readable(now))
            {
                return Err(Error::InvalidObjectState {
                    message: "The operation is not valid for the object's storage class".into(),
                    storage_class: o.storage_class.as_str().into(),
                });
            }
            let size = o.data.len() as u64;
            let mut info = o.info(&req.key, now);
            let range = match (req.part_number, &req.range) {
                (Some(_), Some(_)) => {
                    return Err(Error::InvalidRequest {
                        message: "Cannot specify both Range header and partNumber query parameter"
                            .into(),
                    });
                }
                (Some(n), None) => {
                    let sizes: Vec<u64> = if o.part_sizes.is_empty() {
                        vec![size]
                    } else {
                        o.part_sizes.clone()
                    };
                    if n == 0 || n as usize > sizes.len() {
                        return Err(Error::InvalidRange {
                            size,
                            range: format!("partNumber={n}"),
                        });
                    }
                    let first: u64 = sizes[..n as usize - 1].iter().sum();
                    let len = sizes[n as usize - 1];
                    if len == 0 {
                        None
                    } else {
                        Some((first, first + len - 1))
                    }
                }
                (None, Some(r)) => resolve_range(r, size)?,
                (None, None) => None,
            };
            if req.part_number.is_some() && o.parts_count.is_none() {
                info.parts_count = Some(1);
            }
            Ok(match range {
                Some((a, b)) => GetObjectOutput {
                    info,
                    body: o.data.slice(a as usize..b as usize + 1),
                    content_range: Some((a, b, size)),
                },
                None => GetObjectOutput {
                    info,
                    body: o.data.clone(),
                    content_range: None,
                },
            })
        })
    }

    /// DeleteObject: succeeds whether or not the key exists.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.settle(self.now());
        let mut st = self.state.write();
        let b = st
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            })?;
        b.objects.remove(key);
        Ok(())
    }

    /// DeleteObjects (at most 1000 keys): the keys deleted and the failures.
    pub fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<(Vec<String>, Vec<DeleteError>)> {
        if keys.len() > 1000 || keys.is_empty() {
            return Err(Error::MalformedXml);
        }
        self.settle(self.now());
        let mut st = self.state.write();
        let b = st
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            })?;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for k in keys {
            if k.is_empty() || k.len() > super::model::MAX_KEY_LEN {
                errors.push(DeleteError {
                    key: k.clone(),
                    code: "InvalidArgument".into(),
                    message: "Invalid key".into(),
                });
                continue;
            }
            b.objects.remove(k);
            deleted.push(k.clone());
        }
        Ok((deleted, errors))
    }

    /// CopyObject. Returns the new object's ETag and modification time.
    pub fn copy_object(&self, req: CopyObject) -> Result<(String, SystemTime)> {
        validate_key(&req.key)?;
        let now = self.now();
        self.settle(now);
        let mut st = self.state.write();
        let src = st
            .buckets
            .get(&req.source_bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.source_bucket.clone(),
            })?
            .objects
            .get(&req.source_key)
            .ok_or_else(|| Error::NoSuchKey {
                key: req.source_key.clone(),
            })?
            .clone();
        req.conditions
            .check_copy_source(&src.etag, src.last_modified)?;
        if src.storage_class.is_archived() && !src.restore.as_ref().is_some_and(|r| r.readable(now))
        {
            return Err(Error::InvalidObjectState {
                message: "Operation is not valid for the source object's storage class".into(),
                storage_class: src.storage_class.as_str().into(),
            });
        }
        if req.source_bucket == req.bucket
            && req.source_key == req.key
            && req.replace_metadata.is_none()
            && req.storage_class.is_none_or(|c| c == src.storage_class)
        {
            return Err(Error::InvalidRequest {
                message: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
            });
        }
        let (headers, metadata) = match req.replace_metadata {
            Some((h, m)) => {
                validate_metadata(&m)?;
                (h, m)
            }
            None => (src.headers.clone(), src.metadata.clone()),
        };
        // A copy is a new single-part object: its ETag is the MD5 of the bytes.
        let etag = etag_of(&src.data);
        let obj = StoredObject {
            data: src.data.clone(),
            etag: etag.clone(),
            last_modified: now,
            headers,
            metadata,
            storage_class: req.storage_class.unwrap_or(StorageClass::Standard),
            parts_count: None,
            part_sizes: Vec::new(),
            restore: None,
        };
        let b = st
            .buckets
            .get_mut(&req.bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.bucket.clone(),
            })?;
        b.objects.insert(req.key, obj);
        Ok((etag, now))
    }
}

/// Checks a base64 `Content-MD5` against `body`.
pub fn check_md5(b64: &str, body: &[u8]) -> Result<()> {
    use base64::Engine as _;
    let d = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| Error::InvalidDigest)?;
    if d.len() != 16 {
        return Err(Error::InvalidDigest);
    }
    if d[..] != super::model::md5(body)[..] {
        return Err(Error::BadDigest);
    }
    Ok(())
}
