//! Database instances of a cluster and how they follow the log stream.
//!
//! Every writer mini-transaction is kept, decoded, on the cluster's stream ([`StreamMtr`]) until
//! every follower has applied it. A reader applies the MTRs at or below its read point (the VDL
//! the volume's log stream has delivered to it, so its replica lag is the volume's); a writer of
//! a multi-master cluster applies its peers' MTRs once they are durable. Applying translates the
//! peer's global transaction ids into local ones and re-runs DDL on the local catalog.
//!
//! Guarantee: a follower applies MTRs whole and in LSN order, so its state is always the state
//! of the volume at a consistency point.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::engine::{Database, DbState};
use crate::storage::{LogRecord, Lsn, Version};
use crate::volume::{InstanceId, PageId};

use super::codec::{GlobalXid, PageRecord};
use super::error::{ClusterError, ClusterResult};
use super::volume_storage::{Link, LinkMode};

/// An instance's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads and writes.
    Writer,
    /// Read-only, follows the log stream.
    Reader,
}

/// An instance's lifecycle state (RDS's `DBInstanceStatus` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    /// Serving.
    Available,
    /// Crashed; comes back as a reader after the failover.
    Failed,
    /// Serverless capacity paused (min capacity 0).
    Paused,
}

impl InstanceState {
    /// RDS's status word.
    pub fn as_str(&self) -> &'static str {
        match self {
            InstanceState::Available => "available",
            InstanceState::Failed => "failed",
            InstanceState::Paused => "stopped",
        }
    }
}

/// One mini-transaction as shipped, kept for followers.
#[derive(Debug, Clone)]
pub struct StreamMtr {
    /// Its writer (instance name).
    pub writer: String,
    /// LSN of its first record.
    pub first_lsn: Lsn,
    /// LSN of its last record (its consistency point).
    pub commit_lsn: Lsn,
    /// The records, page by page, in order.
    pub records: Arc<Vec<(PageId, PageRecord)>>,
    /// When it was submitted (peers of a multi-master writer learn of it a stream latency later).
    pub at: std::time::SystemTime,
}

/// A database instance.
#[derive(Debug)]
pub struct Instance {
    /// DBInstanceIdentifier.
    pub name: String,
    /// Writer or reader.
    pub role: Role,
    /// State.
    pub state: InstanceState,
    /// Failover priority (0 is promoted first).
    pub tier: u32,
    /// Availability zone index.
    pub az: usize,
    /// For an instance of a Global Database secondary region: that region.
    pub region: Option<nubis_core::Region>,
    /// Its id on the volume.
    pub vol_id: InstanceId,
    /// Its SQL state.
    pub db: Arc<Database>,
    /// Its link to the volume.
    pub link: Arc<Mutex<Link>>,
    /// Serialises statement + flush on this instance.
    pub exec: Arc<super::exec_lock::ExecLock>,
    /// Bumped whenever the SQL state is replaced: older sessions are terminated.
    pub generation: u64,
    /// Highest stream LSN applied (followers).
    pub applied_lsn: Lsn,
    /// Newest LSN of each page this instance has seen (multi-master writes are based on it).
    pub page_lsns: HashMap<PageId, Lsn>,
}

/// Applies a follower's share of `mtr` to `db` (records already on the volume).
pub fn apply_mtr(db: &Database, link: &Arc<Mutex<Link>>, mtr: &StreamMtr) -> ClusterResult<()> {
    let mut st = db.state.lock();
    let prev = {
        let mut l = link.lock();
        std::mem::replace(&mut l.mode, LinkMode::Local)
    };
    let r = apply_records(&mut st, link, &mtr.records);
    link.lock().mode = prev;
    r
}

fn local_xid(st: &mut DbState, link: &Arc<Mutex<Link>>, g: GlobalXid) -> u64 {
    if let Some(x) = link.lock().to_local(g) {
        return x;
    }
    let x = st.txns.allocate_xid();
    link.lock().bind(g, x);
    x
}

fn local_version(st: &mut DbState, link: &Arc<Mutex<Link>>, v: &Version) -> Version {
    let xmin = local_xid(st, link, v.xmin);
    let xmax = local_xid(st, link, v.xmax);
    Version {
        xmin,
        cmin: v.cmin,
        xmax,
        cmax: v.cmax,
        values: v.values.clone(),
    }
}

fn apply_records(
    st: &mut DbState,
    link: &Arc<Mutex<Link>>,
    records: &[(PageId, PageRecord)],
) -> ClusterResult<()> {
    for (_, rec) in records {
        match rec {
            PageRecord::Ddl { text } => {
                let stmts = crate::session::parse(text)?;
                for s in &stmts {
                    crate::ddl::execute(st, s).map_err(|e| ClusterError::Rebuild {
                        reason: format!("applying {text:?}: {e}"),
                    })?;
                }
            }
            PageRecord::Origin { .. } => {}
            PageRecord::Sequence { id, last, called } => {
                if let Some(s) = st.sequences.borrow_mut().get_mut(id) {
                    let ahead = if s.increment >= 0 {
                        *last > s.last
                    } else {
                        *last < s.last
                    };
                    if ahead || !s.called {
                        s.last = *last;
                        s.called = *called;
                    }
                }
            }
            PageRecord::Begin { xid, top } => {
                let (x, t) = (local_xid(st, link, *xid), local_xid(st, link, *top));
                st.storage.append(LogRecord::Begin { xid: x, top: t });
            }
            PageRecord::Commit { xids } => {
                let locals: Vec<u64> = xids.iter().map(|g| local_xid(st, link, *g)).collect();
                let csn = st.txns.next_csn();
                st.storage.append(LogRecord::Commit { xids: locals, csn });
            }
            PageRecord::Abort { xids } => {
                let locals: Vec<u64> = xids.iter().map(|g| local_xid(st, link, *g)).collect();
                st.storage.append(LogRecord::Abort { xids: locals });
            }
            PageRecord::InsertVersion {
                table,
                row,
                version,
            } => {
                let version = local_version(st, link, version);
                st.storage.append(LogRecord::InsertVersion {
                    table: *table,
                    row: *row,
                    version,
                });
            }
            PageRecord::SetXmax {
                table,
                row,
                xid,
                cid,
            } => {
                let x = local_xid(st, link, *xid);
                st.storage.append(LogRecord::SetXmax {
                    table: *table,
                    row: *row,
                    xid: x,
                    cid: *cid,
                });
            }
            // A chain image after pruning: locally, dropping the aborted versions gives the same
            // visible rows and the same newest version (dead committed versions may linger).
            PageRecord::ReplaceChain { table, row, .. } => {
                st.storage.append(LogRecord::Prune {
                    table: *table,
                    row: *row,
                    horizon: 0,
                });
            }
            // Re-running the DDL statement (the MTR's catalog record) rewrote the local rows.
            PageRecord::AddColumn { .. } | PageRecord::DropColumn { .. } => {}
            PageRecord::IndexInsert { index, key, row } => {
                st.storage.append(LogRecord::IndexInsert {
                    index: *index,
                    key: key.clone(),
                    row: *row,
                });
            }
        }
    }
    // DDL changes the catalog: cached plans of this instance's sessions must be re-made.
    if records
        .iter()
        .any(|(_, r)| matches!(r, PageRecord::Ddl { .. }))
    {
        st.catalog.version += 1;
    }
    Ok(())
}
