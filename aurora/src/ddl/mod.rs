//! DDL: CREATE/DROP/ALTER TABLE, CREATE/DROP INDEX, SCHEMA, VIEW and SEQUENCE.
//!
//! Guarantees: a DDL statement validates everything before it changes the catalog (a failing
//! statement changes nothing), it is logged as a `Catalog` redo record, and existing rows are
//! rewritten through `AddColumn`/`DropColumn`/`IndexInsert` records. Run by a session, DDL is
//! transactional ([`txn`]): the catalog record and storage drops wait for COMMIT, and ROLLBACK
//! undoes the rest. Run directly (a replica re-running committed DDL), it takes effect at once.

use sqlparser::ast::{self, Statement};

use crate::bind::{Binder, Ctx, Scope};
use crate::catalog::{
    Catalog, Check, Column, FkAction, ForeignKey, Index, Relation, Sequence, Table, View, ident,
    split_name,
};
use crate::engine::{DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::storage::LogRecord;
use crate::txn::Snapshot;
use crate::types::DataType;
use crate::value::Value;

fn done(st: &mut DbState, stmt: &Statement, tag: &str) -> Result<QueryResult> {
    st.catalog.version += 1;
    txn::at_commit(
        st,
        LogRecord::Catalog {
            ddl: stmt.to_string(),
        },
    );
    Ok(QueryResult::command(tag.to_string(), 0))
}

/// Runs a DDL statement with immediate effect, outside any transaction's DDL: a replica or a
/// peer writer re-running committed DDL. A local transaction's uncommitted DDL, if any, is set
/// aside meanwhile so the committed statement is not made part of it.
pub fn execute(st: &mut DbState, stmt: &Statement) -> Result<QueryResult> {
    let pending = st.catalog.txn_ddl.take();
    let r = execute_in_txn(st, stmt);
    st.catalog.txn_ddl = pending;
    r
}

/// Runs a DDL statement as part of the transaction owning the catalog's DDL, if any
/// ([`txn`]); the session's entry point.
pub fn execute_in_txn(st: &mut DbState, stmt: &Statement) -> Result<QueryResult> {
    match stmt {
        Statement::CreateTable(ct) => {
            if create_table(st, ct)? {
                done(st, stmt, "CREATE TABLE")
            } else {
                Ok(QueryResult::command("CREATE TABLE".into(), 0))
            }
        }
        Statement::CreateIndex(ci) => {
            let (schema, table) = split_name(&ci.table_name)?;
            let t = st.catalog.table_by_name(&schema, &table)?.clone();
            let mut cols = Vec::new();
            for c in &ci.columns {
                let ast::Expr::Identifier(i) = &c.column.expr else {
                    return Err(AuroraError::unsupported("expression indexes"));
                };
                cols.push(t.column_index(&ident(i))?);
            }
            let name = match &ci.name {
                Some(n) => split_name(n)?.1,
                None => {
                    let names: Vec<&str> =
                        cols.iter().map(|c| t.columns[*c].name.as_str()).collect();
                    st.catalog
                        .constraint_name(&t.schema, &t.name, &names, "idx")
                }
            };
            if ci.if_not_exists && st.catalog.lookup(&Some(t.schema.clone()), &name).is_some() {
                return Ok(QueryResult::command("CREATE INDEX".into(), 0));
            }
            create_index(st, &t, name, cols, ci.unique, false)?;
            done(st, stmt, "CREATE INDEX")
        }
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => {
            for n in names {
                let (schema, name) = split_name(n)?;
                drop_object(st, object_type, &schema, &name, *if_exists, *cascade)?;
            }
            let tag = match object_type {
                ast::ObjectType::Table => "DROP TABLE",
                ast::ObjectType::View => "DROP VIEW",
                ast::ObjectType::Index => "DROP INDEX",
                ast::ObjectType::Schema => "DROP SCHEMA",
                ast::ObjectType::Sequence => "DROP SEQUENCE",
                _ => "DROP",
            };
            done(st, stmt, tag)
        }
        Statement::AlterTable(at) => {
            let (schema, name) = split_name(&at.name)?;
            let Some(Relation::Table(id)) = st.catalog.lookup(&schema, &name) else {
                if at.if_exists {
                    return Ok(QueryResult::command("ALTER TABLE".into(), 0));
                }
                return Err(AuroraError::UndefinedTable { name });
            };
            for op in &at.operations {
                alter(st, id, op)?;
            }
            done(st, stmt, "ALTER TABLE")
        }
        Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let name = match schema_name {
                ast::SchemaName::Simple(n) | ast::SchemaName::NamedAuthorization(n, _) => {
                    split_name(n)?.1
                }
                ast::SchemaName::UnnamedAuthorization(i) => ident(i),
            };
            if st.catalog.schemas.contains(&name) {
                if *if_not_exists {
                    return Ok(QueryResult::command("CREATE SCHEMA".into(), 0));
                }
                return Err(AuroraError::sql(
                    "42P06",
                    format!("schema \"{name}\" already exists"),
                ));
            }
            st.catalog.schemas.insert(name);
            done(st, stmt, "CREATE SCHEMA")
        }
        Statement::CreateView(cv) => {
            let (schema, name) = split_name(&cv.name)?;
            let schema = schema.unwrap_or_else(|| "public".into());
            let existing = st.catalog.lookup(&Some(schema.clone()), &name);
            match existing {
                Some(Relation::View(_)) if cv.or_replace => {}
                Some(_) => {
                    return Err(AuroraError::sql(
                        "42P07",
                        format!("relation \"{name}\" already exists"),
                    ));
                }
                None => st.catalog.ensure_free(&schema, &name)?,
            }
            if cv.materialized {
                return Err(AuroraError::unsupported("materialized views"));
            }
            // Bind now so a broken view is refused at creation, as PostgreSQL does.
            Binder::new(&st.catalog).query(&cv.query)?;
            let columns = cv.columns.iter().map(|c| ident(&c.name)).collect();
            let view = View {
                schema: schema.clone(),
                name: name.clone(),
                query: (*cv.query).clone(),
                columns,
            };
            let id = match existing {
                Some(Relation::View(id)) => id,
                _ => st.catalog.allocate_id(),
            };
            st.catalog.views.insert(id, view);
            st.catalog.names.insert((schema, name), Relation::View(id));
            done(st, stmt, "CREATE VIEW")
        }
        Statement::CreateSequence {
            if_not_exists,
            name,
            sequence_options,
            ..
        } => {
            let (schema, name) = split_name(name)?;
            let schema = schema.unwrap_or_else(|| "public".into());
            if *if_not_exists && st.catalog.lookup(&Some(schema.clone()), &name).is_some() {
                return Ok(QueryResult::command("CREATE SEQUENCE".into(), 0));
            }
            st.catalog.ensure_free(&schema, &name)?;
            let mut seq = Sequence {
                schema: schema.clone(),
                name: name.clone(),
                last: 1,
                called: false,
                increment: 1,
                min: 1,
                max: i64::MAX,
                cycle: false,
            };
            let mut start = None;
            for o in sequence_options {
                let num = |e: &ast::Expr| -> Result<i64> { const_int(st, e) };
                match o {
                    ast::SequenceOptions::IncrementBy(e, _) => seq.increment = num(e)?,
                    ast::SequenceOptions::MinValue(Some(e)) => seq.min = num(e)?,
                    ast::SequenceOptions::MaxValue(Some(e)) => seq.max = num(e)?,
                    ast::SequenceOptions::StartWith(e, _) => start = Some(num(e)?),
                    ast::SequenceOptions::Cycle(c) => seq.cycle = *c,
                    _ => {}
                }
            }
            if seq.increment == 0 {
                return Err(AuroraError::sql("22023", "INCREMENT must not be zero"));
            }
            if seq.increment < 0
                && !sequence_options
                    .iter()
                    .any(|o| matches!(o, ast::SequenceOptions::MaxValue(Some(_))))
            {
                seq.max = -1;
                if !sequence_options
                    .iter()
                    .any(|o| matches!(o, ast::SequenceOptions::MinValue(Some(_))))
                {
                    seq.min = i64::MIN;
                }
            }
            seq.last = start.unwrap_or(if seq.increment > 0 { seq.min } else { seq.max });
            if seq.last < seq.min || seq.last > seq.max {
                return Err(AuroraError::sql(
                    "22023",
                    format!(
                        "START value ({}) cannot be less than MINVALUE ({})",
                        seq.last, seq.min
                    ),
                ));
            }
            add_sequence(&mut st.catalog, &st.sequences, seq);
            done(st, stmt, "CREATE SEQUENCE")
        }
        other => Err(AuroraError::unsupported(format!(
            "statement {}",
            other
                .to_string()
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        ))),
    }
}

