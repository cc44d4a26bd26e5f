//! INSERT: VALUES or a query as the source, DEFAULT, ON CONFLICT DO NOTHING / DO UPDATE, and
//! RETURNING.
//!
//! Binding ([`bind_insert`]) depends only on the statement and the catalog, so a prepared
//! statement binds once and runs many times ([`run_insert`]); a cached binding is used only
//! while the catalog version it was made under is current.

use sqlparser::ast;

use super::{
    Checks, Returning, StmtEnv, assign_type, bind_assignment, bind_checks, ctx, finish,
    flush_reads, returning, run_checks, table_scope, target_table,
};
use crate::bind::{Binder, Ctx, Scope};
use crate::bind_expr::coerce;
use crate::cast::{self, CastMode};
use crate::catalog::{Table, ident};
use crate::engine::{DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::execute;
use crate::expr::Expr;
use crate::locks::Locked;
use crate::plan::Plan;
use crate::value::Value;
use crate::write::{self, Outcome, PendingFk};

/// Where an INSERT's rows come from.
#[derive(Debug, Clone)]
enum Source {
    /// `VALUES` rows; `None` marks `DEFAULT`.
    Values(Vec<Vec<Option<Expr>>>),
    /// A query (boxed: a plan is far larger than a row list).
    Query(Box<Plan>),
}

/// `DO UPDATE SET …` assignments and its `WHERE`.
type Upsert = (Vec<(usize, Expr)>, Option<Expr>);

/// A bound INSERT.
#[derive(Debug, Clone)]
pub struct BoundInsert {
    table: Table,
    targets: Vec<usize>,
    source: Source,
    /// Bound DEFAULT expressions (coerced to the column type), per column.
    defaults: Vec<Option<Expr>>,
    checks: Checks,
    ret: Option<Returning>,
    on_conflict: bool,
    arbiters: Option<Vec<u32>>,
    upsert: Option<Upsert>,
}

/// Binds an INSERT.
pub fn bind_insert(st: &DbState, ins: &ast::Insert) -> Result<BoundInsert> {
    let name = match &ins.table {
        ast::TableObject::TableName(n) => n,
        _ => return Err(AuroraError::unsupported("INSERT into a table function")),
    };
    let table = target_table(st, name)?;
    let alias = ins.table_alias.as_ref().map(|a| ident(&a.alias));
    let targets: Vec<usize> = if ins.columns.is_empty() {
        (0..table.columns.len()).collect()
    } else {
        let mut v = Vec::new();
        for c in &ins.columns {
            let n =
                c.0.last()
                    .and_then(|p| p.as_ident())
                    .map(ident)
                    .unwrap_or_default();
            let i = table.column_index(&n)?;
            if v.contains(&i) {
                return Err(AuroraError::sql(
                    "42701",
                    format!("column \"{n}\" specified more than once"),
                ));
            }
            v.push(i);
        }
        v
    };
    let source = ins
        .source
        .as_ref()
        .ok_or_else(|| AuroraError::unsupported("INSERT without a source"))?;
    let mut binder = Binder::new(&st.catalog);
    let source = if let (ast::SetExpr::Values(values), None, None) =
        (source.body.as_ref(), &source.order_by, &source.with)
    {
        let mut bound = Vec::new();
        for row in &values.rows {
            if row.content.len() > targets.len() {
                return Err(AuroraError::sql(
                    "42601",
                    "INSERT has more expressions than target columns",
                ));
            }
            let mut out = Vec::new();
            for (k, e) in row.content.iter().enumerate() {
                if matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
                {
                    out.push(None);
                    continue;
                }
                let (b, t) = binder.expr(e, &mut Ctx::plain(Scope::default()))?;
                out.push(Some(coerce(
                    b,
                    &t,
                    &assign_type(&table.columns[targets[k]].ty),
                )?));
            }
            bound.push(out);
        }
        Source::Values(bound)
    } else {
        let (plan, cols) = binder.query(source)?;
        if cols.len() > targets.len() {
            return Err(AuroraError::sql(
                "42601",
                "INSERT has more expressions than target columns",
            ));
        }
        Source::Query(Box::new(plan))
    };
    let mut defaults = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        defaults.push(match &c.default {
            Some(d) => {
                let (e, t) = Binder::new(&st.catalog).expr(d, &mut Ctx::plain(Scope::default()))?;
                Some(coerce(e, &t, &c.ty)?)
            }
            None => None,
        });
    }
    let checks = bind_checks(st, &table)?;
    let scope = table_scope(&table, alias.as_deref());
    let ret = returning(st, &ins.returning, &scope)?;
    let (on_conflict, arbiters, action) = match &ins.on {
        None => (false, None, None),
        Some(ast::OnInsert::OnConflict(oc)) => {
            let arbiters: Option<Vec<u32>> = match &oc.conflict_target {
                None => None,
                Some(ast::ConflictTarget::Columns { columns, .. }) => {
                    let mut cols: Vec<usize> = columns
                        .iter()
                        .map(|c| table.column_index(&ident(c)))
                        .collect::<Result<_>>()?;
                    cols.sort_unstable();
                    let ids: Vec<u32> = st
                        .catalog
                        .table_indexes(&table)
                        .into_iter()
                        .filter(|ix| {
                            ix.unique && {
                                let mut c = ix.columns.clone();
                                c.sort_unstable();
                                c == cols
                            }
                        })
                        .map(|ix| ix.id)
                        .collect();
                    if ids.is_empty() {
                        return Err(AuroraError::sql(
                            "42P10",
                            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                        ));
                    }
                    Some(ids)
                }
                Some(ast::ConflictTarget::OnConstraint(n)) => {
                    let cname =
                        n.0.last()
                            .and_then(|p| p.as_ident())
                            .map(ident)
                            .unwrap_or_default();
                    let ids: Vec<u32> = st
                        .catalog
                        .table_indexes(&table)
                        .into_iter()
                        .filter(|ix| ix.unique && ix.name == cname)
                        .map(|ix| ix.id)
                        .collect();
                    if ids.is_empty() {
                        return Err(AuroraError::sql(
                            "42704",
                            format!(
                                "constraint \"{cname}\" for table \"{}\" does not exist",
                                table.name
                            ),
                        ));
                    }
                    Some(ids)
                }
            };
            (true, arbiters, Some(&oc.action))
        }
        Some(_) => return Err(AuroraError::unsupported("this ON clause of INSERT")),
    };
    // DO UPDATE: SET over the existing row and `excluded`.
    let upsert = match action {
        Some(ast::OnConflictAction::DoUpdate(du)) => {
            let mut s = scope.clone();
            s.cols.extend(table_scope(&table, Some("excluded")).cols);
            let mut binder = Binder::new(&st.catalog);
            let mut sets = Vec::new();
            for a in &du.assignments {
                sets.extend(bind_assignment(&mut binder, &table, a, &s)?);
            }
            let cond = match &du.selection {
                Some(e) => Some(binder.expr(e, &mut Ctx::plain(s.clone()))?.0),
                None => None,
            };
            Some((sets, cond))
        }
        _ => None,
    };
    Ok(BoundInsert {
        table,
        targets,
        source,
        defaults,
        checks,
        ret,
        on_conflict,
        arbiters,
        upsert,
    })
}

