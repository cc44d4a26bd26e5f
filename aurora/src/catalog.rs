//! The catalog: schemas, tables, columns, constraints, indexes, views and sequences.
//!
//! Guarantee: names are stored folded as PostgreSQL folds unquoted identifiers (lower case), and
//! every lookup failure is the PostgreSQL error (`relation "t" does not exist`, 42P01).

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast;

use crate::error::{AuroraError, Result};
use crate::storage::{IndexId, TableId};
use crate::types::DataType;

/// A column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: DataType,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT expression.
    pub default: Option<ast::Expr>,
    /// `GENERATED ALWAYS AS IDENTITY` (explicit values refused).
    pub identity_always: bool,
}

/// What a foreign key does when the referenced row goes away or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkAction {
    /// NO ACTION (checked at the end of the statement).
    NoAction,
    /// RESTRICT.
    Restrict,
    /// CASCADE.
    Cascade,
    /// SET NULL.
    SetNull,
    /// SET DEFAULT.
    SetDefault,
}

impl FkAction {
    /// From the parsed action.
    pub fn from_ast(a: &Option<ast::ReferentialAction>) -> FkAction {
        match a {
            Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
            Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
            Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
            Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
            _ => FkAction::NoAction,
        }
    }
}

/// A foreign key on the referencing table.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Referencing columns.
    pub columns: Vec<usize>,
    /// Referenced table.
    pub ref_table: TableId,
    /// Referenced columns.
    pub ref_columns: Vec<usize>,
    /// ON DELETE.
    pub on_delete: FkAction,
    /// ON UPDATE.
    pub on_update: FkAction,
}

/// A CHECK constraint.
#[derive(Debug, Clone)]
pub struct Check {
    /// Constraint name.
    pub name: String,
    /// The condition.
    pub expr: ast::Expr,
}

/// A B-tree index.
#[derive(Debug, Clone)]
pub struct Index {
    /// Storage id.
    pub id: IndexId,
    /// Name (unique within the schema, shared with relations).
    pub name: String,
    /// The table.
    pub table: TableId,
    /// Key columns, in order.
    pub columns: Vec<usize>,
    /// UNIQUE.
    pub unique: bool,
    /// Backs the primary key.
    pub primary: bool,
}

/// A table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Storage id.
    pub id: TableId,
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Columns.
    pub columns: Vec<Column>,
    /// Indexes (ids) on it, the primary key's first when there is one.
    pub indexes: Vec<IndexId>,
    /// CHECK constraints.
    pub checks: Vec<Check>,
    /// Foreign keys it declares.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// Position of a column by name.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                AuroraError::sql(
                    "42703",
                    format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        self.name
                    ),
                )
            })
    }
}

/// A view: its query is bound on use.
#[derive(Debug, Clone)]
pub struct View {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The defining query.
    pub query: ast::Query,
    /// Explicit column names.
    pub columns: Vec<String>,
}

/// A sequence.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The last value handed out (or the start, before the first call).
    pub last: i64,
    /// Whether `last` has been handed out.
    pub called: bool,
    /// INCREMENT BY.
    pub increment: i64,
    /// MINVALUE.
    pub min: i64,
    /// MAXVALUE.
    pub max: i64,
    /// CYCLE.
    pub cycle: bool,
}

/// What a name in a schema refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// A table.
    Table(TableId),
    /// A view.
    View(u32),
    /// An index.
    Index(IndexId),
    /// A sequence.
    Sequence(u32),
}

/// The whole catalog of one database.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Schema names.
    pub schemas: BTreeSet<String>,
    /// (schema, name) → relation.
    pub names: BTreeMap<(String, String), Relation>,
    /// Tables by id.
    pub tables: BTreeMap<TableId, Table>,
    /// Indexes by id.
    pub indexes: BTreeMap<IndexId, Index>,
    /// Views by id.
    pub views: BTreeMap<u32, View>,
    /// Sequence names by id (their counters live outside the catalog: they change on reads).
    pub sequences: BTreeMap<u32, (String, String)>,
    next_id: u32,
    /// Bumped by every change, so cached plans can tell they are stale.
    pub version: u64,
    /// The uncommitted DDL of the transaction that owns the catalog ([`crate::ddl::txn`]).
    pub(crate) txn_ddl: Option<Box<crate::ddl::txn::TxnDdl>>,
}

