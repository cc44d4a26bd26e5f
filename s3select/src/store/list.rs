//! ListObjectsV2: prefixes, delimiters, `StartAfter`, `MaxKeys` and opaque continuation tokens.

use std::time::SystemTime;

use super::engine::S3;
use super::model::StorageClass;
use crate::error::{Error, Result};

/// A ListObjectsV2 request.
#[derive(Debug, Clone, Default)]
pub struct ListObjectsV2 {
    /// Bucket.
    pub bucket: String,
    /// `prefix`.
    pub prefix: String,
    /// `delimiter`.
    pub delimiter: Option<String>,
    /// `max-keys` (default and maximum 1000).
    pub max_keys: Option<i64>,
    /// `continuation-token`.
    pub continuation_token: Option<String>,
    /// `start-after`.
    pub start_after: Option<String>,
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Key.
    pub key: String,
    /// Size.
    pub size: u64,
    /// ETag.
    pub etag: String,
    /// Last modified.
    pub last_modified: SystemTime,
    /// Storage class.
    pub storage_class: StorageClass,
}

/// ListObjectsV2's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListObjectsV2Output {
    /// Objects.
    pub contents: Vec<ListedObject>,
    /// Common prefixes.
    pub common_prefixes: Vec<String>,
    /// Whether more remain.
    pub is_truncated: bool,
    /// The token for the next page.
    pub next_continuation_token: Option<String>,
    /// `KeyCount`: objects plus common prefixes returned.
    pub key_count: usize,
    /// The effective `MaxKeys`.
    pub max_keys: usize,
}

const TOKEN_TAG: &str = "s3:ListObjectsV2";

impl S3 {
    /// ListObjectsV2.
    pub fn list_objects_v2(&self, req: &ListObjectsV2) -> Result<ListObjectsV2Output> {
        let max_keys = match req.max_keys {
            None => 1000,
            Some(n) if n < 0 => {
                return Err(Error::invalid_argument(
                    "Argument maxKeys must be an integer between 0 and 2147483647",
                    "maxKeys",
                    &n.to_string(),
                ));
            }
            Some(n) => (n as usize).min(1000),
        };
        let after = match &req.continuation_token {
            Some(t) => {
                let (bucket, key): (String, String) = nubis_core::page::decode(TOKEN_TAG, t)
                    .map_err(|_| Error::InvalidContinuationToken)?;
                if bucket != req.bucket {
                    return Err(Error::InvalidContinuationToken);
                }
                Some(key)
            }
            None => req.start_after.clone(),
        };
        self.settle(self.now());
        let st = self.state.read();
        let b = st
            .buckets
            .get(&req.bucket)
            .ok_or_else(|| Error::NoSuchBucket {
                bucket: req.bucket.clone(),
            })?;
        let mut out = ListObjectsV2Output {
            max_keys,
            ..Default::default()
        };
        let delim = req.delimiter.as_deref().filter(|d| !d.is_empty());
        let start = after.clone().unwrap_or_default();
        let range = b.objects.range::<String, _>((
            std::ops::Bound::Excluded(start.clone()),
            std::ops::Bound::Unbounded,
        ));
        let mut last: Option<String> = None;
        for (key, o) in range {
            if after.is_none() && key.is_empty() {
                continue;
            }
            if !key.starts_with(&req.prefix) {
                if key.as_str() > req.prefix.as_str() && !req.prefix.is_empty() {
                    break;
                }
                continue;
            }
            let cp = delim.and_then(|d| {
                key[req.prefix.len()..]
                    .find(d)
                    .map(|i| key[..req.prefix.len() + i + d.len()].to_owned())
            });
            if let Some(cp) = &cp {
                // A prefix already returned (on this page or a previous one).
                if out.common_prefixes.last() == Some(cp)
                    || after.as_deref().is_some_and(|a| a.starts_with(cp.as_str()))
                {
                    continue;
                }
            }
            if out.key_count >= max_keys {
                out.is_truncated = true;
                break;
            }
            match cp {
                Some(cp) => {
                    last = Some(cp.clone());
                    out.common_prefixes.push(cp);
                }
                None => {
                    last = Some(key.clone());
                    out.contents.push(ListedObject {
                        key: key.clone(),
                        size: o.data.len() as u64,
                        etag: o.etag.clone(),
                        last_modified: o.last_modified,
                        storage_class: o.storage_class,
                    });
                }
            }
            out.key_count += 1;
        }
        if out.is_truncated
            && let Some(l) = last
        {
            out.next_continuation_token = Some(nubis_core::page::encode(
                TOKEN_TAG,
                &(req.bucket.clone(), l),
            ));
        }
        Ok(out)
    }
}
