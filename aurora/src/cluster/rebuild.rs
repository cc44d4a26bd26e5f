//! Opening an instance on the volume: its SQL state is read from pages at the instance's read
//! point — the catalog page's DDL, the heap, index, sequence and commit-log pages — with no redo
//! replay (storage nodes have already applied the log to pages in the background).
//!
//! Guarantees: the rebuilt state shows exactly the transactions the commit-log pages mark
//! committed at the read point; a transaction still in progress there (its writer crashed) is
//! aborted; sequences resume at their logged-ahead value, as PostgreSQL's do after a crash.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use nubis_core::Env;
use parking_lot::Mutex;

use crate::engine::{Database, DbState};
use crate::storage::{LogRecord, Lsn, MemoryStorage, Storage, Version};
use crate::txn::TxnManager;
use crate::volume::{PageId, PageRead, VolumeResult};

use super::codec::GlobalXid;
use super::error::ClusterError;
use super::pages::{
    CATALOG_PAGE, ClogState, HEAP_PAGES_PER_TABLE, INDEX_BASE, INDEX_BUCKETS, ROWS_PER_PAGE,
    SEQUENCE_PAGE, SqlPage, clog_page, heap_page,
};
use super::volume_storage::{Link, LinkMode, VolumeStorage};

/// What a rebuild read.
#[derive(Debug, Clone, Default)]
pub struct RebuildStats {
    /// Pages read from storage.
    pub pages_read: usize,
    /// Rows materialised.
    pub rows: usize,
    /// DDL statements re-run to rebuild the catalog.
    pub ddl: usize,
    /// Transactions found in progress and treated as aborted.
    pub aborted_in_flight: usize,
}

/// A rebuilt instance state.
#[derive(Debug)]
pub struct Rebuilt {
    /// The database sessions connect to.
    pub db: Arc<Database>,
    /// Its link to the volume.
    pub link: Arc<Mutex<Link>>,
    /// The newest LSN of every page read (multi-master writes are based on them).
    pub page_lsns: HashMap<PageId, Lsn>,
    /// Writer origins the catalog page lists.
    pub origins: BTreeSet<u32>,
    /// What was read.
    pub stats: RebuildStats,
}

