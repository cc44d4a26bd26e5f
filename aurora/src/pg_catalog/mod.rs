//! The `pg_catalog` relations and functions `psql`'s describe commands (`\d`, `\dt`, `\d name`,
//! `\di`, `\dn`, `\l`) and drivers' introspection query, generated from the catalog:
//! `pg_class`, `pg_namespace`, `pg_attribute`, `pg_attrdef`, `pg_type`, `pg_index`,
//! `pg_constraint`, `pg_am`, `pg_database`, `pg_roles`, `pg_collation`, and the catalogs of
//! features this engine does not have, which are empty because there is nothing in them
//! (`pg_policy`, `pg_statistic_ext`, `pg_publication*`, `pg_inherits`, `pg_trigger`,
//! `pg_rewrite`, `pg_description`); and `pg_get_userbyid`, `pg_table_is_visible`,
//! `format_type`, `pg_get_expr`, `pg_get_indexdef`, `pg_get_constraintdef`,
//! `pg_encoding_to_char`, `pg_relation_is_publishable`.
//!
//! OIDs: a relation's is `16384 + its catalog id` (tables, indexes, views and sequences share
//! one id counter, so they never collide, and an id is never reused); schemas have PostgreSQL's
//! (`pg_catalog` 11, `public` 2200) or one derived from the name; types have PostgreSQL's.
//! Guarantee: rows reflect the catalog at bind time of the statement that reads them, with
//! PostgreSQL's column names, and every OID a row names is the OID of a row elsewhere here.

mod functions;
mod syntax;

pub use functions::{call, return_type};
pub use syntax::{array_subquery, check_collation, reg_cast, table_function};

use crate::catalog::{Catalog, FkAction, Relation, Table};
use crate::error::Result;
use crate::types::DataType;
use crate::value::Value;

type Rows = (Vec<(String, DataType)>, Vec<Vec<Value>>);

/// First OID of user objects (PostgreSQL's `FirstNormalObjectId`).
pub const FIRST_USER_OID: i64 = 16384;
/// The only role: the cluster's master user (PostgreSQL's bootstrap superuser OID).
const OWNER_OID: i64 = 10;
const OWNER: &str = "postgres";
/// PostgreSQL 15's owner of the `public` schema: the role of whoever owns the database.
const DATABASE_OWNER_OID: i64 = 6171;
const HEAP_AM: i64 = 2;
const BTREE_AM: i64 = 403;
const DEFAULT_COLLATION: i64 = 100;
const UTF8: i64 = 6;

/// A relation's OID.
pub fn rel_oid(id: u32) -> i64 {
    FIRST_USER_OID + i64::from(id)
}

/// A schema's OID.
pub fn namespace_oid(name: &str) -> i64 {
    match name {
        "pg_catalog" => 11,
        "public" => 2200,
        "information_schema" => 13_000,
        // FNV-1a of the name, above every relation OID a catalog can reach in practice.
        other => {
            let mut h: u32 = 0x811c_9dc5;
            for b in other.bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
            3_000_000_000 + i64::from(h % 1_000_000_000)
        }
    }
}

fn t(s: &str) -> Value {
    Value::text(s)
}

fn oid(v: i64) -> Value {
    Value::Int8(v)
}

fn columns(spec: &[(&str, DataType)]) -> Vec<(String, DataType)> {
    spec.iter()
        .map(|(n, ty)| (n.to_string(), ty.clone()))
        .collect()
}