fn const_int(st: &DbState, e: &ast::Expr) -> Result<i64> {
    let (x, _) = Binder::new(&st.catalog).expr(e, &mut Ctx::plain(Scope::default()))?;
    match x {
        crate::expr::Expr::Literal(v) => v
            .as_i64()
            .ok_or_else(|| AuroraError::sql("22023", "an integer is required")),
        _ => Err(AuroraError::sql("22023", "a constant integer is required")),
    }
}

fn add_sequence(
    catalog: &mut Catalog,
    seqs: &std::cell::RefCell<std::collections::BTreeMap<u32, Sequence>>,
    seq: Sequence,
) -> u32 {
    let id = catalog.allocate_id();
    catalog.names.insert(
        (seq.schema.clone(), seq.name.clone()),
        Relation::Sequence(id),
    );
    catalog
        .sequences
        .insert(id, (seq.schema.clone(), seq.name.clone()));
    seqs.borrow_mut().insert(id, seq);
    id
}

/// Builds a column from its definition; returns it and its column-level constraints.
fn column(
    st: &mut DbState,
    schema: &str,
    table: &str,
    def: &ast::ColumnDef,
    constraints: &mut Vec<ast::TableConstraint>,
) -> Result<Column> {
    let name = ident(&def.name);
    let ty = DataType::from_ast(&def.data_type)?;
    let mut col = Column {
        name: name.clone(),
        ty: ty.clone(),
        not_null: false,
        default: None,
        identity_always: false,
    };
    let mut serial = DataType::is_serial_name(&def.data_type);
    for opt in &def.options {
        match &opt.option {
            ast::ColumnOption::NotNull => col.not_null = true,
            ast::ColumnOption::Null => {}
            ast::ColumnOption::Default(e) => col.default = Some(e.clone()),
            ast::ColumnOption::PrimaryKey(pk) => {
                let mut pk = pk.clone();
                pk.columns = vec![index_column(&def.name)];
                if pk.name.is_none() {
                    pk.name = opt.name.clone();
                }
                constraints.push(ast::TableConstraint::PrimaryKey(pk));
            }
            ast::ColumnOption::Unique(u) => {
                let mut u = u.clone();
                u.columns = vec![index_column(&def.name)];
                if u.name.is_none() {
                    u.name = opt.name.clone();
                }
                constraints.push(ast::TableConstraint::Unique(u));
            }
            ast::ColumnOption::ForeignKey(fk) => {
                let mut fk = fk.clone();
                fk.columns = vec![def.name.clone()];
                if fk.name.is_none() {
                    fk.name = opt.name.clone();
                }
                constraints.push(ast::TableConstraint::ForeignKey(fk));
            }
            ast::ColumnOption::Check(c) => {
                let mut c = c.clone();
                if c.name.is_none() {
                    c.name = opt
                        .name
                        .clone()
                        .or_else(|| Some(ast::Ident::new(format!("{table}_{name}_check"))));
                }
                constraints.push(ast::TableConstraint::Check(c));
            }
            ast::ColumnOption::Generated {
                generated_as,
                generation_expr: None,
                ..
            } => {
                serial = true;
                col.identity_always = matches!(generated_as, ast::GeneratedAs::Always);
                col.not_null = true;
            }
            ast::ColumnOption::Generated { .. } => {
                return Err(AuroraError::unsupported("generated columns"));
            }
            ast::ColumnOption::Collation(_) | ast::ColumnOption::Comment(_) => {}
            other => return Err(AuroraError::unsupported(format!("column option {other}"))),
        }
    }
    if serial {
        if !matches!(ty, DataType::Int2 | DataType::Int4 | DataType::Int8) {
            return Err(AuroraError::sql(
                "22023",
                "identity column type must be smallint, integer, or bigint",
            ));
        }
        let seq_name = st.catalog.constraint_name(schema, table, &[&name], "seq");
        let max = match ty {
            DataType::Int2 => i16::MAX as i64,
            DataType::Int4 => i32::MAX as i64,
            _ => i64::MAX,
        };
        let seq = Sequence {
            schema: schema.to_string(),
            name: seq_name.clone(),
            last: 1,
            called: false,
            increment: 1,
            min: 1,
            max,
            cycle: false,
        };
        add_sequence(&mut st.catalog, &st.sequences, seq);
        let qualified = if schema == "public" {
            seq_name
        } else {
            format!("{schema}.{seq_name}")
        };
        col.default = Some(nextval_expr(&qualified));
        col.not_null = true;
    }
    Ok(col)
}

