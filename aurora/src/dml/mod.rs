//! INSERT (VALUES/SELECT, ON CONFLICT, RETURNING), UPDATE (FROM, RETURNING), DELETE (USING,
//! RETURNING) and TRUNCATE.
//!
//! Guarantees: target rows are collected before any is changed (no Halloween problem: a
//! statement never sees its own changes); values are cast to the column types with assignment
//! rules; defaults (including `serial`/identity sequences) are evaluated per row; NO ACTION
//! foreign keys are checked at the end of the statement.

use sqlparser::ast;

use crate::bind::{Binder, Ctx, Scope};
use crate::bind_expr::{coerce, output_name};
use crate::cast::{self, CastMode};
use crate::catalog::{Table, ident, split_name};
use crate::engine::{DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, execute};
use crate::expr::Expr;
use crate::locks::Locked;
use crate::plan::Plan;
use crate::planner::Leaf;
use crate::types::DataType;
use crate::value::Value;
use crate::write::{self, Outcome, Writer};

mod insert;

pub use insert::{BoundInsert, bind_insert, insert, run_insert};

/// Per-statement inputs of a write.
#[derive(Debug, Clone, Copy)]
pub struct StmtEnv<'p> {
    /// The writer.
    pub w: Writer,
    /// `$n` values.
    pub params: &'p [Value],
    /// `now()`.
    pub now: i64,
}

fn ctx<'a>(st: &'a DbState, env: &StmtEnv<'a>) -> ExecCtx<'a> {
    let mut c = ExecCtx::new(
        st.storage.as_ref(),
        &st.catalog,
        &st.sequences,
        env.w.snapshot,
        env.params,
        env.now,
    );
    c.track_reads = st.txns.is_serializable(env.w.top);
    c
}

fn flush_reads(st: &mut DbState, env: &StmtEnv<'_>, reads: Vec<crate::txn::ReadItem>) {
    for r in reads {
        st.txns.record_read(env.w.top, r);
    }
}

/// The value of a column's DEFAULT (NULL without one).
pub fn column_default(st: &DbState, table: &Table, col: usize) -> Result<Value> {
    let c = &table.columns[col];
    let Some(d) = &c.default else {
        return Ok(Value::Null);
    };
    let (e, t) = Binder::new(&st.catalog).expr(d, &mut Ctx::plain(Scope::default()))?;
    let e = coerce(e, &t, &c.ty)?;
    let snap = crate::txn::Snapshot {
        csn: st.txns.csn(),
        top: 0,
        cid: 0,
    };
    let ectx = ExecCtx::new(
        st.storage.as_ref(),
        &st.catalog,
        &st.sequences,
        snap,
        &[],
        0,
    );
    cast::cast(&e.eval(&[], &ectx)?, &c.ty, CastMode::Assignment)
}

/// The type an untyped value is read as before the assignment cast (length limits are checked
/// by the assignment cast, not silently applied by an explicit one).
fn assign_type(t: &DataType) -> DataType {
    match t {
        DataType::Varchar(_) | DataType::Char(_) => DataType::Text,
        DataType::Numeric(_) => DataType::Numeric(None),
        other => other.clone(),
    }
}

fn table_scope(table: &Table, alias: Option<&str>) -> Scope {
    let cols: Vec<(String, DataType)> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    Scope::from_output(Some(alias.unwrap_or(&table.name)), &cols)
}

/// RETURNING expressions and their output columns.
type Returning = (Vec<Expr>, Vec<(String, DataType)>);

#[derive(Debug, Clone)]
struct Checks(Vec<(String, Expr)>);

fn bind_checks(st: &DbState, table: &Table) -> Result<Checks> {
    let scope = table_scope(table, None);
    let mut out = Vec::new();
    for c in &table.checks {
        let (e, _) = Binder::new(&st.catalog).expr(&c.expr, &mut Ctx::plain(scope.clone()))?;
        out.push((c.name.clone(), e));
    }
    Ok(Checks(out))
}

fn run_checks(
    st: &DbState,
    env: &StmtEnv<'_>,
    table: &Table,
    checks: &Checks,
    row: &[Value],
) -> Result<()> {
    if checks.0.is_empty() {
        return Ok(());
    }
    let c = ctx(st, env);
    for (name, e) in &checks.0 {
        if e.eval(row, &c)? == Value::Bool(false) {
            return Err(AuroraError::CheckViolation {
                table: table.name.clone(),
                constraint: name.clone(),
            });
        }
    }
    Ok(())
}