/// A `pg_catalog` relation by name, if it is one (`schema` is `pg_catalog` or absent).
pub fn table(catalog: &Catalog, name: &str) -> Option<Rows> {
    use DataType::{Bool, Int2, Int4, Int8, Text};
    Some(match name {
        "pg_namespace" => (
            columns(&[("oid", Int8), ("nspname", Text), ("nspowner", Int8)]),
            ["pg_catalog", "information_schema"]
                .into_iter()
                .map(String::from)
                .chain(catalog.schemas.iter().cloned())
                .map(|s| {
                    let owner = if s == "public" {
                        DATABASE_OWNER_OID
                    } else {
                        OWNER_OID
                    };
                    vec![oid(namespace_oid(&s)), t(&s), oid(owner)]
                })
                .collect(),
        ),
        "pg_class" => pg_class(catalog),
        "pg_attribute" => pg_attribute(catalog),
        "pg_attrdef" => {
            let mut rows = Vec::new();
            for tb in catalog.tables.values() {
                for (i, c) in tb.columns.iter().enumerate() {
                    if let Some(d) = &c.default {
                        rows.push(vec![
                            oid(rel_oid(tb.id) * 1000 + i as i64 + 1),
                            oid(rel_oid(tb.id)),
                            Value::Int2(i as i16 + 1),
                            t(&d.to_string()),
                        ]);
                    }
                }
            }
            (
                columns(&[
                    ("oid", Int8),
                    ("adrelid", Int8),
                    ("adnum", Int2),
                    ("adbin", Text),
                ]),
                rows,
            )
        }
        "pg_type" => pg_type(),
        "pg_index" => pg_index(catalog),
        "pg_constraint" => pg_constraint(catalog),
        "pg_am" => (
            columns(&[("oid", Int8), ("amname", Text), ("amtype", Text)]),
            vec![
                vec![oid(HEAP_AM), t("heap"), t("t")],
                vec![oid(BTREE_AM), t("btree"), t("i")],
            ],
        ),
        "pg_database" => (
            columns(&[
                ("oid", Int8),
                ("datname", Text),
                ("datdba", Int8),
                ("encoding", Int4),
                ("datlocprovider", Text),
                ("datistemplate", Bool),
                ("datallowconn", Bool),
                ("datcollate", Text),
                ("datctype", Text),
                ("daticulocale", Text),
                ("datacl", DataType::Array(Box::new(Text))),
            ]),
            vec![vec![
                oid(5),
                t("postgres"),
                oid(OWNER_OID),
                Value::Int4(UTF8 as i32),
                t("c"),
                Value::Bool(false),
                Value::Bool(true),
                t("C.UTF-8"),
                t("C.UTF-8"),
                Value::Null,
                Value::Null,
            ]],
        ),
        "pg_roles" | "pg_user" => (
            columns(&[
                ("oid", Int8),
                ("rolname", Text),
                ("rolsuper", Bool),
                ("rolcanlogin", Bool),
            ]),
            vec![
                vec![
                    oid(OWNER_OID),
                    t(OWNER),
                    Value::Bool(true),
                    Value::Bool(true),
                ],
                vec![
                    oid(DATABASE_OWNER_OID),
                    t("pg_database_owner"),
                    Value::Bool(false),
                    Value::Bool(false),
                ],
            ],
        ),
        "pg_collation" => (
            columns(&[("oid", Int8), ("collname", Text), ("collnamespace", Int8)]),
            vec![vec![oid(DEFAULT_COLLATION), t("default"), oid(11)]],
        ),
        // Catalogs of features the engine does not have: row-level security policies, extended
        // statistics, logical replication publications, table inheritance and partitioning,
        // triggers, rules and comments. They are empty because there is nothing in them.
        "pg_policy" => (
            columns(&[
                ("oid", Int8),
                ("polname", Text),
                ("polrelid", Int8),
                ("polcmd", Text),
                ("polpermissive", Bool),
                ("polroles", DataType::Array(Box::new(Int8))),
                ("polqual", Text),
                ("polwithcheck", Text),
            ]),
            Vec::new(),
        ),
        "pg_statistic_ext" => (
            columns(&[
                ("oid", Int8),
                ("stxrelid", Int8),
                ("stxname", Text),
                ("stxnamespace", Int8),
                ("stxstattarget", Int4),
                ("stxkind", DataType::Array(Box::new(Text))),
            ]),
            Vec::new(),
        ),
        "pg_publication" => (
            columns(&[("oid", Int8), ("pubname", Text), ("puballtables", Bool)]),
            Vec::new(),
        ),
        "pg_publication_namespace" => (
            columns(&[("oid", Int8), ("pnpubid", Int8), ("pnnspid", Int8)]),
            Vec::new(),
        ),
        "pg_publication_rel" => (
            columns(&[
                ("oid", Int8),
                ("prpubid", Int8),
                ("prrelid", Int8),
                ("prqual", Text),
                ("prattrs", DataType::Array(Box::new(Int2))),
            ]),
            Vec::new(),
        ),
        "pg_inherits" => (
            columns(&[
                ("inhrelid", Int8),
                ("inhparent", Int8),
                ("inhseqno", Int4),
                ("inhdetachpending", Bool),
            ]),
            Vec::new(),
        ),
        "pg_trigger" => (
            columns(&[
                ("oid", Int8),
                ("tgrelid", Int8),
                ("tgname", Text),
                ("tgisinternal", Bool),
                ("tgenabled", Text),
                ("tgparentid", Int8),
            ]),
            Vec::new(),
        ),
        "pg_rewrite" => (
            columns(&[("oid", Int8), ("rulename", Text), ("ev_class", Int8)]),
            Vec::new(),
        ),
        "pg_description" => (
            columns(&[
                ("objoid", Int8),
                ("classoid", Int8),
                ("objsubid", Int4),
                ("description", Text),
            ]),
            Vec::new(),
        ),
        _ => return None,
    })
}

