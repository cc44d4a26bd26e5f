//! The object store's value types: storage classes, stored objects, bucket names and ETags.
//!
//! Guarantees: a bucket name accepted by [`validate_bucket_name`] follows every rule S3 documents
//! for general-purpose buckets; ETags are computed exactly as S3 computes them for unencrypted
//! objects (MD5 hex in quotes; multipart: MD5 of the concatenated binary part MD5s, `-N`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::error::{Error, Result};

/// An S3 storage class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StorageClass {
    /// S3 Standard.
    #[default]
    Standard,
    /// Reduced redundancy (legacy).
    ReducedRedundancy,
    /// Standard-Infrequent Access.
    StandardIa,
    /// One Zone-Infrequent Access.
    OnezoneIa,
    /// Intelligent-Tiering (frequent tier; no archive tiers configured).
    IntelligentTiering,
    /// Glacier Flexible Retrieval: archived, needs a restore.
    Glacier,
    /// Glacier Deep Archive: archived, needs a restore.
    DeepArchive,
    /// Glacier Instant Retrieval: readable at once.
    GlacierIr,
}

impl StorageClass {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Standard => "STANDARD",
            StorageClass::ReducedRedundancy => "REDUCED_REDUNDANCY",
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::OnezoneIa => "ONEZONE_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
            StorageClass::GlacierIr => "GLACIER_IR",
        }
    }

    /// Whether reading the object needs a restore first.
    pub fn is_archived(self) -> bool {
        matches!(self, StorageClass::Glacier | StorageClass::DeepArchive)
    }
}

impl fmt::Display for StorageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StorageClass {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "STANDARD" => StorageClass::Standard,
            "REDUCED_REDUNDANCY" => StorageClass::ReducedRedundancy,
            "STANDARD_IA" => StorageClass::StandardIa,
            "ONEZONE_IA" => StorageClass::OnezoneIa,
            "INTELLIGENT_TIERING" => StorageClass::IntelligentTiering,
            "GLACIER" => StorageClass::Glacier,
            "DEEP_ARCHIVE" => StorageClass::DeepArchive,
            "GLACIER_IR" => StorageClass::GlacierIr,
            other => {
                return Err(Error::InvalidStorageClass {
                    class: other.to_owned(),
                });
            }
        })
    }
}

/// The standard HTTP headers S3 stores with an object and returns on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    /// `Content-Type` (S3 defaults it to `binary/octet-stream`).
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires` as sent.
    pub expires: Option<String>,
}

/// An object's metadata, as HEAD returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key.
    pub key: String,
    /// The size in bytes.
    pub size: u64,
    /// The ETag, quoted.
    pub etag: String,
    /// When it was written.
    pub last_modified: SystemTime,
    /// Standard headers.
    pub headers: ObjectHeaders,
    /// User metadata (`x-amz-meta-*`), keys lowercased.
    pub metadata: BTreeMap<String, String>,
    /// The storage class.
    pub storage_class: StorageClass,
    /// The number of parts, for objects made by a multipart upload.
    pub parts_count: Option<u32>,
    /// The `x-amz-restore` header value, for archived objects with a restore requested.
    pub restore: Option<String>,
}

impl ObjectInfo {
    /// The content type S3 answers with.
    pub fn content_type(&self) -> &str {
        self.headers
            .content_type
            .as_deref()
            .unwrap_or("binary/octet-stream")
    }
}

/// The largest object a single PUT may carry (5 GB).
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The longest key (1024 bytes of UTF-8).
pub const MAX_KEY_LEN: usize = 1024;
/// The most user metadata (2 KB, names and values).
pub const MAX_METADATA_SIZE: usize = 2 * 1024;

/// Checks a bucket name against S3's rules for general-purpose buckets.
pub fn validate_bucket_name(name: &str) -> Result<()> {
    let bad = || {
        Err(Error::InvalidBucketName {
            bucket: name.to_owned(),
        })
    };
    let b = name.as_bytes();
    if b.len() < 3 || b.len() > 63 {
        return bad();
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        return bad();
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return bad();
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return bad();
    }
    // An IP address is not a bucket name.
    if name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
    {
        return bad();
    }
    const BAD_PREFIXES: [&str; 4] = ["xn--", "sthree-", "sthree-configurator", "amzn-s3-demo-"];
    const BAD_SUFFIXES: [&str; 4] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];
    if BAD_PREFIXES.iter().any(|p| name.starts_with(p))
        || BAD_SUFFIXES.iter().any(|s| name.ends_with(s))
    {
        return bad();
    }
    Ok(())
}

/// Checks a key's length.
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_argument(
            "A key must be specified",
            "key",
            "",
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLong { len: key.len() });
    }
    Ok(())
}

/// Checks the user metadata size (keys and values, UTF-8 bytes).
pub fn validate_metadata(metadata: &BTreeMap<String, String>) -> Result<()> {
    let size: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_METADATA_SIZE {
        Err(Error::MetadataTooLarge { size })
    } else {
        Ok(())
    }
}

/// The MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// A single-part ETag: the quoted MD5 hex of the body.
pub fn etag_of(data: &[u8]) -> String {
    format!("\"{}\"", nubis_core::ids::hex(&md5(data)))
}

/// A multipart ETag: MD5 of the concatenated binary part MD5s, then `-<part count>`.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut h = Md5::new();
    for d in part_md5s {
        h.update(d);
    }
    let d: [u8; 16] = h.finalize().into();
    format!("\"{}-{}\"", nubis_core::ids::hex(&d), part_md5s.len())
}

/// A stored object: bytes shared without copying, plus metadata.
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub data: Bytes,
    pub etag: String,
    pub last_modified: SystemTime,
    pub headers: ObjectHeaders,
    pub metadata: BTreeMap<String, String>,
    pub storage_class: StorageClass,
    pub parts_count: Option<u32>,
    /// Sizes of the parts, for GET `?partNumber=`.
    pub part_sizes: Vec<u64>,
    pub restore: Option<crate::store::restore::Restore>,
}

impl StoredObject {
    pub fn info(&self, key: &str, now: SystemTime) -> ObjectInfo {
        ObjectInfo {
            key: key.to_owned(),
            size: self.data.len() as u64,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
            headers: self.headers.clone(),
            metadata: self.metadata.clone(),
            storage_class: self.storage_class,
            parts_count: self.parts_count,
            restore: self.restore.as_ref().and_then(|r| r.header(now)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.data", "a1b2c3", "x".repeat(63).as_str()] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "a..b",
            "-abc",
            "abc-",
            "192.168.5.4",
            "xn--abc",
            "a_b",
            "abc-s3alias",
            "a.-b",
            &"x".repeat(64),
        ] {
            assert!(validate_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn etags_match_s3() {
        assert_eq!(etag_of(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
        let parts = [md5(b"a"), md5(b"b")];
        let e = multipart_etag(&parts);
        assert!(e.ends_with("-2\""), "{e}");
        assert_eq!(e.len(), 2 + 32 + 2);
    }
}