fn nextval_expr(seq: &str) -> ast::Expr {
    let sql = format!("nextval('{}')", seq.replace('\'', "''"));
    sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
        .unwrap_or(ast::Expr::Value(ast::Value::Null.into()))
}

fn index_column(name: &ast::Ident) -> ast::IndexColumn {
    ast::IndexColumn {
        column: ast::OrderByExpr {
            expr: ast::Expr::Identifier(name.clone()),
            options: ast::OrderByOptions {
                sort: None,
                nulls_first: None,
            },
            with_fill: None,
        },
        operator_class: None,
    }
}

fn create_table(st: &mut DbState, ct: &ast::CreateTable) -> Result<bool> {
    let (schema, name) = split_name(&ct.name)?;
    let schema = schema.unwrap_or_else(|| "public".into());
    if st.catalog.lookup(&Some(schema.clone()), &name).is_some() && ct.if_not_exists {
        return Ok(false);
    }
    st.catalog.ensure_free(&schema, &name)?;
    if ct.query.is_some() {
        return Err(AuroraError::unsupported("CREATE TABLE AS"));
    }
    let mut constraints = ct.constraints.clone();
    // Validate on a copy of the catalog so a failure leaves nothing behind.
    let saved_catalog = st.catalog.clone();
    let saved_seqs = st.sequences.borrow().clone();
    let r = (|| -> Result<()> {
        let mut columns = Vec::new();
        for def in &ct.columns {
            let c = column(st, &schema, &name, def, &mut constraints)?;
            if columns.iter().any(|x: &Column| x.name == c.name) {
                return Err(AuroraError::sql(
                    "42701",
                    format!("column \"{}\" specified more than once", c.name),
                ));
            }
            columns.push(c);
        }
        let id = st.catalog.allocate_id();
        let table = Table {
            id,
            schema: schema.clone(),
            name: name.clone(),
            columns,
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
        };
        st.catalog.tables.insert(id, table);
        st.catalog
            .names
            .insert((schema.clone(), name.clone()), Relation::Table(id));
        txn::with_undo(
            st,
            LogRecord::CreateTable { table: id },
            LogRecord::DropTable { table: id },
        );
        // Primary key first, as PostgreSQL orders a table's indexes.
        constraints.sort_by_key(|c| !matches!(c, ast::TableConstraint::PrimaryKey(_)));
        for c in &constraints {
            add_constraint(st, id, c)?;
        }
        Ok(())
    })();
    if let Err(e) = r {
        st.catalog = saved_catalog;
        *st.sequences.borrow_mut() = saved_seqs;
        return Err(e);
    }
    Ok(true)
}

