//! The SQL spellings psql's catalog queries use that the binder takes through here:
//! `COLLATE`, casts to the OID alias types, `ARRAY(subquery)` and `pg_partition_ancestors` in
//! FROM (the last two as equivalent standard SQL).
//!
//! Guarantee: each rewrite means what PostgreSQL means for a database whose tables are never
//! partitioned and whose only collation is C.

use crate::error::Result;

/// The function a cast to an OID alias type (`regclass`, `regtype`, `regnamespace`) calls.
///
/// The engine has no OID alias types, so such a cast is typed by what it converts: an OID
/// (a number) becomes the object's name as text, as the alias type prints; a name (text)
/// becomes the object's OID, as the alias type compares.
pub fn reg_cast(ty: &sqlparser::ast::DataType) -> Option<&'static str> {
    let sqlparser::ast::DataType::Custom(name, _) = ty else {
        return None;
    };
    let name = name.to_string().to_lowercase();
    match name.strip_prefix("pg_catalog.").unwrap_or(&name) {
        "regclass" => Some("regclass"),
        "regtype" => Some("regtype"),
        "regnamespace" => Some("regnamespace"),
        _ => None,
    }
}

/// `ARRAY(subquery)` as the scalar subquery `(SELECT coalesce(array_agg(c), '{}') FROM
/// (subquery) AS _array(c))`: the subquery's rows, in its order, as an array — empty, not NULL,
/// when it has none.
pub fn array_subquery(q: &sqlparser::ast::Query) -> Result<sqlparser::ast::Expr> {
    use sqlparser::ast::{Expr, SetExpr, TableFactor};
    let mut outer =
        parse_query("SELECT coalesce(array_agg(c), '{}') FROM (SELECT 1) AS _array(c)")?;
    if let SetExpr::Select(select) = outer.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let TableFactor::Derived { subquery, .. } = &mut from.relation
    {
        **subquery = q.clone();
    }
    Ok(Expr::Subquery(outer))
}

/// `pg_partition_ancestors(rel) [WITH ORDINALITY]` in FROM, as the derived table
/// `(SELECT rel AS relid[, 1 AS depth])`: no table is a partition here, so a relation's only
/// ancestor is itself, at depth 1. `None` for any other FROM item.
pub fn table_function(
    name: &str,
    args: &Option<sqlparser::ast::TableFunctionArgs>,
    with_ordinality: bool,
    alias: &Option<sqlparser::ast::TableAlias>,
) -> Result<Option<sqlparser::ast::TableFactor>> {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, SelectItem, SetExpr};
    let Some(args) = args else {
        return Ok(None);
    };
    if name != "pg_partition_ancestors" {
        return Ok(None);
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = args.args.as_slice() else {
        return Err(crate::error::AuroraError::undefined_function(
            "function pg_partition_ancestors takes one argument",
        ));
    };
    let template = if with_ordinality {
        "SELECT CAST(0 AS bigint) AS relid, CAST(1 AS bigint) AS ordinality"
    } else {
        "SELECT CAST(0 AS bigint) AS relid"
    };
    let mut query = parse_query(template)?;
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(SelectItem::ExprWithAlias { expr, .. }) = select.projection.first_mut()
        && let sqlparser::ast::Expr::Cast { expr: inner, .. } = expr
    {
        **inner = arg.clone();
    }
    Ok(Some(sqlparser::ast::TableFactor::Derived {
        lateral: true,
        subquery: query,
        alias: Some(alias.clone().unwrap_or_else(|| sqlparser::ast::TableAlias {
            explicit: false,
            name: sqlparser::ast::Ident::new("pg_partition_ancestors"),
            columns: Vec::new(),
            at: None,
        })),
        sample: None,
    }))
}

fn parse_query(sql: &str) -> Result<Box<sqlparser::ast::Query>> {
    let mut stmts =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql)
            .map_err(|e| crate::error::AuroraError::sql("XX000", e.to_string()))?;
    match stmts.pop() {
        Some(sqlparser::ast::Statement::Query(q)) => Ok(q),
        _ => Err(crate::error::AuroraError::sql("XX000", "not a query")),
    }
}

/// Refuses a collation other than the one the engine has (C: bytewise).
pub fn check_collation(name: &str) -> Result<()> {
    let bare = name.trim_matches('"').to_lowercase();
    let bare = bare
        .strip_prefix("pg_catalog.")
        .unwrap_or(&bare)
        .trim_matches('"')
        .to_string();
    if matches!(bare.as_str(), "default" | "c" | "posix" | "ucs_basic") {
        return Ok(());
    }
    Err(crate::error::AuroraError::sql(
        "42704",
        format!(
            "collation \"{}\" for encoding \"UTF8\" does not exist",
            name.trim_matches('"')
        ),
    ))
}