/// A relation as `pg_class` has it.
struct Rel {
    oid: i64,
    name: String,
    schema: String,
    kind: &'static str,
    am: i64,
    has_index: bool,
    checks: i16,
    /// PostgreSQL implements a foreign key with triggers on both of its tables, and psql shows
    /// foreign keys (both ways) only for a table that has triggers.
    has_triggers: bool,
}

fn relations(catalog: &Catalog) -> Vec<Rel> {
    let mut out = Vec::new();
    for ((schema, name), rel) in &catalog.names {
        let row = match rel {
            Relation::Table(id) => {
                let Some(tb) = catalog.tables.get(id) else {
                    continue;
                };
                let fk_triggers = !tb.foreign_keys.is_empty()
                    || catalog
                        .tables
                        .values()
                        .any(|o| o.foreign_keys.iter().any(|f| f.ref_table == *id));
                (
                    rel_oid(*id),
                    "r",
                    HEAP_AM,
                    !tb.indexes.is_empty(),
                    tb.checks.len() as i16,
                    fk_triggers,
                )
            }
            Relation::View(id) => (rel_oid(*id), "v", 0, false, 0, false),
            Relation::Index(id) => (rel_oid(*id), "i", BTREE_AM, false, 0, false),
            Relation::Sequence(id) => (rel_oid(*id), "S", 0, false, 0, false),
        };
        out.push(Rel {
            oid: row.0,
            name: name.clone(),
            schema: schema.clone(),
            kind: row.1,
            am: row.2,
            has_index: row.3,
            checks: row.4,
            has_triggers: row.5,
        });
    }
    out
}

fn pg_class(catalog: &Catalog) -> Rows {
    use DataType::{Bool, Int2, Int4, Int8, Text};
    let rows = relations(catalog)
        .into_iter()
        .map(|r| {
            vec![
                oid(r.oid),
                t(&r.name),
                oid(namespace_oid(&r.schema)),
                t(r.kind),
                oid(OWNER_OID),
                oid(r.am),
                Value::Int2(r.checks),
                Value::Bool(r.has_index),
                Value::Bool(false),
                Value::Bool(r.has_triggers),
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(false),
                oid(0),
                oid(0),
                t("p"),
                t(if r.kind == "r" { "d" } else { "n" }),
                oid(0),
                Value::Null,
                Value::Float4(-1.0),
                Value::Int4(0),
            ]
        })
        .collect();
    (
        columns(&[
            ("oid", Int8),
            ("relname", Text),
            ("relnamespace", Int8),
            ("relkind", Text),
            ("relowner", Int8),
            ("relam", Int8),
            ("relchecks", Int2),
            ("relhasindex", Bool),
            ("relhasrules", Bool),
            ("relhastriggers", Bool),
            ("relrowsecurity", Bool),
            ("relforcerowsecurity", Bool),
            ("relispartition", Bool),
            ("reltablespace", Int8),
            ("reloftype", Int8),
            ("relpersistence", Text),
            ("relreplident", Text),
            ("reltoastrelid", Int8),
            ("relpartbound", Text),
            ("reltuples", DataType::Float4),
            ("relpages", Int4),
        ]),
        rows,
    )
}

/// PostgreSQL's `atttypmod` of a type (-1 when it has no modifier).
fn typmod(ty: &DataType) -> i32 {
    match ty {
        DataType::Varchar(Some(n)) | DataType::Char(n) => *n as i32 + 4,
        DataType::Numeric(Some((p, s))) => ((*p as i32) << 16 | *s as i32) + 4,
        _ => -1,
    }
}

