//! The transaction block: transaction ids, BEGIN/COMMIT/ROLLBACK, SAVEPOINT, RELEASE and
//! ROLLBACK TO SAVEPOINT (subtransaction ids that are aborted), and the commit-time
//! serializable check.

use sqlparser::ast;

use super::{Session, Txn};
use crate::engine::{DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::storage::{LogRecord, Xid};
use crate::txn::Isolation;

impl Session {
    pub(super) fn new_txn(&self, isolation: Isolation, explicit: bool) -> Txn {
        let id = self.db.state.lock().txns.allocate_xid();
        Txn {
            id,
            begun: false,
            isolation,
            explicit,
            snapshot: None,
            cid: 0,
            subs: Vec::new(),
            savepoints: Vec::new(),
            failed: false,
            aborted: false,
            start: self.db.now_micros(),
            ddl_marks: Vec::new(),
        }
    }

    pub(super) fn block(&mut self, what: &str) -> Result<&mut Txn> {
        match self.txn.as_mut() {
            Some(t) if t.explicit => Ok(t),
            _ => Err(AuroraError::sql(
                "25P01",
                format!("{what} can only be used in transaction blocks"),
            )),
        }
    }

    pub(super) fn savepoint(&mut self, name: &str) -> Result<QueryResult> {
        let db = self.db.clone();
        let t = self.block("SAVEPOINT")?;
        if t.failed {
            return Err(AuroraError::in_failed_transaction());
        }
        let mut st = db.state.lock();
        begin_top(&mut st, t);
        let sub = st.txns.allocate_xid();
        st.storage.append(LogRecord::Begin {
            xid: sub,
            top: t.id,
        });
        t.subs.push(sub);
        t.savepoints.push((name.to_string(), t.subs.len() - 1));
        Ok(QueryResult::command("SAVEPOINT".into(), 0))
    }

    pub(super) fn rollback_to(&mut self, name: &str) -> Result<QueryResult> {
        let db = self.db.clone();
        let t = self.block("ROLLBACK TO SAVEPOINT")?;
        let pos = t
            .savepoints
            .iter()
            .rposition(|(n, _)| n == name)
            .ok_or_else(|| {
                AuroraError::sql("3B001", format!("savepoint \"{name}\" does not exist"))
            })?;
        let first_sub = t.savepoints[pos].1;
        let mut st = db.state.lock();
        let aborted: Vec<Xid> = t.subs.drain(first_sub..).collect();
        if !aborted.is_empty() {
            if t.begun {
                st.storage.append(LogRecord::Abort { xids: aborted });
            }
            db.locks.wake();
        }
        // DDL after the savepoint is undone too.
        if let Some(i) = t.ddl_marks.iter().position(|m| m.level > first_sub) {
            crate::ddl::txn::restore(&mut st, t.id, &t.ddl_marks[i]);
            t.ddl_marks.truncate(i.max(1));
        }
        t.savepoints.truncate(pos + 1);
        let sub = st.txns.allocate_xid();
        st.storage.append(LogRecord::Begin {
            xid: sub,
            top: t.id,
        });
        t.subs.push(sub);
        t.savepoints[pos].1 = t.subs.len() - 1;
        t.failed = false;
        t.cid += 1;
        Ok(QueryResult::command("ROLLBACK".into(), 0))
    }

    pub(super) fn commit(&mut self) -> Result<QueryResult> {
        let Some(t) = self.txn.take() else {
            return Ok(QueryResult::command("COMMIT".into(), 0));
        };
        let mut st = self.db.state.lock();
        if t.failed {
            if !t.aborted {
                finish_abort(&mut st, &t);
            }
            self.db.locks.release(t.id);
            return Ok(QueryResult::command("ROLLBACK".into(), 0));
        }
        if let Err(e) = st.txns.precommit_check(t.id) {
            finish_abort(&mut st, &t);
            self.db.locks.release(t.id);
            return Err(e);
        }
        let csn = if t.begun || st.txns.is_serializable(t.id) {
            st.txns.next_csn()
        } else {
            st.txns.csn()
        };
        if !t.ddl_marks.is_empty() {
            // The DDL's catalog records and storage drops go just before the commit record.
            crate::ddl::txn::commit(&mut st, t.id);
        }
        if t.begun {
            let mut xids = vec![t.id];
            xids.extend(t.subs.iter().copied());
            st.storage.append(LogRecord::Commit { xids, csn });
        }
        st.txns.finish(t.id, Some(csn));
        drop(st);
        self.db.locks.release(t.id);
        Ok(QueryResult::command("COMMIT".into(), 0))
    }

    pub(super) fn rollback(&mut self) {
        if let Some(t) = self.txn.take() {
            let mut st = self.db.state.lock();
            if !t.aborted {
                finish_abort(&mut st, &t);
            }
            drop(st);
            self.db.locks.release(t.id);
        }
    }

    /// RELEASE SAVEPOINT: forgets the savepoint and those after it; their work stays.
    pub(super) fn release(&mut self, name: &str) -> Result<QueryResult> {
        let t = self.block("RELEASE SAVEPOINT")?;
        if t.failed {
            return Err(AuroraError::in_failed_transaction());
        }
        let pos = t
            .savepoints
            .iter()
            .rposition(|(n, _)| n == name)
            .ok_or_else(|| {
                AuroraError::sql("3B001", format!("savepoint \"{name}\" does not exist"))
            })?;
        t.savepoints.truncate(pos);
        Ok(QueryResult::command("RELEASE".into(), 0))
    }
}

pub(super) fn begin_top(st: &mut DbState, t: &mut Txn) {
    if !t.begun {
        st.storage.append(LogRecord::Begin {
            xid: t.id,
            top: t.id,
        });
        t.begun = true;
    }
}

pub(super) fn finish_abort(st: &mut DbState, t: &Txn) {
    if t.begun {
        let mut xids = vec![t.id];
        xids.extend(t.subs.iter().copied());
        st.storage.append(LogRecord::Abort { xids });
    }
    if let Some(base) = t.ddl_marks.first() {
        crate::ddl::txn::abort(st, t.id, base);
    }
    st.txns.finish(t.id, None);
}

pub(super) fn isolation_of(modes: &[ast::TransactionMode]) -> Option<Isolation> {
    modes.iter().find_map(|m| match m {
        ast::TransactionMode::IsolationLevel(l) => Some(match l {
            ast::TransactionIsolationLevel::Serializable => Isolation::Serializable,
            ast::TransactionIsolationLevel::RepeatableRead => Isolation::RepeatableRead,
            _ => Isolation::ReadCommitted,
        }),
        _ => None,
    })
}
