//! Transactional DDL: CREATE/DROP/ALTER inside a transaction take effect at its COMMIT and are
//! undone by ROLLBACK, ROLLBACK TO SAVEPOINT, or the failure of the statement itself.
//!
//! How: the transaction that runs DDL becomes the database's DDL owner ([`TxnDdl`], kept with
//! the catalog). Its catalog changes are made in place, and [`DdlMark`]s (copies of the catalog
//! and the sequence definitions) remember the states it can return to. Storage effects are of
//! two kinds: those that destroy data (dropping a table's or an index's storage) and, in a
//! transaction block, the catalog redo record (the DDL text replicas re-run) are kept and
//! appended only at commit ([`at_commit`]); those that add (a new table or index, a new trailing column) are appended
//! at once with the record that reverses them ([`with_undo`]), appended on rollback.
//!
//! Guarantees: other sessions never see uncommitted DDL — every statement of another
//! transaction waits for the owner to finish (the database-wide form of PostgreSQL's ACCESS
//! EXCLUSIVE lock; deadlocks give 40P01, `lock_timeout` 55P03). The catalog's `version` only
//! grows, so a plan made under a rolled-back catalog is never taken for current. Sequence
//! counters are not rolled back (PostgreSQL's `nextval` is not transactional either); only
//! the set of sequences is.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, Sequence};
use crate::engine::DbState;
use crate::storage::{LogRecord, Xid};

/// The DDL of the running transaction that owns the catalog.
#[derive(Debug, Clone)]
pub struct TxnDdl {
    /// The owning top-level transaction.
    pub owner: Xid,
    /// Whether catalog records wait for commit too: yes in a transaction block; an autocommit
    /// statement logs its catalog record in place (its changes reach replicas as one
    /// mini-transaction that ends with its commit, and rows it writes into a table it created
    /// must follow the record that creates the table there).
    defer_catalog: bool,
    /// Records appended at commit, in order: storage drops and catalog (DDL text) records.
    at_commit: Vec<LogRecord>,
    /// Records reversing storage effects already applied, appended newest first on rollback.
    undo: Vec<LogRecord>,
}

/// A state DDL can return to.
#[derive(Debug, Clone)]
pub struct DdlMark {
    /// How many subtransactions were open when it was taken.
    pub level: usize,
    catalog: Catalog,
    sequences: BTreeMap<u32, Sequence>,
    at_commit: usize,
    undo: usize,
}

/// The transaction whose uncommitted DDL owns the catalog, if any.
pub fn owner(st: &DbState) -> Option<Xid> {
    st.catalog.txn_ddl.as_ref().map(|d| d.owner)
}

/// Appends `rec` at once, or keeps it for the commit of the transaction running DDL.
pub(crate) fn at_commit(st: &mut DbState, rec: LogRecord) {
    match st.catalog.txn_ddl.as_mut() {
        Some(d) if d.defer_catalog || !matches!(rec, LogRecord::Catalog { .. }) => {
            d.at_commit.push(rec)
        }
        _ => {
            st.storage.append(rec);
        }
    }
}

/// Appends `rec` at once; if the transaction running DDL rolls back, `undo` is appended.
pub(crate) fn with_undo(st: &mut DbState, rec: LogRecord, undo: LogRecord) {
    st.storage.append(rec);
    if let Some(d) = st.catalog.txn_ddl.as_mut() {
        d.undo.push(undo);
    }
}

/// Makes `owner` the DDL owner (the caller checked nobody else is) and marks the state now,
/// with `level` subtransactions open; `block` tells a transaction block from an autocommit
/// statement.
pub fn mark(st: &mut DbState, owner: Xid, level: usize, block: bool) -> DdlMark {
    let d = st.catalog.txn_ddl.take().unwrap_or_else(|| {
        Box::new(TxnDdl {
            owner,
            defer_catalog: block,
            at_commit: Vec::new(),
            undo: Vec::new(),
        })
    });
    let m = DdlMark {
        level,
        catalog: st.catalog.clone(),
        sequences: st.sequences.borrow().clone(),
        at_commit: d.at_commit.len(),
        undo: d.undo.len(),
    };
    st.catalog.txn_ddl = Some(d);
    m
}

