//! Redo records, the page-application seam, and a key-value page format for tests and examples.
//!
//! The volume never looks inside a record's payload: it stores, ships, orders and truncates
//! records by their LSN and back-links, and hands each payload to a [`PageApply`] implementation
//! (the SQL engine's, or [`KvApply`]) to turn records into pages. Guarantees: records reach
//! [`PageApply::apply`] for a page in page-LSN order, each exactly once per page image, and only
//! once they are durable (at or below the volume durable LSN); an applier error poisons that
//! page only and is reported on read, never a panic.

use std::collections::BTreeMap;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// A log sequence number. LSNs are dense within a writer epoch; 0 means "before any record".
pub type Lsn = u64;

/// A page number within the volume (byte offset = page id × page size).
pub type PageId = u64;

/// One redo-log record as the storage nodes hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedoRecord {
    /// This record's LSN.
    pub lsn: Lsn,
    /// The previous record of the whole volume (the volume chain walked at recovery).
    pub prev_lsn: Lsn,
    /// The previous record of the same protection group (how a node computes its SCL).
    pub prev_segment_lsn: Lsn,
    /// The previous record of the same page (the page LSN this change was based on).
    pub prev_page_lsn: Lsn,
    /// The page the record changes.
    pub page_id: PageId,
    /// The writer epoch that issued it (records of older epochs above a truncation point are dead).
    pub epoch: u64,
    /// Whether this record ends a mini-transaction (a consistency point, CPL).
    pub cpl: bool,
    /// The change itself, opaque to the volume.
    pub payload: Bytes,
}

/// A change a writer asks the volume to log: one page, one opaque payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWrite {
    /// The page.
    pub page_id: PageId,
    /// The redo payload.
    pub payload: Bytes,
    /// The page LSN the change was computed from. `Some` turns on optimistic conflict detection
    /// (multi-master): the write is rejected if the page has moved on. `None` appends blindly,
    /// which a single writer that owns every page may do.
    pub base_lsn: Option<Lsn>,
}

impl PageWrite {
    /// A change to `page_id` with no conflict check.
    pub fn new(page_id: PageId, payload: impl Into<Bytes>) -> Self {
        PageWrite {
            page_id,
            payload: payload.into(),
            base_lsn: None,
        }
    }

    /// The same change, valid only if the page is still at `lsn`.
    pub fn based_on(mut self, lsn: Lsn) -> Self {
        self.base_lsn = Some(lsn);
        self
    }
}

/// A truncation the recovery of writer epoch `epoch` made durable: every record of an older
/// epoch with an LSN above `after` is dead and never becomes visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Truncation {
    /// The epoch that truncated.
    pub epoch: u64,
    /// The volume durable LSN recovery found; records above it from older epochs are dead.
    pub after: Lsn,
}

impl Truncation {
    /// Whether `record` is killed by this truncation.
    pub fn kills(&self, record: &RedoRecord) -> bool {
        record.epoch < self.epoch && record.lsn > self.after
    }
}

/// Why an applier refused a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ApplyError {
    /// What was wrong with the payload.
    pub reason: String,
}

impl ApplyError {
    /// An error with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        ApplyError {
            reason: reason.into(),
        }
    }
}

/// How redo payloads become pages: the SQL engine implements this for its page format.
///
/// `apply` must be deterministic (every storage node, every reader and every secondary region
/// runs it on the same records and must reach the same page) and must not panic on any payload.
pub trait PageApply: Send + Sync + fmt::Debug + 'static {
    /// The materialised page image.
    type Page: Clone + Default + fmt::Debug + Send + Sync + 'static;

    /// Applies `record` (whose `prev_page_lsn` is the page's current LSN) to `page`.
    fn apply(
        &self,
        page_id: PageId,
        page: &mut Self::Page,
        record: &RedoRecord,
    ) -> Result<(), ApplyError>;
}

/// A decoded [`KvApply`] payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOp {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
}

/// A simple page format: each page is a sorted key-value map and each payload one put or delete.
///
/// Payload encoding: `b'P'`, key length (u16, big-endian), key, value (the rest); or `b'D'`,
/// key length, key (nothing after it).
#[derive(Debug, Clone, Copy, Default)]
pub struct KvApply;

