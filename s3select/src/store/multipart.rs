//! Multipart uploads: create, upload part, complete (with S3's 5 MB minimum for every part but
//! the last, ascending part order and ETag checks), abort, list parts and uploads.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use super::engine::{S3, check_md5};
use super::model::{
    ObjectHeaders, StorageClass, StoredObject, md5, multipart_etag, validate_key, validate_metadata,
};
use crate::error::{Error, Result};

/// The smallest part allowed except the last (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The largest part (5 GiB).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Part {
    data: Bytes,
    etag: String,
    md5: [u8; 16],
    last_modified: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Upload {
    key: String,
    initiated: SystemTime,
    headers: ObjectHeaders,
    metadata: BTreeMap<String, String>,
    storage_class: StorageClass,
    parts: BTreeMap<u32, Part>,
}

/// A CreateMultipartUpload request.
#[derive(Debug, Clone, Default)]
pub struct CreateMultipartUpload {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Standard headers.
    pub headers: ObjectHeaders,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Storage class.
    pub storage_class: StorageClass,
}

/// A part as ListParts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// Part number.
    pub part_number: u32,
    /// ETag.
    pub etag: String,
    /// Size.
    pub size: u64,
    /// When it was uploaded.
    pub last_modified: SystemTime,
}

/// An upload as ListMultipartUploads reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// Key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// When it began.
    pub initiated: SystemTime,
    /// Storage class.
    pub storage_class: StorageClass,
}

impl S3 {
    /// CreateMultipartUpload; returns the upload id.
    pub fn create_multipart_upload(&self, req: CreateMultipartUpload) -> Result<String> {
        validate_key(&req.key)?;
        validate_metadata(&req.metadata)?;
        let now = self.now();
        let id = self.env.ids.hex(64);
        let mut st = self.state.write();
        let b = st
            .buckets
            .get_mut(&req.bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.bucket.clone(),
            })?;
        b.uploads.insert(
            id.clone(),
            Upload {
                key: req.key,
                initiated: now,
                headers: req.headers,
                metadata: req.metadata,
                storage_class: req.storage_class,
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    fn upload_mut<'s>(
        st: &'s mut super::engine::State,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<&'s mut Upload> {
        let b = st
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            })?;
        match b.uploads.get_mut(upload_id) {
            Some(u) if u.key == key => Ok(u),
            _ => Err(Error::NoSuchUpload {
                upload_id: upload_id.to_owned(),
            }),
        }
    }

    /// UploadPart; returns the part's ETag.
    pub fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        content_md5: Option<&str>,
    ) -> Result<String> {
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                &part_number.to_string(),
            ));
        }
        if body.len() as u64 > MAX_PART_SIZE {
            return Err(Error::EntityTooLarge {
                size: body.len() as u64,
                max: MAX_PART_SIZE,
            });
        }
        if let Some(m) = content_md5 {
            check_md5(m, &body)?;
        }
        let now = self.now();
        let digest = md5(&body);
        let etag = format!("\"{}\"", nubis_core::ids::hex(&digest));
        let mut st = self.state.write();
        let u = Self::upload_mut(&mut st, bucket, key, upload_id)?;
        u.parts.insert(
            part_number,
            Part {
                data: body,
                etag: etag.clone(),
                md5: digest,
                last_modified: now,
            },
        );
        Ok(etag)
    }

    /// CompleteMultipartUpload with `(part number, ETag)` pairs; returns the object's ETag.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<String> {
        let now = self.now();
        let mut st = self.state.write();
        let u = Self::upload_mut(&mut st, bucket, key, upload_id)?.clone();
        if parts.is_empty() {
            return Err(Error::MalformedXml);
        }
        if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(Error::InvalidPartOrder);
        }
        let mut chosen = Vec::with_capacity(parts.len());
        for (i, (n, etag)) in parts.iter().enumerate() {
            let p = u
                .parts
                .get(n)
                .ok_or(Error::InvalidPart { part_number: *n })?;
            if p.etag.trim_matches('"') != etag.trim_matches('"') {
                return Err(Error::InvalidPart { part_number: *n });
            }
            if i + 1 < parts.len() && (p.data.len() as u64) < MIN_PART_SIZE {
                return Err(Error::EntityTooSmall {
                    size: p.data.len() as u64,
                    min: MIN_PART_SIZE,
                });
            }
            chosen.push(p);
        }
        let total: usize = chosen.iter().map(|p| p.data.len()).sum();
        let mut data = BytesMut::with_capacity(total);
        for p in &chosen {
            data.extend_from_slice(&p.data);
        }
        let etag = multipart_etag(&chosen.iter().map(|p| p.md5).collect::<Vec<_>>());
        let obj = StoredObject {
            data: data.freeze(),
            etag: etag.clone(),
            last_modified: now,
            headers: u.headers.clone(),
            metadata: u.metadata.clone(),
            storage_class: u.storage_class,
            parts_count: Some(chosen.len() as u32),
            part_sizes: chosen.iter().map(|p| p.data.len() as u64).collect(),
            restore: None,
        };
        let b = st
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            })?;
        b.uploads.remove(upload_id);
        b.objects.insert(key.to_owned(), obj);
        Ok(etag)
    }

    /// AbortMultipartUpload.
    pub fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let mut st = self.state.write();
        Self::upload_mut(&mut st, bucket, key, upload_id)?;
        if let Some(b) = st.buckets.get_mut(bucket) {
            b.uploads.remove(upload_id);
        }
        Ok(())
    }

    /// ListParts after `marker`, at most `max_parts` (default 1000): parts and whether truncated.
    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        marker: u32,
        max_parts: Option<usize>,
    ) -> Result<(Vec<PartInfo>, bool, StorageClass)> {
        let mut st = self.state.write();
        let u = Self::upload_mut(&mut st, bucket, key, upload_id)?;
        let max = max_parts.unwrap_or(1000).min(1000);
        let all: Vec<PartInfo> = u
            .parts
            .range(marker.saturating_add(1)..)
            .map(|(n, p)| PartInfo {
                part_number: *n,
                etag: p.etag.clone(),
                size: p.data.len() as u64,
                last_modified: p.last_modified,
            })
            .collect();
        let truncated = all.len() > max;
        Ok((
            all.into_iter().take(max).collect(),
            truncated,
            u.storage_class,
        ))
    }

    /// ListMultipartUploads, in key order.
    pub fn list_multipart_uploads(&self, bucket: &str) -> Result<Vec<UploadInfo>> {
        let st = self.state.read();
        let b = st.buckets.get(bucket).ok_or_else(|| Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        })?;
        let mut v: Vec<UploadInfo> = b
            .uploads
            .iter()
            .map(|(id, u)| UploadInfo {
                key: u.key.clone(),
                upload_id: id.clone(),
                initiated: u.initiated,
                storage_class: u.storage_class,
            })
            .collect();
        v.sort_by(|a, b| (&a.key, a.initiated).cmp(&(&b.key, b.initiated)));
        Ok(v)
    }
}
