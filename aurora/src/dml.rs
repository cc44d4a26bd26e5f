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
use crate::planner::Leaf;
use crate::types::DataType;
use crate::value::Value;
use crate::write::{self, Outcome, PendingFk, Writer};

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

fn finish(tag: String, count: u64, ret: Option<Returning>, rows: Vec<Vec<Value>>) -> QueryResult {
    match ret {
        Some((_, cols)) => QueryResult::rows(tag, cols, rows, count),
        None => QueryResult::command(tag, count),
    }
}

fn target_table(st: &DbState, name: &ast::ObjectName) -> Result<Table> {
    let (schema, rel) = split_name(name)?;
    Ok(st.catalog.table_by_name(&schema, &rel)?.clone())
}

/// INSERT.
pub fn insert(st: &mut DbState, env: &StmtEnv<'_>, ins: &ast::Insert) -> Result<QueryResult> {
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
    // Source rows: None marks DEFAULT.
    let source = ins
        .source
        .as_ref()
        .ok_or_else(|| AuroraError::unsupported("INSERT without a source"))?;
    let rows: Vec<Vec<Option<Value>>> = {
        let mut binder = Binder::new(&st.catalog);
        if let (ast::SetExpr::Values(values), None, None) =
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
            let c = ctx(st, env);
            bound
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|e| e.map(|e| e.eval(&[], &c)).transpose())
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            let (plan, cols) = binder.query(source)?;
            if cols.len() > targets.len() {
                return Err(AuroraError::sql(
                    "42601",
                    "INSERT has more expressions than target columns",
                ));
            }
            let c = ctx(st, env);
            let out = execute(&plan, &c)?;
            let reads = c.reads.take();
            drop(c);
            flush_reads(st, env, reads);
            out.into_iter()
                .map(|r| r.into_iter().map(Some).collect())
                .collect()
        }
    };
    let checks = bind_checks(st, &table)?;
    let scope = table_scope(&table, alias.as_deref());
    let ret = returning(st, &ins.returning, &scope)?;
    // ON CONFLICT.
    let (conflict, arbiters) = match &ins.on {
        None => (None, None),
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
            (Some(&oc.action), arbiters)
        }
        Some(_) => return Err(AuroraError::unsupported("this ON clause of INSERT")),
    };
    // DO UPDATE: SET over the existing row and `excluded`.
    let upsert = match conflict {
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
    let mut count = 0u64;
    let mut out_rows = Vec::new();
    let mut pending: Vec<PendingFk> = Vec::new();
    for row in rows {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, col) in table.columns.iter().enumerate() {
            let v = match targets.iter().position(|t| *t == i) {
                Some(k) => match row.get(k).cloned().flatten() {
                    Some(v) => {
                        if col.identity_always && !v.is_null() {
                            return Err(AuroraError::sql(
                                "428C9",
                                format!(
                                    "cannot insert a non-DEFAULT value into column \"{}\"",
                                    col.name
                                ),
                            ));
                        }
                        cast::cast(&v, &col.ty, CastMode::Assignment)?
                    }
                    None => column_default(st, &table, i)?,
                },
                None => column_default(st, &table, i)?,
            };
            values.push(v);
        }
        run_checks(st, env, &table, &checks, &values)?;
        if conflict.is_some()
            && let Some((_, rid)) =
                write::unique_conflict(st, &env.w, &table, &values, None, arbiters.as_deref())?
        {
            let Some((sets, cond)) = &upsert else {
                continue;
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
            let c = ctx(st, env);
            if let Some(cond) = cond
                && !cond.holds(&combined, &c)?
            {
                continue;
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
            run_checks(st, env, &table, &checks, &new)?;
            // The snapshot may not see the conflicting row (it may be ours from this statement
            // or committed after a REPEATABLE READ snapshot); lock_row decides.
            if write::update_row(
                st,
                &env.w,
                &table,
                rid,
                &existing.0,
                new.clone(),
                &mut pending,
                0,
            )? == Outcome::Done
            {
                count += 1;
                if let Some((exprs, _)) = &ret {
                    let c = ctx(st, env);
                    out_rows.push(
                        exprs
                            .iter()
                            .map(|e| e.eval(&new, &c))
                            .collect::<Result<Vec<_>>>()?,
                    );
                }
            }
            continue;
        }
        write::insert_row(st, &env.w, &table, values.clone())?;
        count += 1;
        if let Some((exprs, _)) = &ret {
            let c = ctx(st, env);
            out_rows.push(
                exprs
                    .iter()
                    .map(|e| e.eval(&values, &c))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
    }
    write::check_pending(st, &env.w, &pending)?;
    Ok(finish(format!("INSERT 0 {count}"), count, ret, out_rows))
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

/// UPDATE.
pub fn update(st: &mut DbState, env: &StmtEnv<'_>, up: &ast::Update) -> Result<QueryResult> {
    let (table, leaf) = target_leaf(st, &up.table.relation)?;
    let from: Vec<ast::TableWithJoins> = match &up.from {
        Some(ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f)) => {
            f.clone()
        }
        None => Vec::new(),
    };
    let width = table.columns.len();
    let (plan, scope, sets, ret) = {
        let mut binder = Binder::new(&st.catalog);
        let (plan, scope) = binder.from_where(&from, up.selection.as_ref(), Some(leaf))?;
        let mut sets = Vec::new();
        for a in &up.assignments {
            sets.extend(bind_assignment(&mut binder, &table, a, &scope)?);
        }
        let ret = returning(st, &up.returning, &scope)?;
        (plan, scope, sets, ret)
    };
    let _ = scope;
    let c = ctx(st, env);
    let rows = execute(&plan, &c)?;
    let reads = c.reads.take();
    drop(c);
    flush_reads(st, env, reads);
    let checks = bind_checks(st, &table)?;
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    let mut out_rows = Vec::new();
    let mut pending = Vec::new();
    for row in rows {
        let rid = row[width].as_i64().unwrap_or(-1) as u64;
        if !seen.insert(rid) {
            continue;
        }
        let old = &row[..width];
        let mut new = old.to_vec();
        {
            let c = ctx(st, env);
            for (col, e) in &sets {
                new[*col] = cast::cast(
                    &e.eval(&row, &c)?,
                    &table.columns[*col].ty,
                    CastMode::Assignment,
                )?;
            }
        }
        run_checks(st, env, &table, &checks, &new)?;
        if write::update_row(st, &env.w, &table, rid, old, new.clone(), &mut pending, 0)?
            == Outcome::Done
        {
            count += 1;
            if let Some((exprs, _)) = &ret {
                let mut r = new;
                r.extend_from_slice(&row[width..]);
                let c = ctx(st, env);
                out_rows.push(
                    exprs
                        .iter()
                        .map(|e| e.eval(&r, &c))
                        .collect::<Result<Vec<_>>>()?,
                );
            }
        }
    }
    write::check_pending(st, &env.w, &pending)?;
    Ok(finish(format!("UPDATE {count}"), count, ret, out_rows))
}

/// DELETE.
pub fn delete(st: &mut DbState, env: &StmtEnv<'_>, del: &ast::Delete) -> Result<QueryResult> {
    let tables = match &del.from {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    };
    let first = tables
        .first()
        .ok_or_else(|| AuroraError::sql("42601", "DELETE needs a table"))?;
    let (table, leaf) = target_leaf(st, &first.relation)?;
    let using: Vec<ast::TableWithJoins> = del.using.clone().unwrap_or_default();
    let width = table.columns.len();
    let (plan, ret) = {
        let mut binder = Binder::new(&st.catalog);
        let (plan, scope) = binder.from_where(&using, del.selection.as_ref(), Some(leaf))?;
        (plan, returning(st, &del.returning, &scope)?)
    };
    let c = ctx(st, env);
    let rows = execute(&plan, &c)?;
    let reads = c.reads.take();
    drop(c);
    flush_reads(st, env, reads);
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    let mut out_rows = Vec::new();
    let mut pending = Vec::new();
    for row in rows {
        let rid = row[width].as_i64().unwrap_or(-1) as u64;
        if !seen.insert(rid) {
            continue;
        }
        if write::delete_row(st, &env.w, &table, rid, &row[..width], &mut pending, 0)?
            == Outcome::Done
        {
            count += 1;
            if let Some((exprs, _)) = &ret {
                let c = ctx(st, env);
                out_rows.push(
                    exprs
                        .iter()
                        .map(|e| e.eval(&row, &c))
                        .collect::<Result<Vec<_>>>()?,
                );
            }
        }
    }
    write::check_pending(st, &env.w, &pending)?;
    Ok(finish(format!("DELETE {count}"), count, ret, out_rows))
}

/// TRUNCATE: deletes every row (transactionally, unlike PostgreSQL's file swap, so a rollback
/// brings the rows back just the same).
pub fn truncate(
    st: &mut DbState,
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
