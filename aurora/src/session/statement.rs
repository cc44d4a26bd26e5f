//! One statement inside a transaction: takes the snapshot the isolation level calls for, then
//! runs a query (cached plan or a fresh one, FOR UPDATE/SHARE locking), an INSERT, UPDATE,
//! DELETE or TRUNCATE (prepared binding or a fresh one), EXPLAIN, or DDL.

use std::sync::Arc;

use sqlparser::ast::{self, Statement};

use super::block::begin_top;
use super::{Prepared, Session, Txn};
use crate::bind::Binder;
use crate::ddl::txn::DdlMark;
use crate::dml::{self, StmtEnv};
use crate::engine::{ColumnInfo, DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, execute};
use crate::locks::Locked;
use crate::plan::Plan;
use crate::storage::XidStatus;
use crate::txn::{Isolation, Snapshot};
use crate::types::DataType;
use crate::value::Value;
use crate::write::Writer;

impl Session {
    pub(super) fn run_in_txn(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prep: Option<&Prepared>,
    ) -> Result<QueryResult> {
        let db = self.db.clone();
        let Some(t) = self.txn.as_mut() else {
            return Err(AuroraError::sql("XX000", "no transaction"));
        };
        let mut st = Locked::new(&db, self.lock_timeout);
        st.interrupt = self.interrupt.clone();
        // Another transaction's uncommitted DDL: wait for it to end, so this statement sees
        // the catalog (and rows) as it leaves them.
        while let Some(owner) = crate::ddl::txn::owner(&st)
            && owner != t.id
        {
            if !matches!(st.storage.status(owner), XidStatus::InProgress { .. }) {
                return Err(AuroraError::sql(
                    "XX000",
                    "the transaction owning uncommitted DDL is not running",
                ));
            }
            st.wait(t.id, owner, owner)?;
        }
        let csn = match (t.isolation, t.snapshot) {
            (Isolation::ReadCommitted, _) | (_, None) => {
                let c = st.txns.csn();
                if t.snapshot.is_none() && t.explicit {
                    st.txns.register(t.id, c, t.isolation);
                } else if t.explicit {
                    st.txns.refresh(t.id, c);
                }
                if t.snapshot.is_none() && !t.explicit && t.isolation == Isolation::Serializable {
                    st.txns.register(t.id, c, t.isolation);
                }
                if t.isolation != Isolation::ReadCommitted || t.snapshot.is_none() {
                    t.snapshot = Some(c);
                }
                c
            }
            (_, Some(c)) => c,
        };
        let snapshot = Snapshot {
            csn,
            top: t.id,
            cid: t.cid,
        };
        let now = t.start;
        // The prepared plan or binding, unless the catalog changed since it was made.
        let current = prep.filter(|p| p.catalog_version == st.catalog.version);
        match stmt {
            Statement::Query(q) if !q.locks.is_empty() => {
                let Some(req) = crate::for_update::request(q)? else {
                    return Err(AuroraError::sql("XX000", "locking clause vanished"));
                };
                // Row locks belong to a transaction id the commit log knows as running.
                begin_top(&mut st, t);
                let locker = crate::for_update::Locker {
                    snapshot,
                    xid: t.subs.last().copied().unwrap_or(t.id),
                    isolation: t.isolation,
                };
                let track = st.txns.is_serializable(t.id);
                let (result, reads) =
                    crate::for_update::run(&mut st, &req, locker, params, now, track)?;
                for r in reads {
                    st.txns.record_read(t.id, r);
                }
                Ok(result)
            }
            Statement::Query(q) => {
                let bound;
                let plan: &(Plan, Arc<[ColumnInfo]>) = match current.and_then(|p| p.plan.as_deref())
                {
                    Some(p) => p,
                    None => {
                        let (plan, cols) = Binder::new(&st.catalog).query(q)?;
                        bound = (
                            plan,
                            cols.into_iter()
                                .map(|(name, ty)| ColumnInfo { name, ty })
                                .collect(),
                        );
                        &bound
                    }
                };
                let mut ctx = ExecCtx::new(
                    st.storage.as_ref(),
                    &st.catalog,
                    &st.sequences,
                    snapshot,
                    params,
                    now,
                );
                ctx.track_reads = st.txns.is_serializable(t.id);
                let rows = execute(&plan.0, &ctx)?;
                let reads = ctx.reads.take();
                drop(ctx);
                for r in reads {
                    st.txns.record_read(t.id, r);
                }
                let n = rows.len() as u64;
                Ok(QueryResult::with_columns(
                    format!("SELECT {n}"),
                    plan.1.clone(),
                    rows,
                    n,
                ))
            }
            Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Truncate(_) => {
                begin_top(&mut st, t);
                let xid = t.subs.last().copied().unwrap_or(t.id);
                let env = StmtEnv {
                    w: Writer {
                        top: t.id,
                        xid,
                        cid: t.cid,
                        snapshot,
                        isolation: t.isolation,
                    },
                    params,
                    now,
                };
                if let Some(b) = current.and_then(|p| p.dml.as_deref()) {
                    return dml::run(&mut st, &env, b);
                }
                match stmt {
                    Statement::Insert(i) => dml::insert(&mut st, &env, i),
                    Statement::Update(u) => dml::update(&mut st, &env, u),
                    Statement::Delete(d) => dml::delete(&mut st, &env, d),
                    Statement::Truncate(tr) => {
                        let names: Vec<ast::ObjectName> =
                            tr.table_names.iter().map(|n| n.name.clone()).collect();
                        dml::truncate(
                            &mut st,
                            &env,
                            &names,
                            matches!(tr.cascade, Some(ast::CascadeOption::Cascade)),
                        )
                    }
                    _ => Err(AuroraError::sql("XX000", "unreachable statement kind")),
                }
            }
            Statement::CreateTable(ct) if ct.query.is_some() => {
                begin_top(&mut st, t);
                let env = StmtEnv {
                    w: Writer {
                        top: t.id,
                        xid: t.subs.last().copied().unwrap_or(t.id),
                        cid: t.cid,
                        snapshot,
                        isolation: t.isolation,
                    },
                    params,
                    now,
                };
                let stmt_mark = ddl_mark(&mut st, t);
                let r = crate::ddl::create_table_as(&mut st, &env, ct);
                end_ddl(&mut st, t, &stmt_mark, r.is_ok());
                r
            }
            Statement::Explain {
                statement, analyze, ..
            } => {
                let Statement::Query(q) = statement.as_ref() else {
                    return Err(AuroraError::unsupported("EXPLAIN of a non-query statement"));
                };
                let (plan, _) = Binder::new(&st.catalog).query(q)?;
                let mut lines = plan.explain();
                if *analyze {
                    let ctx = ExecCtx::new(
                        st.storage.as_ref(),
                        &st.catalog,
                        &st.sequences,
                        snapshot,
                        params,
                        now,
                    );
                    let n = execute(&plan, &ctx)?.len();
                    lines.push(format!("Rows returned: {n}"));
                }
                let rows: Vec<Vec<Value>> =
                    lines.into_iter().map(|l| vec![Value::text(l)]).collect();
                let n = rows.len() as u64;
                Ok(QueryResult::rows(
                    "EXPLAIN".into(),
                    vec![("QUERY PLAN".into(), DataType::Text)],
                    rows,
                    n,
                ))
            }
            other => {
                if t.explicit && st.storage.block_ddl_is_transactional() && drops_a_column(other) {
                    return Err(AuroraError::sql(
                        "25001",
                        "ALTER TABLE ... DROP COLUMN cannot run inside a transaction block",
                    ));
                }
                begin_top(&mut st, t);
                let stmt_mark = ddl_mark(&mut st, t);
                let r = crate::ddl::execute_in_txn(&mut st, other);
                end_ddl(&mut st, t, &stmt_mark, r.is_ok());
                r
            }
        }
    }
}