fn collatable(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Text | DataType::Varchar(_) | DataType::Char(_)
    )
}

fn pg_attribute(catalog: &Catalog) -> Rows {
    use DataType::{Bool, Int2, Int4, Int8, Text};
    let mut rows = Vec::new();
    let mut push = |rel: i64, n: usize, name: &str, ty: &DataType, not_null: bool, def: bool| {
        rows.push(vec![
            oid(rel),
            t(name),
            oid(i64::from(ty.oid())),
            Value::Int2(n as i16),
            Value::Int4(typmod(ty)),
            Value::Bool(not_null),
            Value::Bool(def),
            Value::Bool(false),
            t(""),
            t(""),
            oid(if collatable(ty) { DEFAULT_COLLATION } else { 0 }),
        ]);
    };
    for tb in catalog.tables.values() {
        for (i, c) in tb.columns.iter().enumerate() {
            push(
                rel_oid(tb.id),
                i + 1,
                &c.name,
                &c.ty,
                c.not_null,
                c.default.is_some(),
            );
        }
    }
    for ix in catalog.indexes.values() {
        let Some(tb) = catalog.tables.get(&ix.table) else {
            continue;
        };
        for (i, c) in ix.columns.iter().enumerate() {
            if let Some(col) = tb.columns.get(*c) {
                push(rel_oid(ix.id), i + 1, &col.name, &col.ty, false, false);
            }
        }
    }
    (
        columns(&[
            ("attrelid", Int8),
            ("attname", Text),
            ("atttypid", Int8),
            ("attnum", Int2),
            ("atttypmod", Int4),
            ("attnotnull", Bool),
            ("atthasdef", Bool),
            ("attisdropped", Bool),
            ("attidentity", Text),
            ("attgenerated", Text),
            ("attcollation", Int8),
        ]),
        rows,
    )
}

/// The types this engine has, as `pg_type` rows: (type, `typname`).
fn types() -> Vec<(DataType, &'static str)> {
    use DataType::*;
    vec![
        (Bool, "bool"),
        (Bytea, "bytea"),
        (Int8, "int8"),
        (Int2, "int2"),
        (Int4, "int4"),
        (Text, "text"),
        (Json, "json"),
        (Float4, "float4"),
        (Float8, "float8"),
        (Char(1), "bpchar"),
        (Varchar(None), "varchar"),
        (Date, "date"),
        (Time, "time"),
        (Timestamp, "timestamp"),
        (TimestampTz, "timestamptz"),
        (Interval, "interval"),
        (Numeric(None), "numeric"),
        (Uuid, "uuid"),
        (Jsonb, "jsonb"),
        (Array(Box::new(Int4)), "_int4"),
        (Array(Box::new(Int8)), "_int8"),
        (Array(Box::new(Text)), "_text"),
    ]
}

fn pg_type() -> Rows {
    use DataType::{Int8, Text};
    let rows = types()
        .into_iter()
        .map(|(ty, name)| {
            vec![
                oid(i64::from(ty.oid())),
                t(name),
                oid(11),
                oid(if collatable(&ty) {
                    DEFAULT_COLLATION
                } else {
                    0
                }),
                t("b"),
            ]
        })
        .collect();
    (
        columns(&[
            ("oid", Int8),
            ("typname", Text),
            ("typnamespace", Int8),
            ("typcollation", Int8),
            ("typtype", Text),
        ]),
        rows,
    )
}

fn pg_index(catalog: &Catalog) -> Rows {
    use DataType::{Bool, Int2, Int8, Text};
    let rows = catalog
        .indexes
        .values()
        .map(|ix| {
            let key: Vec<String> = ix.columns.iter().map(|c| (c + 1).to_string()).collect();
            vec![
                oid(rel_oid(ix.id)),
                oid(rel_oid(ix.table)),
                Value::Int2(ix.columns.len() as i16),
                Value::Bool(ix.unique || ix.primary),
                Value::Bool(ix.primary),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                t(&key.join(" ")),
            ]
        })
        .collect();
    (
        columns(&[
            ("indexrelid", Int8),
            ("indrelid", Int8),
            ("indnatts", Int2),
            ("indisunique", Bool),
            ("indisprimary", Bool),
            ("indisclustered", Bool),
            ("indisvalid", Bool),
            ("indisreplident", Bool),
            ("indkey", Text),
        ]),
        rows,
    )
}

