//! The storage seam: row versions and index entries live behind [`Storage`], and every change
//! reaches it as a [`LogRecord`] with a log sequence number.
//!
//! Architecture invariant: the executor never mutates storage except by
//! [`Storage::append`]ing a record; applying the records of a log, in LSN order, to an empty
//! store rebuilds the same store ("the log is the database"). Part 2 replaces
//! [`MemoryStorage`] with a replicated volume that ships these records to storage nodes; nothing
//! above this module needs to change.
//!
//! Rows are version chains (PostgreSQL's heap tuples with `xmin`/`xmax`); indexes are ordered
//! sets of `(key, row)` that may point at dead versions, so readers re-check visibility and the
//! predicate. The commit log (transaction status) is part of the store because commit and abort
//! are log records too.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::value::Value;

mod index;
use index::IndexStore;

/// A table's storage id.
pub type TableId = u32;
/// An index's storage id.
pub type IndexId = u32;
/// A row (version chain) within a table.
pub type RowId = u64;
/// A transaction id; 0 means "none".
pub type Xid = u64;
/// A commit sequence number: snapshots see commits with a CSN at or below theirs.
pub type Csn = u64;
/// A log sequence number.
pub type Lsn = u64;

/// One version of a row.
#[derive(Debug, Clone)]
pub struct Version {
    /// The (sub)transaction that created it.
    pub xmin: Xid,
    /// The command within that transaction.
    pub cmin: u32,
    /// The (sub)transaction that deleted or replaced it, or 0.
    pub xmax: Xid,
    /// The command within that transaction.
    pub cmax: u32,
    /// The column values.
    pub values: Arc<[Value]>,
}

/// The state of a transaction id in the commit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XidStatus {
    /// Running; `top` is the top-level transaction owning this (sub)transaction id.
    InProgress {
        /// The owning top-level transaction.
        top: Xid,
    },
    /// Committed at this commit sequence number.
    Committed(Csn),
    /// Rolled back.
    Aborted,
}

/// A redo record: the only way storage changes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LogRecord {
    /// A new table with no rows.
    CreateTable {
        /// Its id.
        table: TableId,
    },
    /// Drops a table and its rows.
    DropTable {
        /// Its id.
        table: TableId,
    },
    /// A new, empty index.
    CreateIndex {
        /// Its id.
        index: IndexId,
    },
    /// Drops an index.
    DropIndex {
        /// Its id.
        index: IndexId,
    },
    /// A transaction id starts (owned by `top`; equal to `xid` for a top-level transaction).
    Begin {
        /// The new id.
        xid: Xid,
        /// The owning top-level transaction.
        top: Xid,
    },
    /// A new version at the end of row `row`'s chain (a new chain when `row` is new).
    InsertVersion {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The version.
        version: Version,
    },
    /// Marks the newest version of `row` deleted by `xid`.
    SetXmax {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The deleting transaction.
        xid: Xid,
        /// Its command id.
        cid: u32,
    },
    /// An index entry.
    IndexInsert {
        /// The index.
        index: IndexId,
        /// The key.
        key: Vec<Value>,
        /// The row it points at.
        row: RowId,
    },
    /// Transaction ids commit atomically at `csn`.
    Commit {
        /// The committed ids (top-level and live subtransactions).
        xids: Vec<Xid>,
        /// The commit sequence number.
        csn: Csn,
    },
    /// Transaction ids roll back.
    Abort {
        /// The aborted ids.
        xids: Vec<Xid>,
    },
    /// Versions of `row` whose deleter committed at or before `horizon` are no longer visible
    /// to any snapshot and are removed.
    Prune {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The oldest CSN any running snapshot uses.
        horizon: Csn,
    },
    /// Every version of every row of a table gains a trailing column (`ADD COLUMN`).
    AddColumn {
        /// The table.
        table: TableId,
        /// The value existing rows get.
        value: Value,
    },
    /// Every version of every row loses column `index` (`DROP COLUMN`).
    DropColumn {
        /// The table.
        table: TableId,
        /// The column position.
        index: usize,
    },
    /// A catalog change, as the DDL statement that made it (part 2 replays it on readers).
    Catalog {
        /// The statement text.
        ddl: String,
    },
}