/// Rebuilds database `name` from pages read through `read` (at the instance's read point).
pub fn rebuild(
    name: &str,
    env: &Env,
    origin: u32,
    mode: LinkMode,
    mut read: impl FnMut(PageId) -> VolumeResult<PageRead<SqlPage>>,
) -> Result<Rebuilt, ClusterError> {
    let mut stats = RebuildStats::default();
    let mut page_lsns = HashMap::new();
    let mut get =
        |page: PageId, stats: &mut RebuildStats| -> Result<PageRead<SqlPage>, ClusterError> {
            let r = read(page)?;
            stats.pages_read += 1;
            if r.lsn > 0 {
                page_lsns.insert(page, r.lsn);
            }
            Ok(r)
        };
    let catalog_page = get(CATALOG_PAGE, &mut stats)?.page;
    // Writer origins are registered on their first commit-log page, allocated in order.
    let mut origins = BTreeSet::new();
    for o in 1..=super::pages::MAX_ORIGIN {
        let r = get(clog_page(super::pages::global_xid(o, 0)), &mut stats)?;
        if r.lsn == 0 {
            break;
        }
        origins.extend(r.page.origins);
    }
    let sequence_page = get(SEQUENCE_PAGE, &mut stats)?.page;

    // The catalog: re-run the DDL on a scratch database (no rows, so nothing data-dependent).
    let scratch = Database::with_storage(
        name,
        env.clone(),
        Box::new(MemoryStorage::without_log_retention()),
    );
    let mut session = scratch.session();
    for ddl in &catalog_page.ddl {
        session.execute(ddl).map_err(|e| ClusterError::Rebuild {
            reason: format!("re-running {ddl:?}: {e}"),
        })?;
        stats.ddl += 1;
    }
    drop(session);
    let (catalog, mut sequences) = {
        let mut st = scratch.state.lock();
        (std::mem::take(&mut st.catalog), st.sequences.take())
    };
    for (id, (last, called)) in &sequence_page.sequences {
        if let Some(s) = sequences.get_mut(id) {
            s.last = *last;
            s.called = *called;
        }
    }

    // Heap pages are filled in row order, so a table's pages end at the first unwritten one.
    let mut heaps: BTreeMap<u32, BTreeMap<u64, Vec<Version>>> = BTreeMap::new();
    for id in catalog.tables.keys() {
        let rows = heaps.entry(*id).or_default();
        for p in 0..HEAP_PAGES_PER_TABLE {
            let r = get(heap_page(*id, p * ROWS_PER_PAGE), &mut stats)?;
            if r.lsn == 0 {
                break;
            }
            rows.extend(r.page.rows);
        }
    }
    let mut indexes: BTreeMap<u32, Vec<(Vec<crate::value::Value>, u64)>> = BTreeMap::new();
    for id in catalog.indexes.keys() {
        let entries = indexes.entry(*id).or_default();
        for b in 0..INDEX_BUCKETS {
            let r = get(INDEX_BASE + u64::from(*id) * INDEX_BUCKETS + b, &mut stats)?;
            entries.extend(r.page.entries);
        }
    }

    // Commit-log pages of every transaction a version names.
    let mut referenced: BTreeSet<GlobalXid> = BTreeSet::new();
    for v in heaps.values().flat_map(|t| t.values()).flatten() {
        referenced.insert(v.xmin);
        if v.xmax != 0 {
            referenced.insert(v.xmax);
        }
    }
    let mut clog: BTreeMap<GlobalXid, ClogState> = BTreeMap::new();
    let pages: BTreeSet<PageId> = referenced.iter().map(|x| clog_page(*x)).collect();
    for page in pages {
        clog.extend(get(page, &mut stats)?.page.clog);
    }

    let link = Link::new(origin, LinkMode::Local);
    let mut txns = TxnManager::new();
    let mut local = MemoryStorage::without_log_retention();
    {
        let mut l = link.lock();
        for g in &referenced {
            let x = txns.allocate_xid();
            l.bind(*g, x);
        }
        for table in catalog.tables.keys() {
            local.append(LogRecord::CreateTable { table: *table });
        }
        for (table, rows) in &heaps {
            for (row, chain) in rows {
                stats.rows += 1;
                for v in chain {
                    let version = Version {
                        xmin: l.to_local(v.xmin).unwrap_or(0),
                        cmin: v.cmin,
                        xmax: l.to_local(v.xmax).unwrap_or(0),
                        cmax: v.cmax,
                        values: v.values.clone(),
                    };
                    local.append(LogRecord::InsertVersion {
                        table: *table,
                        row: *row,
                        version,
                    });
                }
            }
        }
        for (index, entries) in indexes {
            local.append(LogRecord::CreateIndex { index });
            for (key, row) in entries {
                local.append(LogRecord::IndexInsert { index, key, row });
            }
        }
        for g in &referenced {
            let Some(x) = l.to_local(*g) else { continue };
            match clog.get(g) {
                Some(ClogState::Committed) => {
                    local.append(LogRecord::Begin { xid: x, top: x });
                    local.append(LogRecord::Commit {
                        xids: vec![x],
                        csn: 1,
                    });
                }
                Some(ClogState::InProgress { .. }) => stats.aborted_in_flight += 1,
                // Aborted, or never logged: the commit log's default is aborted.
                _ => {}
            }
        }
        l.mode = mode;
    }
    txns.next_csn();
    let db = Database::with_storage(
        name,
        env.clone(),
        Box::new(MemoryStorage::without_log_retention()),
    );
    *db.state.lock() = DbState {
        catalog,
        sequences: RefCell::new(sequences),
        storage: Box::new(VolumeStorage::new(local, link.clone())),
        txns,
    };
    Ok(Rebuilt {
        db,
        link,
        page_lsns,
        origins,
        stats,
    })
}
