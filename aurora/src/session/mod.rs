//! A session (connection): parses SQL, runs statements, and owns transaction state —
//! BEGIN/COMMIT/ROLLBACK, savepoints, isolation levels, the failed-transaction state, and
//! prepared statements with cached plans.
//!
//! The parts live in submodules by what they are: [`prepare`] (prepared statements, their
//! cached plans and the autocommit read fast path), [`block`] (the transaction block:
//! BEGIN/COMMIT/ROLLBACK and savepoints), [`statement`] (one statement inside a transaction:
//! queries, DML, EXPLAIN, DDL) and [`settings`] (SET and SHOW). This file holds the session
//! itself and the dispatch of a statement to them.
//!
//! Guarantees: outside a transaction block each statement is its own transaction, so a failing
//! statement leaves no effect; inside a block an error puts the transaction in PostgreSQL's
//! aborted state (25P02 until ROLLBACK or ROLLBACK TO SAVEPOINT), and ROLLBACK TO SAVEPOINT
//! undoes exactly the work after the savepoint (it ran under subtransaction ids that are
//! aborted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::catalog::ident;
use crate::dml;
use crate::engine::{ColumnInfo, Database, QueryResult};
use crate::error::{AuroraError, Result};
use crate::fastpath::PointSelect;
use crate::plan::Plan;
use crate::storage::{Csn, LogRecord, Xid};
use crate::txn::Isolation;
use crate::value::Value;

mod block;
mod prepare;
mod settings;
mod statement;

use block::{finish_abort, isolation_of};

/// Parses SQL text with the PostgreSQL dialect (42601 on a syntax error).
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| AuroraError::Syntax {
        message: e
            .to_string()
            .replace("sql parser error: ", "syntax error: "),
    })
}

#[derive(Debug)]
struct Txn {
    id: Xid,
    begun: bool,
    isolation: Isolation,
    explicit: bool,
    snapshot: Option<Csn>,
    cid: u32,
    subs: Vec<Xid>,
    savepoints: Vec<(String, usize)>,
    failed: bool,
    /// Already rolled back in storage (an error in a block without savepoints releases the
    /// transaction's locks at once, as PostgreSQL does; the block waits for ROLLBACK).
    aborted: bool,
    start: i64,
    /// States its DDL can return to: the first is the state before its first DDL, then one
    /// per savepoint level with DDL ([`crate::ddl::txn`]).
    ddl_marks: Vec<crate::ddl::txn::DdlMark>,
}

/// A prepared statement: parsed once; a SELECT keeps its plan, and an INSERT, UPDATE or DELETE
/// its binding, while the catalog is unchanged (a catalog change makes them be redone).
#[derive(Debug, Clone)]
pub struct Prepared {
    stmt: Statement,
    plan: Option<Arc<(Plan, Arc<[ColumnInfo]>)>>,
    /// A primary-key (unique full-key) lookup, run without the general executor.
    point: Option<Arc<PointSelect>>,
    dml: Option<Arc<dml::BoundDml>>,
    catalog_version: u64,
    /// Number of `$n` parameters.
    pub param_count: usize,
}

/// A connection to a database.
#[derive(Debug)]
pub struct Session {
    db: Arc<Database>,
    txn: Option<Txn>,
    default_isolation: Isolation,
    plan_cache: HashMap<String, Arc<Prepared>>,
    /// `lock_timeout` (`None`: wait for row locks without limit).
    lock_timeout: Option<Duration>,
    /// Set by a cancel request (the PostgreSQL endpoint's CancelRequest): ends a lock wait.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl Session {
    pub(crate) fn new(db: Arc<Database>) -> Session {
        Session {
            db,
            txn: None,
            default_isolation: Isolation::ReadCommitted,
            plan_cache: HashMap::new(),
            lock_timeout: None,
            interrupt: None,
        }
    }

    /// The database.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.explicit)
    }

    /// Runs every statement in `sql`, stopping at the first error.
    pub fn execute(&mut self, sql: &str) -> Result<Vec<QueryResult>> {
        let stmts = parse(sql)?;
        let mut out = Vec::with_capacity(stmts.len());
        for s in &stmts {
            out.push(self.run(s, &[])?);
        }
        Ok(out)
    }

    /// Runs one statement with `$n` parameters.
    pub fn execute_with(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let p = self.prepare(sql)?;
        self.execute_prepared(&p, params)
    }

    fn run(&mut self, stmt: &Statement, params: &[Value]) -> Result<QueryResult> {
        self.run_bound(stmt, params, None)
    }

    /// Runs a statement; `prep` is the prepared statement it comes from, whose plan or binding
    /// is used while its catalog version is current.
    fn run_bound(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prep: Option<&Prepared>,
    ) -> Result<QueryResult> {
        match stmt {
            Statement::StartTransaction { modes, .. } => {
                if self.in_transaction() {
                    return Ok(QueryResult::command("BEGIN".into(), 0));
                }
                let isolation = isolation_of(modes).unwrap_or(self.default_isolation);
                self.txn = Some(self.new_txn(isolation, true));
                Ok(QueryResult::command("BEGIN".into(), 0))
            }
            Statement::Commit { .. } => self.commit(),
            Statement::Rollback {
                savepoint: None, ..
            } => {
                self.rollback();
                Ok(QueryResult::command("ROLLBACK".into(), 0))
            }
            Statement::Rollback {
                savepoint: Some(name),
                ..
            } => self.rollback_to(&ident(name)),
            Statement::Savepoint { name } => self.savepoint(&ident(name)),
            Statement::ReleaseSavepoint { name } => self.release(&ident(name)),
            Statement::Set(set) => self.set(set),
            Statement::ShowVariable { variable } => self.show(variable),
            _ => {
                if self.txn.as_ref().is_some_and(|t| t.failed) {
                    return Err(AuroraError::in_failed_transaction());
                }
                let implicit = self.txn.is_none();
                if implicit {
                    self.txn = Some(self.new_txn(self.default_isolation, false));
                }
                let r = self.run_in_txn(stmt, params, prep);
                match (&r, implicit) {
                    (Ok(_), true) => {
                        self.commit()?;
                    }
                    (Err(_), true) => self.rollback(),
                    (Ok(_), false) => {
                        if let Some(t) = self.txn.as_mut() {
                            t.cid += 1;
                        }
                    }
                    (Err(_), false) => {
                        if let Some(t) = self.txn.as_mut() {
                            t.failed = true;
                            t.cid += 1;
                            // Release what the failed (sub)transaction holds now, so nobody
                            // waits for this block's ROLLBACK.
                            let mut st = self.db.state.lock();
                            match t.subs.last() {
                                Some(sub) => {
                                    if t.begun {
                                        st.storage.append(LogRecord::Abort { xids: vec![*sub] });
                                    }
                                    self.db.locks.wake();
                                }
                                None => {
                                    finish_abort(&mut st, t);
                                    t.aborted = true;
                                    self.db.locks.release(t.id);
                                }
                            }
                        }
                    }
                }
                r
            }
        }
    }
}
