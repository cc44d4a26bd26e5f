//! Transactions: ids, commit sequence numbers, snapshots, MVCC visibility and the
//! serializable (SSI) conflict tracker.
//!
//! Guarantees:
//! - A snapshot sees exactly the versions created by transactions committed at or before its
//!   CSN, plus its own transaction's earlier commands (PostgreSQL's `xmin`/`xmax`/`cmin` rules).
//! - SERIALIZABLE never lets an anomaly through: at commit, a serializable transaction that would
//!   complete a "dangerous structure" (a transaction with both an incoming and an outgoing
//!   read-write antidependency among concurrent serializable transactions, Fekete et al.) fails
//!   with 40001. The check is conservative: it may abort a transaction PostgreSQL would let
//!   commit, never the reverse.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::{AuroraError, Result};
use crate::storage::{Csn, IndexId, RowId, Storage, TableId, Version, Xid, XidStatus};
use crate::value::Value;

/// Isolation levels (READ UNCOMMITTED behaves as READ COMMITTED, as in PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// A new snapshot per statement.
    #[default]
    ReadCommitted,
    /// One snapshot for the transaction.
    RepeatableRead,
    /// Snapshot plus rw-conflict detection.
    Serializable,
}

impl Isolation {
    /// PostgreSQL's spelling, as `SHOW transaction_isolation` prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read committed",
            Isolation::RepeatableRead => "repeatable read",
            Isolation::Serializable => "serializable",
        }
    }
}

/// What a statement sees.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Commits at or below this CSN are visible.
    pub csn: Csn,
    /// The reading transaction (0 for none).
    pub top: Xid,
    /// The current command id: own changes from earlier commands are visible.
    pub cid: u32,
}

impl Snapshot {
    /// Whether `v` is visible.
    pub fn sees(&self, storage: &dyn Storage, v: &Version) -> bool {
        let created = match storage.status(v.xmin) {
            XidStatus::Committed(c) => c <= self.csn,
            XidStatus::InProgress { top } => top == self.top && self.top != 0 && v.cmin < self.cid,
            XidStatus::Aborted => false,
        };
        created && !self.deleted(storage, v)
    }

    fn deleted(&self, storage: &dyn Storage, v: &Version) -> bool {
        if v.xmax == 0 {
            return false;
        }
        match storage.status(v.xmax) {
            XidStatus::Committed(c) => c <= self.csn,
            XidStatus::InProgress { top } => top == self.top && self.top != 0 && v.cmax < self.cid,
            XidStatus::Aborted => false,
        }
    }

    /// The visible version of a chain (newest first).
    pub fn visible<'a>(&self, storage: &dyn Storage, chain: &'a [Version]) -> Option<&'a Version> {
        chain.iter().rev().find(|v| self.sees(storage, v))
    }
}

/// Whether `xid` belongs to the running top-level transaction `top`.
pub fn is_mine(storage: &dyn Storage, xid: Xid, top: Xid) -> bool {
    top != 0 && matches!(storage.status(xid), XidStatus::InProgress { top: t } if t == top)
}

/// Something a serializable transaction read.
#[derive(Debug, Clone)]
pub enum ReadItem {
    /// A whole table (a sequential scan: every row and every phantom).
    Table(TableId),
    /// A key range of an index.
    Range {
        /// The table the index belongs to.
        table: TableId,
        /// The index.
        index: IndexId,
        /// Lower bound.
        lower: Bound<Vec<Value>>,
        /// Upper bound.
        upper: Bound<Vec<Value>>,
    },
}

/// Something a serializable transaction wrote: a row and its index keys (old and new).
#[derive(Debug, Clone)]
pub struct WriteItem {
    /// The table.
    pub table: TableId,
    /// The row.
    pub row: RowId,
    /// Index keys of the old and new versions.
    pub keys: Vec<(IndexId, Vec<Value>)>,
}

