//! Item intents: the items an in-flight TransactWriteItems holds between its prepare and its
//! commit.
//!
//! A write transaction prepares under the table locks (conditions checked, new items computed),
//! records an intent on every item it touches and releases the locks; it re-takes them to commit
//! and then drops its intents. While an intent is held, other requests see it under the table
//! lock, as DynamoDB documents ("Transaction conflict handling"):
//!
//! - PutItem, UpdateItem and DeleteItem of a held item fail with `TransactionConflictException`;
//! - a TransactWriteItems or TransactGetItems that includes a held item is cancelled, with
//!   `TransactionConflict` as that item's cancellation reason;
//! - a BatchWriteItem request for a held item is returned in `UnprocessedItems` (the batch's
//!   other requests are written);
//! - GetItem, BatchGetItem, Query and Scan are not blocked: they read the last committed state.
//!
//! Intents are only ever added or removed while the table's state lock is held for writing, and
//! checked while it is held, so a check never races a transaction's prepare or commit. A count
//! kept beside the map lets the common case (no transaction in flight) skip the map entirely.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::key::PKey;

/// The intents on one table's items.
#[derive(Debug, Default)]
pub struct Intents {
    count: AtomicUsize,
    held: Mutex<HashSet<PKey>>,
}

impl Intents {
    /// Whether an in-flight transaction holds `key`.
    pub fn is_held(&self, key: &PKey) -> bool {
        self.count.load(Ordering::Acquire) != 0 && self.held.lock().contains(key)
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// Records an intent on `keys` (the caller holds the table's write lock and has checked that
    /// none is held, so each key has one owner and releasing by key is safe).
    pub fn hold<'a>(&self, keys: impl IntoIterator<Item = &'a PKey>) {
        let mut held = self.held.lock();
        for k in keys {
            held.insert(k.clone());
        }
        self.count.store(held.len(), Ordering::Release);
    }

    /// Drops the intents on `keys`.
    pub fn release<'a>(&self, keys: impl IntoIterator<Item = &'a PKey>) {
        let mut held = self.held.lock();
        for k in keys {
            held.remove(k);
        }
        self.count.store(held.len(), Ordering::Release);
    }
}
