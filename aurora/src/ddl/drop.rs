//! DROP TABLE / INDEX / VIEW / SEQUENCE / SCHEMA, honouring CASCADE and RESTRICT.

use super::*;

pub(super) fn drop_object(
    st: &mut DbState,
    kind: &ast::ObjectType,
    schema: &Option<String>,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<()> {
    if *kind == ast::ObjectType::Schema {
        if !st.catalog.schemas.contains(name) {
            return if if_exists {
                Ok(())
            } else {
                Err(AuroraError::sql(
                    "3F000",
                    format!("schema \"{name}\" does not exist"),
                ))
            };
        }
        let members: Vec<(String, Relation)> = st
            .catalog
            .names
            .iter()
            .filter(|((s, _), _)| s == name)
            .map(|((_, n), r)| (n.clone(), *r))
            .collect();
        if !members.is_empty() && !cascade {
            return Err(AuroraError::sql(
                "2BP01",
                format!("cannot drop schema {name} because other objects depend on it"),
            ));
        }
        for (n, r) in members {
            let k = match r {
                Relation::Table(_) => ast::ObjectType::Table,
                Relation::View(_) => ast::ObjectType::View,
                Relation::Index(_) => ast::ObjectType::Index,
                Relation::Sequence(_) => ast::ObjectType::Sequence,
            };
            if st.catalog.lookup(&Some(name.to_string()), &n).is_some() {
                drop_object(st, &k, &Some(name.to_string()), &n, true, true)?;
            }
        }
        st.catalog.schemas.remove(name);
        return Ok(());
    }
    let rel = st.catalog.lookup(schema, name);
    let key = (
        schema.clone().unwrap_or_else(|| "public".into()),
        name.to_string(),
    );
    let missing = || {
        let what = match kind {
            ast::ObjectType::Table => format!("table \"{name}\" does not exist"),
            ast::ObjectType::View => format!("view \"{name}\" does not exist"),
            ast::ObjectType::Index => format!("index \"{name}\" does not exist"),
            ast::ObjectType::Sequence => format!("sequence \"{name}\" does not exist"),
            _ => format!("object \"{name}\" does not exist"),
        };
        AuroraError::sql("42P01", what)
    };
    match (kind, rel) {
        (ast::ObjectType::Table, Some(Relation::Table(id))) => {
            let refs: Vec<(u32, ForeignKey)> = st
                .catalog
                .referencing(id)
                .into_iter()
                .filter(|(c, _)| *c != id)
                .collect();
            if !refs.is_empty() {
                if !cascade {
                    let (c, fk) = &refs[0];
                    let child = st.catalog.table(*c)?.name.clone();
                    return Err(AuroraError::sql(
                        "2BP01",
                        format!(
                            "cannot drop table {name} because other objects depend on it (constraint {} on table {child} depends on table {name})",
                            fk.name
                        ),
                    ));
                }
                for (c, _) in refs {
                    if let Some(tb) = st.catalog.tables.get_mut(&c) {
                        tb.foreign_keys.retain(|f| f.ref_table != id);
                    }
                }
            }
            let t = st.catalog.tables.remove(&id).ok_or_else(missing)?;
            for ix in t.indexes {
                if let Some(i) = st.catalog.indexes.remove(&ix) {
                    st.catalog.names.remove(&(t.schema.clone(), i.name));
                }
                txn::at_commit(st, LogRecord::DropIndex { index: ix });
            }
            st.catalog.names.remove(&key);
            txn::at_commit(st, LogRecord::DropTable { table: id });
            Ok(())
        }
        (ast::ObjectType::View, Some(Relation::View(id))) => {
            st.catalog.views.remove(&id);
            st.catalog.names.remove(&key);
            Ok(())
        }
        (ast::ObjectType::Index, Some(Relation::Index(id))) => {
            if st.catalog.indexes.get(&id).is_some_and(|i| i.primary) {
                return Err(AuroraError::sql(
                    "2BP01",
                    format!(
                        "cannot drop index {name} because constraint {name} on its table requires it"
                    ),
                ));
            }
            if let Some(ix) = st.catalog.indexes.remove(&id)
                && let Some(tb) = st.catalog.tables.get_mut(&ix.table)
            {
                tb.indexes.retain(|i| *i != id);
            }
            st.catalog.names.remove(&key);
            txn::at_commit(st, LogRecord::DropIndex { index: id });
            Ok(())
        }
        (ast::ObjectType::Sequence, Some(Relation::Sequence(id))) => {
            st.catalog.sequences.remove(&id);
            st.sequences.borrow_mut().remove(&id);
            st.catalog.names.remove(&key);
            Ok(())
        }
        (_, None) if if_exists => Ok(()),
        (_, None) => Err(missing()),
        (_, Some(_)) => Err(AuroraError::sql(
            "42809",
            format!("\"{name}\" is not of the kind DROP names"),
        )),
    }
}