/// A constraint's OID: an index-backed one shares its index's relation id space shifted past
/// every relation OID; FOREIGN KEY and CHECK constraints count within their table.
fn constraint_oid(kind: char, table: u32, n: usize) -> i64 {
    let base = match kind {
        'f' => 2_000_000_000,
        'c' => 2_500_000_000,
        _ => 1_000_000_000,
    };
    base + rel_oid(table) * 256 + n as i64
}

/// A constraint as `pg_constraint` has it.
struct Constraint<'a> {
    oid: i64,
    name: String,
    kind: char,
    table: &'a Table,
    /// The index backing it (0 for none).
    index: i64,
    /// The referenced table's OID (FOREIGN KEY; 0 otherwise).
    references: i64,
    /// `pg_get_constraintdef`'s text.
    definition: String,
}

/// Every constraint of every table.
fn constraints(catalog: &Catalog) -> Vec<Constraint<'_>> {
    let mut out = Vec::new();
    for tb in catalog.tables.values() {
        let names = |cols: &[usize]| -> String {
            cols.iter()
                .filter_map(|c| tb.columns.get(*c).map(|c| quote_ident(&c.name)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for ix in catalog.table_indexes(tb) {
            let (kind, word) = if ix.primary {
                ('p', "PRIMARY KEY")
            } else if ix.unique {
                ('u', "UNIQUE")
            } else {
                continue;
            };
            out.push(Constraint {
                oid: 1_000_000_000 + rel_oid(ix.id),
                name: ix.name.clone(),
                kind,
                table: tb,
                index: rel_oid(ix.id),
                references: 0,
                definition: format!("{word} ({})", names(&ix.columns)),
            });
        }
        for (n, fk) in tb.foreign_keys.iter().enumerate() {
            let target = catalog.tables.get(&fk.ref_table);
            let ref_cols = target
                .map(|r| {
                    fk.ref_columns
                        .iter()
                        .filter_map(|c| r.columns.get(*c).map(|c| quote_ident(&c.name)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let ref_name = target.map(|r| quote_ident(&r.name)).unwrap_or_default();
            out.push(Constraint {
                oid: constraint_oid('f', tb.id, n),
                name: fk.name.clone(),
                kind: 'f',
                table: tb,
                index: 0,
                references: rel_oid(fk.ref_table),
                definition: format!(
                    "FOREIGN KEY ({}) REFERENCES {ref_name}({ref_cols}){}{}",
                    names(&fk.columns),
                    action("UPDATE", fk.on_update),
                    action("DELETE", fk.on_delete)
                ),
            });
        }
        for (n, ck) in tb.checks.iter().enumerate() {
            out.push(Constraint {
                oid: constraint_oid('c', tb.id, n),
                name: ck.name.clone(),
                kind: 'c',
                table: tb,
                index: 0,
                references: 0,
                definition: format!("CHECK ({})", ck.expr),
            });
        }
    }
    out
}

fn pg_constraint(catalog: &Catalog) -> Rows {
    use DataType::{Bool, Int8, Text};
    let rows = constraints(catalog)
        .into_iter()
        .map(|c| {
            vec![
                oid(c.oid),
                t(&c.name),
                oid(namespace_oid(&c.table.schema)),
                t(&c.kind.to_string()),
                Value::Bool(false),
                Value::Bool(false),
                oid(rel_oid(c.table.id)),
                oid(c.index),
                oid(c.references),
                oid(0),
                Value::Bool(true),
            ]
        })
        .collect();
    (
        columns(&[
            ("oid", Int8),
            ("conname", Text),
            ("connamespace", Int8),
            ("contype", Text),
            ("condeferrable", Bool),
            ("condeferred", Bool),
            ("conrelid", Int8),
            ("conindid", Int8),
            ("confrelid", Int8),
            ("conparentid", Int8),
            ("convalidated", Bool),
        ]),
        rows,
    )
}

/// A foreign key action as `pg_get_constraintdef` prints it (NO ACTION is left out).
fn action(on: &str, a: FkAction) -> String {
    let word = match a {
        FkAction::NoAction => return String::new(),
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    };
    format!(" ON {on} {word}")
}

/// Quotes an identifier where PostgreSQL would (not lower case, or not a plain word).
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
