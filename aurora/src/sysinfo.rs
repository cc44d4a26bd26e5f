//! System views generated from the catalog: the `information_schema` tables drivers and ORMs
//! query (`tables`, `columns`, `schemata`, `table_constraints`, `key_column_usage`, `views`,
//! `sequences`) and `pg_catalog.pg_tables` / `pg_namespace`.
//!
//! Guarantee: rows reflect the catalog at bind time of the statement that reads them, with
//! PostgreSQL's column names and text values (`BASE TABLE`, `YES`/`NO`).

use crate::catalog::{Catalog, Relation};
use crate::types::DataType;
use crate::value::Value;

type Table = (Vec<(String, DataType)>, Vec<Vec<Value>>);

fn cols(names: &[&str]) -> Vec<(String, DataType)> {
    names
        .iter()
        .map(|n| (n.to_string(), DataType::Text))
        .collect()
}

fn t(s: &str) -> Value {
    Value::text(s)
}

/// A system table by schema and name, if it is one.
pub fn table(catalog: &Catalog, schema: Option<&str>, name: &str) -> Option<Table> {
    if matches!(schema, Some("pg_catalog") | None)
        && let Some(t) = crate::pg_catalog::table(catalog, name)
    {
        return Some(t);
    }
    match (schema, name) {
        (Some("information_schema"), "tables") => Some(tables(catalog)),
        (Some("information_schema"), "columns") => Some(columns(catalog)),
        (Some("information_schema"), "schemata") => Some((
            cols(&["catalog_name", "schema_name", "schema_owner"]),
            catalog
                .schemas
                .iter()
                .chain(["information_schema".to_string(), "pg_catalog".to_string()].iter())
                .map(|s| vec![t("postgres"), t(s), t("postgres")])
                .collect(),
        )),
        (Some("information_schema"), "table_constraints") => Some(constraints(catalog)),
        (Some("information_schema"), "key_column_usage") => Some(key_columns(catalog)),
        (Some("information_schema"), "views") => Some((
            cols(&[
                "table_catalog",
                "table_schema",
                "table_name",
                "view_definition",
            ]),
            catalog
                .views
                .values()
                .map(|v| {
                    vec![
                        t("postgres"),
                        t(&v.schema),
                        t(&v.name),
                        t(&v.query.to_string()),
                    ]
                })
                .collect(),
        )),
        (Some("information_schema"), "sequences") => Some((
            cols(&[
                "sequence_catalog",
                "sequence_schema",
                "sequence_name",
                "data_type",
            ]),
            catalog
                .sequences
                .values()
                .map(|(s, n)| vec![t("postgres"), t(s), t(n), t("bigint")])
                .collect(),
        )),
        (Some("pg_catalog") | None, "pg_tables") => Some((
            cols(&["schemaname", "tablename", "tableowner"]),
            catalog
                .tables
                .values()
                .map(|tb| vec![t(&tb.schema), t(&tb.name), t("postgres")])
                .collect(),
        )),
        (Some("pg_catalog") | None, "pg_namespace") => Some((
            cols(&["nspname"]),
            catalog.schemas.iter().map(|s| vec![t(s)]).collect(),
        )),
        _ => None,
    }
}

fn tables(catalog: &Catalog) -> Table {
    let mut rows = Vec::new();
    for ((schema, name), rel) in &catalog.names {
        let kind = match rel {
            Relation::Table(_) => "BASE TABLE",
            Relation::View(_) => "VIEW",
            _ => continue,
        };
        rows.push(vec![t("postgres"), t(schema), t(name), t(kind)]);
    }
    (
        cols(&["table_catalog", "table_schema", "table_name", "table_type"]),
        rows,
    )
}

fn columns(catalog: &Catalog) -> Table {
    let mut out = cols(&["table_catalog", "table_schema", "table_name", "column_name"]);
    out.push(("ordinal_position".into(), DataType::Int4));
    out.extend(cols(&["column_default", "is_nullable", "data_type"]));
    out.push(("character_maximum_length".into(), DataType::Int4));
    out.push(("numeric_precision".into(), DataType::Int4));
    out.push(("numeric_scale".into(), DataType::Int4));
    let mut rows = Vec::new();
    for tb in catalog.tables.values() {
        for (i, c) in tb.columns.iter().enumerate() {
            let (len, prec, scale) = match &c.ty {
                DataType::Varchar(Some(n)) | DataType::Char(n) => {
                    (Value::Int4(*n as i32), Value::Null, Value::Null)
                }
                DataType::Numeric(Some((p, s))) => {
                    (Value::Null, Value::Int4(*p as i32), Value::Int4(*s as i32))
                }
                DataType::Int2 => (Value::Null, Value::Int4(16), Value::Int4(0)),
                DataType::Int4 => (Value::Null, Value::Int4(32), Value::Int4(0)),
                DataType::Int8 => (Value::Null, Value::Int4(64), Value::Int4(0)),
                _ => (Value::Null, Value::Null, Value::Null),
            };
            rows.push(vec![
                t("postgres"),
                t(&tb.schema),
                t(&tb.name),
                t(&c.name),
                Value::Int4(i as i32 + 1),
                c.default
                    .as_ref()
                    .map(|d| t(&d.to_string()))
                    .unwrap_or(Value::Null),
                t(if c.not_null { "NO" } else { "YES" }),
                t(&c.ty.base_name()),
                len,
                prec,
                scale,
            ]);
        }
    }
    (out, rows)
}

fn constraints(catalog: &Catalog) -> Table {
    let mut rows = Vec::new();
    for tb in catalog.tables.values() {
        let row = |name: &str, kind: &str| {
            vec![
                t("postgres"),
                t(&tb.schema),
                t(name),
                t(&tb.schema),
                t(&tb.name),
                t(kind),
            ]
        };
        for ix in catalog.table_indexes(tb) {
            if ix.primary {
                rows.push(row(&ix.name, "PRIMARY KEY"));
            } else if ix.unique {
                rows.push(row(&ix.name, "UNIQUE"));
            }
        }
        for fk in &tb.foreign_keys {
            rows.push(row(&fk.name, "FOREIGN KEY"));
        }
        for ck in &tb.checks {
            rows.push(row(&ck.name, "CHECK"));
        }
    }
    (
        cols(&[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_schema",
            "table_name",
            "constraint_type",
        ]),
        rows,
    )
}

fn key_columns(catalog: &Catalog) -> Table {
    let mut rows = Vec::new();
    for tb in catalog.tables.values() {
        let mut push = |cname: &str, columns: &[usize]| {
            for (pos, c) in columns.iter().enumerate() {
                let col = tb.columns.get(*c).map(|c| c.name.as_str()).unwrap_or("");
                rows.push(vec![
                    t("postgres"),
                    t(&tb.schema),
                    t(cname),
                    t(&tb.schema),
                    t(&tb.name),
                    t(col),
                    Value::Int4(pos as i32 + 1),
                ]);
            }
        };
        for ix in catalog.table_indexes(tb) {
            if ix.unique {
                push(&ix.name, &ix.columns);
            }
        }
        for fk in &tb.foreign_keys {
            push(&fk.name, &fk.columns);
        }
    }
    let mut c = cols(&[
        "constraint_catalog",
        "constraint_schema",
        "constraint_name",
        "table_schema",
        "table_name",
        "column_name",
    ]);
    c.push(("ordinal_position".into(), DataType::Int4));
    (c, rows)
}