fn returning(
    st: &DbState,
    items: &Option<Vec<ast::SelectItem>>,
    scope: &Scope,
) -> Result<Option<Returning>> {
    let Some(items) = items else { return Ok(None) };
    let mut binder = Binder::new(&st.catalog);
    let mut exprs = Vec::new();
    let mut cols = Vec::new();
    for item in items {
        match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                let (b, t) = binder.expr(e, &mut Ctx::plain(scope.clone()))?;
                let name = match item {
                    ast::SelectItem::ExprWithAlias { alias, .. } => ident(alias),
                    _ => output_name(e),
                };
                exprs.push(b);
                cols.push((name, t));
            }
            _ => {
                for (i, c) in scope.cols.iter().enumerate() {
                    if !c.hidden && c.name != "ctid" {
                        exprs.push(Expr::Column(i));
                        cols.push((c.name.clone(), c.ty.clone()));
                    }
                }
            }
        }
    }
    Ok(Some((exprs, cols)))
}

fn finish(tag: String, count: u64, ret: &Option<Returning>, rows: Vec<Vec<Value>>) -> QueryResult {
    match ret {
        Some((_, cols)) => QueryResult::rows(tag, cols.clone(), rows, count),
        None => QueryResult::command(tag, count),
    }
}

fn target_table(st: &DbState, name: &ast::ObjectName) -> Result<Table> {
    let (schema, rel) = split_name(name)?;
    Ok(st.catalog.table_by_name(&schema, &rel)?.clone())
}

fn bind_assignment(
    binder: &mut Binder<'_>,
    table: &Table,
    a: &ast::Assignment,
    scope: &Scope,
) -> Result<Vec<(usize, Expr)>> {
    let names: Vec<&ast::ObjectName> = match &a.target {
        ast::AssignmentTarget::ColumnName(n) => vec![n],
        ast::AssignmentTarget::Tuple(ns) => ns.iter().collect(),
    };
    let values: Vec<&ast::Expr> = match (&a.value, names.len()) {
        (ast::Expr::Tuple(items), n) if n > 1 => items.iter().collect(),
        (v, 1) => vec![v],
        _ => {
            return Err(AuroraError::unsupported(
                "multiple-column assignment from a subquery",
            ));
        }
    };
    if values.len() != names.len() {
        return Err(AuroraError::sql(
            "42601",
            "number of columns does not match number of values",
        ));
    }
    let mut out = Vec::new();
    for (n, v) in names.iter().zip(values) {
        let col =
            n.0.last()
                .and_then(|p| p.as_ident())
                .map(ident)
                .unwrap_or_default();
        let i = table.column_index(&col)?;
        let e = if matches!(v, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
        {
            match &table.columns[i].default {
                Some(d) => binder.expr(d, &mut Ctx::plain(Scope::default()))?.0,
                None => Expr::Literal(Value::Null),
            }
        } else {
            let (b, t) = binder.expr(v, &mut Ctx::plain(scope.clone()))?;
            coerce(b, &t, &assign_type(&table.columns[i].ty))?
        };
        out.push((i, e));
    }
    Ok(out)
}

fn target_leaf(st: &DbState, relation: &ast::TableFactor) -> Result<(Table, Leaf)> {
    let ast::TableFactor::Table { name, alias, .. } = relation else {
        return Err(AuroraError::unsupported("this UPDATE/DELETE target"));
    };
    let table = target_table(st, name)?;
    let alias = alias.as_ref().map(|a| ident(&a.name));
    let scope = table_scope(&table, alias.as_deref());
    let leaf = Leaf::base(table.id, table.name.clone(), scope, true);
    Ok((table, leaf))
}

/// A bound INSERT, UPDATE or DELETE: what a prepared statement keeps between executions.
#[derive(Debug, Clone)]
pub enum BoundDml {
    /// INSERT.
    Insert(BoundInsert),
    /// UPDATE.
    Update(BoundChange),
    /// DELETE.
    Delete(BoundChange),
}

/// Binds an INSERT, UPDATE or DELETE (`None` for other statements).
pub fn bind(st: &DbState, stmt: &ast::Statement) -> Option<Result<BoundDml>> {
    Some(match stmt {
        ast::Statement::Insert(i) => bind_insert(st, i).map(BoundDml::Insert),
        ast::Statement::Update(u) => bind_update(st, u).map(BoundDml::Update),
        ast::Statement::Delete(d) => bind_delete(st, d).map(BoundDml::Delete),
        _ => return None,
    })
}

/// Runs a bound statement.
pub fn run(st: &mut Locked<'_>, env: &StmtEnv<'_>, b: &BoundDml) -> Result<QueryResult> {
    match b {
        BoundDml::Insert(i) => run_insert(st, env, i),
        BoundDml::Update(u) => run_update(st, env, u),
        BoundDml::Delete(d) => run_delete(st, env, d),
    }
}

/// A bound UPDATE or DELETE: the target table, the plan producing target rows (table columns,
/// then the row id, then FROM/USING columns), SET assignments and RETURNING.
#[derive(Debug, Clone)]
pub struct BoundChange {
    table: Table,
    plan: Plan,
    sets: Vec<(usize, Expr)>,
    checks: Checks,
    ret: Option<Returning>,
}

/// Binds an UPDATE.
pub fn bind_update(st: &DbState, up: &ast::Update) -> Result<BoundChange> {
    let (table, leaf) = target_leaf(st, &up.table.relation)?;
    let from: Vec<ast::TableWithJoins> = match &up.from {
        Some(ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f)) => {
            f.clone()
        }
        None => Vec::new(),
    };
    let mut binder = Binder::new(&st.catalog);
    let (plan, scope) = binder.from_where(&from, up.selection.as_ref(), Some(leaf))?;
    let mut sets = Vec::new();
    for a in &up.assignments {
        sets.extend(bind_assignment(&mut binder, &table, a, &scope)?);
    }
    let ret = returning(st, &up.returning, &scope)?;
    let checks = bind_checks(st, &table)?;
    Ok(BoundChange {
        table,
        plan,
        sets,
        checks,
        ret,
    })
}