/// Makes `t` the DDL owner, marks the state for the savepoint level it is at (once per
/// level), and returns a mark of the state before the statement (restored if it fails).
fn ddl_mark(st: &mut DbState, t: &mut Txn) -> DdlMark {
    let level = t.subs.len();
    // On a cluster volume a block's DDL logs its catalog records in place, as autocommit does
    // (see `end_ddl`).
    let block = t.explicit && st.storage.block_ddl_is_transactional();
    if t.ddl_marks.last().is_none_or(|m| m.level < level) {
        let m = crate::ddl::txn::mark(st, t.id, level, block);
        t.ddl_marks.push(m);
    }
    crate::ddl::txn::mark(st, t.id, level, block)
}

/// Ends a DDL statement: a failed one is undone. On a storage whose replicas replay DDL where
/// it stands in the log (a cluster volume), a block's DDL is committed with its statement, so it
/// reaches the log before the block's later rows and replicas build the same tables.
fn end_ddl(st: &mut DbState, t: &mut Txn, stmt_mark: &DdlMark, ok: bool) {
    if !ok {
        crate::ddl::txn::restore(st, t.id, stmt_mark);
    } else if t.explicit && !st.storage.block_ddl_is_transactional() {
        crate::ddl::txn::commit(st, t.id);
        t.ddl_marks.clear();
    }
}

/// Whether the statement is an ALTER TABLE that drops a column: the column's values are
/// removed from storage at once, which a rollback could not restore.
fn drops_a_column(stmt: &Statement) -> bool {
    matches!(stmt, Statement::AlterTable(at) if at
        .operations
        .iter()
        .any(|op| matches!(op, ast::AlterTableOperation::DropColumn { .. })))
}