/// INSERT (binds, then runs).
pub fn insert(st: &mut Locked<'_>, env: &StmtEnv<'_>, ins: &ast::Insert) -> Result<QueryResult> {
    let b = bind_insert(st, ins)?;
    run_insert(st, env, &b)
}

/// The value of column `i`'s DEFAULT in this statement (NULL without one).
fn default_value(st: &DbState, env: &StmtEnv<'_>, b: &BoundInsert, i: usize) -> Result<Value> {
    match &b.defaults[i] {
        None => Ok(Value::Null),
        Some(e) => {
            let c = ctx(st, env);
            cast::cast(
                &e.eval(&[], &c)?,
                &b.table.columns[i].ty,
                CastMode::Assignment,
            )
        }
    }
}

/// Runs a bound INSERT.
pub fn run_insert(st: &mut Locked<'_>, env: &StmtEnv<'_>, b: &BoundInsert) -> Result<QueryResult> {
    let table = &b.table;
    let rows: Vec<Vec<Option<Value>>> = match &b.source {
        Source::Values(bound) => {
            let c = ctx(st, env);
            bound
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|e| e.as_ref().map(|e| e.eval(&[], &c)).transpose())
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?
        }
        Source::Query(plan) => {
            let c = ctx(st, env);
            let out = execute(plan, &c)?;
            let reads = c.reads.take();
            drop(c);
            flush_reads(st, env, reads);
            out.into_iter()
                .map(|r| r.into_iter().map(Some).collect())
                .collect()
        }
    };
    let mut count = 0u64;
    let mut out_rows = Vec::new();
    let mut pending: Vec<PendingFk> = Vec::new();
    for row in rows {
        let mut values = Vec::with_capacity(table.columns.len());
        let mut row = row.into_iter();
        let mut given: Vec<Option<Option<Value>>> = vec![None; table.columns.len()];
        for t in &b.targets {
            given[*t] = Some(row.next().flatten());
        }
        for (i, (col, g)) in table.columns.iter().zip(given).enumerate() {
            let v = match g {
                Some(Some(v)) => {
                    if col.identity_always && !v.is_null() {
                        return Err(AuroraError::sql(
                            "428C9",
                            format!(
                                "cannot insert a non-DEFAULT value into column \"{}\"",
                                col.name
                            ),
                        ));
                    }
                    if v.data_type() == col.ty && !matches!(v, Value::Numeric(_)) {
                        v
                    } else {
                        cast::cast(&v, &col.ty, CastMode::Assignment)?
                    }
                }
                _ => default_value(st, env, b, i)?,
            };
            values.push(v);
        }
        run_checks(st, env, table, &b.checks, &values)?;
        if b.on_conflict {
            match upsert_row(st, env, b, &values, &mut pending, &mut out_rows)? {
                Conflict::None => {}
                Conflict::Skipped => continue,
                Conflict::Updated => {
                    count += 1;
                    continue;
                }
            }
        }
        if let Some((exprs, _)) = &b.ret {
            write::insert_row(st, &env.w, table, values.clone())?;
            let c = ctx(st, env);
            out_rows.push(
                exprs
                    .iter()
                    .map(|e| e.eval(&values, &c))
                    .collect::<Result<Vec<_>>>()?,
            );
        } else {
            write::insert_row(st, &env.w, table, values)?;
        }
        count += 1;
    }
    write::check_pending(st, &env.w, &pending)?;
    Ok(finish(format!("INSERT 0 {count}"), count, &b.ret, out_rows))
}