/// UPDATE (binds, then runs).
pub fn update(st: &mut Locked<'_>, env: &StmtEnv<'_>, up: &ast::Update) -> Result<QueryResult> {
    let b = bind_update(st, up)?;
    run_update(st, env, &b)
}

/// Runs a bound UPDATE.
pub fn run_update(st: &mut Locked<'_>, env: &StmtEnv<'_>, b: &BoundChange) -> Result<QueryResult> {
    let table = &b.table;
    let width = table.columns.len();
    let (count, out_rows) = change_rows(st, env, b, &mut |st, env_row, row, rid, pending| {
        let old = &row[..width];
        let mut new = old.to_vec();
        {
            let c = ctx(st, env_row);
            for (col, e) in &b.sets {
                new[*col] = cast::cast(
                    &e.eval(row, &c)?,
                    &table.columns[*col].ty,
                    CastMode::Assignment,
                )?;
            }
        }
        run_checks(st, env_row, table, &b.checks, &new)?;
        // RETURNING sees the new version followed by the FROM columns.
        let ret_row = b.ret.as_ref().map(|_| {
            let mut r = new.clone();
            r.extend_from_slice(&row[width..]);
            r
        });
        let outcome = write::update_row(st, &env_row.w, table, rid, old, new, pending, 0)?;
        Ok((outcome, ret_row))
    })?;
    Ok(finish(format!("UPDATE {count}"), count, &b.ret, out_rows))
}

/// The per-row action of [`change_rows`]: changes one target row (table columns, row id,
/// FROM/USING columns) and says what happened, with the row RETURNING is evaluated over.
type RowAction<'f> = dyn FnMut(
        &mut Locked<'_>,
        &StmtEnv<'_>,
        &[Value],
        u64,
        &mut Vec<write::PendingFk>,
    ) -> Result<(Outcome, Option<Vec<Value>>)>
    + 'f;

/// The target-row loop UPDATE and DELETE share: collects the target rows, skips a row a join
/// produced twice, runs `action` on each, and when a transaction we waited for changed the row
/// and committed, re-checks it READ COMMITTED's way (a fresh snapshot for that row, the
/// action again on its new target row, or nothing if it no longer qualifies). Checks deferred
/// foreign keys at the end; returns the count and the RETURNING rows.
fn change_rows(
    st: &mut Locked<'_>,
    env: &StmtEnv<'_>,
    b: &BoundChange,
    action: &mut RowAction<'_>,
) -> Result<(u64, Vec<Vec<Value>>)> {
    let width = b.table.columns.len();
    let rows = target_rows(st, env, &b.plan)?;
    let may_repeat = rows_may_repeat(&b.plan);
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    let mut out_rows = Vec::new();
    let mut pending = Vec::new();
    for first in rows {
        let rid = first[width].as_i64().unwrap_or(-1) as u64;
        if may_repeat && !seen.insert(rid) {
            continue;
        }
        let mut row = first;
        let mut env_row = *env;
        loop {
            match action(st, &env_row, &row, rid, &mut pending)? {
                (Outcome::Done, ret_row) => {
                    count += 1;
                    if let (Some((exprs, _)), Some(r)) = (&b.ret, ret_row) {
                        let c = ctx(st, &env_row);
                        out_rows.push(
                            exprs
                                .iter()
                                .map(|e| e.eval(&r, &c))
                                .collect::<Result<Vec<_>>>()?,
                        );
                    }
                }
                (Outcome::AlreadyChanged, _) => {}
                (Outcome::Changed, _) => {
                    if let Some(r) = recheck(st, &mut env_row, &b.plan, rid, width)? {
                        row = r;
                        continue;
                    }
                }
            }
            break;
        }
    }
    write::check_pending(st, &env.w, &pending)?;
    Ok((count, out_rows))
}

