//! A session (connection): parses SQL, runs statements, and owns transaction state —
//! BEGIN/COMMIT/ROLLBACK, savepoints, isolation levels, the failed-transaction state, and
//! prepared statements with cached plans.
//!
//! Guarantees: outside a transaction block each statement is its own transaction, so a failing
//! statement leaves no effect; inside a block an error puts the transaction in PostgreSQL's
//! aborted state (25P02 until ROLLBACK or ROLLBACK TO SAVEPOINT), and ROLLBACK TO SAVEPOINT
//! undoes exactly the work after the savepoint (it ran under subtransaction ids that are
//! aborted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlparser::ast::{self, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::bind::Binder;
use crate::catalog::ident;
use crate::dml::{self, StmtEnv};
use crate::engine::{ColumnInfo, Database, DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, execute};
use crate::fastpath::PointSelect;
use crate::locks::Locked;
use crate::plan::Plan;
use crate::storage::{Csn, LogRecord, Xid};
use crate::txn::{Isolation, Snapshot};
use crate::types::DataType;
use crate::value::Value;
use crate::write::Writer;

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

    /// Parses (and for a SELECT, plans) one statement for repeated execution.
    pub fn prepare(&mut self, sql: &str) -> Result<Arc<Prepared>> {
        if let Some(p) = self.plan_cache.get(sql) {
            // A plan made before a catalog change is stale; make a new one.
            if (p.plan.is_none() && p.dml.is_none())
                || p.catalog_version == self.db.state.lock().catalog.version
            {
                return Ok(p.clone());
            }
        }
        let mut stmts = parse(sql)?;
        if stmts.len() != 1 {
            return Err(AuroraError::sql(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let stmt = stmts.remove(0);
        let state = self.db.state.lock();
        let (plan, param_count) = match &stmt {
            Statement::Query(q) => {
                let mut b = Binder::new(&state.catalog);
                let (plan, cols) = b.query(q)?;
                let cols: Arc<[ColumnInfo]> = cols
                    .into_iter()
                    .map(|(name, ty)| ColumnInfo { name, ty })
                    .collect();
                // A locking query takes its row locks when it runs, bound again then.
                let plan = q.locks.is_empty().then(|| Arc::new((plan, cols)));
                (plan, b.param_count)
            }
            _ => (None, 0),
        };
        let point = plan
            .as_ref()
            .and_then(|p| PointSelect::detect(&p.0))
            .map(Arc::new);
        // A DML statement that does not bind yet (its table may be created later) is bound
        // again, and its error reported, when it runs.
        let dml = dml::bind(&state, &stmt).and_then(|r| r.ok()).map(Arc::new);
        let p = Arc::new(Prepared {
            stmt,
            plan,
            point,
            dml,
            catalog_version: state.catalog.version,
            param_count,
        });
        drop(state);
        if self.plan_cache.len() > 1024 {
            self.plan_cache.clear();
        }
        self.plan_cache.insert(sql.to_string(), p.clone());
        Ok(p)
    }

    /// Runs a prepared statement.
    pub fn execute_prepared(&mut self, p: &Prepared, params: &[Value]) -> Result<QueryResult> {
        if let Some(plan) = &p.plan
            && self.txn.as_ref().is_none_or(|t| !t.failed)
        {
            let implicit = self.txn.is_none();
            if implicit {
                // Fast path: an autocommit read needs no transaction id, only a snapshot
                // taken under the lock.
                let st = self.db.state.lock();
                if st.catalog.version == p.catalog_version {
                    let snap = Snapshot {
                        csn: st.txns.csn(),
                        top: 0,
                        cid: 0,
                    };
                    if let Some(point) = &p.point {
                        return point.run(&st, snap, params, &plan.1);
                    }
                    let now = self.db.now_micros();
                    return run_plan(&st, plan, snap, params, now);
                }
            }
        }
        self.run_bound(&p.stmt, params, Some(p))
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
            Statement::ReleaseSavepoint { name } => {
                let name = ident(name);
                let t = self.block("RELEASE SAVEPOINT")?;
                if t.failed {
                    return Err(AuroraError::in_failed_transaction());
                }
                let pos = t
                    .savepoints
                    .iter()
                    .rposition(|(n, _)| *n == name)
                    .ok_or_else(|| {
                        AuroraError::sql("3B001", format!("savepoint \"{name}\" does not exist"))
                    })?;
                t.savepoints.truncate(pos);
                Ok(QueryResult::command("RELEASE".into(), 0))
            }
            Statement::Set(set) => self.set(set),
            Statement::ShowVariable { variable } => {
                let name = variable.iter().map(ident).collect::<Vec<_>>().join(" ");
                let value = match name.as_str() {
                    "transaction_isolation" | "transaction isolation level" => self
                        .txn
                        .as_ref()
                        .map(|t| t.isolation)
                        .unwrap_or(self.default_isolation)
                        .name()
                        .to_string(),
                    "default_transaction_isolation" => self.default_isolation.name().to_string(),
                    "server_version" => "16.0".into(),
                    "search_path" => "\"$user\", public".into(),
                    "timezone" => "UTC".into(),
                    "datestyle" => "ISO, MDY".into(),
                    "client_encoding" | "server_encoding" => "UTF8".into(),
                    "standard_conforming_strings" => "on".into(),
                    "lock_timeout" => format_lock_timeout(self.lock_timeout),
                    other => {
                        return Err(AuroraError::sql(
                            "42704",
                            format!("unrecognized configuration parameter \"{other}\""),
                        ));
                    }
                };
                Ok(QueryResult::rows(
                    "SHOW".into(),
                    vec![(name, DataType::Text)],
                    vec![vec![Value::text(value)]],
                    1,
                ))
            }
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

    fn new_txn(&self, isolation: Isolation, explicit: bool) -> Txn {
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
        }
    }

    fn block(&mut self, what: &str) -> Result<&mut Txn> {
        match self.txn.as_mut() {
            Some(t) if t.explicit => Ok(t),
            _ => Err(AuroraError::sql(
                "25P01",
                format!("{what} can only be used in transaction blocks"),
            )),
        }
    }

    fn savepoint(&mut self, name: &str) -> Result<QueryResult> {
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

    fn rollback_to(&mut self, name: &str) -> Result<QueryResult> {
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

    fn commit(&mut self) -> Result<QueryResult> {
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

    fn rollback(&mut self) {
        if let Some(t) = self.txn.take() {
            let mut st = self.db.state.lock();
            if !t.aborted {
                finish_abort(&mut st, &t);
            }
            drop(st);
            self.db.locks.release(t.id);
        }
    }

    fn set(&mut self, set: &ast::Set) -> Result<QueryResult> {
        match set {
            ast::Set::SetTransaction { modes, session, .. } => {
                if let Some(iso) = isolation_of(modes) {
                    if *session {
                        self.default_isolation = iso;
                    } else if let Some(t) = self.txn.as_mut() {
                        if t.snapshot.is_some() {
                            return Err(AuroraError::sql(
                                "25001",
                                "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                            ));
                        }
                        t.isolation = iso;
                    }
                }
            }
            ast::Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string().to_lowercase();
                let value = values
                    .first()
                    .map(|v| v.to_string().trim_matches('\'').to_lowercase())
                    .unwrap_or_default();
                match name.as_str() {
                    "lock_timeout" => {
                        self.lock_timeout = parse_lock_timeout(&value).ok_or_else(|| {
                            AuroraError::sql(
                                "22023",
                                format!(
                                    "invalid value for parameter \"lock_timeout\": \"{value}\""
                                ),
                            )
                        })?;
                    }
                    "default_transaction_isolation" | "transaction_isolation" => {
                        let iso = match value.as_str() {
                            "serializable" => Isolation::Serializable,
                            "repeatable read" => Isolation::RepeatableRead,
                            "read committed" | "read uncommitted" => Isolation::ReadCommitted,
                            other => {
                                return Err(AuroraError::sql(
                                    "22023",
                                    format!("invalid value for parameter \"{name}\": \"{other}\""),
                                ));
                            }
                        };
                        if name.starts_with("default") {
                            self.default_isolation = iso;
                        } else if let Some(t) = self.txn.as_mut() {
                            t.isolation = iso;
                        }
                    }
                    "search_path"
                    | "client_encoding"
                    | "datestyle"
                    | "timezone"
                    | "application_name"
                    | "statement_timeout"
                    | "extra_float_digits"
                    | "client_min_messages"
                    | "standard_conforming_strings"
                    | "idle_in_transaction_session_timeout"
                    | "intervalstyle" => {}
                    other => {
                        return Err(AuroraError::sql(
                            "42704",
                            format!("unrecognized configuration parameter \"{other}\""),
                        ));
                    }
                }
            }
            ast::Set::SetTimeZone { .. }
            | ast::Set::SetNames { .. }
            | ast::Set::SetNamesDefault {} => {}
            other => return Err(AuroraError::unsupported(format!("SET form {other}"))),
        }
        Ok(QueryResult::command("SET".into(), 0))
    }

    fn run_in_txn(
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
            other => crate::ddl::execute(&mut st, other),
        }
    }
}

fn run_plan(
    st: &DbState,
    plan: &(Plan, Arc<[ColumnInfo]>),
    snapshot: Snapshot,
    params: &[Value],
    now: i64,
) -> Result<QueryResult> {
    let ctx = ExecCtx::new(
        st.storage.as_ref(),
        &st.catalog,
        &st.sequences,
        snapshot,
        params,
        now,
    );
    let rows = execute(&plan.0, &ctx)?;
    let n = rows.len() as u64;
    Ok(QueryResult::with_columns(
        format!("SELECT {n}"),
        plan.1.clone(),
        rows,
        n,
    ))
}

fn begin_top(st: &mut DbState, t: &mut Txn) {
    if !t.begun {
        st.storage.append(LogRecord::Begin {
            xid: t.id,
            top: t.id,
        });
        t.begun = true;
    }
}

fn finish_abort(st: &mut DbState, t: &Txn) {
    if t.begun {
        let mut xids = vec![t.id];
        xids.extend(t.subs.iter().copied());
        st.storage.append(LogRecord::Abort { xids });
    }
    st.txns.finish(t.id, None);
}

fn isolation_of(modes: &[ast::TransactionMode]) -> Option<Isolation> {
    modes.iter().find_map(|m| match m {
        ast::TransactionMode::IsolationLevel(l) => Some(match l {
            ast::TransactionIsolationLevel::Serializable => Isolation::Serializable,
            ast::TransactionIsolationLevel::RepeatableRead => Isolation::RepeatableRead,
            _ => Isolation::ReadCommitted,
        }),
        _ => None,
    })
}

/// Parses a `lock_timeout` value: milliseconds, or a number with PostgreSQL's time units
/// (`us`, `ms`, `s`, `min`, `h`, `d`); 0 (or `default`) disables the timeout.
fn parse_lock_timeout(v: &str) -> Option<Option<Duration>> {
    let v = v.trim();
    if v == "default" {
        return Some(None);
    }
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms_per_unit = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = (n * ms_per_unit).round();
    if !(0.0..=i32::MAX as f64).contains(&ms) {
        return None;
    }
    Some((ms > 0.0).then(|| Duration::from_millis(ms as u64)))
}

/// `SHOW lock_timeout`, in PostgreSQL's largest exact unit.
fn format_lock_timeout(t: Option<Duration>) -> String {
    let Some(t) = t else {
        return "0".into();
    };
    let ms = t.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
