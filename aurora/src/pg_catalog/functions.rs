//! The `pg_catalog` functions: `pg_get_userbyid`, `pg_table_is_visible`, `format_type`,
//! `pg_get_expr`, `pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_triggerdef`,
//! `pg_encoding_to_char`, `pg_relation_is_publishable`, `pg_partition_ancestors`, and the
//! OID alias casts (`regclass`, `regtype`, `regnamespace`).
//!
//! Guarantee: strict (NULL in, NULL out), and an OID that names nothing gives NULL (or the
//! number, for the alias types), as in PostgreSQL.

use super::*;

fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Unknown
    )
}

/// The return type of a `pg_catalog` function, if `name` is one.
pub fn return_type(name: &str, args: &[DataType]) -> Option<DataType> {
    Some(match name {
        "regclass" | "regtype" | "regnamespace" => {
            if args.first().is_some_and(is_text) {
                DataType::Int8
            } else {
                DataType::Text
            }
        }
        // A table that is no partition is its only ancestor.
        "pg_partition_ancestors" => DataType::Int8,
        "pg_get_userbyid"
        | "format_type"
        | "pg_get_expr"
        | "pg_get_triggerdef"
        | "pg_get_indexdef"
        | "pg_get_constraintdef"
        | "pg_encoding_to_char"
        | "pg_get_statisticsobjdef_columns" => DataType::Text,
        "pg_table_is_visible" | "pg_relation_is_publishable" => DataType::Bool,
        _ => return None,
    })
}

