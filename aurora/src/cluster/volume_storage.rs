//! [`VolumeStorage`]: the SQL engine's [`Storage`] on the shared volume.
//!
//! An instance keeps its materialised rows in a local [`MemoryStorage`] (its buffer cache, which
//! here holds every page it has read or written) and turns every [`LogRecord`] the executor
//! appends into page records ([`PageRecord`]) staged on the instance's [`Link`]. The cluster
//! ships what is staged as one mini-transaction per statement and answers the client only once
//! the volume's VDL covers it, so a commit is acknowledged exactly when it is durable on four of
//! six copies.
//!
//! Transaction ids: the executor allocates writer-local ids; on the volume every id is global
//! (`origin << 40 | local`, one origin per writer incarnation). Ids learnt from other writers
//! (multi-master peers, or pages read at recovery) get fresh local ids, kept in the link's maps,
//! so the executor's MVCC never sees two transactions under one id.
//!
//! Guarantees: the local store changes only through [`Storage::append`], exactly as the
//! executor asked; records are staged in append order; in [`LinkMode::Local`] (applying records
//! that are already on the volume) nothing is staged.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::storage::{
    IndexId, LogRecord, Lsn, MemoryStorage, RowId, Storage, TableId, Version, Xid, XidStatus,
};
use crate::value::Value;
use crate::volume::PageId;

use super::codec::{GlobalXid, PageRecord};
use super::pages::{CATALOG_PAGE, ROWS_PER_PAGE, clog_page, global_xid, heap_page, index_page};

/// Whether appended records are shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// A writer: stage every record for the volume.
    Ship,
    /// Applying records that are already on the volume (a reader, a peer's changes, a rebuild).
    Local,
}

/// The instance-side state shared between its [`VolumeStorage`] and the cluster.
#[derive(Debug)]
pub struct Link {
    /// This writer incarnation's transaction-id origin.
    pub origin: u32,
    /// Ship or apply locally.
    pub mode: LinkMode,
    /// Page records waiting to be shipped, in order.
    pub staged: Vec<(PageId, PageRecord)>,
    /// Global ids of other origins → local ids.
    remote_to_local: HashMap<GlobalXid, Xid>,
    /// Local ids standing for other origins' transactions → their global ids.
    local_to_remote: HashMap<Xid, GlobalXid>,
    /// Subtransaction → top-level transaction (local ids).
    sub_top: HashMap<Xid, Xid>,
    /// Rows each running top-level transaction wrote.
    touched: HashMap<Xid, BTreeSet<(TableId, RowId)>>,
    /// Top-level transactions finished by staged records.
    pub finished: Vec<Xid>,
    /// Sequence values logged ahead on the volume (id → value).
    pub logged_sequences: HashMap<u32, i64>,
    /// The (epoch, commit LSN) of the last mini-transaction this instance shipped: a statement
    /// that ran after it may have seen its changes, so it is answered only once that is durable.
    pub shipped: Option<(u64, crate::volume::Lsn)>,
}

impl Link {
    /// A link for a writer incarnation.
    pub fn new(origin: u32, mode: LinkMode) -> Arc<Mutex<Link>> {
        Arc::new(Mutex::new(Link {
            origin,
            mode,
            staged: Vec::new(),
            remote_to_local: HashMap::new(),
            local_to_remote: HashMap::new(),
            sub_top: HashMap::new(),
            touched: HashMap::new(),
            finished: Vec::new(),
            logged_sequences: HashMap::new(),
            shipped: None,
        }))
    }

    /// The global id of a local id.
    pub fn to_global(&self, x: Xid) -> GlobalXid {
        if x == 0 {
            return 0;
        }
        self.local_to_remote
            .get(&x)
            .copied()
            .unwrap_or_else(|| global_xid(self.origin, x))
    }

    /// The local id of a global id, if it is known (own ids always are).
    pub fn to_local(&self, g: GlobalXid) -> Option<Xid> {
        if g == 0 {
            return Some(0);
        }
        if g >> super::pages::ORIGIN_SHIFT == u64::from(self.origin) {
            return Some(g & ((1 << super::pages::ORIGIN_SHIFT) - 1));
        }
        self.remote_to_local.get(&g).copied()
    }