/// What ON CONFLICT did with a row.
enum Conflict {
    /// No conflicting row: insert it.
    None,
    /// DO NOTHING, a DO UPDATE whose WHERE is false, or a row this statement already changed.
    Skipped,
    /// DO UPDATE changed the conflicting row.
    Updated,
}

/// ON CONFLICT for one proposed row: finds the conflicting row (waiting for a running
/// transaction that holds its key) and applies DO NOTHING / DO UPDATE. In READ COMMITTED a
/// conflicting row changed by a transaction we waited for is looked up again, as PostgreSQL
/// retries its speculative insertion.
fn upsert_row(
    st: &mut Locked<'_>,
    env: &StmtEnv<'_>,
    b: &BoundInsert,
    values: &[Value],
    pending: &mut Vec<PendingFk>,
    out_rows: &mut Vec<Vec<Value>>,
) -> Result<Conflict> {
    let table = &b.table;
    let mut env = *env;
    loop {
        let found = st.retry(env.w.top, |st| {
            write::unique_conflict(st, &env.w, table, values, None, b.arbiters.as_deref())
        })?;
        let Some((_, rid)) = found else {
            return Ok(Conflict::None);
        };
        let Some((sets, cond)) = &b.upsert else {
            return Ok(Conflict::Skipped);
        };
        let existing = st
            .storage
            .chain(table.id, rid)
            .and_then(|c| c.last())
            .map(|v| (v.values.to_vec(), v.xmin, v.cmin))
            .ok_or_else(|| AuroraError::sql("XX000", "conflicting row vanished"))?;
        if crate::txn::is_mine(st.storage.as_ref(), existing.1, env.w.top)
            && existing.2 == env.w.cid
        {
            return Err(AuroraError::sql(
                "21000",
                "ON CONFLICT DO UPDATE command cannot affect row a second time",
            ));
        }
        let mut combined = existing.0.clone();
        combined.extend(values.iter().cloned());
        let c = ctx(st, &env);
        if let Some(cond) = cond
            && !cond.holds(&combined, &c)?
        {
            return Ok(Conflict::Skipped);
        }
        let mut new = existing.0.clone();
        for (col, e) in sets {
            new[*col] = cast::cast(
                &e.eval(&combined, &c)?,
                &table.columns[*col].ty,
                CastMode::Assignment,
            )?;
        }
        drop(c);
        run_checks(st, &env, table, &b.checks, &new)?;
        // The snapshot may not see the conflicting row (it may be ours from this statement or
        // committed after a REPEATABLE READ snapshot); lock_row decides.
        match write::update_row(st, &env.w, table, rid, &existing.0, new.clone(), pending, 0)? {
            Outcome::Done => {
                if let Some((exprs, _)) = &b.ret {
                    let c = ctx(st, &env);
                    out_rows.push(
                        exprs
                            .iter()
                            .map(|e| e.eval(&new, &c))
                            .collect::<Result<Vec<_>>>()?,
                    );
                }
                return Ok(Conflict::Updated);
            }
            Outcome::AlreadyChanged => return Ok(Conflict::Skipped),
            Outcome::Changed => env.w.snapshot.csn = st.txns.csn(),
        }
    }
}