/// Runs a target plan and reports its reads to the SSI tracker.
fn target_rows(st: &mut Locked<'_>, env: &StmtEnv<'_>, plan: &Plan) -> Result<Vec<Vec<Value>>> {
    let c = ctx(st, env);
    let rows = execute(plan, &c)?;
    let reads = c.reads.take();
    drop(c);
    flush_reads(st, env, reads);
    Ok(rows)
}

/// READ COMMITTED's re-check of a row that a transaction we waited for changed and
/// committed (PostgreSQL's EvalPlanQual): moves the statement's snapshot for this row to now
/// and runs the target plan again; the row's new target row if it still qualifies.
fn recheck(
    st: &mut Locked<'_>,
    env: &mut StmtEnv<'_>,
    plan: &Plan,
    rid: u64,
    width: usize,
) -> Result<Option<Vec<Value>>> {
    env.w.snapshot.csn = st.txns.csn();
    let rows = target_rows(st, env, plan)?;
    Ok(rows
        .into_iter()
        .find(|r| r.get(width).and_then(Value::as_i64) == Some(rid as i64)))
}

/// Whether a target plan can produce the same row twice (a join with FROM/USING can).
fn rows_may_repeat(plan: &Plan) -> bool {
    !matches!(plan, Plan::IndexScan { .. } | Plan::SeqScan { .. })
}

/// Binds a DELETE.
pub fn bind_delete(st: &DbState, del: &ast::Delete) -> Result<BoundChange> {
    let tables = match &del.from {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    };
    let first = tables
        .first()
        .ok_or_else(|| AuroraError::sql("42601", "DELETE needs a table"))?;
    let (table, leaf) = target_leaf(st, &first.relation)?;
    let using: Vec<ast::TableWithJoins> = del.using.clone().unwrap_or_default();
    let mut binder = Binder::new(&st.catalog);
    let (plan, scope) = binder.from_where(&using, del.selection.as_ref(), Some(leaf))?;
    let ret = returning(st, &del.returning, &scope)?;
    Ok(BoundChange {
        table,
        plan,
        sets: Vec::new(),
        checks: Checks(Vec::new()),
        ret,
    })
}

/// DELETE (binds, then runs).
pub fn delete(st: &mut Locked<'_>, env: &StmtEnv<'_>, del: &ast::Delete) -> Result<QueryResult> {
    let b = bind_delete(st, del)?;
    run_delete(st, env, &b)
}

/// Runs a bound DELETE.
pub fn run_delete(st: &mut Locked<'_>, env: &StmtEnv<'_>, b: &BoundChange) -> Result<QueryResult> {
    let table = &b.table;
    let width = table.columns.len();
    let (count, out_rows) = change_rows(st, env, b, &mut |st, env_row, row, rid, pending| {
        let outcome = write::delete_row(st, &env_row.w, table, rid, &row[..width], pending, 0)?;
        // RETURNING sees the deleted version followed by the USING columns.
        Ok((outcome, b.ret.as_ref().map(|_| row.to_vec())))
    })?;
    Ok(finish(format!("DELETE {count}"), count, &b.ret, out_rows))
}

/// TRUNCATE: deletes every row (transactionally, unlike PostgreSQL's file swap, so a rollback
/// brings the rows back just the same).
pub fn truncate(
    st: &mut Locked<'_>,
    env: &StmtEnv<'_>,
    names: &[ast::ObjectName],
    cascade: bool,
) -> Result<QueryResult> {
    let mut tables = Vec::new();
    for n in names {
        tables.push(target_table(st, n)?);
    }
    let ids: Vec<u32> = tables.iter().map(|t| t.id).collect();
    for t in &tables {
        for (child, fk) in st.catalog.referencing(t.id) {
            if !ids.contains(&child) && !cascade {
                let c = st.catalog.table(child)?;
                return Err(AuroraError::sql(
                    "0A000",
                    format!(
                        "cannot truncate a table referenced in a foreign key constraint (table \"{}\" references \"{}\" via \"{}\")",
                        c.name, t.name, fk.name
                    ),
                ));
            }
        }
    }
    let mut pending = Vec::new();
    for t in &tables {
        let c = ctx(st, env);
        let rows = c.scan_table(t.id, None)?;
        drop(c);
        for (rid, vals) in rows {
            if cascade {
                write::delete_row(st, &env.w, t, rid, &vals, &mut pending, 0)?;
            } else {
                // Referencing tables are in the same TRUNCATE: skip the per-row foreign key work.
                st.storage.append(crate::storage::LogRecord::SetXmax {
                    table: t.id,
                    row: rid,
                    xid: env.w.xid,
                    cid: env.w.cid,
                });
            }
        }
    }
    Ok(QueryResult::command("TRUNCATE TABLE".into(), 0))
}