fn arg_oid(args: &[Value], i: usize) -> Option<i64> {
    match args.get(i)? {
        Value::Int2(v) => Some(i64::from(*v)),
        Value::Int4(v) => Some(i64::from(*v)),
        Value::Int8(v) => Some(*v),
        Value::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn arg_text(args: &[Value]) -> String {
    match args.first() {
        Some(Value::Text(s)) => s.to_string(),
        _ => String::new(),
    }
}

/// `'name'::regclass`: the OID of the relation a (possibly qualified) name finds on the search
/// path, or the number itself when the text is one.
fn regclass_by_name(catalog: &Catalog, text: &str) -> Result<Value> {
    if let Ok(n) = text.trim().parse::<i64>() {
        return Ok(oid(n));
    }
    let (schema, name) = match text.split_once('.') {
        Some((s, n)) => (Some(s.trim_matches('"').to_string()), n),
        None => (None, text),
    };
    let name = if name.starts_with('"') {
        name.trim_matches('"').to_string()
    } else {
        name.to_lowercase()
    };
    relations(catalog)
        .into_iter()
        .find(|r| {
            r.name == name
                && match &schema {
                    Some(s) => &r.schema == s,
                    None => r.schema == "public" || r.schema == "pg_catalog",
                }
        })
        .map(|r| oid(r.oid))
        .ok_or_else(|| crate::error::AuroraError::UndefinedTable {
            name: text.to_string(),
        })
}

fn type_name(type_oid: i64, typmod: i64) -> Option<String> {
    let ty = types()
        .into_iter()
        .map(|(ty, _)| ty)
        .find(|ty| i64::from(ty.oid()) == type_oid)?;
    let m = typmod - 4;
    let ty = match ty {
        DataType::Varchar(_) if m >= 0 => DataType::Varchar(Some(m as u32)),
        DataType::Char(_) if m >= 0 => DataType::Char(m as u32),
        DataType::Char(_) => DataType::Char(1),
        DataType::Numeric(_) if m >= 0 => {
            DataType::Numeric(Some(((m >> 16) as u32, (m & 0xffff) as u32)))
        }
        other => other,
    };
    Some(match ty {
        DataType::Char(1) if typmod < 0 => "bpchar".to_string(),
        other => other.to_string(),
    })
}

/// Calls a `pg_catalog` function, if `name` is one; NULL in gives NULL out, as these functions
/// are strict, and an OID that names nothing gives NULL, as in PostgreSQL.
pub fn call(name: &str, args: &[Value], catalog: &Catalog) -> Option<Result<Value>> {
    return_type(name, &[])?;
    if args.first().is_none_or(|v| matches!(v, Value::Null)) {
        return Some(Ok(Value::Null));
    }
    let first = arg_oid(args, 0);
    let text = |s: Option<String>| Ok(s.map(Value::text).unwrap_or(Value::Null));
    let by_name = matches!(args.first(), Some(Value::Text(_)));
    Some(match name {
        "regclass" if by_name => regclass_by_name(catalog, &arg_text(args)),
        "regclass" => text(first.map(|o| {
            relations(catalog)
                .into_iter()
                .find(|r| r.oid == o)
                .map(|r| {
                    if r.schema == "public" {
                        quote_ident(&r.name)
                    } else {
                        format!("{}.{}", quote_ident(&r.schema), quote_ident(&r.name))
                    }
                })
                .unwrap_or_else(|| o.to_string())
        })),
        "regtype" if by_name => {
            let n = arg_text(args);
            match types()
                .into_iter()
                .find(|(ty, short)| *short == n || ty.to_string() == n)
            {
                Some((ty, _)) => Ok(oid(i64::from(ty.oid()))),
                None => Err(crate::error::AuroraError::sql(
                    "42704",
                    format!("type \"{n}\" does not exist"),
                )),
            }
        }
        "regtype" => text(first.map(|o| type_name(o, -1).unwrap_or_else(|| o.to_string()))),
        "regnamespace" if by_name => {
            let n = arg_text(args);
            if n == "pg_catalog" || n == "information_schema" || catalog.schemas.contains(&n) {
                Ok(oid(namespace_oid(&n)))
            } else {
                Err(crate::error::AuroraError::sql(
                    "3F000",
                    format!("schema \"{n}\" does not exist"),
                ))
            }
        }
        "regnamespace" => text(first.map(|o| {
            ["pg_catalog", "information_schema"]
                .into_iter()
                .map(String::from)
                .chain(catalog.schemas.iter().cloned())
                .find(|s| namespace_oid(s) == o)
                .unwrap_or_else(|| o.to_string())
        })),
        "pg_partition_ancestors" => match first {
            Some(o) => Ok(oid(o)),
            None => regclass_by_name(catalog, &arg_text(args)),
        },
        "pg_get_userbyid" => text(first.map(|o| {
            if o == OWNER_OID {
                OWNER.to_string()
            } else if o == DATABASE_OWNER_OID {
                "pg_database_owner".to_string()
            } else {
                format!("unknown (OID={o})")
            }
        })),
        "pg_table_is_visible" => Ok(Value::Bool(relations(catalog).iter().any(|r| {
            Some(r.oid) == first && (r.schema == "public" || r.schema == "pg_catalog")
        }))),
        "pg_relation_is_publishable" => Ok(Value::Bool(
            relations(catalog)
                .iter()
                .any(|r| Some(r.oid) == first && r.kind == "r"),
        )),
        "pg_encoding_to_char" => text(Some(
            match first {
                Some(UTF8) => "UTF8",
                Some(0) => "SQL_ASCII",
                _ => "",
            }
            .to_string(),
        )),
        "format_type" => text(first.and_then(|o| type_name(o, arg_oid(args, 1).unwrap_or(-1)))),
        "pg_get_expr" => Ok(match args.first() {
            Some(Value::Text(s)) => Value::Text(s.clone()),
            _ => Value::Null,
        }),
        "pg_get_indexdef" => text(first.and_then(|o| {
            let ix = catalog.indexes.values().find(|ix| rel_oid(ix.id) == o)?;
            let tb = catalog.tables.get(&ix.table)?;
            let cols: Vec<String> = ix
                .columns
                .iter()
                .filter_map(|c| tb.columns.get(*c).map(|c| quote_ident(&c.name)))
                .collect();
            Some(format!(
                "CREATE {}INDEX {} ON {}.{} USING btree ({})",
                if ix.unique || ix.primary {
                    "UNIQUE "
                } else {
                    ""
                },
                quote_ident(&ix.name),
                quote_ident(&tb.schema),
                quote_ident(&tb.name),
                cols.join(", ")
            ))
        })),
        "pg_get_constraintdef" => text(first.and_then(|o| {
            constraints(catalog)
                .into_iter()
                .find(|c| c.oid == o)
                .map(|c| c.definition)
        })),
        // No extended statistics objects or triggers exist, so no OID names one.
        _ => Ok(Value::Null),
    })
}