#[derive(Debug, Default)]
struct SsiTxn {
    start_csn: Csn,
    commit_csn: Option<Csn>,
    reads: Vec<ReadItem>,
    writes: Vec<WriteItem>,
    in_conflict: bool,
    /// Has a read-write edge to a transaction that committed before it.
    out_conflict: bool,
}

fn in_range(key: &[Value], lower: &Bound<Vec<Value>>, upper: &Bound<Vec<Value>>) -> bool {
    let lo = match lower {
        Bound::Included(k) => key >= k.as_slice(),
        Bound::Excluded(k) => key > k.as_slice(),
        Bound::Unbounded => true,
    };
    let hi = match upper {
        Bound::Included(k) => key <= k.as_slice(),
        Bound::Excluded(k) => key < k.as_slice(),
        Bound::Unbounded => true,
    };
    lo && hi
}

fn conflicts(reads: &[ReadItem], writes: &[WriteItem]) -> bool {
    reads.iter().any(|r| {
        writes.iter().any(|w| match r {
            ReadItem::Table(t) => *t == w.table,
            ReadItem::Range {
                table,
                index,
                lower,
                upper,
            } => {
                *table == w.table
                    && w.keys
                        .iter()
                        .any(|(ix, key)| ix == index && in_range(key, lower, upper))
            }
        })
    })
}

/// Allocates ids and CSNs, tracks running snapshots and serializable transactions.
#[derive(Debug, Default)]
pub struct TxnManager {
    next_xid: Xid,
    csn: Csn,
    /// Running top-level transactions and the CSN their (oldest) snapshot uses.
    running: BTreeMap<Xid, Csn>,
    ssi: BTreeMap<Xid, SsiTxn>,
}

impl TxnManager {
    /// A manager with no history.
    pub fn new() -> Self {
        TxnManager {
            next_xid: 1,
            ..Default::default()
        }
    }

    /// The last committed CSN.
    pub fn csn(&self) -> Csn {
        self.csn
    }

    /// A fresh transaction id.
    pub fn allocate_xid(&mut self) -> Xid {
        let x = self.next_xid;
        self.next_xid += 1;
        x
    }

    /// Registers a running top-level transaction whose snapshot is at `csn`.
    pub fn register(&mut self, top: Xid, csn: Csn, isolation: Isolation) {
        self.running.insert(top, csn);
        if isolation == Isolation::Serializable {
            self.ssi.insert(
                top,
                SsiTxn {
                    start_csn: csn,
                    ..Default::default()
                },
            );
        }
    }

    /// Moves a READ COMMITTED transaction's snapshot forward.
    pub fn refresh(&mut self, top: Xid, csn: Csn) {
        if let Some(c) = self.running.get_mut(&top) {
            *c = csn;
        }
    }

    /// The oldest CSN a running snapshot uses: versions deleted at or before it are dead to all.
    pub fn horizon(&self) -> Csn {
        self.running.values().copied().min().unwrap_or(self.csn)
    }

    /// Records a serializable read.
    pub fn record_read(&mut self, top: Xid, item: ReadItem) {
        if let Some(t) = self.ssi.get_mut(&top) {
            if t.reads.len() < 4096 {
                t.reads.push(item);
            } else {
                let (ReadItem::Table(tid) | ReadItem::Range { table: tid, .. }) = item;
                // Past a bound, coarsen to table granularity: still conservative, less memory.
                if !t
                    .reads
                    .iter()
                    .any(|r| matches!(r, ReadItem::Table(x) if *x == tid))
                {
                    t.reads.push(ReadItem::Table(tid));
                }
            }
        }
    }

    /// Records a serializable write.
    pub fn record_write(&mut self, top: Xid, item: WriteItem) {
        if let Some(t) = self.ssi.get_mut(&top) {
            t.writes.push(item);
        }
    }

    /// Whether the transaction is tracked as serializable.
    pub fn is_serializable(&self, top: Xid) -> bool {
        self.ssi.contains_key(&top)
    }

