//! `CREATE TABLE name [(column, …)] AS query`: a table with the query's column names (or the
//! names given) and types, filled with the query's rows inside the running transaction.
//!
//! Guarantees: the rows are computed and cast before the table exists, so once it is created
//! nothing can fail and no empty table is left behind by a failing query; the catalog change
//! is logged as the plain `CREATE TABLE` it amounts to (replicas and recovery rebuild the
//! catalog from that text, and the rows travel as ordinary insert records).

use sqlparser::ast;

use crate::bind::Binder;
use crate::cast::{self, CastMode};
use crate::catalog::{ident, split_name};
use crate::dml::StmtEnv;
use crate::engine::QueryResult;
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, execute};
use crate::locks::Locked;
use crate::types::DataType;
use crate::write;

/// Quotes an identifier the way PostgreSQL's `quote_ident` does.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `CREATE TABLE … AS query` (`ct.query` is set).
pub fn create_table_as(
    st: &mut Locked<'_>,
    env: &StmtEnv<'_>,
    ct: &ast::CreateTable,
) -> Result<QueryResult> {
    let Some(query) = &ct.query else {
        return Err(AuroraError::sql("42601", "CREATE TABLE AS needs a query"));
    };
    let (schema, name) = split_name(&ct.name)?;
    if ct.if_not_exists
        && st
            .catalog
            .lookup(
                &Some(schema.clone().unwrap_or_else(|| "public".into())),
                &name,
            )
            .is_some()
    {
        return Ok(QueryResult::command("CREATE TABLE AS".into(), 0));
    }
    let (plan, cols) = Binder::new(&st.catalog).query(query)?;
    if ct.columns.len() > cols.len() {
        return Err(AuroraError::sql(
            "42601",
            "too many column names were specified",
        ));
    }
    let mut columns: Vec<(String, DataType)> = cols
        .into_iter()
        // A column of unknown type (a bare NULL or string literal) becomes text, as in
        // PostgreSQL.
        .map(|(n, t)| {
            (
                n,
                if t == DataType::Unknown {
                    DataType::Text
                } else {
                    t
                },
            )
        })
        .collect();
    for (c, def) in columns.iter_mut().zip(&ct.columns) {
        c.0 = ident(&def.name);
    }
    let rows = {
        let ctx = ExecCtx::new(
            st.storage.as_ref(),
            &st.catalog,
            &st.sequences,
            env.w.snapshot,
            env.params,
            env.now,
        );
        execute(&plan, &ctx)?
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(&columns)
                .map(|(v, (_, ty))| cast::cast(v, ty, CastMode::Assignment))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let defs = columns
        .iter()
        .map(|(n, t)| format!("{} {t}", quote_ident(n)))
        .collect::<Vec<_>>()
        .join(", ");
    let target = match &schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&name)),
        None => quote_ident(&name),
    };
    let create = crate::session::parse(&format!("CREATE TABLE {target} ({defs})"))?;
    for stmt in &create {
        super::execute_in_txn(st, stmt)?;
    }
    let table = st.catalog.table_by_name(&schema, &name)?.clone();
    let n = rows.len() as u64;
    for r in rows {
        write::insert_row(st, &env.w, &table, r)?;
    }
    Ok(QueryResult::command(format!("SELECT {n}"), n))
}
