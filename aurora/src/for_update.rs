//! `SELECT … FOR UPDATE | FOR SHARE [OF t] [NOWAIT | SKIP LOCKED]`: row locks taken by a query.
//!
//! The query is bound with each locked table's row id as a trailing hidden output column (the
//! `ctid` pseudo-column a target leaf carries), so exactly the rows the query returns — after
//! ORDER BY and LIMIT — are locked, as PostgreSQL's LockRows node does. `SKIP LOCKED` leaves
//! held rows out while scanning, before LIMIT counts them (the job-queue pattern); `NOWAIT`
//! fails with 55P03 on the first held row it would return; otherwise the query waits for the
//! holder ([`crate::locks::Locked::wait`]) and runs again: READ COMMITTED then sees the holder's
//! committed changes, REPEATABLE READ and SERIALIZABLE fail with 40001 when a returned row was
//! changed after their snapshot.
//!
//! Guarantee: when the statement succeeds, every row it returned from a locked table is locked
//! by the transaction until it ends (or the savepoint it was taken under is rolled back).

use sqlparser::ast;

use std::sync::Arc;

use crate::bind::Binder;
use crate::catalog::{ident, split_name};
use crate::engine::{ColumnInfo, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, SkipLocked, execute};
use crate::locks::{LockStrength, Locked, RowLocks, WaitPolicy};
use crate::storage::{RowId, Storage, TableId, Xid, XidStatus};
use crate::txn::{Isolation, Snapshot};
use crate::value::Value;

/// Who is locking: the statement's snapshot, the (sub)transaction the locks belong to, its
/// top-level transaction and isolation level.
#[derive(Debug, Clone, Copy)]
pub struct Locker {
    /// The statement's snapshot.
    pub snapshot: Snapshot,
    /// The current (sub)transaction.
    pub xid: Xid,
    /// Isolation level.
    pub isolation: Isolation,
}

/// Runs a locking query: binds it with row ids, runs it (skipping held rows for SKIP LOCKED),
/// waits for holders and runs again as needed, locks the returned rows and returns them
/// without the row-id columns. SSI reads are returned for the caller to record.
pub fn run(
    st: &mut Locked<'_>,
    req: &LockRequest,
    locker: Locker,
    params: &[Value],
    now: i64,
    track_reads: bool,
) -> Result<(QueryResult, Vec<crate::txn::ReadItem>)> {
    let me = locker.snapshot.top;
    let mut snapshot = locker.snapshot;
    let locks = st.locks();
    loop {
        let mut tables = Vec::with_capacity(req.tables.len());
        for n in &req.tables {
            let (schema, rel) = split_name(n)?;
            let t = st.catalog.table_by_name(&schema, &rel)?;
            tables.push((t.id, t.name.clone()));
        }
        let mut binder = Binder::new(&st.catalog);
        binder.row_ids = true;
        let (plan, cols) = binder.query(&req.query)?;
        let width = cols.len() - tables.len();
        let mut ctx = ExecCtx::new(
            st.storage.as_ref(),
            &st.catalog,
            &st.sequences,
            snapshot,
            params,
            now,
        );
        ctx.track_reads = track_reads;
        if req.policy == WaitPolicy::SkipLocked {
            ctx.skip_locked = Some(SkipLocked {
                locks,
                me,
                strength: req.strength,
                tables: tables.iter().map(|t| t.0).collect(),
            });
        }
        let rows = execute(&plan, &ctx)?;
        let reads = ctx.reads.take();
        drop(ctx);
        let storage = st.storage.as_ref();
        let mut blocked = None;
        let mut kept = Vec::with_capacity(rows.len());
        'rows: for row in rows {
            for (k, (tid, tname)) in tables.iter().enumerate() {
                let Some(rid) = row.get(width + k).and_then(Value::as_i64) else {
                    continue;
                };
                let rid = rid as RowId;
                if let Some((x, top)) = holder(storage, locks, *tid, rid, me, req.strength) {
                    match req.policy {
                        WaitPolicy::NoWait => {
                            return Err(AuroraError::RowLocked {
                                relation: tname.clone(),
                                xid: x,
                                top,
                            });
                        }
                        WaitPolicy::SkipLocked => continue 'rows,
                        WaitPolicy::Wait => {
                            blocked = Some((x, top));
                            break 'rows;
                        }
                    }
                }
                if locker.isolation != Isolation::ReadCommitted
                    && changed_since(storage, *tid, rid, &snapshot)
                {
                    return Err(AuroraError::SerializationFailure {
                        reason: "concurrent update".into(),
                    });
                }
            }
            kept.push(row);
        }
        if let Some((x, top)) = blocked {
            st.wait(me, x, top)?;
            if locker.isolation == Isolation::ReadCommitted {
                snapshot.csn = st.txns.csn();
            }
            continue;
        }
        for row in &mut kept {
            for (k, (tid, _)) in tables.iter().enumerate() {
                if let Some(rid) = row.get(width + k).and_then(Value::as_i64) {
                    locks.lock(*tid, rid as RowId, locker.xid, me, req.strength);
                }
            }
            row.truncate(width);
        }
        let columns: Arc<[ColumnInfo]> = cols
            .into_iter()
            .take(width)
            .map(|(name, ty)| ColumnInfo { name, ty })
            .collect();
        let n = kept.len() as u64;
        return Ok((
            QueryResult::with_columns(format!("SELECT {n}"), columns, kept, n),
            reads,
        ));
    }
}

