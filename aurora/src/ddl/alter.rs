//! ALTER TABLE: add, alter, drop and rename columns; add and drop constraints; rename the table.

use super::*;

pub(super) fn alter(st: &mut DbState, id: u32, op: &ast::AlterTableOperation) -> Result<()> {
    let t = st.catalog.table(id)?.clone();
    match op {
        ast::AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => {
            let name = ident(&column_def.name);
            if t.columns.iter().any(|c| c.name == name) {
                if *if_not_exists {
                    return Ok(());
                }
                return Err(AuroraError::sql(
                    "42701",
                    format!(
                        "column \"{name}\" of relation \"{}\" already exists",
                        t.name
                    ),
                ));
            }
            let mut constraints = Vec::new();
            let col = column(st, &t.schema, &t.name, column_def, &mut constraints)?;
            let has_rows = st.storage.rows(id).next().is_some();
            if let Some(tb) = st.catalog.tables.get_mut(&id) {
                tb.columns.push(col.clone());
            }
            let fill = match &col.default {
                Some(_) => {
                    let tb = st.catalog.table(id)?.clone();
                    crate::dml::column_default(st, &tb, tb.columns.len() - 1)?
                }
                None => Value::Null,
            };
            if col.not_null && fill.is_null() && has_rows {
                if let Some(tb) = st.catalog.tables.get_mut(&id) {
                    tb.columns.pop();
                }
                return Err(AuroraError::NotNullViolation {
                    column: name,
                    table: t.name.clone(),
                });
            }
            txn::with_undo(
                st,
                LogRecord::AddColumn {
                    table: id,
                    value: fill,
                },
                LogRecord::DropColumn {
                    table: id,
                    index: t.columns.len(),
                },
            );
            for c in &constraints {
                add_constraint(st, id, c)?;
            }
            Ok(())
        }
        ast::AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            for n in column_names {
                let name = ident(n);
                let Some(idx) = t.columns.iter().position(|c| c.name == name) else {
                    if *if_exists {
                        continue;
                    }
                    return Err(AuroraError::sql(
                        "42703",
                        format!(
                            "column \"{name}\" of relation \"{}\" does not exist",
                            t.name
                        ),
                    ));
                };
                let cur = st.catalog.table(id)?.clone();
                let idx = cur
                    .columns
                    .iter()
                    .position(|c| c.name == name)
                    .unwrap_or(idx);
                // Indexes and constraints on the column go with it; later columns shift down.
                let dropped: Vec<u32> = st
                    .catalog
                    .table_indexes(&cur)
                    .iter()
                    .filter(|i| i.columns.contains(&idx))
                    .map(|i| i.id)
                    .collect();
                for ix in &dropped {
                    if let Some(i) = st.catalog.indexes.remove(ix) {
                        st.catalog.names.remove(&(cur.schema.clone(), i.name));
                    }
                    txn::at_commit(st, LogRecord::DropIndex { index: *ix });
                }
                let shift = |c: &mut usize| {
                    if *c > idx {
                        *c -= 1;
                    }
                };
                for ix in st.catalog.indexes.values_mut().filter(|i| i.table == id) {
                    ix.columns.iter_mut().for_each(shift);
                }
                for tb in st.catalog.tables.values_mut() {
                    for fk in tb.foreign_keys.iter_mut().filter(|f| f.ref_table == id) {
                        fk.ref_columns.iter_mut().for_each(shift);
                    }
                }
                if let Some(tb) = st.catalog.tables.get_mut(&id) {
                    tb.columns.remove(idx);
                    tb.indexes.retain(|i| !dropped.contains(i));
                    tb.foreign_keys.retain(|f| !f.columns.contains(&idx));
                    for fk in &mut tb.foreign_keys {
                        fk.columns.iter_mut().for_each(shift);
                    }
                    let col_name = name.clone();
                    tb.checks
                        .retain(|c| !c.expr.to_string().to_lowercase().contains(&col_name));
                }
                st.storage.append(LogRecord::DropColumn {
                    table: id,
                    index: idx,
                });
            }
            Ok(())
        }
        ast::AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let (old, new) = (ident(old_column_name), ident(new_column_name));
            let idx = t.column_index(&old)?;
            if t.columns.iter().any(|c| c.name == new) {
                return Err(AuroraError::sql(
                    "42701",
                    format!("column \"{new}\" of relation \"{}\" already exists", t.name),
                ));
            }
            if let Some(tb) = st.catalog.tables.get_mut(&id) {
                tb.columns[idx].name = new;
            }
            Ok(())
        }
        ast::AlterTableOperation::RenameTable { table_name } => {
            let n = match table_name {
                ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => {
                    split_name(n)?.1
                }
            };
            st.catalog.ensure_free(&t.schema, &n)?;
            st.catalog.names.remove(&(t.schema.clone(), t.name.clone()));
            st.catalog
                .names
                .insert((t.schema.clone(), n.clone()), Relation::Table(id));
            if let Some(tb) = st.catalog.tables.get_mut(&id) {
                tb.name = n;
            }
            Ok(())
        }
        ast::AlterTableOperation::AddConstraint { constraint, .. } => {
            add_constraint(st, id, constraint)
        }
        ast::AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => {
            let name = ident(name);
            let before = st.catalog.table(id)?.clone();
            if let Some(ix) = st
                .catalog
                .table_indexes(&before)
                .iter()
                .find(|i| i.name == name && i.unique)
                .map(|i| i.id)
            {
                st.catalog.indexes.remove(&ix);
                st.catalog.names.remove(&(t.schema.clone(), name.clone()));
                txn::at_commit(st, LogRecord::DropIndex { index: ix });
                if let Some(tb) = st.catalog.tables.get_mut(&id) {
                    tb.indexes.retain(|i| *i != ix);
                }
                return Ok(());
            }
            let tb = st
                .catalog
                .tables
                .get_mut(&id)
                .ok_or_else(|| AuroraError::UndefinedTable {
                    name: t.name.clone(),
                })?;
            let (nc, nf) = (tb.checks.len(), tb.foreign_keys.len());
            tb.checks.retain(|c| c.name != name);
            tb.foreign_keys.retain(|f| f.name != name);
            if tb.checks.len() == nc && tb.foreign_keys.len() == nf && !*if_exists {
                return Err(AuroraError::sql(
                    "42704",
                    format!(
                        "constraint \"{name}\" of relation \"{}\" does not exist",
                        t.name
                    ),
                ));
            }
            Ok(())
        }
        ast::AlterTableOperation::AlterColumn { column_name, op } => {
            let idx = t.column_index(&ident(column_name))?;
            match op {
                ast::AlterColumnOperation::SetNotNull => {
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
                    if ctx
                        .scan_table(id, None)?
                        .iter()
                        .any(|(_, r)| r[idx].is_null())
                    {
                        return Err(AuroraError::NotNullViolation {
                            column: t.columns[idx].name.clone(),
                            table: t.name.clone(),
                        });
                    }
                    drop(ctx);
                    if let Some(tb) = st.catalog.tables.get_mut(&id) {
                        tb.columns[idx].not_null = true;
                    }
                }
                ast::AlterColumnOperation::DropNotNull => {
                    if let Some(tb) = st.catalog.tables.get_mut(&id) {
                        tb.columns[idx].not_null = false;
                    }
                }
                ast::AlterColumnOperation::SetDefault { value } => {
                    if let Some(tb) = st.catalog.tables.get_mut(&id) {
                        tb.columns[idx].default = Some(value.clone());
                    }
                }
                ast::AlterColumnOperation::DropDefault => {
                    if let Some(tb) = st.catalog.tables.get_mut(&id) {
                        tb.columns[idx].default = None;
                    }
                }
                other => return Err(AuroraError::unsupported(format!("ALTER COLUMN {other}"))),
            }
            Ok(())
        }
        other => Err(AuroraError::unsupported(format!("ALTER TABLE {other}"))),
    }
}