    /// Checks a serializable transaction before commit; 40001 if committing could admit an
    /// anomaly. On success the conflict flags it creates are recorded.
    ///
    /// The rule is PostgreSQL's: a dangerous structure T1 -rw-> T2 -rw-> T3 matters only when
    /// T3 commits first. So the committing transaction fails when it is the pivot with an
    /// incoming edge and an outgoing edge to an already committed transaction, or when it is T1
    /// with an outgoing edge to a committed pivot whose own outgoing edge went to a transaction
    /// that committed before it.
    pub fn precommit_check(&mut self, top: Xid) -> Result<()> {
        let Some(me) = self.ssi.get(&top) else {
            return Ok(());
        };
        let mut my_in = me.in_conflict;
        let mut out_committed = me.out_conflict;
        let mut marks: Vec<Xid> = Vec::new();
        for (other, o) in &self.ssi {
            if *other == top || o.commit_csn.is_some_and(|c| c <= me.start_csn) {
                continue;
            }
            let out = conflicts(&me.reads, &o.writes);
            let inn = conflicts(&o.reads, &me.writes);
            if out {
                if o.commit_csn.is_some() {
                    out_committed = true;
                    if o.out_conflict {
                        return Err(serialization_failure());
                    }
                } else {
                    marks.push(*other);
                }
            }
            my_in |= inn;
        }
        if my_in && out_committed {
            return Err(serialization_failure());
        }
        for other in marks {
            if let Some(o) = self.ssi.get_mut(&other) {
                o.in_conflict = true;
            }
        }
        if let Some(me) = self.ssi.get_mut(&top) {
            me.in_conflict = my_in;
            me.out_conflict = out_committed;
        }
        Ok(())
    }

    /// A new CSN for a commit.
    pub fn next_csn(&mut self) -> Csn {
        self.csn += 1;
        self.csn
    }

    /// Forgets a finished transaction (committed at `csn`, or rolled back when `None`).
    pub fn finish(&mut self, top: Xid, csn: Option<Csn>) {
        self.running.remove(&top);
        match csn {
            Some(c) => {
                if let Some(t) = self.ssi.get_mut(&top) {
                    t.commit_csn = Some(c);
                }
            }
            None => {
                self.ssi.remove(&top);
            }
        }
        // Committed serializable transactions matter only while a concurrent one runs.
        let oldest_running = self
            .ssi
            .values()
            .filter(|t| t.commit_csn.is_none())
            .map(|t| t.start_csn)
            .min();
        self.ssi
            .retain(|_, t| match (t.commit_csn, oldest_running) {
                (None, _) => true,
                (Some(c), Some(start)) => c > start,
                (Some(_), None) => false,
            });
    }
}

fn serialization_failure() -> AuroraError {
    AuroraError::SerializationFailure {
        reason: "read/write dependencies among transactions".into(),
    }
}

#[cfg(test)]
mod ssi_tests {
    use super::*;

    #[test]
    fn write_skew_is_refused() {
        let mut m = TxnManager::new();
        let (a, b) = (m.allocate_xid(), m.allocate_xid());
        m.register(a, 0, Isolation::Serializable);
        m.register(b, 0, Isolation::Serializable);
        m.record_read(a, ReadItem::Table(1));
        m.record_read(b, ReadItem::Table(1));
        m.record_write(
            a,
            WriteItem {
                table: 1,
                row: 0,
                keys: vec![],
            },
        );
        m.record_write(
            b,
            WriteItem {
                table: 1,
                row: 1,
                keys: vec![],
            },
        );
        // First committer wins, as in PostgreSQL; the second completes the structure and fails.
        assert!(m.precommit_check(a).is_ok());
        let csn = m.next_csn();
        m.finish(a, Some(csn));
        assert!(m.precommit_check(b).is_err());
    }
}