/// Returns `owner`'s DDL to `mark`: reverses storage effects made since, forgets records kept
/// for commit since, and restores the catalog and the set of sequences.
pub fn restore(st: &mut DbState, owner: Xid, mark: &DdlMark) {
    let Some(mut d) = st.catalog.txn_ddl.take() else {
        return;
    };
    if d.owner != owner {
        st.catalog.txn_ddl = Some(d);
        return;
    }
    while d.undo.len() > mark.undo {
        if let Some(r) = d.undo.pop() {
            st.storage.append(r);
        }
    }
    d.at_commit.truncate(mark.at_commit);
    let version = st.catalog.version + 1;
    st.catalog = mark.catalog.clone();
    st.catalog.version = version;
    st.catalog.txn_ddl = Some(d);
    let mut seqs = st.sequences.borrow_mut();
    let now = std::mem::take(&mut *seqs);
    *seqs = mark
        .sequences
        .iter()
        .map(|(id, s)| (*id, now.get(id).cloned().unwrap_or_else(|| s.clone())))
        .collect();
}

/// `owner` commits: the kept records are appended (the caller appends the commit record
/// after them) and the catalog is everyone's again.
pub fn commit(st: &mut DbState, owner: Xid) {
    if owner_is(st, owner)
        && let Some(d) = st.catalog.txn_ddl.take()
    {
        for r in d.at_commit {
            st.storage.append(r);
        }
    }
}

/// `owner` rolls back to `base` (its first mark) and gives the catalog up.
pub fn abort(st: &mut DbState, owner: Xid, base: &DdlMark) {
    if owner_is(st, owner) {
        restore(st, owner, base);
        st.catalog.txn_ddl = None;
    }
}

fn owner_is(st: &DbState, owner: Xid) -> bool {
    st.catalog
        .txn_ddl
        .as_ref()
        .is_some_and(|d| d.owner == owner)
}

#[cfg(test)]
mod tests {
    use crate::engine::Database;
    use crate::storage::{LogRecord, MemoryStorage};

    fn ddl_texts(db: &Database) -> Vec<String> {
        db.state
            .lock()
            .storage
            .log_from(1)
            .iter()
            .filter_map(|r| match r {
                LogRecord::Catalog { ddl } => Some(ddl.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ddl_reaches_the_log_only_when_committed() {
        let env = nubis_core::Env::with_clock(nubis_core::ManualClock::at_default_epoch().shared());
        let db = Database::with_storage("postgres", env, Box::new(MemoryStorage::new()));
        let mut s = db.session();
        s.execute("BEGIN; CREATE TABLE a (x int); INSERT INTO a VALUES (1)")
            .unwrap_or_default();
        assert!(ddl_texts(&db).is_empty());
        s.execute("ROLLBACK").unwrap_or_default();
        assert!(ddl_texts(&db).is_empty());
        s.execute("BEGIN; CREATE TABLE b (x int); DROP TABLE b; CREATE TABLE c (y int)")
            .unwrap_or_default();
        assert!(ddl_texts(&db).is_empty());
        s.execute("COMMIT").unwrap_or_default();
        assert_eq!(
            ddl_texts(&db),
            vec![
                "CREATE TABLE b (x INT)".to_string(),
                "DROP TABLE b".to_string(),
                "CREATE TABLE c (y INT)".to_string()
            ]
        );
        // The catalog records come before the commit record that makes them count, and the
        // rolled-back table's storage was dropped after its abort record.
        let st = db.state.lock();
        let log = st.storage.log_from(1);
        let last_ddl = log
            .iter()
            .rposition(|r| matches!(r, LogRecord::Catalog { .. }));
        let commit = log
            .iter()
            .rposition(|r| matches!(r, LogRecord::Commit { .. }));
        assert!(last_ddl < commit);
        let abort = log
            .iter()
            .position(|r| matches!(r, LogRecord::Abort { .. }));
        let undo = log
            .iter()
            .position(|r| matches!(r, LogRecord::DropTable { .. }));
        assert!(abort < undo);
    }
}
