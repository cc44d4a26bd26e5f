//! The SQL engine's page format on the shared volume: where each redo record lives and how
//! storage nodes apply it ([`SqlPages`], the engine's [`PageApply`]).
//!
//! Layout (page ids; 8 KiB pages keep every id below the volume's 128 TiB cap):
//!
//! | pages | content | written by |
//! |---|---|---|
//! | 0 | the catalog: every DDL statement in order | DDL |
//! | 1 | sequences, logged ahead as PostgreSQL does (32 values) | `nextval` |
//! | `CLOG_BASE + origin·2¹⁶ + local/4096` | commit log of 4096 transaction ids of one origin (the first also registers the origin) | writer start, BEGIN, COMMIT, ROLLBACK |
//! | `HEAP_BASE + table·2¹⁸ + row/64` | 64 rows' version chains of one table | INSERT, UPDATE, DELETE, pruning |
//! | `INDEX_BASE + index·256 + hash(key) mod 256` | index entries of one hash bucket | index maintenance |
//!
//! Guarantees: `apply` is deterministic and never panics; a record addressed to the wrong kind of
//! page is an [`ApplyError`] that poisons that page only. Transaction ids on pages are global
//! (`origin << 40 | local`), so writers of a multi-master cluster never collide, and heap pages
//! hold row versions with their `xmin`/`xmax`: visibility needs the commit-log pages too.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use crate::storage::{IndexId, RowId, TableId, Version};
use crate::value::Value;
use crate::volume::{ApplyError, PageApply, PageId, RedoRecord};

use super::codec::{GlobalXid, PageRecord, decode};

/// The catalog page.
pub const CATALOG_PAGE: PageId = 0;
/// The sequences page.
pub const SEQUENCE_PAGE: PageId = 1;
/// First commit-log page.
pub const CLOG_BASE: PageId = 1 << 20;
/// Transaction ids per commit-log page.
pub const XIDS_PER_CLOG_PAGE: u64 = 4096;
/// First heap page.
pub const HEAP_BASE: PageId = 1 << 28;
/// Heap pages reserved per table.
pub const HEAP_PAGES_PER_TABLE: PageId = 1 << 18;
/// Rows per heap page.
pub const ROWS_PER_PAGE: u64 = 64;
/// First index page.
pub const INDEX_BASE: PageId = 1 << 33;
/// Hash buckets (pages) per index.
pub const INDEX_BUCKETS: u64 = 256;
/// Bits of a global transaction id holding the writer-local id.
pub const ORIGIN_SHIFT: u32 = 40;
/// Highest origin the commit-log layout has room for.
pub const MAX_ORIGIN: u32 = ((HEAP_BASE - CLOG_BASE) >> 16) as u32 - 1;
/// Highest table id the heap layout has room for.
pub const MAX_TABLE_ID: TableId = ((INDEX_BASE - HEAP_BASE) / HEAP_PAGES_PER_TABLE) as TableId - 1;
/// Highest index id the index layout has room for.
pub const MAX_INDEX_ID: IndexId = (((1u64 << 34) - INDEX_BASE) / INDEX_BUCKETS - 1) as IndexId;

/// The global id of writer-local transaction `local` of `origin`.
pub fn global_xid(origin: u32, local: u64) -> GlobalXid {
    (u64::from(origin) << ORIGIN_SHIFT) | local
}

/// The commit-log page of a global transaction id.
pub fn clog_page(xid: GlobalXid) -> PageId {
    let origin = xid >> ORIGIN_SHIFT;
    let local = xid & ((1 << ORIGIN_SHIFT) - 1);
    CLOG_BASE + (origin << 16) + (local / XIDS_PER_CLOG_PAGE).min((1 << 16) - 1)
}

/// The heap page holding `row` of `table`.
pub fn heap_page(table: TableId, row: RowId) -> PageId {
    HEAP_BASE
        + u64::from(table) * HEAP_PAGES_PER_TABLE
        + (row / ROWS_PER_PAGE).min(HEAP_PAGES_PER_TABLE - 1)
}

/// The index page holding `key` of `index`.
pub fn index_page(index: IndexId, key: &[Value]) -> PageId {
    INDEX_BASE + u64::from(index) * INDEX_BUCKETS + key_hash(key) % INDEX_BUCKETS
}

/// A hash of an index key that is the same on every instance (values equal as SQL values hash
/// alike, so `1` and `1.0` share a bucket).
pub fn key_hash(key: &[Value]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// A transaction's state on a commit-log page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClogState {
    /// Started, not finished (aborted if its writer is gone).
    InProgress {
        /// Its top-level transaction.
        top: GlobalXid,
    },
    /// Committed.
    Committed,
    /// Rolled back.
    Aborted,
}

/// One page image. Only the fields of its kind are used.
#[derive(Debug, Clone, Default)]
pub struct SqlPage {
    /// Catalog page: DDL statements in order.
    pub ddl: Vec<String>,
    /// First commit-log page of an origin: the origin, once its writer started.
    pub origins: BTreeSet<u32>,
    /// Sequences page: id → (last, called).
    pub sequences: BTreeMap<u32, (i64, bool)>,
    /// Commit-log page.
    pub clog: BTreeMap<GlobalXid, ClogState>,
    /// Heap page: row → version chain.
    pub rows: BTreeMap<RowId, Vec<Version>>,
    /// Index page: entries.
    pub entries: BTreeSet<(Vec<Value>, RowId)>,
}

/// The SQL engine's [`PageApply`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SqlPages;

/// What kind of page an id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// Page 0.
    Catalog,
    /// Page 1.
    Sequences,
    /// A commit-log page.
    Clog,
    /// A heap page of this table.
    Heap(TableId),
    /// An index page of this index.
    Index(IndexId),
    /// Unused space.
    Unused,
}