/// The storage interface the executor runs on.
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Writes `record` to the log, then applies it; returns its LSN.
    fn append(&mut self, record: LogRecord) -> Lsn;
    /// The LSN of the last appended record.
    fn last_lsn(&self) -> Lsn;
    /// The version chain of a row, oldest first.
    fn chain(&self, table: TableId, row: RowId) -> Option<&[Version]>;
    /// Row ids of a table that have a chain.
    fn rows(&self, table: TableId) -> Box<dyn Iterator<Item = RowId> + '_>;
    /// The next unused row id of a table.
    fn next_row(&self, table: TableId) -> RowId;
    /// Index entries with keys in the range, in key order.
    fn index_range(
        &self,
        index: IndexId,
        lower: Bound<&[Value]>,
        upper: Bound<&[Value]>,
    ) -> Vec<RowId>;
    /// Calls `f` with each row id whose index entry has exactly `key` (a point lookup; every
    /// column of the index is given). The default goes through [`Storage::index_range`].
    fn index_eq(&self, index: IndexId, key: &[Value], f: &mut dyn FnMut(RowId)) {
        for r in self.index_range(index, Bound::Included(key), Bound::Included(key)) {
            f(r);
        }
    }
    /// The commit-log state of a transaction id.
    fn status(&self, xid: Xid) -> XidStatus;
    /// Log records from `lsn` (inclusive) on, for shipping to replicas.
    fn log_from(&self, lsn: Lsn) -> &[LogRecord];
    /// Whether DDL inside a transaction block waits for the block's commit (PostgreSQL's
    /// transactional DDL). A storage whose log replicas replay statement by statement says no:
    /// replicas re-run each DDL statement where it stands in the log, so a block's DDL must
    /// reach the log before the rows written after it, and is then kept even if the block
    /// rolls back.
    fn block_ddl_is_transactional(&self) -> bool {
        true
    }
}

/// Hashes the small integer ids of tables and indexes as themselves (no SipHash per lookup).
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<IdHasher>>;

#[derive(Debug, Default)]
struct TableStore {
    chains: Vec<Vec<Version>>,
}

/// The in-memory implementation: a log vector and the structures it applies to.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    log: Vec<LogRecord>,
    tables: IdMap<TableStore>,
    indexes: IdMap<IndexStore>,
    clog: Vec<XidStatus>,
    /// Whether to keep applied records (part 2's shipping needs them; benchmarks may not).
    retain_log: bool,
    lsn: Lsn,
}

impl MemoryStorage {
    /// An empty store that keeps its whole log.
    pub fn new() -> Self {
        MemoryStorage {
            retain_log: true,
            ..Default::default()
        }
    }

    /// An empty store that applies records without retaining them (nothing ships the log).
    pub fn without_log_retention() -> Self {
        MemoryStorage::default()
    }

    fn apply(&mut self, rec: &LogRecord) {
        match rec {
            LogRecord::CreateTable { table } => {
                self.tables.insert(*table, TableStore::default());
            }
            LogRecord::DropTable { table } => {
                self.tables.remove(table);
            }
            LogRecord::CreateIndex { index } => {
                self.indexes.insert(*index, IndexStore::new());
            }
            LogRecord::DropIndex { index } => {
                self.indexes.remove(index);
            }
            LogRecord::Begin { xid, top } => {
                let i = *xid as usize;
                if self.clog.len() <= i {
                    self.clog.resize(i + 1, XidStatus::Aborted);
                }
                self.clog[i] = XidStatus::InProgress { top: *top };
            }
            LogRecord::InsertVersion {
                table,
                row,
                version,
            } => {
                if let Some(t) = self.tables.get_mut(table) {
                    let r = *row as usize;
                    if t.chains.len() <= r {
                        t.chains.resize_with(r + 1, Vec::new);
                    }
                    t.chains[r].push(version.clone());
                }
            }
            LogRecord::SetXmax {
                table,
                row,
                xid,
                cid,
            } => {
                // The newest version not created by a rolled-back transaction: a rolled-back
                // UPDATE leaves its (never visible) version on top of the chain. Abort records
                // precede this one in the log, so replay picks the same version.
                let clog = &self.clog;
                if let Some(v) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.chains.get_mut(*row as usize))
                    .and_then(|c| {
                        c.iter_mut().rev().find(|v| {
                            !matches!(clog.get(v.xmin as usize), Some(XidStatus::Aborted))
                        })
                    })
                {
                    v.xmax = *xid;
                    v.cmax = *cid;
                }
            }
            LogRecord::IndexInsert { index, key, row } => {
                if let Some(ix) = self.indexes.get_mut(index) {
                    ix.insert(key, *row);
                }
            }
            LogRecord::Commit { xids, csn } => {
                for x in xids {
                    if let Some(s) = self.clog.get_mut(*x as usize) {
                        *s = XidStatus::Committed(*csn);
                    }
                }
            }
            LogRecord::Abort { xids } => {
                for x in xids {
                    if let Some(s) = self.clog.get_mut(*x as usize) {
                        *s = XidStatus::Aborted;
                    }
                }
            }
            LogRecord::Prune {
                table,
                row,
                horizon,
            } => {
                let clog = &self.clog;
                if let Some(chain) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.chains.get_mut(*row as usize))
                {
                    let dead = |v: &Version| {
                        let gone = |x: Xid| match clog.get(x as usize) {
                            Some(XidStatus::Committed(c)) => *c <= *horizon,
                            _ => false,
                        };
                        let aborted =
                            |x: Xid| matches!(clog.get(x as usize), Some(XidStatus::Aborted));
                        (v.xmax != 0 && gone(v.xmax)) || aborted(v.xmin)
                    };
                    chain.retain(|v| !dead(v));
                }
            }
            LogRecord::AddColumn { table, value } => {
                if let Some(t) = self.tables.get_mut(table) {
                    for v in t.chains.iter_mut().flatten() {
                        let mut vals = v.values.to_vec();
                        vals.push(value.clone());
                        v.values = vals.into();
                    }
                }
            }
            LogRecord::DropColumn { table, index } => {
                if let Some(t) = self.tables.get_mut(table) {
                    for v in t.chains.iter_mut().flatten() {
                        let mut vals = v.values.to_vec();
                        if *index < vals.len() {
                            vals.remove(*index);
                        }
                        v.values = vals.into();
                    }
                }
            }
            LogRecord::Catalog { .. } => {}
        }
    }
}