impl KvApply {
    /// The payload that sets `key` to `value`. Keys longer than 65 535 bytes are cut there.
    pub fn put(key: &[u8], value: &[u8]) -> Bytes {
        let key = &key[..key.len().min(usize::from(u16::MAX))];
        let mut b = BytesMut::with_capacity(3 + key.len() + value.len());
        b.put_u8(b'P');
        b.put_u16(key.len() as u16);
        b.put_slice(key);
        b.put_slice(value);
        b.freeze()
    }

    /// The payload that removes `key`.
    pub fn delete(key: &[u8]) -> Bytes {
        let key = &key[..key.len().min(usize::from(u16::MAX))];
        let mut b = BytesMut::with_capacity(3 + key.len());
        b.put_u8(b'D');
        b.put_u16(key.len() as u16);
        b.put_slice(key);
        b.freeze()
    }

    /// Decodes a payload.
    pub fn decode(payload: &[u8]) -> Result<KvOp, ApplyError> {
        let (&tag, rest) = payload
            .split_first()
            .ok_or_else(|| ApplyError::new("empty payload"))?;
        if rest.len() < 2 {
            return Err(ApplyError::new("payload too short for a key length"));
        }
        let key_len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        if body.len() < key_len {
            return Err(ApplyError::new(format!(
                "key length {key_len} exceeds the {} bytes that follow",
                body.len()
            )));
        }
        let (key, value) = body.split_at(key_len);
        match tag {
            b'P' => Ok(KvOp::Put {
                key: key.to_vec(),
                value: value.to_vec(),
            }),
            b'D' if value.is_empty() => Ok(KvOp::Delete { key: key.to_vec() }),
            b'D' => Err(ApplyError::new("trailing bytes after a delete")),
            other => Err(ApplyError::new(format!(
                "unknown operation tag 0x{other:02x}"
            ))),
        }
    }
}

impl PageApply for KvApply {
    type Page = BTreeMap<Vec<u8>, Vec<u8>>;

    fn apply(
        &self,
        _page_id: PageId,
        page: &mut Self::Page,
        record: &RedoRecord,
    ) -> Result<(), ApplyError> {
        match KvApply::decode(&record.payload)? {
            KvOp::Put { key, value } => {
                page.insert(key, value);
            }
            KvOp::Delete { key } => {
                page.remove(&key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kv_payloads_round_trip_and_bad_ones_are_errors() {
        assert_eq!(
            KvApply::decode(&KvApply::put(b"k", b"v")),
            Ok(KvOp::Put {
                key: b"k".to_vec(),
                value: b"v".to_vec()
            })
        );
        assert_eq!(
            KvApply::decode(&KvApply::delete(b"k")),
            Ok(KvOp::Delete { key: b"k".to_vec() })
        );
        assert!(KvApply::decode(b"").is_err());
        assert!(KvApply::decode(b"P\x00").is_err());
        assert!(KvApply::decode(b"P\x00\x05ab").is_err());
        assert!(KvApply::decode(b"X\x00\x00").is_err());
        assert!(KvApply::decode(b"D\x00\x01ab").is_err());
    }

    #[test]
    fn truncation_kills_only_older_epochs_above_its_point() {
        let t = Truncation {
            epoch: 3,
            after: 10,
        };
        let mut r = RedoRecord {
            lsn: 11,
            prev_lsn: 10,
            prev_segment_lsn: 10,
            prev_page_lsn: 0,
            page_id: 0,
            epoch: 2,
            cpl: true,
            payload: Bytes::new(),
        };
        assert!(t.kills(&r));
        r.epoch = 3;
        assert!(!t.kills(&r));
        r.epoch = 1;
        r.lsn = 10;
        assert!(!t.kills(&r));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = KvApply::decode(&bytes);
        }

        #[test]
        fn encode_decode_round_trips(key in proptest::collection::vec(any::<u8>(), 0..40),
                                     value in proptest::collection::vec(any::<u8>(), 0..40),
                                     delete in any::<bool>()) {
            let (payload, op) = if delete {
                (KvApply::delete(&key), KvOp::Delete { key: key.clone() })
            } else {
                (KvApply::put(&key, &value), KvOp::Put { key: key.clone(), value: value.clone() })
            };
            prop_assert_eq!(KvApply::decode(&payload), Ok(op));
        }
    }
}