/// What a locking clause asks for.
#[derive(Debug, Clone)]
pub struct LockRequest {
    /// The strongest strength asked for.
    pub strength: LockStrength,
    /// NOWAIT / SKIP LOCKED / wait.
    pub policy: WaitPolicy,
    /// The query with `alias.ctid` appended to its select list, once per locked table.
    pub query: ast::Query,
    /// The locked tables, in the order of the appended row-id columns.
    pub tables: Vec<ast::ObjectName>,
}

fn refuse(what: &str, strength: LockStrength) -> AuroraError {
    let clause = match strength {
        LockStrength::Update => "FOR UPDATE",
        LockStrength::Share => "FOR SHARE",
    };
    AuroraError::sql("0A000", format!("{clause} is not allowed with {what}"))
}

/// The lock request of a query with a locking clause (`None` without one).
pub fn request(q: &ast::Query) -> Result<Option<LockRequest>> {
    let Some(first) = q.locks.first() else {
        return Ok(None);
    };
    let strength = if q
        .locks
        .iter()
        .any(|l| matches!(l.lock_type, ast::LockType::Update))
    {
        LockStrength::Update
    } else {
        LockStrength::Share
    };
    let policy = match first.nonblock {
        Some(ast::NonBlock::Nowait) => WaitPolicy::NoWait,
        Some(ast::NonBlock::SkipLocked) => WaitPolicy::SkipLocked,
        None => WaitPolicy::Wait,
    };
    let only: Vec<String> = q
        .locks
        .iter()
        .filter_map(|l| l.of.as_ref())
        .filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(ident))
        .collect();
    let ast::SetExpr::Select(select) = q.body.as_ref() else {
        return Err(refuse("UNION/INTERSECT/EXCEPT", strength));
    };
    if select.distinct.is_some() {
        return Err(refuse("DISTINCT clause", strength));
    }
    let grouped = match &select.group_by {
        ast::GroupByExpr::All(_) => true,
        ast::GroupByExpr::Expressions(e, _) => !e.is_empty(),
    };
    if grouped {
        return Err(refuse("GROUP BY clause", strength));
    }
    if select.having.is_some() {
        return Err(refuse("HAVING clause", strength));
    }
    let mut names = Vec::new();
    let mut tables = Vec::new();
    for twj in &select.from {
        for f in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            if let ast::TableFactor::Table { name, alias, .. } = f {
                let visible = match alias {
                    Some(a) => ident(&a.name),
                    None => name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(ident)
                        .unwrap_or_default(),
                };
                if only.is_empty() || only.contains(&visible) {
                    names.push(visible);
                    tables.push(name.clone());
                }
            }
        }
    }
    for o in &only {
        if !names.contains(o) {
            return Err(AuroraError::sql(
                "42P01",
                format!("relation \"{o}\" in FOR UPDATE clause not found in FROM clause"),
            ));
        }
    }
    let mut query = q.clone();
    query.locks.clear();
    if let ast::SetExpr::Select(s) = query.body.as_mut() {
        for n in &names {
            s.projection
                .push(ast::SelectItem::UnnamedExpr(ast::Expr::CompoundIdentifier(
                    vec![ast::Ident::with_quote('"', n), ast::Ident::new("ctid")],
                )));
        }
    }
    Ok(Some(LockRequest {
        strength,
        policy,
        tables,
        query,
    }))
}

/// Whether another running transaction holds the row against a lock of `strength`: by
/// changing it (its newest version's creator or deleter is running) or by a row lock. The
/// holding (sub)transaction and its top-level transaction.
pub fn holder(
    storage: &dyn Storage,
    locks: &RowLocks,
    table: TableId,
    row: RowId,
    me: Xid,
    strength: LockStrength,
) -> Option<(Xid, Xid)> {
    let chain = storage.chain(table, row)?;
    let latest = chain
        .iter()
        .rev()
        .find(|v| storage.status(v.xmin) != XidStatus::Aborted)?;
    for x in [latest.xmin, latest.xmax] {
        if x == 0 {
            continue;
        }
        if let XidStatus::InProgress { top } = storage.status(x)
            && top != me
        {
            return Some((x, top));
        }
    }
    locks.holder(storage, table, row, me, strength)
}

/// Whether the row changed (a newer version, or a deletion, committed) after `snapshot`.
pub fn changed_since(
    storage: &dyn Storage,
    table: TableId,
    row: RowId,
    snapshot: &Snapshot,
) -> bool {
    let Some(chain) = storage.chain(table, row) else {
        return true;
    };
    let Some(latest) = chain
        .iter()
        .rev()
        .find(|v| storage.status(v.xmin) != XidStatus::Aborted)
    else {
        return true;
    };
    let after = |x: Xid| matches!(storage.status(x), XidStatus::Committed(c) if c > snapshot.csn);
    after(latest.xmin) || (latest.xmax != 0 && after(latest.xmax))
}