    /// Records that local id `local` stands for global id `g`.
    pub fn bind(&mut self, g: GlobalXid, local: Xid) {
        self.remote_to_local.insert(g, local);
        self.local_to_remote.insert(local, g);
    }

    fn top_of(&self, x: Xid) -> Xid {
        self.sub_top.get(&x).copied().unwrap_or(x)
    }

    /// Rows a running top-level transaction wrote.
    pub fn touched_rows(&self, top: Xid) -> Vec<(TableId, RowId)> {
        self.touched
            .get(&top)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// A top-level transaction's ids: itself and its subtransactions.
    pub fn xids_of(&self, top: Xid) -> Vec<Xid> {
        let mut v = vec![top];
        v.extend(
            self.sub_top
                .iter()
                .filter(|(_, t)| **t == top)
                .map(|(x, _)| *x),
        );
        v.sort_unstable();
        v
    }

    /// Forgets transactions whose end was shipped.
    pub fn forget_finished(&mut self) {
        for top in std::mem::take(&mut self.finished) {
            self.touched.remove(&top);
            self.sub_top.retain(|_, t| *t != top);
        }
    }

    fn version_to_global(&self, v: &Version) -> Version {
        Version {
            xmin: self.to_global(v.xmin),
            cmin: v.cmin,
            xmax: self.to_global(v.xmax),
            cmax: v.cmax,
            values: v.values.clone(),
        }
    }

    fn stage_xids(&mut self, xids: &[Xid], commit: bool) {
        let mut by_page: std::collections::BTreeMap<PageId, Vec<GlobalXid>> =
            std::collections::BTreeMap::new();
        for x in xids {
            let g = self.to_global(*x);
            by_page.entry(clog_page(g)).or_default().push(g);
        }
        for (page, xids) in by_page {
            let rec = if commit {
                PageRecord::Commit { xids }
            } else {
                PageRecord::Abort { xids }
            };
            self.staged.push((page, rec));
        }
    }
}

/// The SQL engine's storage on the shared volume (see the module docs).
#[derive(Debug)]
pub struct VolumeStorage {
    local: MemoryStorage,
    link: Arc<Mutex<Link>>,
}

impl VolumeStorage {
    /// A storage over an already materialised local store.
    pub fn new(local: MemoryStorage, link: Arc<Mutex<Link>>) -> VolumeStorage {
        VolumeStorage { local, link }
    }

    /// The link shared with the cluster.
    pub fn link(&self) -> &Arc<Mutex<Link>> {
        &self.link
    }