impl Storage for MemoryStorage {
    fn append(&mut self, record: LogRecord) -> Lsn {
        self.lsn += 1;
        self.apply(&record);
        if self.retain_log {
            self.log.push(record);
        }
        self.lsn
    }

    fn last_lsn(&self) -> Lsn {
        self.lsn
    }

    fn chain(&self, table: TableId, row: RowId) -> Option<&[Version]> {
        self.tables
            .get(&table)
            .and_then(|t| t.chains.get(row as usize))
            .map(|c| c.as_slice())
    }

    fn rows(&self, table: TableId) -> Box<dyn Iterator<Item = RowId> + '_> {
        match self.tables.get(&table) {
            Some(t) => Box::new(
                t.chains
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(i, _)| i as RowId),
            ),
            None => Box::new(std::iter::empty()),
        }
    }

    fn next_row(&self, table: TableId) -> RowId {
        self.tables
            .get(&table)
            .map(|t| t.chains.len() as RowId)
            .unwrap_or(0)
    }

    fn index_range(
        &self,
        index: IndexId,
        lower: Bound<&[Value]>,
        upper: Bound<&[Value]>,
    ) -> Vec<RowId> {
        let Some(ix) = self.indexes.get(&index) else {
            return Vec::new();
        };
        ix.range(lower, upper)
    }

    fn index_eq(&self, index: IndexId, key: &[Value], f: &mut dyn FnMut(RowId)) {
        let Some(ix) = self.indexes.get(&index) else {
            return;
        };
        ix.eq(key, f);
    }

    fn status(&self, xid: Xid) -> XidStatus {
        self.clog
            .get(xid as usize)
            .copied()
            .unwrap_or(XidStatus::Aborted)
    }

    fn log_from(&self, lsn: Lsn) -> &[LogRecord] {
        // Retained records are numbered from 1.
        let start = (lsn.max(1) - 1) as usize;
        self.log.get(start..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaying_the_log_rebuilds_the_store() {
        let mut a = MemoryStorage::new();
        a.append(LogRecord::CreateTable { table: 1 });
        a.append(LogRecord::CreateIndex { index: 7 });
        a.append(LogRecord::Begin { xid: 1, top: 1 });
        let v = Version {
            xmin: 1,
            cmin: 0,
            xmax: 0,
            cmax: 0,
            values: Arc::from(vec![Value::Int4(5)]),
        };
        a.append(LogRecord::InsertVersion {
            table: 1,
            row: 0,
            version: v,
        });
        a.append(LogRecord::IndexInsert {
            index: 7,
            key: vec![Value::Int4(5)],
            row: 0,
        });
        a.append(LogRecord::Commit {
            xids: vec![1],
            csn: 1,
        });
        let mut b = MemoryStorage::new();
        for r in a.log_from(1).to_vec() {
            b.append(r);
        }
        assert_eq!(b.status(1), XidStatus::Committed(1));
        assert_eq!(b.chain(1, 0).map(|c| c.len()), Some(1));
        let five = [Value::Int4(5)];
        assert_eq!(
            b.index_range(7, Bound::Included(&five), Bound::Included(&five)),
            vec![0]
        );
        assert_eq!(b.last_lsn(), a.last_lsn());
    }
}