/// Classifies a page id.
pub fn kind_of(page: PageId) -> PageKind {
    match page {
        CATALOG_PAGE => PageKind::Catalog,
        SEQUENCE_PAGE => PageKind::Sequences,
        p if (CLOG_BASE..HEAP_BASE).contains(&p) => PageKind::Clog,
        p if (HEAP_BASE..INDEX_BASE).contains(&p) => {
            PageKind::Heap(((p - HEAP_BASE) / HEAP_PAGES_PER_TABLE) as TableId)
        }
        p if p >= INDEX_BASE => PageKind::Index(((p - INDEX_BASE) / INDEX_BUCKETS) as IndexId),
        _ => PageKind::Unused,
    }
}

impl PageApply for SqlPages {
    type Page = SqlPage;

    fn apply(
        &self,
        page_id: PageId,
        page: &mut SqlPage,
        record: &RedoRecord,
    ) -> Result<(), ApplyError> {
        let rec = decode(&record.payload).map_err(|e| ApplyError::new(e.to_string()))?;
        apply_record(page_id, page, rec)
    }
}

/// Applies one decoded record to a page.
pub fn apply_record(
    page_id: PageId,
    page: &mut SqlPage,
    rec: PageRecord,
) -> Result<(), ApplyError> {
    let kind = kind_of(page_id);
    let wrong = |what: &str| {
        Err(ApplyError::new(format!(
            "{what} record addressed to {kind:?} page {page_id}"
        )))
    };
    match rec {
        PageRecord::Ddl { text } if kind == PageKind::Catalog => page.ddl.push(text),
        PageRecord::Origin { origin } if kind == PageKind::Clog => {
            page.origins.insert(origin);
        }
        PageRecord::Sequence { id, last, called } if kind == PageKind::Sequences => {
            page.sequences.insert(id, (last, called));
        }
        PageRecord::Begin { xid, top } if kind == PageKind::Clog => {
            page.clog.insert(xid, ClogState::InProgress { top });
        }
        PageRecord::Commit { xids } if kind == PageKind::Clog => {
            for x in xids {
                page.clog.insert(x, ClogState::Committed);
            }
        }
        PageRecord::Abort { xids } if kind == PageKind::Clog => {
            for x in xids {
                page.clog.insert(x, ClogState::Aborted);
            }
        }
        PageRecord::InsertVersion {
            table,
            row,
            version,
        } if kind == PageKind::Heap(table) => {
            page.rows.entry(row).or_default().push(version);
        }
        PageRecord::SetXmax {
            table,
            row,
            xid,
            cid,
        } if kind == PageKind::Heap(table) => {
            if let Some(v) = page.rows.get_mut(&row).and_then(|c| c.last_mut()) {
                v.xmax = xid;
                v.cmax = cid;
            }
        }
        PageRecord::ReplaceChain { table, row, chain } if kind == PageKind::Heap(table) => {
            page.rows.insert(row, chain);
        }
        PageRecord::AddColumn { table, value } if kind == PageKind::Heap(table) => {
            for v in page.rows.values_mut().flatten() {
                let mut vals = v.values.to_vec();
                vals.push(value.clone());
                v.values = vals.into();
            }
        }
        PageRecord::DropColumn { table, index } if kind == PageKind::Heap(table) => {
            for v in page.rows.values_mut().flatten() {
                let mut vals = v.values.to_vec();
                if (index as usize) < vals.len() {
                    vals.remove(index as usize);
                }
                v.values = vals.into();
            }
        }
        PageRecord::IndexInsert { index, key, row } if kind == PageKind::Index(index) => {
            page.entries.insert((key, row));
        }
        other => {
            let name = format!("{other:?}");
            return wrong(name.split([' ', '{']).next().unwrap_or("a"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_stays_inside_the_volume_and_classifies_back() {
        let max_page = (crate::volume::MAX_VOLUME_SIZE / crate::volume::DEFAULT_PAGE_SIZE) - 1;
        assert!(index_page(MAX_INDEX_ID, &[Value::Int4(1)]) <= max_page);
        assert!(heap_page(MAX_TABLE_ID, u64::MAX) < INDEX_BASE);
        assert!(clog_page(global_xid(MAX_ORIGIN, u64::MAX >> 24)) < HEAP_BASE);
        assert_eq!(kind_of(heap_page(7, 130)), PageKind::Heap(7));
        assert_eq!(
            kind_of(index_page(9, &[Value::text("k")])),
            PageKind::Index(9)
        );
        assert_eq!(kind_of(clog_page(global_xid(3, 5))), PageKind::Clog);
        assert_eq!(heap_page(7, 63), heap_page(7, 0));
        assert_ne!(heap_page(7, 64), heap_page(7, 0));
        // Equal SQL values of different integer widths land in the same bucket.
        assert_eq!(
            index_page(1, &[Value::Int4(5)]),
            index_page(1, &[Value::Int8(5)])
        );
    }

    #[test]
    fn a_record_on_the_wrong_page_is_an_error_not_a_panic() {
        let mut p = SqlPage::default();
        let r = apply_record(
            CATALOG_PAGE,
            &mut p,
            PageRecord::SetXmax {
                table: 1,
                row: 0,
                xid: 1,
                cid: 0,
            },
        );
        assert!(r.is_err());
        let r = apply_record(
            heap_page(2, 0),
            &mut p,
            PageRecord::SetXmax {
                table: 1,
                row: 0,
                xid: 1,
                cid: 0,
            },
        );
        assert!(r.is_err());
    }
}