fn add_constraint(st: &mut DbState, id: u32, c: &ast::TableConstraint) -> Result<()> {
    let t = st.catalog.table(id)?.clone();
    let cols_of = |cols: &[ast::IndexColumn]| -> Result<Vec<usize>> {
        cols.iter()
            .map(|c| match &c.column.expr {
                ast::Expr::Identifier(i) => t.column_index(&ident(i)),
                other => Err(AuroraError::unsupported(format!(
                    "constraint on expression {other}"
                ))),
            })
            .collect()
    };
    match c {
        ast::TableConstraint::PrimaryKey(pk) => {
            if st.catalog.table_indexes(&t).iter().any(|i| i.primary) {
                return Err(AuroraError::sql(
                    "42P16",
                    format!(
                        "multiple primary keys for table \"{}\" are not allowed",
                        t.name
                    ),
                ));
            }
            let cols = cols_of(&pk.columns)?;
            for c in &cols {
                if let Some(tb) = st.catalog.tables.get_mut(&id) {
                    tb.columns[*c].not_null = true;
                }
            }
            let name = pk
                .name
                .as_ref()
                .map(ident)
                .unwrap_or_else(|| format!("{}_pkey", t.name));
            create_index(st, &t, name, cols, true, true)
        }
        ast::TableConstraint::Unique(u) => {
            let cols = cols_of(&u.columns)?;
            let names: Vec<&str> = cols.iter().map(|c| t.columns[*c].name.as_str()).collect();
            let name = u.name.as_ref().map(ident).unwrap_or_else(|| {
                st.catalog
                    .constraint_name(&t.schema, &t.name, &names, "key")
            });
            create_index(st, &t, name, cols, true, false)
        }
        ast::TableConstraint::ForeignKey(fk) => {
            let cols: Vec<usize> = fk
                .columns
                .iter()
                .map(|c| t.column_index(&ident(c)))
                .collect::<Result<_>>()?;
            let (rs, rn) = split_name(&fk.foreign_table)?;
            let parent = if rn == t.name && rs.as_deref().unwrap_or("public") == t.schema {
                t.clone()
            } else {
                st.catalog.table_by_name(&rs, &rn)?.clone()
            };
            let ref_cols: Vec<usize> = if fk.referred_columns.is_empty() {
                st.catalog
                    .table_indexes(&parent)
                    .iter()
                    .find(|i| i.primary)
                    .map(|i| i.columns.clone())
                    .ok_or_else(|| {
                        AuroraError::sql(
                            "42830",
                            format!(
                                "there is no primary key for referenced table \"{}\"",
                                parent.name
                            ),
                        )
                    })?
            } else {
                fk.referred_columns
                    .iter()
                    .map(|c| parent.column_index(&ident(c)))
                    .collect::<Result<_>>()?
            };
            if cols.len() != ref_cols.len() {
                return Err(AuroraError::sql(
                    "42830",
                    "number of referencing and referenced columns for foreign key disagree",
                ));
            }
            if !st
                .catalog
                .table_indexes(&parent)
                .iter()
                .any(|i| i.unique && i.columns == ref_cols)
            {
                return Err(AuroraError::sql(
                    "42830",
                    format!(
                        "there is no unique constraint matching given keys for referenced table \"{}\"",
                        parent.name
                    ),
                ));
            }
            let names: Vec<&str> = cols.iter().map(|c| t.columns[*c].name.as_str()).collect();
            let name = fk.name.as_ref().map(ident).unwrap_or_else(|| {
                st.catalog
                    .constraint_name(&t.schema, &t.name, &names, "fkey")
            });
            let fk = ForeignKey {
                name,
                columns: cols,
                ref_table: parent.id,
                ref_columns: ref_cols,
                on_delete: FkAction::from_ast(&fk.on_delete),
                on_update: FkAction::from_ast(&fk.on_update),
            };
            // Existing rows must satisfy it.
            let snap = Snapshot {
                csn: st.txns.csn(),
                top: 0,
                cid: 0,
            };
            let ctx = crate::exec::ExecCtx::new(
                st.storage.as_ref(),
                &st.catalog,
                &st.sequences,
                snap,
                &[],
                0,
            );
            let children = ctx.scan_table(t.id, None)?;
            let parents: std::collections::HashSet<Vec<Value>> = ctx
                .scan_table(parent.id, None)?
                .into_iter()
                .map(|(_, r)| fk.ref_columns.iter().map(|c| r[*c].clone()).collect())
                .collect();
            drop(ctx);
            for (_, r) in children {
                let key: Vec<Value> = fk.columns.iter().map(|c| r[*c].clone()).collect();
                if !key.iter().any(Value::is_null) && !parents.contains(&key) {
                    return Err(AuroraError::ForeignKeyViolation {
                        message: format!(
                            "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                            t.name, fk.name
                        ),
                    });
                }
            }
            if let Some(tb) = st.catalog.tables.get_mut(&id) {
                tb.foreign_keys.push(fk);
            }
            Ok(())
        }
        ast::TableConstraint::Check(ck) => {
            let name =
                ck.name.as_ref().map(ident).unwrap_or_else(|| {
                    st.catalog.constraint_name(&t.schema, &t.name, &[], "check")
                });
            let cols: Vec<(String, DataType)> = t
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.clone()))
                .collect();
            let (e, ty) = Binder::new(&st.catalog).expr(
                &ck.expr,
                &mut Ctx::plain(Scope::from_output(Some(&t.name), &cols)),
            )?;
            if !matches!(ty, DataType::Bool | DataType::Unknown) {
                return Err(AuroraError::datatype_mismatch(format!(
                    "argument of CHECK must be type boolean, not type {ty}"
                )));
            }
            let snap = Snapshot {
                csn: st.txns.csn(),
                top: 0,
                cid: 0,
            };
            let ctx = crate::exec::ExecCtx::new(
                st.storage.as_ref(),
                &st.catalog,
                &st.sequences,
                snap,
                &[],
                0,
            );
            for (_, r) in ctx.scan_table(t.id, None)? {
                if e.eval(&r, &ctx)? == Value::Bool(false) {
                    return Err(AuroraError::sql(
                        "23514",
                        format!(
                            "check constraint \"{name}\" of relation \"{}\" is violated by some row",
                            t.name
                        ),
                    ));
                }
            }
            drop(ctx);
            if let Some(tb) = st.catalog.tables.get_mut(&id) {
                tb.checks.push(Check {
                    name,
                    expr: (*ck.expr).clone(),
                });
            }
            Ok(())
        }
        other => Err(AuroraError::unsupported(format!("constraint {other}"))),
    }
}