    fn ship(&mut self, record: &LogRecord) {
        let mut link = self.link.lock();
        if link.mode != LinkMode::Ship {
            return;
        }
        match record {
            LogRecord::Begin { xid, top } => {
                if xid != top {
                    link.sub_top.insert(*xid, *top);
                }
                let (g, t) = (link.to_global(*xid), link.to_global(*top));
                link.staged
                    .push((clog_page(g), PageRecord::Begin { xid: g, top: t }));
            }
            LogRecord::InsertVersion {
                table,
                row,
                version,
            } => {
                let top = link.top_of(version.xmin);
                link.touched.entry(top).or_default().insert((*table, *row));
                let version = link.version_to_global(version);
                link.staged.push((
                    heap_page(*table, *row),
                    PageRecord::InsertVersion {
                        table: *table,
                        row: *row,
                        version,
                    },
                ));
            }
            LogRecord::SetXmax {
                table,
                row,
                xid,
                cid,
            } => {
                let top = link.top_of(*xid);
                link.touched.entry(top).or_default().insert((*table, *row));
                let g = link.to_global(*xid);
                link.staged.push((
                    heap_page(*table, *row),
                    PageRecord::SetXmax {
                        table: *table,
                        row: *row,
                        xid: g,
                        cid: *cid,
                    },
                ));
            }
            LogRecord::IndexInsert { index, key, row } => {
                link.staged.push((
                    index_page(*index, key),
                    PageRecord::IndexInsert {
                        index: *index,
                        key: key.clone(),
                        row: *row,
                    },
                ));
            }
            LogRecord::Commit { xids, .. } => {
                link.stage_xids(xids, true);
                if let Some(first) = xids.first() {
                    let top = link.top_of(*first);
                    link.finished.push(top);
                }
            }
            LogRecord::Abort { xids } => {
                link.stage_xids(xids, false);
                let tops: BTreeSet<Xid> = xids.iter().map(|x| link.top_of(*x)).collect();
                // Versions the aborted ids created are dead to everyone: remove them now (the
                // executor cannot lock a row whose newest version is aborted), locally and on
                // the volume, as physical chain images.
                let mut rows = BTreeSet::new();
                for top in &tops {
                    rows.extend(link.touched_rows(*top));
                    if xids.contains(top) {
                        link.finished.push(*top);
                    }
                }
                drop(link);
                for (table, row) in rows {
                    self.local.append(LogRecord::Prune {
                        table,
                        row,
                        horizon: 0,
                    });
                    self.ship_chain(table, row);
                }
            }
            LogRecord::Prune { table, row, .. } => {
                drop(link);
                self.ship_chain(*table, *row);
            }
            LogRecord::AddColumn { table, value } => {
                for first_row in heap_page_rows(self.local.next_row(*table)) {
                    link.staged.push((
                        heap_page(*table, first_row),
                        PageRecord::AddColumn {
                            table: *table,
                            value: value.clone(),
                        },
                    ));
                }
            }
            LogRecord::DropColumn { table, index } => {
                for first_row in heap_page_rows(self.local.next_row(*table)) {
                    link.staged.push((
                        heap_page(*table, first_row),
                        PageRecord::DropColumn {
                            table: *table,
                            index: *index as u32,
                        },
                    ));
                }
            }
            LogRecord::Catalog { ddl } => link
                .staged
                .push((CATALOG_PAGE, PageRecord::Ddl { text: ddl.clone() })),
            // Table and index creation and removal travel as the DDL statement (the catalog
            // page); readers and recovery rebuild the catalog from it.
            LogRecord::CreateTable { .. }
            | LogRecord::DropTable { .. }
            | LogRecord::CreateIndex { .. }
            | LogRecord::DropIndex { .. } => {}
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn ship_chain(&mut self, table: TableId, row: RowId) {
        let mut link = self.link.lock();
        if link.mode != LinkMode::Ship {
            return;
        }
        let chain: Vec<Version> = self
            .local
            .chain(table, row)
            .map(|c| c.iter().map(|v| link.version_to_global(v)).collect())
            .unwrap_or_default();
        link.staged.push((
            heap_page(table, row),
            PageRecord::ReplaceChain { table, row, chain },
        ));
    }
}

/// The first row of every heap page of a table with `next_row` rows.
fn heap_page_rows(next_row: RowId) -> impl Iterator<Item = RowId> {
    let pages = next_row.div_ceil(ROWS_PER_PAGE);
    (0..pages).map(|p| p * ROWS_PER_PAGE)
}

impl Storage for VolumeStorage {
    // Replicas replay the log statement by statement and re-run a DDL record where it stands,
    // so a block's DDL is logged and kept as it runs (see `Storage::block_ddl_is_transactional`).
    fn block_ddl_is_transactional(&self) -> bool {
        false
    }

    fn append(&mut self, record: LogRecord) -> Lsn {
        let lsn = self.local.append(record.clone());
        self.ship(&record);
        lsn
    }

    fn last_lsn(&self) -> Lsn {
        self.local.last_lsn()
    }

    fn chain(&self, table: TableId, row: RowId) -> Option<&[Version]> {
        self.local.chain(table, row)
    }

    fn rows(&self, table: TableId) -> Box<dyn Iterator<Item = RowId> + '_> {
        self.local.rows(table)
    }

    fn next_row(&self, table: TableId) -> RowId {
        self.local.next_row(table)
    }

    fn index_range(
        &self,
        index: IndexId,
        lower: Bound<&[Value]>,
        upper: Bound<&[Value]>,
    ) -> Vec<RowId> {
        self.local.index_range(index, lower, upper)
    }

    fn status(&self, xid: Xid) -> XidStatus {
        self.local.status(xid)
    }

    /// The volume is the log: records are not retained at the instance, so this is empty.
    fn log_from(&self, _lsn: Lsn) -> &[LogRecord] {
        &[]
    }
}