impl Default for Catalog {
    fn default() -> Self {
        let mut schemas = BTreeSet::new();
        schemas.insert("public".to_string());
        Catalog {
            schemas,
            names: BTreeMap::new(),
            tables: BTreeMap::new(),
            indexes: BTreeMap::new(),
            views: BTreeMap::new(),
            sequences: BTreeMap::new(),
            next_id: 1,
            version: 0,
            txn_ddl: None,
        }
    }
}

/// Folds an identifier the way PostgreSQL does: quoted keeps case, unquoted is lower-cased.
pub fn ident(i: &ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// Splits a possibly qualified name into (schema, name).
pub fn split_name(name: &ast::ObjectName) -> Result<(Option<String>, String)> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(ident)
                .ok_or_else(|| AuroraError::sql("42601", format!("invalid name \"{name}\"")))
        })
        .collect::<Result<_>>()?;
    match parts.as_slice() {
        [n] => Ok((None, n.clone())),
        [s, n] => Ok((Some(s.clone()), n.clone())),
        [_db, s, n] => Ok((Some(s.clone()), n.clone())),
        _ => Err(AuroraError::sql(
            "42601",
            format!("improper qualified name (too many dotted names): {name}"),
        )),
    }
}

impl Catalog {
    /// A fresh id for a table, index, view or sequence.
    pub fn allocate_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Looks a relation up (schema `public` when unqualified).
    pub fn lookup(&self, schema: &Option<String>, name: &str) -> Option<Relation> {
        let schema = schema.as_deref().unwrap_or("public");
        self.names
            .get(&(schema.to_string(), name.to_string()))
            .copied()
    }

    /// The table with this name, or 42P01 (42809 if the name is not a table).
    pub fn table_by_name(&self, schema: &Option<String>, name: &str) -> Result<&Table> {
        match self.lookup(schema, name) {
            Some(Relation::Table(id)) => self.table(id),
            Some(_) => Err(AuroraError::sql(
                "42809",
                format!("\"{name}\" is not a table"),
            )),
            None => Err(AuroraError::UndefinedTable {
                name: name.to_string(),
            }),
        }
    }

    /// A table by id.
    pub fn table(&self, id: TableId) -> Result<&Table> {
        self.tables
            .get(&id)
            .ok_or_else(|| AuroraError::UndefinedTable {
                name: format!("#{id}"),
            })
    }

    /// Errors with 42P07 when the name is taken.
    pub fn ensure_free(&self, schema: &str, name: &str) -> Result<()> {
        if !self.schemas.contains(schema) {
            return Err(AuroraError::sql(
                "3F000",
                format!("schema \"{schema}\" does not exist"),
            ));
        }
        if self
            .names
            .contains_key(&(schema.to_string(), name.to_string()))
        {
            return Err(AuroraError::sql(
                "42P07",
                format!("relation \"{name}\" already exists"),
            ));
        }
        Ok(())
    }

    /// Index definitions of a table.
    pub fn table_indexes(&self, table: &Table) -> Vec<&Index> {
        table
            .indexes
            .iter()
            .filter_map(|i| self.indexes.get(i))
            .collect()
    }

    /// Foreign keys in other tables (or this one) that reference `table`.
    pub fn referencing(&self, table: TableId) -> Vec<(TableId, ForeignKey)> {
        self.tables
            .values()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| fk.ref_table == table)
                    .map(move |fk| (t.id, fk.clone()))
            })
            .collect()
    }

    /// A name for an implicit constraint, PostgreSQL style (`t_a_key`, `t_pkey`, `t_a_fkey`),
    /// made unique with a number suffix.
    pub fn constraint_name(
        &self,
        schema: &str,
        table: &str,
        columns: &[&str],
        suffix: &str,
    ) -> String {
        let base = if columns.is_empty() {
            format!("{table}_{suffix}")
        } else {
            format!("{table}_{}_{suffix}", columns.join("_"))
        };
        let taken = |n: &str| {
            self.names
                .contains_key(&(schema.to_string(), n.to_string()))
                || self.tables.values().any(|t| {
                    t.checks.iter().any(|c| c.name == n)
                        || t.foreign_keys.iter().any(|f| f.name == n)
                })
        };
        if !taken(&base) {
            return base;
        }
        (1..)
            .map(|i| format!("{base}{i}"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }
}