fn create_index(
    st: &mut DbState,
    t: &Table,
    name: String,
    cols: Vec<usize>,
    unique: bool,
    primary: bool,
) -> Result<()> {
    st.catalog.ensure_free(&t.schema, &name)?;
    // Index every version (older versions may still be visible to running snapshots).
    let mut entries = Vec::new();
    let mut live_keys = std::collections::HashSet::new();
    let rows: Vec<u64> = st.storage.rows(t.id).collect();
    for rid in rows {
        let Some(chain) = st.storage.chain(t.id, rid) else {
            continue;
        };
        for v in chain {
            let key: Vec<Value> = cols
                .iter()
                .map(|c| v.values.get(*c).cloned().unwrap_or(Value::Null))
                .collect();
            entries.push((key, rid));
        }
        if unique {
            let live = chain
                .iter()
                .rev()
                .find(|v| st.storage.status(v.xmin) != crate::storage::XidStatus::Aborted)
                .filter(|v| {
                    v.xmax == 0
                        || !matches!(
                            st.storage.status(v.xmax),
                            crate::storage::XidStatus::Committed(_)
                        )
                });
            if let Some(v) = live {
                let key: Vec<Value> = cols
                    .iter()
                    .map(|c| v.values.get(*c).cloned().unwrap_or(Value::Null))
                    .collect();
                if !key.iter().any(Value::is_null) && !live_keys.insert(key.clone()) {
                    let names: Vec<&str> =
                        cols.iter().map(|c| t.columns[*c].name.as_str()).collect();
                    let vals: Vec<String> = key.iter().map(|v| v.to_string()).collect();
                    return Err(AuroraError::UniqueViolation {
                        constraint: name,
                        detail: format!(
                            "Key ({})=({}) is duplicated.",
                            names.join(", "),
                            vals.join(", ")
                        ),
                    });
                }
            }
        }
    }
    let id = st.catalog.allocate_id();
    txn::with_undo(
        st,
        LogRecord::CreateIndex { index: id },
        LogRecord::DropIndex { index: id },
    );
    for (key, row) in entries {
        st.storage.append(LogRecord::IndexInsert {
            index: id,
            key,
            row,
        });
    }
    st.catalog.indexes.insert(
        id,
        Index {
            id,
            name: name.clone(),
            table: t.id,
            columns: cols,
            unique,
            primary,
        },
    );
    st.catalog
        .names
        .insert((t.schema.clone(), name), Relation::Index(id));
    if let Some(tb) = st.catalog.tables.get_mut(&t.id) {
        if primary {
            tb.indexes.insert(0, id)
        } else {
            tb.indexes.push(id)
        }
    }
    Ok(())
}

mod alter;
mod create_as;
mod drop;
pub mod txn;

use alter::alter;
pub use create_as::create_table_as;
use drop::drop_object;
